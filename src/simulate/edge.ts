/**
 * The load balancer in front of the SBC: nginx (access log with a custom `log_format`, error log at
 * `info`) or HAProxy (`option httplog` over syslog) here; AWS ALB, Envoy and Traefik in their own
 * files. Shapes from lb-formats.md §2 and §4 and observed-on-real-servers.md. Like the real
 * products, all write one access line per WebSocket when the connection ends, and never see SIP
 * inside the tunnel.
 */
import type { Agent, WsConnection } from './agent.js';
import type { LbProduct } from './options.js';
import type { Prng } from './prng.js';
import { haproxyDate, nginxErrorTime, nginxLocalTime, syslogTime } from './timefmt.js';
import { TOPOLOGY, type Emission, type World } from './world.js';

export type ClosedBy = 'client' | 'idle-timeout';

export interface Edge {
  readonly product: LbProduct;
  /** HTTP status the client gets when the edge limiter refuses an upgrade */
  readonly limitStatus: number;
  /** how long the edge waits for the SBC's answer to an upgrade before giving up (504) */
  readonly upgradeTimeoutMs: number;
  /** true when a request for an unknown path is forwarded to Kamailio (which answers 404) */
  readonly unknownPathReachesSbc: boolean;
  /** the limiter refused the upgrade; the edge answered without an upstream */
  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void;
  /** the edge itself answered 404 for an unknown path (nginx, static root) */
  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void;
  /** the SBC answered the upgrade with a non-101 status that the edge passed through */
  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void;
  /** the SBC never answered the upgrade */
  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void;
  /** the tunnel ended; called at its end time */
  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, closedBy: ClosedBy): void;
  /** unrelated lines this product prints (health checks, scrapes, keep-alive chatter) */
  noise(rng: Prng, t: number, file: 'lb' | 'lbError'): Emission[];
}

const NGINX_VERSION = 'nginx/1.22.1';
const UPSTREAM = `${TOPOLOGY.sbcIp}:${TOPOLOGY.sbcWsPort}`;

/** size of nginx's built-in error page (ngx_http_special_response.c, server_tokens on) */
function nginxErrorPageBytes(status: number, text: string): number {
  const head = `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n`;
  return head.length + `<hr><center>${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`.length;
}

function httpBytes(lines: string[], body = ''): number {
  return lines.join('\r\n').length + 4 + body.length;
}

const KAMAILIO_101_BYTES = httpBytes([
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: upgrade',
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
  'Sec-WebSocket-Protocol: sip',
  `Server: ${TOPOLOGY.kamailioServer}`,
  'Content-Length: 0',
]);
const KAMAILIO_400_BYTES = httpBytes([
  'HTTP/1.1 400 Bad Request',
  'Sec-WebSocket-Protocol: sip',
  'Sec-WebSocket-Version: 13',
  `Server: ${TOPOLOGY.kamailioServer}`,
  'Content-Length: 0',
]);
const KAMAILIO_404_BYTES = httpBytes([
  'HTTP/1.1 404 Not Found',
  `Server: ${TOPOLOGY.kamailioServer}`,
  'Content-Length: 0',
]);

function haproxyErrorBytes(status: number, reason: string, message: string): number {
  const body = `<html><body><h1>${status} ${reason}</h1>\n${message}\n</body></html>\n`;
  return httpBytes(
    [
      `HTTP/1.1 ${status} ${reason}`,
      `content-length: ${body.length}`,
      'cache-control: no-cache',
      'content-type: text/html',
    ],
    body,
  );
}

export const BROWSER_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36';

/** The User-Agent of the load generator's handshakes: Chrome for the browser harness, none for Node's `ws`. */
export function handshakeUserAgent(world: World): string | undefined {
  return world.opts.client === 'har' ? BROWSER_UA : undefined;
}

/** `log_format ws_diag` (written into the scenario README) */
export const NGINX_LOG_FORMAT =
  `log_format ws_diag '$remote_addr - $remote_user [$time_local] "$request" '\n` +
  `                   '$status $body_bytes_sent "$http_referer" "$http_user_agent" '\n` +
  `                   '$request_time $upstream_status $upstream_addr $connection $request_id $remote_port';`;

export class NginxEdge implements Edge {
  readonly product = 'nginx';
  readonly limitStatus = 503;
  readonly unknownPathReachesSbc = false;
  readonly upgradeTimeoutMs: number;

  constructor(private readonly world: World) {
    // proxy_read_timeout is both the idle timeout of the tunnel and the wait for the 101
    this.upgradeTimeoutMs = world.idleTimeoutMs;
  }

  private lbMs(t: number): number {
    return t + this.world.skewOf('lb');
  }

  access(
    t: number,
    fields: {
      ip: string;
      port: number;
      request: string;
      status: number;
      bytes: number;
      referer?: string;
      userAgent?: string;
      requestTimeMs: number;
      upstreamStatus: string;
      upstreamAddr: string;
      serial: number;
      requestId: string;
    },
  ): string {
    const rt = (Math.max(0, fields.requestTimeMs) / 1000).toFixed(3);
    return (
      `${fields.ip} - - [${nginxLocalTime(this.lbMs(t))}] "${fields.request}" ${fields.status} ${fields.bytes} ` +
      `"${fields.referer ?? '-'}" "${fields.userAgent ?? '-'}" ${rt} ${fields.upstreamStatus} ${fields.upstreamAddr} ` +
      `${fields.serial} ${fields.requestId} ${fields.port}`
    );
  }

  error(
    t: number,
    level: 'error' | 'info',
    pid: number,
    serial: number,
    message: string,
    context: { ip: string; request: string; upstream?: string },
  ): string {
    const upstream = context.upstream ? `, upstream: "${context.upstream}"` : '';
    return (
      `${nginxErrorTime(this.lbMs(t))} [${level}] ${pid}#${pid}: *${serial} ${message}, client: ${context.ip}, ` +
      `server: ${TOPOLOGY.wsHost}, request: "${context.request}"${upstream}, host: "${TOPOLOGY.wsHost}"`
    );
  }

  private wsAccess(
    conn: WsConnection,
    tEnd: number,
    status: number,
    bytes: number,
    upstreamStatus: string,
    upstreamAddr: string,
  ) {
    return this.access(tEnd, {
      ip: conn.clientIp,
      port: conn.clientPort,
      request: `GET ${conn.target} HTTP/1.1`,
      status,
      bytes,
      userAgent: handshakeUserAgent(this.world),
      requestTimeMs: tEnd - conn.acceptedAt,
      upstreamStatus,
      upstreamAddr,
      serial: conn.serial,
      requestId: conn.requestId,
    });
  }

  private context(conn: WsConnection, withUpstream: boolean) {
    return {
      ip: conn.clientIp,
      request: `GET ${conn.target} HTTP/1.1`,
      upstream: withUpstream ? `http://${UPSTREAM}${conn.target}` : undefined,
    };
  }

  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void {
    // limit_req rejects when the excess passes the burst (6): it logs a value in (6, 7)
    const excess = `6.${a.rng.digits(3)}`;
    a.emit('lbError', t, [
      this.error(
        t,
        'error',
        conn.lbWorkerPid,
        conn.serial,
        `limiting requests, excess: ${excess} by zone "ws_limit"`,
        this.context(conn, false),
      ),
    ]);
    a.emit('lb', t, [
      this.wsAccess(conn, t, 503, nginxErrorPageBytes(503, 'Service Temporarily Unavailable'), '-', '-'),
    ]);
    this.world.lbOpen--;
  }

  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void {
    const file = conn.target.split('?')[0];
    a.emit('lbError', t, [
      this.error(
        t,
        'error',
        conn.lbWorkerPid,
        conn.serial,
        `open() "/usr/share/nginx/html${file}" failed (2: No such file or directory)`,
        this.context(conn, false),
      ),
    ]);
    a.emit('lb', t, [this.wsAccess(conn, t, 404, nginxErrorPageBytes(404, 'Not Found'), '-', '-')]);
    this.world.lbOpen--;
  }

  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void {
    // Kamailio's answers carry Content-Length: 0, so no body bytes reach the client
    a.emit('lb', tEnd, [this.wsAccess(conn, tEnd, status, 0, String(status), UPSTREAM)]);
    this.world.lbOpen--;
  }

  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void {
    a.emit('lbError', tEnd, [
      this.error(
        tEnd,
        'error',
        conn.lbWorkerPid,
        conn.serial,
        'upstream timed out (110: Connection timed out) while reading response header from upstream',
        this.context(conn, true),
      ),
    ]);
    a.emit('lb', tEnd, [
      this.wsAccess(conn, tEnd, 504, nginxErrorPageBytes(504, 'Gateway Time-out'), '504', UPSTREAM),
    ]);
    this.world.lbOpen--;
  }

  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, closedBy: ClosedBy): void {
    if (closedBy === 'idle-timeout') {
      a.emit('lbError', tEnd, [
        this.error(
          tEnd,
          'info',
          conn.lbWorkerPid,
          conn.serial,
          'upstream timed out (110: Connection timed out) while proxying upgraded connection',
          this.context(conn, true),
        ),
      ]);
    }
    a.emit('lb', tEnd, [this.wsAccess(conn, tEnd, 101, conn.bytesToClient, '101', UPSTREAM)]);
    this.world.lbOpen--;
  }

  noise(rng: Prng, t: number, file: 'lb' | 'lbError'): Emission[] {
    const serial = this.world.nextConnectionSerial();
    const pid = rng.pick(this.world.nginxWorkers);
    if (file === 'lbError') {
      return [
        {
          t,
          file,
          lines: [
            `${nginxErrorTime(this.lbMs(t))} [info] ${pid}#${pid}: *${serial} client ${TOPOLOGY.monitorIp} closed keepalive connection`,
          ],
        },
      ];
    }
    if (rng.chance(0.8)) {
      return [
        {
          t,
          file,
          lines: [
            this.access(t, {
              ip: TOPOLOGY.monitorIp,
              port: rng.ephemeralPort(),
              request: 'GET /healthz HTTP/1.1',
              status: 200,
              bytes: 2,
              userAgent: 'Blackbox Exporter/0.24.0',
              requestTimeMs: 0,
              upstreamStatus: '-',
              upstreamAddr: '-',
              serial,
              requestId: rng.hex(32),
            }),
          ],
        },
      ];
    }
    const browserIp = `203.0.113.${rng.int(10, 250)}`;
    return [
      {
        t,
        file: 'lbError',
        lines: [
          this.error(
            t,
            'error',
            pid,
            serial,
            'open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)',
            {
              ip: browserIp,
              request: 'GET /favicon.ico HTTP/1.1',
            },
          ),
        ],
      },
      {
        t,
        file,
        lines: [
          this.access(t, {
            ip: browserIp,
            port: rng.ephemeralPort(),
            request: 'GET /favicon.ico HTTP/1.1',
            status: 404,
            bytes: nginxErrorPageBytes(404, 'Not Found'),
            referer: `https://${TOPOLOGY.wsHost}/`,
            userAgent: BROWSER_UA,
            requestTimeMs: 0,
            upstreamStatus: '-',
            upstreamAddr: '-',
            serial,
            requestId: rng.hex(32),
          }),
        ],
      },
    ];
  }
}

/** `option httplog`; frontend `fe_ws` terminates TLS (hence `fe_ws~`), backend `be_sbc` has one server `sbc1` */
export class HaproxyEdge implements Edge {
  readonly product = 'haproxy';
  readonly limitStatus = 429;
  readonly unknownPathReachesSbc = true;
  /** `timeout server 30s` governs the wait for the 101; `timeout tunnel` takes over after it */
  readonly upgradeTimeoutMs = 30_000;

  constructor(private readonly world: World) {}

  private line(
    tEnd: number,
    conn: { clientIp: string; clientPort: number; acceptedAt: number; target: string },
    fields: {
      frontend: string;
      backend: string;
      server: string;
      timers: [number, number, number, number, number];
      status: number;
      bytes: number;
      state: string;
      backendConns: number;
    },
  ): string {
    const skew = this.world.skewOf('lb');
    const open = Math.max(1, this.world.lbOpen);
    const counts = `${open}/${open}/${fields.backendConns}/${fields.backendConns}/0`;
    return (
      `${syslogTime(tEnd + skew)} ${TOPOLOGY.lbHostname} haproxy[${this.world.haproxyPid}]: ` +
      `${conn.clientIp}:${conn.clientPort} [${haproxyDate(conn.acceptedAt + skew)}] ${fields.frontend} ` +
      `${fields.backend}/${fields.server} ${fields.timers.join('/')} ${fields.status} ${fields.bytes} - - ${fields.state} ` +
      `${counts} 0/0 "GET ${conn.target} HTTP/1.1"`
    );
  }

  private served(
    conn: WsConnection,
    tEnd: number,
    status: number,
    bytes: number,
    state: string,
    serverTime: number,
  ): string {
    const { request, connect } = conn.timers;
    // Ta covers the request, connect and response phases at least
    const total = Math.max(Math.round(tEnd - conn.acceptedAt), request + connect + Math.max(0, serverTime));
    return this.line(tEnd, conn, {
      frontend: 'fe_ws~',
      backend: 'be_sbc',
      server: 'sbc1',
      timers: [request, 0, connect, serverTime, total],
      status,
      bytes,
      state,
      backendConns: Math.max(1, this.world.lbOpen),
    });
  }

  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void {
    // http-request deny deny_status 429 if { sc_http_req_rate(0) gt 20 }
    a.emit('lb', t, [
      this.line(t, conn, {
        frontend: 'fe_ws~',
        backend: 'fe_ws',
        server: '<NOSRV>',
        timers: [conn.timers.request, -1, -1, -1, Math.max(0, Math.round(t - conn.acceptedAt))],
        status: 429,
        bytes: haproxyErrorBytes(
          429,
          'Too Many Requests',
          'You have sent too many requests in a given amount of time.',
        ),
        state: 'PR--',
        backendConns: 0,
      }),
    ]);
    this.world.lbOpen--;
  }

  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void {
    // not reached: HAProxy forwards every path to be_sbc (unknownPathReachesSbc)
    this.relayUpstreamAnswer(a, conn, t, 404);
  }

  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void {
    const bytes = status === 400 ? KAMAILIO_400_BYTES : KAMAILIO_404_BYTES;
    a.emit('lb', tEnd, [this.served(conn, tEnd, status, bytes, '----', conn.timers.response)]);
    this.world.lbOpen--;
  }

  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void {
    const bytes = haproxyErrorBytes(504, 'Gateway Time-out', "The server didn't respond in time.");
    a.emit('lb', tEnd, [this.served(conn, tEnd, 504, bytes, 'sH--', -1)]);
    this.world.lbOpen--;
  }

  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, closedBy: ClosedBy): void {
    // observed: tunnel-timeout cuts of silent WebSockets were all cD--, Ta ≈ the timeout
    const state = closedBy === 'idle-timeout' ? 'cD--' : '----';
    a.emit('lb', tEnd, [
      this.served(conn, tEnd, 101, KAMAILIO_101_BYTES + conn.bytesToClient, state, conn.timers.response),
    ]);
    this.world.lbOpen--;
  }

  noise(rng: Prng, t: number): Emission[] {
    const client = {
      clientIp: TOPOLOGY.monitorIp,
      clientPort: rng.ephemeralPort(),
      acceptedAt: t - rng.int(1, 4),
    };
    if (rng.chance(0.75)) {
      const took = rng.int(1, 4);
      return [
        {
          t,
          file: 'lb',
          lines: [
            this.line(
              t,
              { ...client, target: '/metrics' },
              {
                frontend: 'fe_stats',
                backend: 'fe_stats',
                server: '<PROMEX>',
                timers: [0, 0, 0, took, took],
                status: 200,
                bytes: rng.int(48_000, 52_000),
                state: 'LR--',
                backendConns: 0,
              },
            ),
          ],
        },
      ];
    }
    return [
      {
        t,
        file: 'lb',
        lines: [
          this.line(
            t,
            {
              clientIp: `203.0.113.${rng.int(10, 250)}`,
              clientPort: rng.ephemeralPort(),
              acceptedAt: t - 2,
              target: '/favicon.ico',
            },
            {
              frontend: 'fe_ws~',
              backend: 'be_sbc',
              server: 'sbc1',
              timers: [0, 0, 0, 1, 2],
              status: 404,
              bytes: KAMAILIO_404_BYTES,
              state: '----',
              backendConns: Math.max(1, this.world.lbOpen),
            },
          ),
        ],
      },
    ];
  }
}
