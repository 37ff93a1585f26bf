/**
 * OpenSIPS 3.4 as syslog receives it (sbc-formats.md §2): module lines
 * `Nov 24 10:00:01 sbc-01 /usr/sbin/opensips[PID]: LEVEL:module:function: msg` and the script's
 * xlog lines, which carry no level prefix. The script (written into the scenario README) proxies
 * REGISTER to the registrar like the Kamailio one, with pike and a ratelimit pipe in front; its
 * xlog texts name the From URI, the LB's address and the Call-ID.
 *
 * What OpenSIPS does not log at its default level: a WebSocket connection closing (proto_ws logs
 * EOF at DBG), a challenge it sends, a reply it relays.
 */
import type { Agent, WsConnection } from './agent.js';
import type { Prng } from './prng.js';
import {
  contactLine,
  lbPeer,
  pikeBlock,
  REGISTRAR_FR_TIMER_MS,
  type SbcAnswer,
  type SbcLog,
  type SbcVerdict,
} from './sbc.js';
import { buildReply, kamailioToTag, type SipReply, type SipRequest } from './sip.js';
import { syslogTime } from './timefmt.js';
import { TOPOLOGY, type World } from './world.js';

const SERVER = `Server: ${TOPOLOGY.opensipsServer}`;

export class OpenSipsLog implements SbcLog {
  readonly product = 'opensips';

  constructor(private readonly world: World) {}

  private line(t: number, pid: number, body: string): string {
    const ms = t + this.world.skewOf('sbc');
    return `${syslogTime(ms)} ${TOPOLOGY.sbcHostname} /usr/sbin/opensips[${pid}]: ${body}`;
  }

  /** the OpenSIPS process that owns a connection: the TCP worker in the same slot as Kamailio's */
  private pidOf(conn: WsConnection): number {
    const slot = Math.max(0, this.world.kamailio.tcpWorkers.indexOf(conn.sbcPid));
    return this.world.opensips.workers[slot % this.world.opensips.workers.length];
  }

  wsAccepted(): void {
    // proto_ws logs a completed handshake at DBG only
  }

  handshakeMissingSubprotocol(a: Agent, conn: WsConnection, t: number): void {
    const pid = this.pidOf(conn);
    a.emit('sbc', t, [
      this.line(t, pid, 'ERROR:proto_ws:ws_parse_req_handshake: Sec-WebSocket-Protocol header not present!'),
      this.line(t, pid, 'ERROR:proto_ws:ws_read_req: cannot complete WebSocket handshake'),
    ]);
  }

  connectionCut(): void {
    // EOF on a WebSocket is logged at DBG only
  }

  connectionClosed(): void {
    // a close frame is logged at DBG only
  }

  handle(a: Agent, conn: WsConnection, atSbc: number, request: SipRequest, verdict: SbcVerdict): SbcAnswer {
    const pid = this.pidOf(conn);
    const peer = lbPeer(conn);
    const source = `IP:${peer.ip}:${peer.port}`;
    const from = a.sip.aor;
    const callId = a.sip.callId;
    const lines = [
      this.line(
        atSbc,
        pid,
        `${request.method} from ${from} (${source}, ws) callid=${callId} cseq=${request.cseq}`,
      ),
    ];
    let answeredAt = atSbc + a.sbcProcessing();
    const toTag = kamailioToTag(a.rng);
    const replyOf = (status: number, reason: string, extra: string[] = []): SipReply =>
      buildReply(request, status, reason, { toTag, lbPort: conn.upstreamPort, extra, server: SERVER });
    const challenge = (): SipReply => {
      const nonce = a.rng.base64(40);
      return {
        ...replyOf(401, 'Unauthorized', [
          `WWW-Authenticate: Digest realm="${TOPOLOGY.domain}", nonce="${nonce}", qop="auth", algorithm=MD5`,
        ]),
        nonce,
      };
    };
    const authFailed = (code: number, meaning: string, action: string): string =>
      this.line(
        atSbc,
        pid,
        `auth failed for ${from} (${source}, callid=${callId}): www_authorize() returned ${code} (${meaning}), ${action}`,
      );
    let reply: SipReply;
    switch (verdict) {
      case 'pike-drop': {
        const block = pikeBlock(a, atSbc);
        if (block.started) {
          lines.push(
            this.line(
              atSbc,
              pid,
              `WARNING:pike:pike_check_req: PIKE - BLOCKing ip ${peer.ip}, node=${block.node}`,
            ),
          );
        }
        lines.push(
          this.line(atSbc, pid, `pike blocking ${request.method} from ${from} (${source}, callid=${callId})`),
        );
        a.emit('sbc', atSbc, lines);
        return { answeredAt };
      }
      case 'ratelimit-503':
        lines.push(
          this.line(
            atSbc,
            pid,
            `rl_check("pipe_REGISTER") failed for ${request.method} from ${from} (${source}, callid=${callId}), ` +
              'replying 503 Server Unavailable (Retry-After: 5)',
          ),
        );
        reply = { ...replyOf(503, 'Server Unavailable', ['Retry-After: 5']), retryAfterSec: 5 };
        break;
      case 'challenge':
        reply = challenge();
        break;
      case 'wrong-password':
        lines.push(authFailed(-2, 'invalid password', 're-challenging'));
        reply = challenge();
        break;
      case 'unknown-user':
        lines.push(authFailed(-1, 'invalid user', 'replying 403 Forbidden'));
        reply = replyOf(403, 'Forbidden');
        break;
      case 'accept':
        answeredAt += a.rng.int(3, 25);
        reply = replyOf(200, 'OK', contactLine(a, request.expires));
        break;
      case 'registrar-timeout':
        answeredAt = atSbc + REGISTRAR_FR_TIMER_MS + a.rng.int(0, 5);
        a.emit('sbc', answeredAt, [
          this.line(
            answeredAt,
            this.world.opensips.timer,
            `${request.method} to ${TOPOLOGY.registrarUri} timed out (408) for ${from} (${source}, callid=${callId}), ` +
              'replying 504 Server Time-out',
          ),
        ]);
        reply = replyOf(504, 'Server Time-out');
        break;
      default:
        throw new Error(`OpenSIPS cannot ${verdict}`);
    }
    a.emit('sbc', atSbc, lines);
    return { reply, answeredAt };
  }

  /** the monitoring host's OPTIONS probe through the same xlog, and tm's timer warning under load */
  noise(rng: Prng, t: number): string[] {
    const pid = this.world.opensips.main + rng.int(1, 4);
    if (rng.chance(0.15)) {
      const now = rng.int(100_000, 9_000_000);
      return [
        this.line(
          t,
          this.world.opensips.timer,
          `WARNING:core:utimer_ticker: utimer task <tm-utimer> already scheduled for ${now - 10} ms (now ${now} ms), it may overlap..`,
        ),
      ];
    }
    const callId = `${rng.int(100_000_000, 999_999_999)}@${TOPOLOGY.monitorIp}`;
    return [
      this.line(
        t,
        pid,
        `OPTIONS from sip:monitor@${TOPOLOGY.monitorIp} (IP:${TOPOLOGY.monitorIp}:5060, udp) callid=${callId} cseq=${rng.int(1, 9)}`,
      ),
    ];
  }
}
