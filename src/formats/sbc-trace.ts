/**
 * SIP messages found in the call traces of back-to-back SBCs (AudioCodes syslog, Ribbon/Sonus
 * DBG/TRC): the format finds the message and its trace header; this turns it into one event.
 *
 * A B2BUA relays each message on two legs with two Call-IDs, but gives both legs one session id
 * of its own (AudioCodes SID, Ribbon GCID). The user of a message is the softphone's: on the
 * WebSocket leg (first Via `SIP/2.0/WS[S]`) the other party is the softphone itself; on the far
 * leg (registrar, PBX, Teams) the session id's softphone user stands, so that a far-leg message
 * never names the callee or a trunk as the user. Only WebSocket-leg messages name a peer address:
 * a registrar's ip:port is shared by every user.
 */
import type { EventKeys, LogEvent, Signal, SipInfo } from '../model.js';
import { sipDumpEvent } from './harness.js';
import type { ParseContext } from './types.js';

export interface TracedMessage {
  lineNo: number;
  ts: number;
  /** the trace header (kept short) */
  raw: string;
  direction: 'sent' | 'received';
  /** the other party, as the trace header names it */
  remoteHost?: string;
  remotePort?: string;
  /** transport the trace header names (UDP, TLS, WSS, …) */
  transport?: string;
  /** the SBC's id of the session both legs share */
  sessionId?: string;
  /** the Call-ID the trace header names, used when the message has none */
  callId?: string;
  lines: string[];
}

/** What a status the SBC sent or received means, vendor by vendor. */
export type StatusReading = (sip: SipInfo) => Signal | undefined;

const VIA_LINE = /^\s{0,8}(?:via|v)\s{0,4}:/i;
const WS_VIA = /^\s{0,8}(?:via|v)\s{0,4}:\s{0,4}SIP\/2\.0\/WSS?(?:\s|$)/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/** Session ids remembered per input (each holds one user name). */
const MAX_SESSIONS = 50_000;
const MAX_RAW = 400;

function onWebSocketLeg(m: TracedMessage): boolean {
  if (m.transport !== undefined && /^WSS?$/i.test(m.transport)) return true;
  const via = m.lines.find((l) => VIA_LINE.test(l));
  return via !== undefined && WS_VIA.test(via);
}

function peerKeys(host: string, port: string | undefined): EventKeys {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  if (!IPV4.test(bare) && !bare.includes(':')) return {};
  const ip = bare;
  if (!port) return { ip };
  return { ip, peer: `${bare.includes(':') ? `[${bare}]` : bare}:${port}` };
}

const THROTTLE_REASON = /limit|too many|rate|flood|block|overload|polic/i;
const AUTH_REASON = /auth|credential|password|invalid user|unknown user/i;
const PLAIN_STATUS: Partial<Record<number, Signal>> = {
  401: 'auth-challenge',
  407: 'auth-challenge',
  408: 'transaction-timeout',
};

/** Generic reading of an SBC's SIP status (vendors refine it: AudioCodes' 480). */
export function sbcStatusSignal(sip: SipInfo): Signal | undefined {
  const status = sip.status ?? 0;
  const reason = sip.reason ?? '';
  if (status === 200) return sip.method === 'REGISTER' ? 'registered' : undefined;
  if (status === 503)
    return sip.retryAfter !== undefined || THROTTLE_REASON.test(reason) ? 'sbc-rate-limit' : 'sbc-overload';
  if (status === 403) {
    if (THROTTLE_REASON.test(reason)) return 'sbc-rate-limit';
    return AUTH_REASON.test(reason) ? 'auth-failed' : 'acl-rejected';
  }
  return PLAIN_STATUS[status];
}

/** One input's SBC sessions: which softphone user each session id belongs to. */
export class SbcSessions {
  private readonly users = new Map<string, string>();

  constructor(
    private readonly ctx: ParseContext,
    private readonly statusSignal: StatusReading = sbcStatusSignal,
  ) {}

  /** The user a session id's other lines belong to, when a SIP message named it. */
  userOf(sessionId: string | undefined): string | undefined {
    return sessionId === undefined ? undefined : this.users.get(sessionId);
  }

  event(m: TracedMessage): LogEvent | undefined {
    const base = sipDumpEvent(
      { lineNo: m.lineNo, ts: m.ts, raw: m.raw, direction: m.direction, lines: m.lines },
      this.ctx,
    );
    if (!base?.sip) return undefined;
    const sip = base.sip;
    // the other party's own AOR: the From of transactions it started, the To of the others
    const startedByRemote = (base.kind === 'sip-request') === (m.direction === 'received');
    const remoteUser = startedByRemote ? (sip.fromUser ?? sip.toUser) : (sip.toUser ?? sip.fromUser);
    const ws = onWebSocketLeg(m);
    const known = this.userOf(m.sessionId);
    const user = ws ? (remoteUser ?? known) : (known ?? remoteUser);
    if (m.sessionId !== undefined && user !== undefined && (ws || known === undefined))
      this.remember(m.sessionId, user);

    const keys: EventKeys = {};
    const callId = base.keys.callId ?? m.callId;
    if (callId) keys.callId = callId;
    if (user) keys.user = user;
    if (m.sessionId !== undefined) keys.connId = m.sessionId;
    if (ws && m.remoteHost) Object.assign(keys, peerKeys(m.remoteHost, m.remotePort));
    const where =
      keys.peer ?? (m.remoteHost ? `${m.remoteHost}${m.remotePort ? `:${m.remotePort}` : ''}` : '');
    const event: LogEvent = {
      ...base,
      raw: base.raw.length > MAX_RAW ? base.raw.slice(0, MAX_RAW) : base.raw,
      role: 'sbc',
      keys,
      text: `${m.direction === 'sent' ? 'sent to' : 'received from'} ${where}: ${base.text ?? ''}`.trim(),
    };
    const signal = this.statusSignal(sip);
    if (signal) event.signal = signal;
    return event;
  }

  private remember(sessionId: string, user: string): void {
    this.users.delete(sessionId);
    this.users.set(sessionId, user);
    if (this.users.size > MAX_SESSIONS) {
      const oldest = this.users.keys().next().value;
      if (oldest !== undefined) this.users.delete(oldest);
    }
  }
}
