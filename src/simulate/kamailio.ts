/**
 * Kamailio 5.6 lines as syslog receives them (sbc-formats.md §1):
 * `Nov 24 10:00:01 sbc-01 /usr/sbin/kamailio[PID]: LEVEL: [log_prefix ]<where>: msg`.
 * Message-bound lines carry the stock `log_prefix="{$mt $hdr(CSeq) $ci} "`; the script's xlog
 * texts are the ones listed in the generated README (kamailio.cfg excerpt).
 */
import type { Agent, WsConnection } from './agent.js';
import type { Prng } from './prng.js';
import {
  contactLine,
  lbPeer,
  pikeBlock,
  REGISTRAR_FR_TIMER_MS,
  type PeerAddress,
  type SbcAnswer,
  type SbcLog,
  type SbcVerdict,
} from './sbc.js';
import { buildReply, kamailioToTag, type SipReply, type SipRequest } from './sip.js';
import { syslogTime } from './timefmt.js';
import { TOPOLOGY, type World } from './world.js';

export type KamailioLevel = 'ALERT' | 'CRITICAL' | 'ERROR' | 'WARNING' | 'NOTICE' | 'INFO';

/** The SIP message a line is bound to, for the log prefix. */
export interface BoundMessage {
  cseq: number;
  method: string;
  callId: string;
  /** 1 = request, 2 = reply */
  type?: 1 | 2;
}

export class KamailioLog implements SbcLog {
  readonly product = 'kamailio';

  constructor(private readonly world: World) {}

  line(t: number, pid: number, level: KamailioLevel, body: string): string {
    const ms = t + this.world.skewOf('sbc');
    return `${syslogTime(ms)} ${TOPOLOGY.sbcHostname} /usr/sbin/kamailio[${pid}]: ${level}: ${body}`;
  }

  private prefix(msg: BoundMessage | null): string {
    return msg ? `{${msg.type ?? 1} ${msg.cseq} ${msg.method} ${msg.callId}} ` : '';
  }

  script(t: number, pid: number, level: KamailioLevel, msg: BoundMessage | null, text: string): string {
    return this.line(t, pid, level, `${this.prefix(msg)}<script>: ${text}`);
  }

  /** request_route's first xlog (shape of the Learn-Kamailio sample in sbc-formats.md §1.2) */
  requestReceived(
    t: number,
    pid: number,
    msg: BoundMessage,
    peer: PeerAddress,
    from: string,
    to: string,
  ): string {
    return this.script(
      t,
      pid,
      'INFO',
      msg,
      `SIP request ${msg.method} received from ${peer.ip}:${peer.port} via ws - from ${from} to ${to}`,
    );
  }

  /** `latency_limit_action` report, verbatim shape from sbc-formats.md §1.2 */
  routeLatency(t: number, pid: number, msg: BoundMessage, usec: number): string {
    return this.line(
      t,
      pid,
      'NOTICE',
      `${this.prefix(msg)}<core> [core/receive.c:528]: receive_msg(): request-route executed in: ${usec} usec`,
    );
  }

  ratelimitRefused(t: number, pid: number, msg: BoundMessage, peer: PeerAddress, from: string): string {
    return this.script(
      t,
      pid,
      'WARNING',
      msg,
      `rl_check() failed for ${msg.method} from ${from} (IP:${peer.ip}:${peer.port}), replying 503 Limiting`,
    );
  }

  /** the pipelimit README's xlog, copied into the config */
  pipelimitDrop(t: number, pid: number, msg: BoundMessage): string {
    return this.script(t, pid, 'ALERT', msg, 'pl_check("register") drop');
  }

  pikeBlocking(t: number, pid: number, msg: BoundMessage, ip: string, node: string): string {
    return this.line(
      t,
      pid,
      'WARNING',
      `${this.prefix(msg)}pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip ${ip}, node=${node}`,
    );
  }

  /** stock kamailio.cfg WITH_ANTIFLOOD: xalert("pike blocking $rm from $fu (IP:$si:$sp)") */
  pikeAlert(t: number, pid: number, msg: BoundMessage, peer: PeerAddress, from: string): string {
    return this.script(
      t,
      pid,
      'ALERT',
      msg,
      `pike blocking ${msg.method} from ${from} (IP:${peer.ip}:${peer.port})`,
    );
  }

  pikeUnblocking(t: number, node: string): string {
    return this.line(
      t,
      this.world.kamailio.timer,
      'WARNING',
      `pike [pike_funcs.c:274]: refresh_node(): PIKE - UNBLOCKing node ${node}`,
    );
  }

  authFailed(
    t: number,
    pid: number,
    msg: BoundMessage,
    user: string,
    peer: PeerAddress,
    code: -2 | -3,
  ): string {
    const meaning = code === -2 ? 'invalid password' : 'user not found';
    const action = code === -2 ? 're-challenging' : 'replying 403';
    return this.script(
      t,
      pid,
      'NOTICE',
      msg,
      `auth failed for ${user}@${TOPOLOGY.domain} from ${peer.ip}:${peer.port}: auth_check() returned ${code} (${meaning}), ${action}`,
    );
  }

  /** failure_route xlog (shape of the Kamailio_IMS_Config sample, sbc-formats.md §1.8); runs in the tm timer process */
  registrarTimedOut(t: number, msg: BoundMessage): string {
    return this.script(
      t,
      this.world.kamailio.timer,
      'ERROR',
      msg,
      `request sent to ${TOPOLOGY.registrarUri} completed with code: 408, replying 504 Server Time-out`,
    );
  }

  handshakeMissingHeaders(t: number, pid: number): string {
    return this.line(
      t,
      pid,
      'WARNING',
      'websocket [ws_handshake.c:254]: ws_handle_handshake(): required headers not present',
    );
  }

  /** event_route[websocket:closed] of the example websocket.cfg */
  webSocketClosed(t: number, pid: number, peer: PeerAddress): string {
    return this.script(t, pid, 'INFO', null, `WebSocket connection from ${peer.ip}:${peer.port} has closed`);
  }

  /**
   * What Kamailio 5.6 printed when a load balancer cut an idle WebSocket (observed-on-real-servers.md):
   * the read error split over two lines, then tcp_read_req's report. No websocket:closed event.
   */
  tcpReadReset(t: number, pid: number, peer: PeerAddress, connPtr: string, reqPtr: string): string[] {
    const core = '<core> [core/tcp_read.c';
    return [
      this.line(
        t,
        pid,
        'ERROR',
        `${core}:289]: tcp_read_data(): error reading: Connection reset by peer (104) ([${peer.ip}]:${peer.port} ->`,
      ),
      this.line(
        t,
        pid,
        'ERROR',
        `${core}:291]: tcp_read_data(): -> [${TOPOLOGY.sbcIp}]:${TOPOLOGY.sbcWsPort})`,
      ),
      this.line(
        t,
        pid,
        'ERROR',
        `${core}:1487]: tcp_read_req(): ERROR: tcp_read_req: error reading - c: ${connPtr} r: ${reqPtr} (-1)`,
      ),
    ];
  }

  // ---- the story steps (SbcLog) ------------------------------------------------------------

  wsAccepted(): void {
    // Kamailio logs nothing for a handshake it accepts
  }

  handshakeMissingSubprotocol(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, [this.handshakeMissingHeaders(t, conn.sbcPid)]);
  }

  connectionCut(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, this.tcpReadReset(t, conn.sbcPid, lbPeer(conn), a.pointer(), a.pointer()));
  }

  connectionClosed(a: Agent, conn: WsConnection, t: number): void {
    a.emit('sbc', t, [this.webSocketClosed(t, conn.sbcPid, lbPeer(conn))]);
  }

  handle(a: Agent, conn: WsConnection, atSbc: number, request: SipRequest, verdict: SbcVerdict): SbcAnswer {
    const pid = conn.sbcPid;
    const peer = lbPeer(conn);
    const bound: BoundMessage = { cseq: request.cseq, method: request.method, callId: a.sip.callId };
    const lines = [this.requestReceived(atSbc, pid, bound, peer, a.sip.aor, a.sip.aor)];
    let answeredAt = atSbc + a.sbcProcessing();
    const toTag = kamailioToTag(a.rng);
    let reply: SipReply;
    const replyOf = (status: number, reason: string, extra: string[] = []) =>
      buildReply(request, status, reason, { toTag, lbPort: conn.upstreamPort, extra });
    const challenge = (): SipReply => {
      const nonce = a.rng.base64(32);
      return {
        ...replyOf(401, 'Unauthorized', [
          `WWW-Authenticate: Digest realm="${TOPOLOGY.domain}", nonce="${nonce}", qop="auth"`,
        ]),
        nonce,
      };
    };
    switch (verdict) {
      case 'pike-drop': {
        const block = pikeBlock(a, atSbc);
        if (block.started) {
          lines.push(this.pikeBlocking(atSbc, pid, bound, TOPOLOGY.lbIp, block.node));
          a.emit('sbc', block.until, [this.pikeUnblocking(block.until, block.node)]);
        }
        lines.push(this.pikeAlert(atSbc, pid, bound, peer, a.sip.aor));
        a.emit('sbc', atSbc, lines);
        return { answeredAt };
      }
      case 'ratelimit-503':
        lines.push(this.ratelimitRefused(atSbc, pid, bound, peer, a.sip.aor));
        reply = { ...replyOf(503, 'Limiting', ['Retry-After: 5']), retryAfterSec: 5 };
        break;
      case 'pipelimit-503':
        lines.push(this.pipelimitDrop(atSbc, pid, bound));
        reply = { ...replyOf(503, 'Service Unavailable', ['Retry-After: 5']), retryAfterSec: 5 };
        break;
      case 'challenge':
        reply = challenge();
        break;
      case 'wrong-password':
        lines.push(this.authFailed(atSbc, pid, bound, a.sip.user, peer, -2));
        reply = challenge();
        break;
      case 'unknown-user':
        lines.push(this.authFailed(atSbc, pid, bound, a.sip.user, peer, -3));
        reply = replyOf(403, 'Forbidden - Invalid Credentials');
        break;
      case 'accept':
        // relayed to the registrar; its 200 comes back through the SBC
        answeredAt += a.rng.int(3, 25);
        reply = replyOf(200, 'OK', contactLine(a, request.expires));
        break;
      case 'registrar-timeout':
        answeredAt = atSbc + REGISTRAR_FR_TIMER_MS + a.rng.int(0, 5);
        a.emit('sbc', answeredAt, [this.registrarTimedOut(answeredAt, bound)]);
        reply = replyOf(504, 'Server Time-out');
        break;
      default:
        throw new Error(`Kamailio cannot ${verdict}`);
    }
    if (a.rng.chance(0.03)) lines.push(this.routeLatency(atSbc, pid, bound, a.rng.int(1000, 2600)));
    a.emit('sbc', atSbc, lines);
    return { reply, answeredAt };
  }

  /** a SIP OPTIONS probe from the monitoring host, logged by the same request_route xlog */
  noise(rng: Prng, t: number): string[] {
    const pid = this.world.kamailio.main + rng.int(1, 3);
    const probe = {
      cseq: rng.int(1, 9),
      method: 'OPTIONS',
      callId: `${rng.int(100_000_000, 999_999_999)}@${TOPOLOGY.monitorIp}`,
    };
    const lines = [
      this.script(
        t,
        pid,
        'INFO',
        probe,
        `SIP request OPTIONS received from ${TOPOLOGY.monitorIp}:5060 via udp - from sip:monitor@${TOPOLOGY.monitorIp} to sip:${TOPOLOGY.sbcIp}`,
      ),
    ];
    if (rng.chance(0.3)) lines.push(this.routeLatency(t, pid, probe, rng.int(1000, 4000)));
    return lines;
  }
}
