/**
 * What happens to each user, by true cause. A story is a generator: it writes lines through its
 * Agent and yields the true time it wants to continue at; the engine resumes stories in time
 * order, so shared counters (connection serials, open streams, pike's red node) advance as in reality.
 *
 * Every story runs the same harness loop (connect → register → keep alive → refresh → stop) and the
 * cause only changes what the edge, the SBC or the client does at one step:
 *   healthy           101, REGISTER 401 → REGISTER+auth 200, keep-alives, refreshes, clean close
 *   sbc-throttling    101, REGISTER answered 503 (+Retry-After) by ratelimit/pipelimit, or silently
 *                     dropped by pike (Timer F); the harness retries, then gives up and the idle
 *                     tunnel is cut by the LB (1006, the classic symptom)
 *   edge-rate-limit   the LB's limiter refuses the upgrade (nginx 503 / HAProxy 429), no SIP at all
 *   idle-timeout      registered but no keep-alives: the LB cuts the tunnel after the idle timeout
 *   client-misconfig  handshake without `sip` subprotocol (400), malformed header (local TypeError),
 *                     wrong path (404) with or without a no-backoff retry storm
 *   upstream-timeout  the LB gives up waiting for the 101 (504), or the SBC's registrar backend times
 *                     out and Kamailio answers REGISTER with SIP 504
 *   auth-failure      the REGISTER with credentials is challenged again (401) or refused (403)
 */
import type { Agent, WsConnection } from './agent.js';
import type { RegistrationFailure } from './client.js';
import type { BoundMessage, PeerAddress } from './kamailio.js';
import {
  CAUSE_VARIANTS,
  type AnyVariant,
  type PlantedCause,
  type TrueOutcome,
  type VariantWeights,
} from './options.js';
import type { Prng } from './prng.js';
import {
  buildRegister,
  buildReply,
  frameBytes,
  kamailioToTag,
  newBranch,
  type SipReply,
  type SipRequest,
} from './sip.js';
import { TOPOLOGY } from './world.js';

export type Story = Generator<number, void, void>;

/** How the upgrade request of one connection attempt ends. */
type Handshake = 'ok' | 'edge-limit' | 'edge-timeout' | 'sbc-400' | 'not-found' | 'local-header-error';

/** What the SBC does with one REGISTER. */
type SbcVerdict =
  | 'challenge'
  | 'accept'
  | 'ratelimit-503'
  | 'pipelimit-503'
  | 'pike-drop'
  | 'registrar-timeout'
  | 'wrong-password'
  | 'unknown-user';

interface RegisterVerdicts {
  /** REGISTER without credentials */
  first: SbcVerdict;
  /** REGISTER with credentials, after the 401 */
  auth: SbcVerdict;
}

interface Plan {
  handshake(connection: number): Handshake;
  /** verdicts for the n-th REGISTER try on the connection-th connection (refreshes always pass) */
  verdicts(connection: number, registerTry: number): RegisterVerdicts;
  maxRegisterTries: number;
  /** the harness stops the user after this many connection attempts */
  maxConnections: number;
}

const NORMAL: RegisterVerdicts = { first: 'challenge', auth: 'accept' };
/** JsSIP / SIP.js non-INVITE transaction timeout over a reliable transport: 64 × T1 */
const TIMER_F_MS = 32_000;
/** tm `fr_timer` the SBC sets before relaying REGISTER to the registrar (t_set_fr(10000)) */
const REGISTRAR_FR_TIMER_MS = 10_000;
/** the harness's wait before a retry when the reply has no Retry-After */
const HARNESS_RETRY_MS = 5_000;
/** the harness restarts a UA that never got a socket after this long */
const WATCHDOG_MS = 10_000;
/** share of healthy users whose harness profile sets the (harmless) custom handshake header */
const HEALTHY_HEADER_SHARE = 0.2;

export const DEFAULT_VARIANT_WEIGHTS: {
  [C in PlantedCause]: Record<(typeof CAUSE_VARIANTS)[C][number], number>;
} = {
  'sbc-throttling': { ratelimit: 0.45, pipelimit: 0.25, pike: 0.3 },
  'edge-rate-limit': { limiter: 1 },
  'idle-timeout': { 'no-keepalive': 1 },
  'client-misconfig': {
    'no-subprotocol': 0.35,
    'malformed-header': 0.3,
    'bad-path-storm': 0.25,
    'bad-path': 0.1,
  },
  'upstream-timeout': { 'edge-504': 0.5, 'sip-504': 0.5 },
  'auth-failure': { 'wrong-password': 0.6, forbidden: 0.4 },
};

/** variants that need a handshake header or a socket option SIP.js does not offer */
const JSSIP_ONLY: readonly AnyVariant[] = ['no-subprotocol', 'malformed-header'];

/** The variant of one user's cause: the override weights if any, else the defaults, minus what the client cannot do. */
export function chooseVariant(
  cause: PlantedCause,
  library: 'jssip' | 'sipjs',
  overrides: VariantWeights | undefined,
  rng: Prng,
): AnyVariant {
  const given = overrides?.[cause] as Partial<Record<AnyVariant, number>> | undefined;
  const weights: Partial<Record<AnyVariant, number>> = { ...(given ?? DEFAULT_VARIANT_WEIGHTS[cause]) };
  for (const name of Object.keys(weights) as AnyVariant[]) {
    if (!(CAUSE_VARIANTS[cause] as readonly string[]).includes(name)) {
      throw new Error(
        `variants.${cause}: unknown variant "${name}" (known: ${CAUSE_VARIANTS[cause].join(', ')})`,
      );
    }
    if (library === 'sipjs' && JSSIP_ONLY.includes(name)) delete weights[name];
  }
  if (!Object.values(weights).some((w) => (w ?? 0) > 0)) {
    throw new Error(`variants.${cause}: no variant left that a ${library} client can produce`);
  }
  return rng.weighted(weights);
}

/** Sets the user's harness profile and returns the plan of its story. */
function planFor(a: Agent): Plan {
  const rng = a.rng;
  const always = (h: Handshake) => (): Handshake => h;
  const base: Plan = {
    handshake: always('ok'),
    verdicts: () => NORMAL,
    maxRegisterTries: 4,
    maxConnections: Infinity,
  };
  const outcome: TrueOutcome = a.outcome;
  switch (outcome) {
    case 'healthy':
      if (rng.chance(HEALTHY_HEADER_SHARE)) a.header = 'valid';
      return base;
    case 'idle-timeout':
      a.keepAlive = false;
      return base;
    case 'edge-rate-limit': {
      const refusals = rng.int(1, 4);
      const persistent = rng.chance(0.35);
      return { ...base, handshake: (n) => (persistent || n <= refusals ? 'edge-limit' : 'ok') };
    }
    case 'sbc-throttling': {
      if (a.variant === 'pike') {
        const throughOnLaterConnections = rng.chance(0.5);
        return {
          ...base,
          maxRegisterTries: 2,
          verdicts: (connection) =>
            connection === 1 || !throughOnLaterConnections ? { first: 'pike-drop', auth: 'accept' } : NORMAL,
        };
      }
      const refusal: SbcVerdict = a.variant === 'pipelimit' ? 'pipelimit-503' : 'ratelimit-503';
      const failures = new Map<number, number>();
      const onAuthenticated = rng.chance(0.3);
      return {
        ...base,
        verdicts: (connection, registerTry) => {
          if (!failures.has(connection)) {
            failures.set(connection, connection === 1 || rng.chance(0.5) ? rng.int(1, 6) : 0);
          }
          if (registerTry > (failures.get(connection) ?? 0)) return NORMAL;
          return onAuthenticated ? { first: 'challenge', auth: refusal } : { first: refusal, auth: 'accept' };
        },
      };
    }
    case 'client-misconfig':
      switch (a.variant) {
        case 'no-subprotocol':
          a.omitSubprotocol = true;
          return { ...base, handshake: always('sbc-400') };
        case 'malformed-header':
          a.header = 'malformed';
          return { ...base, handshake: always('local-header-error') };
        case 'bad-path-storm':
          a.path = TOPOLOGY.wrongPath;
          a.reconnect = 'storm';
          return { ...base, handshake: always('not-found'), maxConnections: rng.int(40, 120) };
        default:
          a.path = TOPOLOGY.wrongPath;
          return { ...base, handshake: always('not-found') };
      }
    case 'upstream-timeout': {
      if (a.variant === 'edge-504') {
        const timeouts = rng.int(1, 3);
        const persistent = rng.chance(0.5);
        return { ...base, handshake: (n) => (persistent || n <= timeouts ? 'edge-timeout' : 'ok') };
      }
      const failures = new Map<number, number>();
      return {
        ...base,
        verdicts: (connection, registerTry) => {
          if (!failures.has(connection)) failures.set(connection, rng.chance(0.7) ? 99 : rng.int(1, 3));
          return registerTry <= (failures.get(connection) ?? 0)
            ? { first: 'challenge', auth: 'registrar-timeout' }
            : NORMAL;
        },
      };
    }
    case 'auth-failure':
      return {
        ...base,
        maxRegisterTries: 2,
        verdicts: () => ({
          first: 'challenge',
          auth: a.variant === 'forbidden' ? 'unknown-user' : 'wrong-password',
        }),
      };
  }
}

/** The harness loop for one user. */
export function* userStory(a: Agent): Story {
  const plan = planFor(a);
  const world = a.world;
  let t = a.startMs;
  yield t;
  world.stats.started++;
  a.client.startUa(a, t);
  let attempt = 0;
  while (t < a.stopMs && attempt < plan.maxConnections) {
    attempt++;
    yield t;
    const handshake = plan.handshake(attempt);
    a.client.connecting(a, t);
    if (handshake === 'local-header-error') {
      a.client.localHeaderError(a, t);
      t += WATCHDOG_MS + a.rng.int(0, 50);
      if (t >= a.stopMs) break;
      yield t;
      a.client.watchdogRestart(a, t, WATCHDOG_MS);
      continue;
    }
    // TCP + TLS handshakes, then the upgrade request reaches the LB
    const accepted = t + 3 * a.clientHop() + a.rng.int(1, 4);
    const conn = a.newConnection(accepted, attempt);
    if (handshake !== 'ok') {
      t = yield* failHandshake(a, conn, handshake);
      world.stats.handshakeFailures++;
      t += a.client.scheduleReconnect(a, t);
      continue;
    }
    const session = yield* tunnel(a, plan, conn);
    if (session.stopped) return;
    t = session.t + a.client.scheduleReconnect(a, session.t);
  }
  if (t < a.stopMs && attempt >= plan.maxConnections) {
    a.client.note(a, t, `giving up after ${attempt} connection attempts`);
  }
  // the harness stops every UA at the end of the test, connected or not
  a.client.stopping(a, yield* wait(a, a.stopMs));
}

/** Continues at `t`, or now if `t` has already passed (a transaction may run past the stop). */
function* wait(a: Agent, t: number): Generator<number, number, void> {
  yield t;
  return Math.max(t, a.floor);
}

/** An upgrade that does not end in 101; returns when the client has seen the failure. */
function* failHandshake(
  a: Agent,
  conn: WsConnection,
  handshake: Exclude<Handshake, 'ok' | 'local-header-error'>,
): Generator<number, number, void> {
  const edge = a.edge;
  let answered: number;
  let status: number;
  switch (handshake) {
    case 'edge-limit':
      answered = conn.acceptedAt;
      status = edge.limitStatus;
      edge.refuseByLimiter(a, conn, answered);
      break;
    case 'sbc-400': {
      const atSbc = conn.acceptedAt + a.upstreamHop();
      a.emit('sbc', atSbc, [a.sbc.handshakeMissingHeaders(atSbc, conn.sbcPid)]);
      answered = atSbc + a.sbcProcessing() + a.upstreamHop();
      status = 400;
      edge.relayUpstreamAnswer(a, conn, answered, 400);
      break;
    }
    case 'not-found':
      status = 404;
      if (edge.unknownPathReachesSbc) {
        // Kamailio's event_route[xhttp:request] falls through to xhttp_reply("404", "Not Found")
        answered = conn.acceptedAt + 2 * a.upstreamHop() + a.sbcProcessing();
        edge.relayUpstreamAnswer(a, conn, answered, 404);
      } else {
        answered = conn.acceptedAt;
        edge.refuseUnknownPath(a, conn, answered);
      }
      break;
    case 'edge-timeout':
      status = 504;
      answered = conn.acceptedAt + edge.upgradeTimeoutMs + a.rng.int(0, 3);
      yield answered;
      edge.upgradeTimedOut(a, conn, answered);
      break;
  }
  const seen = answered + a.clientHop();
  a.client.handshakeRejected(a, seen, status);
  return seen;
}

interface TunnelEnd {
  t: number;
  /** the harness stopped the user (end of test); otherwise the tunnel was cut */
  stopped: boolean;
}

/** A 101 tunnel: register, keep alive, refresh, until the harness stops or the LB cuts it. */
function* tunnel(a: Agent, plan: Plan, conn: WsConnection): Generator<number, TunnelEnd, void> {
  const world = a.world;
  const atSbc = conn.acceptedAt + a.upstreamHop();
  const opened = atSbc + a.sbcProcessing() + a.upstreamHop() + a.clientHop();
  conn.openedAt = opened;
  conn.lastActivity = opened;
  a.client.opened(a, opened);
  world.stats.wsOpen++;

  let t = opened;
  let registeredAt: number | null = null;
  const expires = world.registerExpiresSec;
  for (let registerTry = 1; ; registerTry++) {
    const result = registerTransaction(a, conn, t, plan.verdicts(conn.attempt, registerTry), expires);
    t = result.t;
    if (result.failure === undefined) {
      a.client.registered(a, t, expires);
      world.stats.registered++;
      registeredAt = t;
      break;
    }
    a.client.registrationFailed(a, t, result.failure);
    world.stats.registrationFailures++;
    if (registerTry >= plan.maxRegisterTries) {
      a.client.note(a, t, `giving up on REGISTER after ${registerTry} attempts`);
      break;
    }
    const retryAfter = result.failure.retryAfterSec;
    const wait = (retryAfter !== undefined ? retryAfter * 1000 : HARNESS_RETRY_MS) + a.rng.int(0, 900);
    if (t + wait >= Math.min(a.stopMs, conn.lastActivity + world.idleTimeoutMs)) break;
    a.client.note(
      a,
      t,
      `retrying REGISTER in ${(wait / 1000).toFixed(1)} s${retryAfter !== undefined ? ' (Retry-After)' : ''}`,
    );
    t += wait;
    yield t;
  }

  let nextRefresh = registeredAt === null ? Infinity : registeredAt + (expires - 5) * 1000;
  for (;;) {
    const idleCut = conn.lastActivity + world.idleTimeoutMs + a.rng.int(1, 20);
    const nextKeepAlive =
      a.keepAlive && registeredAt !== null
        ? conn.lastActivity + world.keepAliveMs + a.rng.int(0, 400)
        : Infinity;
    // the harness lets a transaction in flight finish before it stops the UA
    const stopAt = Math.max(a.stopMs, t);
    const next = Math.min(idleCut, nextKeepAlive, nextRefresh, stopAt);
    if (next === stopAt) {
      yield* stop(a, conn, registeredAt !== null, stopAt);
      return { t: stopAt, stopped: true };
    }
    const now = yield* wait(a, next);
    if (next === idleCut) {
      a.edge.tunnelClosed(a, conn, now, 'idle-timeout');
      const peer = sbcPeer(conn);
      const atSbcCut = now + a.upstreamHop();
      a.emit('sbc', atSbcCut, a.sbc.tcpReadReset(atSbcCut, conn.sbcPid, peer, a.pointer(), a.pointer()));
      const seen = now + a.clientHop();
      a.client.connectionLost(a, seen);
      world.stats.wsOpen--;
      if (registeredAt !== null) world.stats.registered--;
      return { t: seen, stopped: false };
    }
    if (next === nextKeepAlive) {
      t = keepAlive(a, conn, now);
    } else {
      const refresh = registerTransaction(a, conn, now, NORMAL, expires);
      t = refresh.t;
      if (refresh.failure === undefined) {
        nextRefresh = refresh.t + (expires - 5) * 1000;
      } else {
        a.client.registrationFailed(a, refresh.t, refresh.failure);
        nextRefresh = Infinity;
      }
    }
  }
}

/** End of test: the harness stops the UA (un-REGISTER if registered) and closes the socket with 1000. */
function* stop(a: Agent, conn: WsConnection, registered: boolean, at: number): Generator<number, void, void> {
  let t = yield* wait(a, at);
  a.client.stopping(a, t);
  if (registered) {
    const result = registerTransaction(a, conn, t, NORMAL, 0);
    t = result.t;
    a.client.unregistered(a, t);
    a.world.stats.registered--;
  }
  t += a.rng.int(1, 5);
  a.client.closedCleanly(a, t);
  const atLb = t + a.clientHop();
  yield atLb;
  a.edge.tunnelClosed(a, conn, atLb, 'client');
  const atSbc = atLb + a.upstreamHop();
  a.emit('sbc', atSbc, [a.sbc.webSocketClosed(atSbc, conn.sbcPid, sbcPeer(conn))]);
  a.world.stats.wsOpen--;
}

function sbcPeer(conn: WsConnection): PeerAddress {
  return { ip: TOPOLOGY.lbIp, port: conn.upstreamPort };
}

/** CRLF keep-alive: the client writes "\r\n\r\n", Kamailio answers "\r\n" (nothing logged server side). */
function keepAlive(a: Agent, conn: WsConnection, t: number): number {
  a.client.keepAliveSent(a, t);
  const answered = t + 2 * a.clientHop() + 2 * a.upstreamHop();
  conn.bytesToClient += frameBytes('\r\n');
  conn.lastActivity = answered;
  a.client.keepAliveAnswered(a, answered);
  return answered;
}

interface TransactionResult {
  /** when the client knew the outcome */
  t: number;
  failure?: RegistrationFailure;
}

/** One REGISTER try: REGISTER → 401 → REGISTER with credentials → final answer (or silence). */
function registerTransaction(
  a: Agent,
  conn: WsConnection,
  t: number,
  verdicts: RegisterVerdicts,
  expires: number,
): TransactionResult {
  const id = a.sip;
  const fromTag = id.library === 'sipjs' ? id.registererTag : a.rng.token(10);
  const first = buildRegister(id, { cseq: ++id.cseq, branch: newBranch(a.rng), fromTag, expires });
  const challenge = sipRoundTrip(a, conn, t, first, verdicts.first, expires);
  if (challenge.reply === undefined) return { t: challenge.t, failure: {} };
  if (challenge.reply.status !== 401) return { t: challenge.t, failure: failureOf(challenge.reply) };
  const authorized = buildRegister(id, {
    cseq: ++id.cseq,
    branch: newBranch(a.rng),
    fromTag,
    expires,
    credentials: { nonce: challenge.reply.nonce ?? '', response: a.rng.hex(32), cnonce: a.rng.token(12) },
  });
  const final = sipRoundTrip(a, conn, challenge.t + a.rng.int(1, 3), authorized, verdicts.auth, expires);
  if (final.reply === undefined) return { t: final.t, failure: {} };
  if (final.reply.status === 200) return { t: final.t };
  return { t: final.t, failure: failureOf(final.reply) };
}

function failureOf(reply: SipReply): RegistrationFailure {
  return { status: reply.status, reason: reply.reason, retryAfterSec: reply.retryAfterSec };
}

/**
 * The client sends one request; Kamailio logs what its script logs and answers (or not).
 * Returns the time the client saw the answer, or the Timer F time when nothing came back.
 */
function sipRoundTrip(
  a: Agent,
  conn: WsConnection,
  sentAt: number,
  request: SipRequest,
  verdict: SbcVerdict,
  expires: number,
): { t: number; reply?: SipReply } {
  const sbc = a.sbc;
  const pid = conn.sbcPid;
  const peer = sbcPeer(conn);
  const bound: BoundMessage = { cseq: request.cseq, method: request.method, callId: a.sip.callId };
  a.client.sent(a, sentAt, request.text);
  conn.lastActivity = Math.max(conn.lastActivity, sentAt);
  const atSbc = sentAt + a.clientHop() + a.upstreamHop();
  const lines = [sbc.requestReceived(atSbc, pid, bound, peer, a.sip.aor, a.sip.aor)];
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
      const world = a.world;
      if (atSbc >= world.pike.until) {
        world.pike = { until: atSbc + a.rng.int(8_000, 20_000), node: a.pointer() };
        lines.push(sbc.pikeBlocking(atSbc, pid, bound, TOPOLOGY.lbIp, world.pike.node));
        a.emit('sbc', world.pike.until, [sbc.pikeUnblocking(world.pike.until, world.pike.node)]);
      }
      lines.push(sbc.pikeAlert(atSbc, pid, bound, peer, a.sip.aor));
      a.emit('sbc', atSbc, lines);
      const timedOut = sentAt + TIMER_F_MS;
      a.client.transactionTimedOut(a, timedOut, request.branch);
      return { t: timedOut };
    }
    case 'ratelimit-503':
      lines.push(sbc.ratelimitRefused(atSbc, pid, bound, peer, a.sip.aor));
      reply = { ...replyOf(503, 'Limiting', ['Retry-After: 5']), retryAfterSec: 5 };
      break;
    case 'pipelimit-503':
      lines.push(sbc.pipelimitDrop(atSbc, pid, bound));
      reply = { ...replyOf(503, 'Service Unavailable', ['Retry-After: 5']), retryAfterSec: 5 };
      break;
    case 'challenge':
      reply = challenge();
      break;
    case 'wrong-password':
      lines.push(sbc.authFailed(atSbc, pid, bound, a.sip.user, peer, -2));
      reply = challenge();
      break;
    case 'unknown-user':
      lines.push(sbc.authFailed(atSbc, pid, bound, a.sip.user, peer, -3));
      reply = replyOf(403, 'Forbidden - Invalid Credentials');
      break;
    case 'accept': {
      // relayed to the registrar; its 200 comes back through the SBC
      answeredAt += a.rng.int(3, 25);
      const contact =
        `Contact: <sip:${a.sip.contactUser}@${a.sip.viaHost};transport=ws>;expires=${expires};+sip.ice;reg-id=1;` +
        `+sip.instance="<urn:uuid:${a.sip.instanceId}>"`;
      reply = replyOf(200, 'OK', expires > 0 ? [contact] : []);
      break;
    }
    case 'registrar-timeout':
      answeredAt = atSbc + REGISTRAR_FR_TIMER_MS + a.rng.int(0, 5);
      a.emit('sbc', answeredAt, [sbc.registrarTimedOut(answeredAt, bound)]);
      reply = replyOf(504, 'Server Time-out');
      break;
  }
  if (a.rng.chance(0.03)) lines.push(sbc.routeLatency(atSbc, pid, bound, a.rng.int(1000, 2600)));
  a.emit('sbc', atSbc, lines);
  const seen = answeredAt + a.upstreamHop() + a.clientHop();
  conn.bytesToClient += frameBytes(reply.text);
  conn.lastActivity = seen;
  a.client.received(a, seen, reply.text);
  return { t: seen, reply };
}
