/**
 * FreeSWITCH 1.10 (mod_sofia) as freeswitch.log writes it (sbc-formats.md §3): dated lines
 * `2025-11-24 10:00:01.123456 [LEVEL] file.c:NNN msg` (local time, here UTC, log level DEBUG for
 * the test) and, with `sofia global siptrace on`, sofia-sip's undated trace blocks
 * `recv|send N bytes from|to ws/[ip]:port at HH:MM:SS.uuuuuu:` + 72 dashes + the message.
 *
 * FreeSWITCH is its own registrar: it challenges, authenticates against its directory and answers
 * 200 itself. Its refusals of load are replies with no log line of their own (sofia.c answers
 * REGISTER with `503 Maximum Calls In Progress` when the session limit is reached and with
 * `503 System Busy` when its message queue is past the critical mark, both with Retry-After: 300):
 * only the trace shows them. A WebSocket closing is not logged at all.
 */
import type { Agent, WsConnection } from './agent.js';
import type { Prng } from './prng.js';
import {
  contactLine,
  lbPeer,
  messageLines,
  monitorProbe,
  type SbcAnswer,
  type SbcLog,
  type SbcVerdict,
} from './sbc.js';
import { buildReply, type SipReply, type SipRequest } from './sip.js';
import { dateTimeFraction, timeOfDayMicros } from './timefmt.js';
import { TOPOLOGY, type World } from './world.js';

type Level = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERR' | 'CRIT';

const AGENT = `User-Agent: ${TOPOLOGY.freeswitchAgent}`;
const ALLOW =
  'Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, REGISTER, REFER, NOTIFY, PUBLISH, SUBSCRIBE';
const SUPPORTED = 'Supported: timer, path, replaces';
const DASHES = '-'.repeat(72);
const TAG_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PROFILE = 'internal';

export class FreeSwitchLog implements SbcLog {
  readonly product = 'freeswitch';

  constructor(private readonly world: World) {}

  private line(t: number, micros: number, level: Level, where: string, message: string): string {
    return `${dateTimeFraction(t + this.world.skewOf('sbc'), 6, micros)} [${level}] ${where} ${message}`;
  }

  /** a sofia-sip trace block: stamp, separator, the message as it crossed the socket */
  private trace(t: number, micros: number, sent: boolean, peer: string, text: string): string[] {
    const bytes = Buffer.byteLength(text);
    const stamp = timeOfDayMicros(t + this.world.skewOf('sbc'), micros);
    const head = sent
      ? `send ${bytes} bytes to ${peer} at ${stamp}:`
      : `recv ${bytes} bytes from ${peer} at ${stamp}:`;
    return [head, DASHES, ...messageLines(text), ''];
  }

  wsAccepted(): void {
    // sofia-sip logs WebSocket handshakes only at tport debug levels
  }

  handshakeMissingSubprotocol(): void {
    throw new Error('FreeSWITCH does not refuse a handshake without subprotocol (variant not supported)');
  }

  connectionCut(): void {
    // nothing at any log level FreeSWITCH is run with
  }

  connectionClosed(): void {
    // nothing either
  }

  handle(a: Agent, conn: WsConnection, atSbc: number, request: SipRequest, verdict: SbcVerdict): SbcAnswer {
    const peer = lbPeer(conn);
    const wsPeer = `ws/[${peer.ip}]:${peer.port}`;
    const user = `${a.sip.user}@${TOPOLOGY.domain}`;
    const lines = this.trace(atSbc, a.rng.int(0, 999), false, wsPeer, request.text);
    const answeredAt = atSbc + a.rng.int(1, 4);
    const toTag = a.rng.token(13, TAG_CHARS);
    const replyOf = (status: number, reason: string, extra: string[] = []): SipReply =>
      buildReply(request, status, reason, { toTag, lbPort: conn.upstreamPort, extra, server: AGENT });
    const log = (level: Level, where: string, message: string): void => {
      lines.push(this.line(atSbc, a.rng.int(0, 999), level, where, message));
    };
    const authFailure = (): void =>
      log(
        'WARNING',
        'sofia_reg.c:1822',
        `SIP auth failure (${request.method}) on sofia profile '${PROFILE}' for [${user}] from ip ${peer.ip}`,
      );
    let reply: SipReply;
    switch (verdict) {
      case 'challenge': {
        log('DEBUG', 'sofia_reg.c:1739', `Requesting Registration from: [${user}]`);
        const nonce = a.rng.uuid();
        reply = {
          ...replyOf(401, 'Unauthorized', [
            ALLOW,
            SUPPORTED,
            `WWW-Authenticate: Digest realm="${TOPOLOGY.domain}", nonce="${nonce}", algorithm=MD5, qop="auth"`,
          ]),
          nonce,
        };
        break;
      }
      case 'accept':
        lines.push(
          this.line(atSbc, a.rng.int(0, 999), 'DEBUG', 'sofia_reg.c:2074', 'Register:'),
          `From:    [${user}]`,
          `Contact: ["user" <sip:${a.sip.contactUser}@${a.sip.viaHost};transport=ws;fs_path=<sip:${peer.ip}:${peer.port};transport=ws>>]`,
          `Expires: [${request.expires}]`,
        );
        reply = replyOf(200, 'OK', [...contactLine(a, request.expires), ALLOW, SUPPORTED]);
        break;
      case 'wrong-password':
        authFailure();
        reply = replyOf(403, 'Forbidden', [ALLOW, SUPPORTED]);
        break;
      case 'unknown-user':
        lines.push(
          this.line(
            atSbc,
            a.rng.int(0, 999),
            'WARNING',
            'sofia_reg.c:3200',
            `Can't find user [${user}] from ${peer.ip}`,
          ),
          `You must define a domain called '${TOPOLOGY.domain}' in your directory and add a user with the id="${a.sip.user}" attribute`,
          "and you must configure your device to use the proper domain in it's authentication credentials.",
        );
        authFailure();
        reply = replyOf(403, 'Forbidden', [ALLOW, SUPPORTED]);
        break;
      case 'session-limit-503':
        // sofia.c answers before any processing: sess_count >= sess_max
        reply = {
          ...replyOf(503, 'Maximum Calls In Progress', ['Retry-After: 300']),
          retryAfterSec: 300,
        };
        break;
      case 'system-busy-503':
        // sofia.c: the message queue is past its critical mark
        reply = { ...replyOf(503, 'System Busy', ['Retry-After: 300']), retryAfterSec: 300 };
        break;
      default:
        throw new Error(`FreeSWITCH cannot ${verdict}`);
    }
    a.emit('sbc', atSbc, lines);
    a.emit('sbc', answeredAt, this.trace(answeredAt, a.rng.int(0, 999), true, wsPeer, reply.text));
    return { reply, answeredAt };
  }

  /** the monitoring host's OPTIONS probe (UDP), answered 200, as the trace shows it */
  noise(rng: Prng, t: number): string[] {
    const probe = monitorProbe(rng, { toTag: rng.token(13, TAG_CHARS), headers: [AGENT, ALLOW, SUPPORTED] });
    const peer = `udp/[${TOPOLOGY.monitorIp}]:5060`;
    return [
      ...this.trace(t, rng.int(0, 999), false, peer, probe.request),
      ...this.trace(t + 1, rng.int(0, 999), true, peer, probe.reply),
    ];
  }
}
