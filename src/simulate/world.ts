/**
 * The shared scene of a load test: addresses, process ids, counters that real daemons keep
 * (nginx's connection serial, HAProxy's connection counts), and the per-role clock skew.
 * Stories run in true-time order (see engine.ts), so counters advance as they would in reality.
 */
import type { WsConnection } from './agent.js';
import type { SimulateOptions } from './options.js';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST, mixSeed, Prng } from './prng.js';

/** One output file. `lbError` is nginx's error log; it shares the LB's clock. */
export type LogFile = 'sbc' | 'lb' | 'lbError' | 'client';

/** Lines one role wrote at one instant (a multi-line SIP dump is one emission). */
export interface Emission {
  /** true time, epoch ms (the file's skew is applied when the lines are rendered) */
  t: number;
  file: LogFile;
  /** a file of one user's own (a HAR), relative to the output directory, instead of the role's file */
  path?: string;
  lines: string[];
}

export const TOPOLOGY = {
  domain: 'example.com',
  wsHost: 'sbc.example.com',
  wsPath: '/ws',
  /** a path that nothing serves: the misconfigured clients' URL */
  wrongPath: '/websocket',
  lbHostname: 'lb-01',
  lbIp: '10.0.0.2',
  sbcHostname: 'sbc-01',
  sbcIp: '10.0.0.1',
  sbcWsPort: 8080,
  registrarUri: 'sip:registrar-01.example.internal:5060',
  /** monitoring host: health checks, SIP OPTIONS probes, Prometheus */
  monitorIp: '10.0.0.9',
  loadgenNet: '198.51.100.',
  kamailioServer: 'kamailio (5.6.3 (x86_64/linux))',
  opensipsServer: 'OpenSIPS (3.4.9 (x86_64/linux))',
  freeswitchAgent: 'FreeSWITCH-mod_sofia/1.10.12-release~64bit',
  asteriskServer: 'Asterisk PBX 20.11.0',
  /** the public address of wsHost (the LB's listener) as a browser records it */
  publicIp: '192.0.2.10',
  /** the softphone web page the browser harness opens (served elsewhere, not through the LB) */
  webOrigin: 'https://phone.example.com',
} as const;

/** Users per load-generator host before the harness adds another one. */
const USERS_PER_LOADGEN = 5000;

export interface HarnessStats {
  started: number;
  wsOpen: number;
  registered: number;
  registrationFailures: number;
  handshakeFailures: number;
}

export class World {
  readonly opts: SimulateOptions;
  readonly startMs: number;
  readonly endMs: number;
  readonly idleTimeoutMs: number;
  /** REGISTER expiry the harness asks for (refreshes come 5 s before it, JsSIP style) */
  readonly registerExpiresSec: number;
  /** keep-alive period of users that have keep-alives on, well inside the idle timeout */
  readonly keepAliveMs: number;
  readonly loadgenIps: string[];
  readonly kamailio: { main: number; timer: number; tcpWorkers: number[] };
  readonly nginxWorkers: number[];
  readonly haproxyPid: number;
  readonly harnessPid: number;
  /** users whose idle tunnel was really cut (a test that ends first leaves them healthy) */
  readonly idleCutUsers = new Set<string>();
  readonly stats: HarnessStats = {
    started: 0,
    wsOpen: 0,
    registered: 0,
    registrationFailures: 0,
    handshakeFailures: 0,
  };
  /** streams open at the LB right now (HAProxy's actconn/feconn) */
  lbOpen = 0;
  /** pike's red node for the LB address: requests are dropped until `until` */
  pike: { until: number; node: string } = { until: -Infinity, node: '' };
  /** Asterisk's distributor task processor is over its high water mark until `until` */
  overload: { until: number; warned: number } = { until: -Infinity, warned: 0 };
  /** process ids of the other products (OpenSIPS, Asterisk threads, the Traefik request counter) */
  readonly opensips: { main: number; timer: number; workers: number[] };
  readonly asteriskLwps: number[];
  traefikRequests: number;
  private connectionSerial: number;
  /** the connection holding each ip:port: the load generators' (to the LB) and the LB's (to the SBC) */
  private readonly ports = {
    client: new Map<string, WsConnection>(),
    upstream: new Map<string, WsConnection>(),
  };

  constructor(opts: SimulateOptions) {
    this.opts = opts;
    const rng = new Prng(mixSeed(opts.seed, 0x57a6e));
    this.startMs = opts.start.getTime();
    this.endMs = this.startMs + Math.round(opts.durationSec * 1000);
    this.idleTimeoutMs = Math.round(opts.idleTimeoutSec * 1000);
    this.registerExpiresSec = Math.max(120, Math.ceil((opts.idleTimeoutSec * 1.5 + 10) / 60) * 60);
    this.keepAliveMs = Math.max(2000, Math.min(25_000, Math.floor(this.idleTimeoutMs / 2)));
    const loadgens = Math.max(1, Math.ceil(opts.users / USERS_PER_LOADGEN));
    this.loadgenIps = Array.from({ length: loadgens }, (_, i) => `${TOPOLOGY.loadgenNet}${23 + i}`);
    const kamailioBase = rng.int(1500, 30000);
    this.kamailio = {
      main: kamailioBase,
      timer: kamailioBase + 4,
      tcpWorkers: Array.from({ length: 8 }, (_, i) => kamailioBase + 11 + i),
    };
    const nginxBase = rng.int(700, 30000);
    this.nginxWorkers = Array.from({ length: 4 }, (_, i) => nginxBase + 1 + i);
    this.haproxyPid = rng.int(700, 30000);
    this.harnessPid = rng.int(1000, 60000);
    this.connectionSerial = rng.int(1000, 90000);
    // drawn from their own stream, so that adding products never changes the scenes above
    const more = new Prng(mixSeed(opts.seed, 0x57a6f));
    const opensipsBase = more.int(1500, 30000);
    this.opensips = {
      main: opensipsBase,
      timer: opensipsBase + 3,
      workers: Array.from({ length: 8 }, (_, i) => opensipsBase + 9 + i),
    };
    const lwpBase = more.int(2000, 30000);
    this.asteriskLwps = Array.from({ length: 6 }, (_, i) => lwpBase + 17 * i);
    this.traefikRequests = more.int(1000, 200000);
  }

  /** nginx `$connection` / the `*N` of its error log: one counter shared by all workers */
  nextConnectionSerial(): number {
    return ++this.connectionSerial;
  }

  /**
   * An ephemeral port no open connection from that address holds (a kernel never hands out one in
   * use). Random first; when the range is nearly full, the first free one; none free is an error
   * the user can act on, not a hang.
   */
  freePort(side: 'client' | 'upstream', rng: Prng, ip = ''): number {
    const held = this.ports[side];
    const free = (port: number) => {
      const holder = held.get(`${ip}:${port}`);
      return holder === undefined || holder.closed;
    };
    for (let i = 0; i < 64; i++) {
      const port = rng.ephemeralPort();
      if (free(port)) return port;
    }
    for (let port = EPHEMERAL_FIRST; port <= EPHEMERAL_LAST; port++) if (free(port)) return port;
    throw new Error(
      `more than ${EPHEMERAL_LAST - EPHEMERAL_FIRST + 1} connections open at once from ${ip || 'the load balancer'}: fewer --users or a longer --ramp`,
    );
  }

  claimPorts(conn: WsConnection): void {
    this.ports.client.set(`${conn.clientIp}:${conn.clientPort}`, conn);
    this.ports.upstream.set(`:${conn.upstreamPort}`, conn);
  }

  skewOf(file: LogFile): number {
    const skew = this.opts.skewMs;
    return file === 'sbc' ? skew.sbc : file === 'client' ? skew.client : skew.lb;
  }

  wsUrl(user: string, path: string = TOPOLOGY.wsPath): string {
    return `wss://${TOPOLOGY.wsHost}${path}?user=${user}`;
  }
}
