/**
 * One simulated softphone user: its identity, its network latencies, the connection it holds and
 * the lines its story has written but the engine has not yet flushed (kept in time order).
 */
import type { ClientFlavor } from './client.js';
import type { Edge } from './edge.js';
import type { AnyVariant, TrueOutcome } from './options.js';
import { mixSeed, Prng } from './prng.js';
import type { SbcLog } from './sbc.js';
import { createIdentity, type SipIdentity } from './sip.js';
import { TOPOLOGY, type Emission, type LogFile, type World } from './world.js';

/** One WebSocket connection attempt, from the client's connect() to the close. */
export interface WsConnection {
  /** 1-based attempt number of this user */
  attempt: number;
  /** request target as the LB logs it: path and query */
  target: string;
  clientIp: string;
  clientPort: number;
  /** nginx `$connection` (also the `*N` of its error log) */
  serial: number;
  lbWorkerPid: number;
  requestId: string;
  /** source port of the LB's connection to Kamailio: what Kamailio sees as $sp */
  upstreamPort: number;
  /** Kamailio TCP worker that owns the connection */
  sbcPid: number;
  /** when the LB had the request (its `$request_time` / HAProxy `%tr` start) */
  acceptedAt: number;
  /** when the 101 reached the client, or null while the handshake is pending / failed */
  openedAt: number | null;
  /** last byte in either direction, for idle timers */
  lastActivity: number;
  /** bytes the LB sent to the client (HTTP answer and WebSocket frames) */
  bytesToClient: number;
  /** bytes the client sent on the connection after its upgrade request (WebSocket frames) */
  bytesFromClient: number;
  /** HAProxy timers of the request phase (ms) */
  timers: { request: number; connect: number; response: number };
  /** the connection is over: its ports may be used again */
  closed: boolean;
}

export type HandshakeHeader = 'none' | 'valid' | 'malformed';

export interface AgentSetup {
  index: number;
  name: string;
  outcome: TrueOutcome;
  variant: AnyVariant | null;
  startMs: number;
  /** when the harness stops this user (end of the test, spread over a few seconds) */
  stopMs: number;
  world: World;
  edge: Edge;
  client: ClientFlavor;
  sbc: SbcLog;
}

export class Agent {
  readonly index: number;
  readonly name: string;
  readonly outcome: TrueOutcome;
  readonly variant: AnyVariant | null;
  readonly startMs: number;
  readonly stopMs: number;
  readonly world: World;
  readonly edge: Edge;
  readonly client: ClientFlavor;
  readonly sbc: SbcLog;
  readonly rng: Prng;
  readonly sip: SipIdentity;
  readonly clientIp: string;
  /** the handshake header the harness adds for this user */
  header: HandshakeHeader = 'none';
  /** URL path the user's configuration points at */
  path: string = TOPOLOGY.wsPath;
  /** whether the harness asks the library for keep-alives */
  keepAlive = true;
  /** reconnect pacing: the library's own, or the harness's no-backoff loop */
  reconnect: 'library' | 'storm' = 'library';
  /** the harness sends the WebSocket handshake without `Sec-WebSocket-Protocol: sip` */
  omitSubprotocol = false;
  /** consecutive failed connection attempts (JsSIP's _recover_attempts, SIP.js's attempt counter) */
  failedConnects = 0;
  /** lower bound the engine sets while the story runs: nothing may be written before it */
  floor = -Infinity;
  /** a file of this user's own (a HAR), relative to the output directory; closed when the story ends */
  ownFile: string | undefined;
  private readonly pending: Emission[] = [];
  private readonly baseHopMs: number;

  constructor(setup: AgentSetup) {
    this.index = setup.index;
    this.name = setup.name;
    this.outcome = setup.outcome;
    this.variant = setup.variant;
    this.startMs = setup.startMs;
    this.stopMs = setup.stopMs;
    this.world = setup.world;
    this.edge = setup.edge;
    this.client = setup.client;
    this.sbc = setup.sbc;
    this.rng = new Prng(mixSeed(setup.world.opts.seed, setup.index, 0xa6e47));
    this.sip = createIdentity(setup.client.library, setup.name, this.rng);
    this.clientIp = setup.world.loadgenIps[setup.index % setup.world.loadgenIps.length];
    this.baseHopMs = this.rng.int(1, 3);
  }

  get url(): string {
    return this.world.wsUrl(this.name, this.path);
  }

  /** Queues lines of one role at true time `t` (never before the engine's floor). */
  emit(file: LogFile, t: number, lines: string[]): void {
    if (lines.length === 0) return;
    const at = Math.max(Math.round(t), this.floor);
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].t > at) i--;
    const emission: Emission = { t: at, file, lines };
    if (file === 'client' && this.ownFile !== undefined) emission.path = this.ownFile;
    this.pending.splice(i, 0, emission);
  }

  /** time of the earliest queued emission, or Infinity */
  nextQueuedAt(): number {
    return this.pending.length > 0 ? this.pending[0].t : Infinity;
  }

  takeQueued(): Emission | undefined {
    return this.pending.shift();
  }

  /** one-way client ↔ LB delay, ms */
  clientHop(): number {
    return this.baseHopMs + (this.rng.chance(0.2) ? this.rng.int(1, 6) : 0);
  }

  /** one-way LB ↔ Kamailio delay, ms (same rack) */
  upstreamHop(): number {
    return this.rng.chance(0.7) ? 0 : 1;
  }

  /** Kamailio's processing time for one message, ms */
  sbcProcessing(): number {
    return this.rng.int(0, 2);
  }

  /** a pointer as Kamailio prints `%p` on x86_64 */
  pointer(): string {
    return `0x7f${this.rng.hex(10)}`;
  }

  /** Allocates a connection at the moment the LB accepts it (the engine runs stories in time order). */
  newConnection(t: number, attempt: number): WsConnection {
    const world = this.world;
    world.lbOpen++;
    const conn: WsConnection = {
      attempt,
      target: `${this.path}?user=${this.name}`,
      clientIp: this.clientIp,
      clientPort: world.freePort('client', this.rng, this.clientIp),
      serial: world.nextConnectionSerial(),
      lbWorkerPid: this.rng.pick(world.nginxWorkers),
      requestId: this.rng.hex(32),
      upstreamPort: world.freePort('upstream', this.rng),
      sbcPid: this.rng.pick(world.kamailio.tcpWorkers),
      acceptedAt: t,
      openedAt: null,
      lastActivity: t,
      bytesToClient: 0,
      bytesFromClient: 0,
      timers: { request: this.rng.int(0, 1), connect: this.rng.int(0, 1), response: this.rng.int(1, 3) },
      closed: false,
    };
    world.claimPorts(conn);
    return conn;
  }
}
