/**
 * Envoy in front of the SBC (lb-formats.md §5): the default text access-log format with
 * %RESPONSE_CODE_DETAILS% after the flags (as in the real lines of §5.4) and
 * %DOWNSTREAM_REMOTE_ADDRESS% appended, one line per stream written when it ends, stamped with its
 * START_TIME. Route `prefix: /ws` (upgrade_configs websocket, timeout 15s: the wait for the 101),
 * stream_idle_timeout = the scenario's idle timeout, a local rate limit filter on the route; other
 * paths have no route (404 NR). Flags tell how a tunnel ended: SI (idle), DC (the client left).
 */
import type { Agent, WsConnection } from './agent.js';
import { handshakeUserAgent, type ClosedBy, type Edge } from './edge.js';
import type { Prng } from './prng.js';
import { isoTime } from './timefmt.js';
import { TOPOLOGY, type Emission, type World } from './world.js';

const UPSTREAM = `${TOPOLOGY.sbcIp}:${TOPOLOGY.sbcWsPort}`;
/** Envoy's local reply bodies */
const BODY = {
  rateLimited: 'local_rate_limited',
  timeout: 'upstream request timeout',
};

interface EnvoyFields {
  start: number;
  request: string;
  status: number;
  flags: string;
  details: string;
  received: number;
  sent: number;
  durationMs: number;
  serviceTime: string;
  forwardedFor: string;
  userAgent?: string;
  upstream: string;
  downstream: string;
}

export class EnvoyEdge implements Edge {
  readonly product = 'envoy';
  readonly limitStatus = 429;
  readonly unknownPathReachesSbc = false;
  /** the route timeout bounds the wait for the SBC's 101 */
  readonly upgradeTimeoutMs = 15_000;

  constructor(private readonly world: World) {}

  private line(rng: Prng, f: EnvoyFields): string {
    const start = isoTime(f.start + this.world.skewOf('lb'));
    return (
      `[${start}] "${f.request}" ${f.status} ${f.flags} ${f.details} ${f.received} ${f.sent} ` +
      `${Math.max(0, Math.round(f.durationMs))} ${f.serviceTime} "${f.forwardedFor}" "${f.userAgent ?? '-'}" ` +
      `"${rng.uuid()}" "${TOPOLOGY.wsHost}" "${f.upstream}" ${f.downstream}`
    );
  }

  private stream(
    a: Agent,
    conn: WsConnection,
    tEnd: number,
  ): Omit<EnvoyFields, 'status' | 'flags' | 'details' | 'sent' | 'serviceTime' | 'upstream'> {
    return {
      start: conn.acceptedAt,
      request: `GET ${conn.target} HTTP/1.1`,
      received: 0,
      durationMs: tEnd - conn.acceptedAt,
      forwardedFor: conn.clientIp,
      userAgent: handshakeUserAgent(a.world),
      downstream: `${conn.clientIp}:${conn.clientPort}`,
    };
  }

  private emit(a: Agent, tEnd: number, f: EnvoyFields): void {
    a.emit('lb', tEnd, [this.line(a.rng, f)]);
    this.world.lbOpen--;
  }

  refuseByLimiter(a: Agent, conn: WsConnection, t: number): void {
    this.emit(a, t, {
      ...this.stream(a, conn, t),
      status: 429,
      flags: 'RL',
      details: 'local_rate_limited',
      sent: BODY.rateLimited.length,
      serviceTime: '-',
      upstream: '-',
    });
  }

  refuseUnknownPath(a: Agent, conn: WsConnection, t: number): void {
    this.emit(a, t, {
      ...this.stream(a, conn, t),
      status: 404,
      flags: 'NR',
      details: 'route_not_found',
      sent: 0,
      serviceTime: '-',
      upstream: '-',
    });
  }

  relayUpstreamAnswer(a: Agent, conn: WsConnection, tEnd: number, status: 400 | 404): void {
    const took = Math.max(1, Math.round(tEnd - conn.acceptedAt));
    this.emit(a, tEnd, {
      ...this.stream(a, conn, tEnd),
      status,
      flags: '-',
      details: 'via_upstream',
      sent: 0,
      serviceTime: String(took),
      upstream: UPSTREAM,
    });
  }

  upgradeTimedOut(a: Agent, conn: WsConnection, tEnd: number): void {
    this.emit(a, tEnd, {
      ...this.stream(a, conn, tEnd),
      status: 504,
      flags: 'UT',
      details: 'response_timeout',
      sent: BODY.timeout.length,
      serviceTime: '-',
      upstream: UPSTREAM,
    });
  }

  tunnelClosed(a: Agent, conn: WsConnection, tEnd: number, closedBy: ClosedBy): void {
    const idle = closedBy === 'idle-timeout';
    const answered = Math.max(1, Math.round((conn.openedAt ?? conn.acceptedAt) - conn.acceptedAt - 2));
    this.emit(a, tEnd, {
      ...this.stream(a, conn, tEnd),
      received: conn.bytesFromClient,
      status: 101,
      flags: idle ? 'SI' : 'DC',
      details: idle ? 'stream_idle_timeout' : 'downstream_remote_disconnect',
      // BYTES_SENT counts the 101's headers for a WebSocket
      sent: 160 + conn.bytesToClient,
      serviceTime: String(Math.min(answered, 9)),
      upstream: UPSTREAM,
    });
  }

  /** the monitoring host's health check (a direct response) and browsers' stray requests */
  noise(rng: Prng, t: number): Emission[] {
    const probe = rng.chance(0.8);
    const ip = probe ? TOPOLOGY.monitorIp : `203.0.113.${rng.int(10, 250)}`;
    const line = this.line(rng, {
      start: t - rng.int(0, 1),
      request: probe ? 'GET /healthz HTTP/1.1' : 'GET /favicon.ico HTTP/1.1',
      status: probe ? 200 : 404,
      flags: probe ? '-' : 'NR',
      details: probe ? 'direct_response' : 'route_not_found',
      received: 0,
      sent: probe ? 2 : 0,
      durationMs: 0,
      serviceTime: '-',
      forwardedFor: ip,
      userAgent: probe
        ? 'Blackbox Exporter/0.24.0'
        : 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
      upstream: '-',
      downstream: `${ip}:${rng.ephemeralPort()}`,
    });
    return [{ t, file: 'lb', lines: [line] }];
  }
}
