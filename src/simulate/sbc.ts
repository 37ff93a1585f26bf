/**
 * What every SBC product does in a story, whatever it prints: the stories call these steps and each
 * product (kamailio.ts, opensips.ts, freeswitch.ts, asterisk.ts) writes the lines that product
 * really writes for them, and builds the SIP replies the client then sees.
 */
import type { Agent, WsConnection } from './agent.js';
import type { SbcProduct } from './options.js';
import type { Prng } from './prng.js';
import type { SipReply, SipRequest } from './sip.js';
import { TOPOLOGY } from './world.js';

/** What the SBC does with one REGISTER. */
export type SbcVerdict =
  | 'challenge'
  | 'accept'
  | 'ratelimit-503'
  | 'pipelimit-503'
  | 'session-limit-503'
  | 'system-busy-503'
  | 'overload-503'
  | 'pike-drop'
  | 'registrar-timeout'
  | 'wrong-password'
  | 'unknown-user';

export interface SbcAnswer {
  /** undefined: the request was dropped in silence */
  reply?: SipReply;
  /** when the reply left the SBC */
  answeredAt: number;
}

export interface SbcLog {
  readonly product: SbcProduct;
  /** the upgrade reached the SBC and it answered 101 */
  wsAccepted(a: Agent, conn: WsConnection, t: number): void;
  /** the upgrade came without `Sec-WebSocket-Protocol: sip`: the SBC refuses it with HTTP 400 */
  handshakeMissingSubprotocol(a: Agent, conn: WsConnection, t: number): void;
  /** one SIP request arrived at `atSbc`: the SBC logs what it logs and answers (or not) */
  handle(a: Agent, conn: WsConnection, atSbc: number, request: SipRequest, verdict: SbcVerdict): SbcAnswer;
  /** the LB cut the connection (idle timeout): the SBC read EOF or a reset */
  connectionCut(a: Agent, conn: WsConnection, t: number): void;
  /** the client closed the WebSocket with a close frame */
  connectionClosed(a: Agent, conn: WsConnection, t: number): void;
  /** unrelated lines: monitoring probes and the like */
  noise(rng: Prng, t: number): string[];
}

/** The LB-side address the SBC sees ($si:$sp): the LB's IP and its ephemeral port. */
export interface PeerAddress {
  ip: string;
  port: number;
}

export function lbPeer(conn: WsConnection): PeerAddress {
  return { ip: TOPOLOGY.lbIp, port: conn.upstreamPort };
}

/** JsSIP / SIP.js non-INVITE transaction timeout over a reliable transport: 64 × T1 */
export const TIMER_F_MS = 32_000;
/** tm `fr_timer` a proxying SBC sets before relaying REGISTER to the registrar (t_set_fr(10000)) */
export const REGISTRAR_FR_TIMER_MS = 10_000;

/** The registrar's 200 to a REGISTER, as the client gets it (the binding's Contact, unless it is an un-REGISTER). */
export function contactLine(a: Agent, expires: number): string[] {
  if (expires <= 0) return [];
  return [
    `Contact: <sip:${a.sip.contactUser}@${a.sip.viaHost};transport=ws>;expires=${expires};+sip.ice;reg-id=1;` +
      `+sip.instance="<urn:uuid:${a.sip.instanceId}>"`,
  ];
}

/** The lines of a SIP message as a log prints it: no CR, no trailing blank lines. */
export function messageLines(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Pike's red node for the LB address, shared by Kamailio and OpenSIPS: opens a block if none is on. */
export function pikeBlock(a: Agent, atSbc: number): { started: boolean; until: number; node: string } {
  const world = a.world;
  if (atSbc >= world.pike.until) {
    world.pike = { until: atSbc + a.rng.int(8_000, 20_000), node: a.pointer() };
    return { started: true, ...world.pike };
  }
  return { started: false, ...world.pike };
}

/** The monitoring host's SIP OPTIONS probe over UDP and the SBC's 200, as CRLF messages. */
export function monitorProbe(
  rng: Prng,
  answer: { toTag: string; headers: string[] },
): { request: string; reply: string; address: string } {
  const address = `${TOPOLOGY.monitorIp}:5060`;
  const branch = `z9hG4bK${rng.hex(8)}`;
  const dialog = [
    `From: <sip:monitor@${TOPOLOGY.monitorIp}>;tag=${rng.hex(8)}`,
    `To: <sip:${TOPOLOGY.sbcIp}>`,
    `Call-ID: ${rng.int(100_000_000, 999_999_999)}@${TOPOLOGY.monitorIp}`,
    `CSeq: ${rng.int(1, 9)} OPTIONS`,
  ];
  const message = (lines: string[]): string => [...lines, '', ''].join('\r\n');
  return {
    address,
    request: message([
      `OPTIONS sip:${TOPOLOGY.sbcIp} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address};branch=${branch};rport`,
      'Max-Forwards: 70',
      ...dialog,
      'User-Agent: sip-probe/1.0',
      'Content-Length: 0',
    ]),
    reply: message([
      'SIP/2.0 200 OK',
      `Via: SIP/2.0/UDP ${address};rport=5060;received=${TOPOLOGY.monitorIp};branch=${branch}`,
      ...dialog.map((h) => (h.startsWith('To: ') ? `${h};tag=${answer.toTag}` : h)),
      ...answer.headers,
      'Content-Length: 0',
    ]),
  };
}
