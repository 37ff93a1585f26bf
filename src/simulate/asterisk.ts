/**
 * Asterisk 20 (res_pjsip, res_http_websocket) as its `full` log file writes it (sbc-formats.md §4):
 * the file channel's default formatter `[date] LEVEL[lwp] file.c: message` with
 * `dateformat=%F %T.%3q`, verbose level 3 and `pjsip set logger on`, whose blocks
 * (`<--- Received SIP request (N bytes) from WS:ip:port --->` + the message) carry the file
 * channel's prefix on their first line only.
 *
 * Asterisk is its own registrar. What it logs of each cause: `log_failed_request` NOTICEs for
 * authentication failures (the endpoint is unknown, or the credentials are wrong: both are answered
 * with another 401), the task processor's high-water WARNING and a stateless 503 (no Retry-After)
 * when its distributor is overloaded, `Web socket closed abruptly` when the LB cuts a connection,
 * and the registrar's contact lines.
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
import { dateTimeFraction } from './timefmt.js';
import { TOPOLOGY, type World } from './world.js';

type Level = 'VERBOSE' | 'NOTICE' | 'WARNING' | 'ERROR';

const SERVER = `Server: ${TOPOLOGY.asteriskServer}`;
const ALLOW =
  'Allow: OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, MESSAGE, REFER';
/** how long the distributor stays over its high-water mark once it got there */
const OVERLOAD_MS = { min: 6_000, max: 15_000 };
const HIGH_WATER = 500;

export class AsteriskLog implements SbcLog {
  readonly product = 'asterisk';
  /** which contact each connection registered (to say which one went when the transport closed) */
  private readonly registeredOn = new WeakSet<WsConnection>();

  constructor(private readonly world: World) {}

  private line(t: number, lwp: number, level: Level, file: string, message: string): string {
    return `[${dateTimeFraction(t + this.world.skewOf('sbc'), 3)}] ${level}[${lwp}] ${file}: ${message}`;
  }

  /** the PJSIP thread that serves a connection (one of a few), from the SBC worker slot */
  private lwpOf(conn: WsConnection): number {
    const slot = Math.max(0, this.world.kamailio.tcpWorkers.indexOf(conn.sbcPid));
    return this.world.asteriskLwps[slot % this.world.asteriskLwps.length];
  }

  /** the HTTP server thread of one WebSocket (a thread per connection) */
  private httpLwp(conn: WsConnection): number {
    return this.world.asteriskLwps[0] + 1000 + (conn.upstreamPort % 4000);
  }

  private address(conn: WsConnection): string {
    const peer = lbPeer(conn);
    return `${peer.ip}:${peer.port}`;
  }

  /** res_pjsip_logger: the first line carries the file channel's prefix, the message follows raw */
  private trace(t: number, lwp: number, sent: boolean, where: string, text: string): string[] {
    const kind = text.startsWith('SIP/2.0 ') ? 'response' : 'request';
    const bytes = Buffer.byteLength(text);
    const head = sent
      ? `<--- Transmitting SIP ${kind} (${bytes} bytes) to ${where} --->`
      : `<--- Received SIP ${kind} (${bytes} bytes) from ${where} --->`;
    return [this.line(t, lwp, 'VERBOSE', 'res_pjsip_logger.c', head), ...messageLines(text), ''];
  }

  private contactUri(a: Agent): string {
    return `sip:${a.sip.contactUser}@${a.sip.viaHost};transport=ws`;
  }

  wsAccepted(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, [
      this.line(
        t,
        this.httpLwp(conn),
        'VERBOSE',
        'res_http_websocket.c',
        `WebSocket connection from '${this.address(conn)}' for protocol 'sip' accepted using version '13'`,
      ),
    ]);
  }

  handshakeMissingSubprotocol(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, [
      this.line(
        t,
        this.httpLwp(conn),
        'VERBOSE',
        'res_http_websocket.c',
        `WebSocket connection from '${this.address(conn)}' could not be accepted - no protocols requested`,
      ),
    ]);
  }

  connectionCut(a: Agent, conn: WsConnection, t: number): void {
    const lwp = this.httpLwp(conn);
    const lines = [
      this.line(t, lwp, 'WARNING', 'res_http_websocket.c', 'Web socket closed abruptly'),
      this.line(
        t,
        lwp,
        'VERBOSE',
        'res_http_websocket.c',
        `WebSocket connection from '${this.address(conn)}' closed`,
      ),
    ];
    if (this.registeredOn.has(conn)) {
      lines.push(
        this.line(
          t,
          this.lwpOf(conn),
          'VERBOSE',
          'res_pjsip_registrar.c',
          `Removed contact '${this.contactUri(a)}' from AOR '${a.sip.user}' due to shutdown`,
        ),
      );
    }
    a.emit('sbc', t, lines);
  }

  connectionClosed(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, [
      this.line(
        t,
        this.httpLwp(conn),
        'VERBOSE',
        'res_http_websocket.c',
        `WebSocket connection from '${this.address(conn)}' closed`,
      ),
    ]);
  }

  handle(a: Agent, conn: WsConnection, atSbc: number, request: SipRequest, verdict: SbcVerdict): SbcAnswer {
    const lwp = this.lwpOf(conn);
    const where = `WS:${this.address(conn)}`;
    const lines = this.trace(atSbc, lwp, false, where, request.text);
    const answeredAt = atSbc + a.rng.int(1, 5);
    const toTag = a.rng.uuid();
    const replyOf = (status: number, reason: string, extra: string[] = []): SipReply =>
      buildReply(request, status, reason, { toTag, lbPort: conn.upstreamPort, extra, server: SERVER });
    const failed = (reason: string): string =>
      this.line(
        atSbc,
        lwp,
        'NOTICE',
        'res_pjsip/pjsip_distributor.c',
        `Request '${request.method}' from '<${a.sip.aor}>' failed for '${this.address(conn)}' (callid: ${a.sip.callId}) - ${reason}`,
      );
    const challenge = (): SipReply => {
      const nonce = `${Math.floor(atSbc / 1000)}/${a.rng.hex(32)}`;
      return {
        ...replyOf(401, 'Unauthorized', [
          `WWW-Authenticate: Digest realm="${TOPOLOGY.domain}",nonce="${nonce}",opaque="${a.rng.hex(16)}",algorithm=MD5,qop="auth"`,
          ALLOW,
        ]),
        nonce,
      };
    };
    let reply: SipReply;
    switch (verdict) {
      case 'challenge':
        reply = challenge();
        break;
      case 'wrong-password':
        lines.push(failed('Failed to authenticate'));
        reply = challenge();
        break;
      case 'unknown-user':
        lines.push(failed('No matching endpoint found'), failed('Failed to authenticate'));
        reply = challenge();
        break;
      case 'accept': {
        const expires = request.expires;
        let registrar: string | undefined;
        if (expires <= 0) {
          registrar = `Removed contact '${this.contactUri(a)}' from AOR '${a.sip.user}' due to request`;
          this.registeredOn.delete(conn);
        } else if (!this.registeredOn.has(conn)) {
          registrar = `Added contact '${this.contactUri(a)}' to AOR '${a.sip.user}' with expiration of ${expires} seconds`;
          this.registeredOn.add(conn);
        }
        if (registrar) lines.push(this.line(atSbc, lwp, 'VERBOSE', 'res_pjsip_registrar.c', registrar));
        const date = new Date(atSbc + this.world.skewOf('sbc')).toUTCString();
        reply = replyOf(200, 'OK', [...contactLine(a, expires), `Date: ${date}`]);
        break;
      }
      case 'overload-503': {
        const world = this.world;
        if (atSbc >= world.overload.until) {
          world.overload.until = atSbc + a.rng.int(OVERLOAD_MS.min, OVERLOAD_MS.max);
          const again = world.overload.warned++ > 0 ? ' again' : '';
          lines.push(
            this.line(
              atSbc,
              lwp,
              'WARNING',
              'taskprocessor.c',
              `The 'pjsip/distributor-0000000${(conn.upstreamPort % 8) + 1}' task processor queue reached ${HIGH_WATER} scheduled tasks${again}.`,
            ),
          );
        }
        // pjsip_distributor.c: a stateless 503 for a request over a reliable transport
        reply = replyOf(503, 'Service Unavailable');
        break;
      }
      default:
        throw new Error(`Asterisk cannot ${verdict}`);
    }
    a.emit('sbc', atSbc, lines);
    a.emit('sbc', answeredAt, this.trace(answeredAt, lwp, true, where, reply.text));
    return { reply, answeredAt };
  }

  /** the monitoring host's OPTIONS probe over UDP, answered 200, as the PJSIP logger shows it */
  noise(rng: Prng, t: number): string[] {
    const lwp = rng.pick(this.world.asteriskLwps);
    const probe = monitorProbe(rng, { toTag: rng.uuid(), headers: [ALLOW, SERVER] });
    const where = `UDP:${probe.address}`;
    return [
      ...this.trace(t, lwp, false, where, probe.request),
      ...this.trace(t, lwp, true, where, probe.reply),
    ];
  }
}
