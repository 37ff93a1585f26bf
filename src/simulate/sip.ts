/**
 * SIP messages as the two client libraries build them and as Kamailio answers them.
 *
 * Shapes: JsSIP 3.10 REGISTER (header order Via, Max-Forwards: 69, To, From, Call-ID, CSeq, then
 * Contact / Expires / Allow / Supported / User-Agent, as in many pasted JsSIP traces); SIP.js 0.21
 * (`OutgoingRequestMessage`: Via, To, From, CSeq, Call-ID, Max-Forwards: 70, extra headers,
 * Supported, User-Agent). Kamailio replies copy Via/To/From/Call-ID/CSeq in the request's order,
 * add `received`/`rport` to the top Via, then the reply lumps, `Server:` and `Content-Length`.
 * Messages use CRLF like on the wire; the client log writer strips the CRs.
 */
import type { Prng } from './prng.js';
import { TOPOLOGY } from './world.js';

export type SipLibrary = 'jssip' | 'sipjs';

/** Per-UA identity: stable across the UA's life (the Registrator's Call-ID, via host, instance id). */
export interface SipIdentity {
  library: SipLibrary;
  user: string;
  aor: string;
  callId: string;
  viaHost: string;
  contactUser: string;
  instanceId: string;
  /** SIP.js keeps one From tag per Registerer; JsSIP draws a new one per REGISTER */
  registererTag: string;
  /** last CSeq used by the Registrator (increments across refreshes and reconnections) */
  cseq: number;
}

export function createIdentity(library: SipLibrary, user: string, rng: Prng): SipIdentity {
  return {
    library,
    user,
    aor: `sip:${user}@${TOPOLOGY.domain}`,
    // JsSIP: Utils.createRandomToken(22); SIP.js: createRandomToken(15)
    callId: rng.token(library === 'jssip' ? 22 : 15),
    viaHost: `${rng.token(12)}.invalid`,
    contactUser: rng.token(8),
    instanceId: rng.uuid(),
    registererTag: rng.token(10),
    cseq: 0,
  };
}

export interface DigestCredentials {
  nonce: string;
  response: string;
  cnonce: string;
}

export interface SipRequest {
  method: 'REGISTER';
  cseq: number;
  branch: string;
  fromTag: string;
  expires: number;
  authorized: boolean;
  /** the header lines in the order the library writes them (no request line, no CRLF) */
  headers: string[];
  text: string;
}

const JSSIP_ALLOW = 'INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY';
const SIPJS_ALLOW = 'ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER';

function authorization(id: SipIdentity, credentials: DigestCredentials): string {
  const uri = `sip:${TOPOLOGY.domain}`;
  return (
    `Authorization: Digest algorithm=MD5, username="${id.user}", realm="${TOPOLOGY.domain}", ` +
    `nonce="${credentials.nonce}", uri="${uri}", response="${credentials.response}", qop=auth, ` +
    `cnonce="${credentials.cnonce}", nc=00000001`
  );
}

export function buildRegister(
  id: SipIdentity,
  params: { cseq: number; branch: string; fromTag: string; expires: number; credentials?: DigestCredentials },
): SipRequest {
  const via = `Via: SIP/2.0/WSS ${id.viaHost};branch=${params.branch}`;
  const to = `To: <${id.aor}>`;
  const from = `From: <${id.aor}>;tag=${params.fromTag}`;
  const contact =
    `Contact: <sip:${id.contactUser}@${id.viaHost};transport=ws>;+sip.ice;reg-id=1;` +
    `+sip.instance="<urn:uuid:${id.instanceId}>";expires=${params.expires}`;
  const auth = params.credentials ? [authorization(id, params.credentials)] : [];
  const headers =
    id.library === 'jssip'
      ? [
          via,
          'Max-Forwards: 69',
          to,
          from,
          `Call-ID: ${id.callId}`,
          `CSeq: ${params.cseq} REGISTER`,
          ...auth,
          contact,
          `Expires: ${params.expires}`,
          `Allow: ${JSSIP_ALLOW}`,
          'Supported: path,gruu,outbound',
          'User-Agent: JsSIP 3.10.1',
          'Content-Length: 0',
        ]
      : [
          via,
          to,
          from,
          `CSeq: ${params.cseq} REGISTER`,
          `Call-ID: ${id.callId}`,
          'Max-Forwards: 70',
          ...auth,
          contact,
          `Expires: ${params.expires}`,
          `Allow: ${SIPJS_ALLOW}`,
          'Supported: outbound',
          'User-Agent: SIP.js/0.21.2',
          'Content-Length: 0',
        ];
  const text = [`REGISTER sip:${TOPOLOGY.domain} SIP/2.0`, ...headers].join('\r\n') + '\r\n\r\n';
  return {
    method: 'REGISTER',
    cseq: params.cseq,
    branch: params.branch,
    fromTag: params.fromTag,
    expires: params.expires,
    authorized: params.credentials !== undefined,
    headers,
    text,
  };
}

export interface SipReply {
  status: number;
  reason: string;
  text: string;
  retryAfterSec?: number;
  nonce?: string;
}

/** A Kamailio to-tag: 32 hex digits of MD5, '-', a short hex suffix (sl and tm alike). */
export function kamailioToTag(rng: Prng): string {
  return `${rng.hex(32)}-${rng.hex(rng.int(4, 8))}`;
}

/**
 * A reply as the SBC (or the registrar behind it, relayed by the SBC) puts it on the wire.
 * `extra` are header lines added by the script (WWW-Authenticate, Retry-After, Contact); `server`
 * is the product's Server (or User-Agent) line, Kamailio's by default.
 */
export function buildReply(
  request: SipRequest,
  status: number,
  reason: string,
  params: { toTag: string; lbPort: number; extra?: string[]; server?: string },
): SipReply {
  const copied: string[] = [];
  for (const header of request.headers) {
    if (header.startsWith('Via: ')) {
      copied.push(`${header};received=${TOPOLOGY.lbIp};rport=${params.lbPort}`);
    } else if (header.startsWith('To: ')) {
      copied.push(`${header};tag=${params.toTag}`);
    } else if (header.startsWith('From: ') || header.startsWith('Call-ID: ') || header.startsWith('CSeq: ')) {
      copied.push(header);
    }
  }
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...copied,
    ...(params.extra ?? []),
    params.server ?? `Server: ${TOPOLOGY.kamailioServer}`,
    'Content-Length: 0',
  ];
  return { status, reason, text: lines.join('\r\n') + '\r\n\r\n' };
}

/** WebSocket frame size of a server→client text message (unmasked: 2-byte header up to 125 bytes, 4 up to 64 KiB). */
export function frameBytes(payload: string): number {
  const length = Buffer.byteLength(payload);
  return length + (length <= 125 ? 2 : 4);
}

/** WebSocket frame size of a client→server text message (masked: 4 more bytes of masking key). */
export function clientFrameBytes(payload: string): number {
  return frameBytes(payload) + 4;
}

/** a Via branch as both libraries make it: `z9hG4bK` + floor(random × 10⁷) */
export function newBranch(rng: Prng): string {
  return `z9hG4bK${rng.int(0, 9_999_999)}`;
}
