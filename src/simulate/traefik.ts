/**
 * Traefik v3 in front of the SBC (lb-formats.md §8): the JSON access log (`accessLog.format:
 * json`, header fields dropped), one object per request with logrus's keys sorted, written when
 * the request ends. Router `sbc-ws@file` (`Host(sbc.example.com) && PathPrefix(/ws)`, entry point
 * websecure) with a rateLimit middleware in front of service `sbc@file`; a request no router
 * matches gets Traefik's 404 with no RouterName. An upgraded connection is logged with
 * DownstreamStatus 0 / OriginStatus 0 and Duration = the tunnel's life (traefik #10064, #10504).
 * `respondingTimeouts.idleTimeout` is the scenario's idle timeout; the serversTransport's
 * `responseHeaderTimeout` (30 s) bounds the wait for the SBC's 101 (504, written as the
 * OriginStatus: PR #13609).
 */
import type { Agent, WsConnection } from './agent.js';
import type { ClosedBy, Edge } from './edge.js';
import type { Prng } from './prng.js';
import { goRfc3339Nano } from './timefmt.js';
import { TOPOLOGY, type Emission, type World } from './world.js';

const ROUTER = 'sbc-ws@file';
const SERVICE = {
  ServiceAddr: `${TOPOLOGY.sbcIp}:${TOPOLOGY.sbcWsPort}`,
  ServiceName: 'sbc@file',
  ServiceURL: `http://${TOPOLOGY.sbcIp}:${TOPOLOGY.sbcWsPort}`,
};
const TLS_FIELDS = { TLSCipher: 'TLS_AES_128_GCM_SHA256', TLSVersion: '1.3' };
/** the bodies Traefik writes itself */
const BODY = {
  rateLimited: 'No bursty traffic allowed\n',
  notFound: '404 page not found\n',
  gatewayTimeout: 'Gateway Timeout',
};

type Fields = Record<string, string | number>;

export class TraefikEdge implements Edge {
  readonly product = 'traefik';
  readonly limitStatus = 429;
  readonly unknownPathReachesSbc = false;
  readonly upgradeTimeoutMs = 30_000;

  constructor(private readonly world: World) {}

  /** one access-log object, keys sorted as logrus's JSON formatter writes them */
  private line(rng: Prng, start: number, end: number, fields: Fields): string {
    const skew = this.world.skewOf('lb');
    const durationNs = Math.max(0, Math.round((end - start) * 1e6) + rng.int(0, 999_999));
    const overhead = Math.min(durationNs, rng.int(40_000, 400_000));
    const startNs = rng.int(0, 999_999);
    const all: Fields = {
      ClientUsername: '-',
      Duration: durationNs,
      Overhead: overhead,
      RequestContentSize: 0,
      RequestCount: ++this.world.traefikRequests,
      RequestPort: '-',
      RequestProtocol: 'HTTP/1.1',
      RequestScheme: 'https',
      RetryAttempts: 0,
      StartLocal: goRfc3339Nano(start + skew, startNs),
      StartUTC: goRfc3339Nano(start + skew, startNs),
      ...TLS_FIELDS,
      entryPointName: 'websecure',
      level: 'info',
      msg: '',
      time: `${new Date(end + skew).toISOString().slice(0, 19)}Z`,
      ...fields,
    };
    if (typeof all.OriginDuration === 'number' && all.OriginDuration < 0)
      all.OriginDuration = Math.max(0, durationNs - overhead);
    const sorted: Fields = {};
    for (const key of Object.keys(all).sort()) sorted[key] = all[key];
    return JSON.stringify(sorted);
  }

  private client(conn: WsConnection): Fields {
    return {
      ClientAddr: `${conn.clientIp}:${conn.clientPort}`,
      ClientHost: conn.clientIp,
      ClientPort: String(conn.clientPort),
      RequestAddr: TOPOLOGY.wsHost,
      RequestHost: TOPOLOGY.wsHost,
      RequestMethod: 'GET',
      RequestPath: conn.target,
    };
  }

  private emit(a: Agent, conn: WsConnection, tEnd: number, fields: Fields): void {
    a.emit('lb', tEnd, [this.line(a.rng, conn.acceptedAt, tEnd, { ...this.client(conn), ...fields })]);
    this.world.lbOpen--;
  }

  /** the status fields of an answer: `origin` 0 when Traefik answered itself */
  private static answer(status: number, origin: number, body: string): Fields {
    return {
      DownstreamContentSize: body.length,
      DownstreamStatus: status,
      OriginContentSize: origin === 0 ? 0 : body.length,
      OriginDuration: origin === 0 ? 0 : -1,
      OriginStatus: origin,
    };
  }

  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void {
    this.emit(a, conn, t, { ...TraefikEdge.answer(429, 0, BODY.rateLimited), RouterName: ROUTER });
  }

  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void {
    // no router matched: no RouterName, no service
    this.emit(a, conn, t, TraefikEdge.answer(404, 0, BODY.notFound));
  }

  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void {
    this.emit(a, conn, tEnd, { ...TraefikEdge.answer(status, status, ''), RouterName: ROUTER, ...SERVICE });
  }

  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void {
    this.emit(a, conn, tEnd, {
      ...TraefikEdge.answer(504, 504, BODY.gatewayTimeout),
      RouterName: ROUTER,
      ...SERVICE,
    });
  }

  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, _closedBy: ClosedBy): void {
    // a hijacked connection: no status on either side, whoever closed it
    this.emit(a, conn, tEnd, {
      ...TraefikEdge.answer(0, 0, ''),
      OriginDuration: -1,
      RouterName: ROUTER,
      ...SERVICE,
    });
  }

  /** the monitoring host's /ping on the traefik entry point, and browsers' stray requests */
  noise(rng: Prng, t: number): Emission[] {
    const probe = rng.chance(0.8);
    const ip = probe ? TOPOLOGY.monitorIp : `203.0.113.${rng.int(10, 250)}`;
    const port = rng.ephemeralPort();
    const fields: Fields = {
      ClientAddr: `${ip}:${port}`,
      ClientHost: ip,
      ClientPort: String(port),
      RequestMethod: 'GET',
    };
    if (probe) {
      Object.assign(fields, {
        DownstreamContentSize: 2,
        DownstreamStatus: 200,
        OriginContentSize: 2,
        OriginDuration: -1,
        OriginStatus: 200,
        RequestAddr: `${TOPOLOGY.lbIp}:8082`,
        RequestHost: TOPOLOGY.lbIp,
        RequestPath: '/ping',
        RequestPort: '8082',
        RequestScheme: 'http',
        RouterName: 'ping@internal',
        entryPointName: 'traefik',
      });
    } else {
      Object.assign(fields, {
        ...TraefikEdge.answer(404, 0, BODY.notFound),
        RequestAddr: TOPOLOGY.wsHost,
        RequestHost: TOPOLOGY.wsHost,
        RequestPath: '/favicon.ico',
      });
    }
    const line = this.line(rng, t - rng.int(0, 2), t, fields);
    if (probe) {
      // plain HTTP on the traefik entry point: no TLS fields
      const o = JSON.parse(line) as Fields;
      delete o.TLSCipher;
      delete o.TLSVersion;
      return [{ t, file: 'lb', lines: [JSON.stringify(o)] }];
    }
    return [{ t, file: 'lb', lines: [line] }];
  }
}
