/**
 * AWS Application Load Balancer in front of the SBC (lb-formats.md §1): one access-log entry per
 * request, all fields space-separated in the documented order, written when the ALB answered, or
 * for a WebSocket when the connection closed (`time`), with `request_creation_time` when the
 * request arrived. Listener HTTPS :443 (TLS ends here), rule `path-pattern /ws*` → forward to the
 * target group of the SBC; default action `fixed-response 404`; an AWS WAF web ACL with a
 * rate-based rule blocks (403) sources over their rate. The ALB has no access log for health
 * checks, and no flags: a 101 line says how long the tunnel lived, not who closed it.
 */
import type { Agent, WsConnection } from './agent.js';
import { handshakeUserAgent, type ClosedBy, type Edge } from './edge.js';
import type { Prng } from './prng.js';
import { isoMicros } from './timefmt.js';
import { TOPOLOGY, type Emission, type World } from './world.js';

const ELB = 'app/sbc-ws-alb/5f1e2d3c4b5a6978';
const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sbc-ws/73e2d6bc24d8a067';
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0e7c1f7a-53a1-4e9a-9d3c-2b8f6c1d4e55';
const CIPHER = 'ECDHE-RSA-AES128-GCM-SHA256';
const TLS = 'TLSv1.2';
const TARGET = `${TOPOLOGY.sbcIp}:${TOPOLOGY.sbcWsPort}`;
/** the ALB's own error pages (headers + body) */
const WAF_403_BYTES = 321;
const GATEWAY_504_BYTES = 294;
const NOT_FOUND_BYTES = 181;

interface AlbFields {
  type: 'https' | 'wss';
  /** when the ALB answered (or the WebSocket closed), true time */
  tEnd: number;
  client: string;
  target: string;
  times: [string, string, string];
  status: number;
  targetStatus: string;
  received: number;
  sent: number;
  request: string;
  userAgent?: string;
  /** true time the request arrived */
  created: number;
  rulePriority: string;
  actions: string;
}

export class AlbEdge implements Edge {
  readonly product = 'alb';
  /** WAF rate-based rules block with 403 unless a custom response code is set */
  readonly limitStatus = 403;
  readonly unknownPathReachesSbc = false;
  /** the ALB waits the idle timeout for the target's answer, then gives 504 */
  readonly upgradeTimeoutMs: number;

  constructor(private readonly world: World) {
    this.upgradeTimeoutMs = world.idleTimeoutMs;
  }

  private line(rng: Prng, f: AlbFields): string {
    const skew = this.world.skewOf('lb');
    const trace = `Root=1-${Math.floor((f.created + skew) / 1000).toString(16)}-${rng.hex(24)}`;
    const targets = f.target === '-' ? '-' : f.target;
    return [
      f.type,
      isoMicros(f.tEnd + skew, rng.int(0, 999)),
      ELB,
      f.client,
      f.target,
      ...f.times,
      f.status,
      f.targetStatus,
      f.received,
      f.sent,
      `"${f.request}"`,
      `"${f.userAgent ?? '-'}"`,
      CIPHER,
      TLS,
      TARGET_GROUP,
      `"${trace}"`,
      `"${TOPOLOGY.wsHost}"`,
      `"${CERT}"`,
      f.rulePriority,
      isoMicros(f.created + skew, 0),
      `"${f.actions}"`,
      '"-"',
      '"-"',
      `"${targets}"`,
      `"${f.targetStatus}"`,
      '"-"',
      '"-"',
      `TID_${rng.hex(32)}`,
    ].join(' ');
  }

  private upgrade(
    a: Agent,
    conn: WsConnection,
  ): Pick<AlbFields, 'client' | 'request' | 'userAgent' | 'created'> {
    return {
      client: `${conn.clientIp}:${conn.clientPort}`,
      request: `GET https://${TOPOLOGY.wsHost}:443${conn.target} HTTP/1.1`,
      userAgent: handshakeUserAgent(a.world),
      created: conn.acceptedAt,
    };
  }

  /** bytes of the upgrade request as the client sent it (headers only) */
  private requestBytes(a: Agent, conn: WsConnection): number {
    return (
      230 + conn.target.length + (handshakeUserAgent(a.world)?.length ?? 0) + (a.header === 'none' ? 0 : 26)
    );
  }

  private emit(a: Agent, t: number, f: AlbFields): void {
    a.emit('lb', t, [this.line(a.rng, f)]);
    this.world.lbOpen--;
  }

  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void {
    // the WAF rate-based rule blocked the request before any target was chosen
    this.emit(a, t, {
      ...this.upgrade(a, conn),
      type: 'https',
      tEnd: t,
      target: '-',
      times: ['-1', '-1', '-1'],
      status: 403,
      targetStatus: '-',
      received: this.requestBytes(a, conn),
      sent: WAF_403_BYTES,
      rulePriority: '-',
      actions: 'waf',
    });
  }

  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void {
    // no rule matched: the default action's fixed response
    this.emit(a, t, {
      ...this.upgrade(a, conn),
      type: 'https',
      tEnd: t,
      target: '-',
      times: ['-1', '-1', '-1'],
      status: 404,
      targetStatus: '-',
      received: this.requestBytes(a, conn),
      sent: NOT_FOUND_BYTES,
      rulePriority: '0',
      actions: 'waf,fixed-response',
    });
  }

  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void {
    const took = Math.max(1, Math.round(tEnd - conn.acceptedAt));
    this.emit(a, tEnd, {
      ...this.upgrade(a, conn),
      type: 'https',
      tEnd,
      target: TARGET,
      times: ['0.000', (took / 1000).toFixed(3), '0.000'],
      status,
      targetStatus: String(status),
      received: this.requestBytes(a, conn),
      sent: 140,
      rulePriority: '1',
      actions: 'waf,forward',
    });
  }

  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void {
    this.emit(a, tEnd, {
      ...this.upgrade(a, conn),
      type: 'https',
      tEnd,
      target: TARGET,
      times: ['0.000', '-1', '-1'],
      status: 504,
      targetStatus: '-',
      received: this.requestBytes(a, conn),
      sent: GATEWAY_504_BYTES,
      rulePriority: '1',
      actions: 'waf,forward',
    });
  }

  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, _closedBy: ClosedBy): void {
    // the same line however the tunnel ended: only the lifetime tells an idle cut
    const answered = Math.max(0, (conn.openedAt ?? conn.acceptedAt) - conn.acceptedAt - 2);
    this.emit(a, tEnd, {
      ...this.upgrade(a, conn),
      type: 'wss',
      tEnd,
      target: TARGET,
      times: ['0.000', (Math.min(answered, 9) / 1000).toFixed(3), '0.000'],
      status: 101,
      targetStatus: '101',
      received: this.requestBytes(a, conn) + conn.bytesFromClient,
      sent: 180 + conn.bytesToClient,
      rulePriority: '1',
      actions: 'waf,forward',
    });
  }

  /** browsers asking the socket's host for a page or an icon: the default action's 404 */
  noise(rng: Prng, t: number): Emission[] {
    const path = rng.pick(['/favicon.ico', '/', '/robots.txt']);
    return [
      {
        t,
        file: 'lb',
        lines: [
          this.line(rng, {
            type: 'https',
            tEnd: t,
            client: `203.0.113.${rng.int(10, 250)}:${rng.ephemeralPort()}`,
            target: '-',
            times: ['-1', '-1', '-1'],
            status: 404,
            targetStatus: '-',
            received: rng.int(380, 620),
            sent: NOT_FOUND_BYTES,
            request: `GET https://${TOPOLOGY.wsHost}:443${path} HTTP/1.1`,
            userAgent:
              'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
            created: t - rng.int(0, 2),
            rulePriority: '0',
            actions: 'waf,fixed-response',
          }),
        ],
      },
    ];
  }
}
