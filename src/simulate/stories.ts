/**
 * What happens to each user, by true cause. A story is a generator: it writes lines through its
 * Agent and yields the true time it wants to continue at; the engine resumes stories in time
 * order, so shared counters (connection serials, open streams, pike's red node) advance as in reality.
 *
 * Every story runs the same harness loop (connect → register → keep alive → refresh → stop) and the
 * cause only changes what the edge, the SBC or the client does at one step:
 *   healthy           101, REGISTER 401 → REGISTER+auth 200, keep-alives, refreshes, clean close
 *   sbc-throttling    101, REGISTER answered 503 by the SBC's limiter (Kamailio ratelimit/pipelimit,
 *                     OpenSIPS ratelimit, FreeSWITCH's session limit or busy queue, Asterisk's
 *                     overloaded distributor), or silently dropped by pike (Timer F); the harness
 *                     retries, then gives up and the idle tunnel is cut by the LB (1006, the classic symptom)
 *   edge-rate-limit   the LB's limiter refuses the upgrade (nginx 503, HAProxy / Envoy / Traefik 429,
 *                     the ALB's WAF 403), no SIP at all
 *   idle-timeout      registered but no keep-alives: the LB cuts the tunnel after the idle timeout
 *   client-misconfig  handshake without `sip` subprotocol (400), malformed header (local TypeError),
 *                     wrong path (404) with or without a no-backoff retry storm
 *   upstream-timeout  the LB gives up waiting for the 101 (504), or the registrar behind a proxying SBC
 *                     (Kamailio, OpenSIPS) times out and the SBC answers REGISTER with SIP 504
 *   auth-failure      the REGISTER with credentials is challenged again (401) or refused (403)
 * What each product logs of a step is in its own file (sbc.ts, edge.ts, client.ts list them).
 */
import type { Agent, WsConnection } from './agent.js';
import type { RegistrationFailure } from './client.js';
import {
  CAUSE_VARIANTS,
  variantSupported,
  type AnyVariant,
  type Mix,
  type PlantedCause,
  type TrueOutcome,
  type VariantWeights,
} from './options.js';
import type { Prng } from './prng.js';
import { TIMER_F_MS, type SbcVerdict } from './sbc.js';
import {
  buildRegister,
  clientFrameBytes,
  frameBytes,
  newBranch,
  type SipReply,
  type SipRequest,
} from './sip.js';
import { TOPOLOGY } from './world.js';

export type Story = Generator<number, void, void>;

/** How the upgrade request of one connection attempt ends. */
type Handshake = 'ok' | 'edge-limit' | 'edge-timeout' | 'sbc-400' | 'not-found' | 'local-header-error';

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
/** the harness's wait before a retry when the reply has no Retry-After */
const HARNESS_RETRY_MS = 5_000;
/** the harness restarts a UA that never got a socket after this long */
const WATCHDOG_MS = 10_000;
/** share of healthy users whose harness profile sets the (harmless) custom handshake header */
const HEALTHY_HEADER_SHARE = 0.2;

export const DEFAULT_VARIANT_WEIGHTS: {
  [C in PlantedCause]: Record<(typeof CAUSE_VARIANTS)[C][number], number>;
} = {
  'sbc-throttling': {
    ratelimit: 0.45,
    pipelimit: 0.25,
    pike: 0.3,
    'session-limit': 0.6,
    'system-busy': 0.4,
    overload: 1,
  },
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

/** The variant of one user's cause: the override weights if any, else the defaults, minus what the mix cannot do. */
export function chooseVariant(
  cause: PlantedCause,
  mix: Mix,
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
    if (!variantSupported(name, mix)) delete weights[name];
  }
  if (!Object.values(weights).some((w) => (w ?? 0) > 0)) {
    throw new Error(
      `variants.${cause}: no variant left that this mix can produce (sbc ${mix.sbc}, lb ${mix.lb}, client ${mix.client})`,
    );
  }
  return rng.weighted(weights);
}

/** The SBC's refusal behind each throttling variant (pike drops in silence instead). */
const THROTTLE_VERDICTS: Record<string, SbcVerdict> = {
  ratelimit: 'ratelimit-503',
  pipelimit: 'pipelimit-503',
  'session-limit': 'session-limit-503',
  'system-busy': 'system-busy-503',
  overload: 'overload-503',
};

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
      const refusal = THROTTLE_VERDICTS[a.variant as string] ?? 'ratelimit-503';
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
      conn.closed = true;
      world.stats.handshakeFailures++;
      t += a.client.scheduleReconnect(a, t);
      continue;
    }
    const session = yield* tunnel(a, plan, conn);
    conn.closed = true;
    if (session.stopped) {
      a.client.finished(a, session.t);
      return;
    }
    t = session.t + a.client.scheduleReconnect(a, session.t);
  }
  if (t < a.stopMs && attempt >= plan.maxConnections) {
    a.client.note(a, t, `giving up after ${attempt} connection attempts`);
  }
  // the harness stops every UA at the end of the test, connected or not
  const stoppedAt = yield* wait(a, a.stopMs);
  a.client.stopping(a, stoppedAt);
  a.client.finished(a, stoppedAt);
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
      a.sbc.handshakeMissingSubprotocol(a, conn, atSbc);
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
  a.sbc.wsAccepted(a, conn, atSbc);
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
      world.idleCutUsers.add(a.name);
      a.edge.tunnelClosed(a, conn, now, 'idle-timeout');
      const atSbcCut = now + a.upstreamHop();
      a.sbc.connectionCut(a, conn, atSbcCut);
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
  a.sbc.connectionClosed(a, conn, atSbc);
  a.world.stats.wsOpen--;
}

/** CRLF keep-alive: the client writes "\r\n\r\n", Kamailio answers "\r\n" (nothing logged server side). */
function keepAlive(a: Agent, conn: WsConnection, t: number): number {
  a.client.keepAliveSent(a, t);
  conn.bytesFromClient += clientFrameBytes('\r\n\r\n');
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
  const challenge = sipRoundTrip(a, conn, t, first, verdicts.first);
  if (challenge.reply === undefined) return { t: challenge.t, failure: {} };
  if (challenge.reply.status !== 401) return { t: challenge.t, failure: failureOf(challenge.reply) };
  const authorized = buildRegister(id, {
    cseq: ++id.cseq,
    branch: newBranch(a.rng),
    fromTag,
    expires,
    credentials: { nonce: challenge.reply.nonce ?? '', response: a.rng.hex(32), cnonce: a.rng.token(12) },
  });
  const final = sipRoundTrip(a, conn, challenge.t + a.rng.int(1, 3), authorized, verdicts.auth);
  if (final.reply === undefined) return { t: final.t, failure: {} };
  if (final.reply.status === 200) return { t: final.t };
  return { t: final.t, failure: failureOf(final.reply) };
}

function failureOf(reply: SipReply): RegistrationFailure {
  return { status: reply.status, reason: reply.reason, retryAfterSec: reply.retryAfterSec };
}

/**
 * The client sends one request; the SBC logs what it logs and answers (or not).
 * Returns the time the client saw the answer, or the Timer F time when nothing came back.
 */
function sipRoundTrip(
  a: Agent,
  conn: WsConnection,
  sentAt: number,
  request: SipRequest,
  verdict: SbcVerdict,
): { t: number; reply?: SipReply } {
  a.client.sent(a, sentAt, request.text);
  conn.lastActivity = Math.max(conn.lastActivity, sentAt);
  conn.bytesFromClient += clientFrameBytes(request.text);
  const atSbc = sentAt + a.clientHop() + a.upstreamHop();
  const { reply, answeredAt } = a.sbc.handle(a, conn, atSbc, request, verdict);
  if (reply === undefined) {
    const timedOut = sentAt + TIMER_F_MS;
    a.client.transactionTimedOut(a, timedOut, request.branch);
    return { t: timedOut };
  }
  const seen = answeredAt + a.upstreamHop() + a.clientHop();
  conn.bytesToClient += frameBytes(reply.text);
  conn.lastActivity = seen;
  a.client.received(a, seen, reply.text);
  return { t: seen, reply };
}
