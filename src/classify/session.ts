/**
 * Classification of one session: did it fail, and which refusal, closest to its origin,
 * explains it. Rules follow the evidence table in docs/ARCHITECTURE.md (from DESIGN.md):
 * symptoms (1006, a gateway 504) never decide a cause by themselves.
 */
import type { CauseId, LogEvent } from '../model.js';
import type { Session } from '../correlate/sessions.js';
import { isTeardown, tunnelsOf, type RunContext } from './run-context.js';
import { MATCH_TOLERANCE_MS } from '../correlate/attach.js';

export interface WeightedEvidence {
  event: LogEvent;
  weight: number;
  why: string;
}

export interface SessionVerdict {
  failed: boolean;
  cause?: CauseId;
  confidence: number;
  /** evidence for the chosen cause, strongest first */
  evidence: WeightedEvidence[];
  /** failure symptoms (1006, registration failed, …) */
  symptoms: LogEvent[];
  attempts: number;
  explanation: string;
  /** facts the explanation and the run verdict use */
  facts: {
    retryAfter?: number;
    idleLifetimeMs?: number;
    sipStatuses: number[];
    handshakeStatuses: number[];
    customHeader?: string;
    internalStatuses: number[];
  };
}

const RATE_REASON = /limit|too many|rate|flood|banned|blocked|overload|capacity|maximum calls|unavailable/i;
/** Final answers only a call gets: Busy Here, Request Terminated, Busy Everywhere, Decline, Does Not Exist Anywhere. */
const CALL_ONLY_STATUSES = new Set([486, 487, 600, 603, 604]);
/** A client answers a digest challenge at once: a second challenge this soon rejected the answer. */
const RECHALLENGE_MS = 10_000;
/** A reason phrase that names load or a limit (not "Busy Here", not a plain "Service Unavailable"). */
const LOAD_REASON = /limit|too many|rate|flood|banned|blocked|overload|capacity|maximum calls|congest/i;

/**
 * A final answer to a call or another in-dialog / presence request (INVITE 486 Busy Here, 487
 * Request Terminated, 480 or 404 for an absent callee, 603 Decline, BYE 481, SUBSCRIBE 489, OPTIONS
 * 405) is the ordinary outcome of that request, not a failure of the softphone's connection or
 * registration. Only a refusal for load (503, a reason naming a limit, Retry-After) or a gateway
 * timeout (504) on such a request says something about the edge or the SBC.
 */
function isOrdinaryOutcome(sip: NonNullable<LogEvent['sip']>): boolean {
  const status = sip.status ?? 0;
  // an app line naming only the status ("call failed", 486): busy, cancelled and declined are
  // answers to calls, never to a registration
  if (sip.method === undefined) return CALL_ONLY_STATUSES.has(status) && !LOAD_REASON.test(sip.reason ?? '');
  if (sip.method === 'REGISTER') return false;
  if (status === 503 || status === 504 || sip.retryAfter !== undefined) return false;
  return !LOAD_REASON.test(sip.reason ?? '');
}
const AUTH_REASON =
  /auth|credential|password|forbidden|unauthori[sz]ed|not allowed|not relaying|denied|invalid user|unknown user|expired|token/i;

/** How long a flood guard keeps a source banned (Kamailio's stock ipban autoexpire). */
const FLOOD_BAN_MS = 300_000;

/** Reconnects faster than this, repeatedly, are a storm (library defaults are 2 s and 4 s). */
const STORM_INTERVAL_MS = 1_000;
const STORM_MIN_ATTEMPTS = 5;
/** An abnormal close this soon after the last traffic was not an idle cut (fraction of the timeout). */
const BUSY_FRACTION = 0.8;

type Scores = Map<CauseId, WeightedEvidence[]>;

function add(scores: Scores, cause: CauseId, event: LogEvent, weight: number, why: string): void {
  let list = scores.get(cause);
  if (!list) scores.set(cause, (list = []));
  list.push({ event, weight, why });
}

function total(list: WeightedEvidence[] | undefined): number {
  if (!list) return 0;
  // repeated identical evidence counts, but with diminishing weight
  let sum = 0;
  const sorted = [...list].sort((a, b) => b.weight - a.weight);
  sorted.forEach((w, i) => (sum += w.weight / (1 + i * 0.5)));
  return sum;
}

/** Ties go to the refusal closest to its origin. */
const PRECEDENCE: CauseId[] = [
  'client-misconfig',
  'auth-failure',
  'sbc-throttling',
  'edge-rate-limit',
  'upstream-timeout',
  'idle-timeout',
];

function isAbnormalClose(e: LogEvent): boolean {
  return e.signal === 'ws-close' && (e.ws?.closeCode === 1006 || e.ws?.wasClean === false);
}

export function classifySession(session: Session, run: RunContext): SessionVerdict {
  const events = session.events;
  const scores: Scores = new Map();
  const symptoms: LogEvent[] = [];
  const facts: SessionVerdict['facts'] = { sipStatuses: [], handshakeStatuses: [], internalStatuses: [] };

  let connects = 0;
  let lbHandshakes = 0;
  let opens = 0;
  let registered = false;
  let lastRegisteredTs = -Infinity;
  const connectTimes: number[] = [];
  const retryDelays: number[] = [];
  const seenSip = new Set<string>();
  const challengesByCall = new Map<string, number>();
  const lastChallengeByCall = new Map<string, number>();
  const lastFinalByCall = new Map<string, LogEvent>();
  const ips = new Set<string>();
  let lastInternal: { status: number; ts: number } | undefined;

  for (const e of events) {
    const sip = e.sip;
    if (e.keys.ip && e.role !== 'client') ips.add(e.keys.ip);
    if (
      e.role === 'client' &&
      (e.signal === 'ws-connecting' ||
        (e.signal === 'ws-handshake-failed' && !hasPrecedingConnect(events, e)))
    ) {
      connects++;
      if (!Number.isNaN(e.ts)) connectTimes.push(e.ts);
    }
    if (e.role === 'lb' && (e.kind === 'ws-handshake' || e.http?.upgrade)) lbHandshakes++;
    if (e.role === 'client' && e.signal === 'ws-open') opens++;
    if (e.retryDelayMs !== undefined) retryDelays.push(e.retryDelayMs);
    if (e.signal === 'registered') {
      registered = true;
      lastRegisteredTs = e.ts;
    }

    // ---- SIP responses: where were they seen, who made them?
    if (sip && sip.status !== undefined && e.kind === 'sip-response') {
      const status = sip.status;
      // an app's "registration failed, 503" right after the library made up that 503 repeats it
      const echoesInternal =
        sip.headers === undefined &&
        ((lastInternal !== undefined && lastInternal.status === status && e.ts - lastInternal.ts <= 2_000) ||
          echoesKeylessInternal(run, status, e.ts));
      if (sip.direction === 'internal' || e.signal === 'internal-status' || echoesInternal) {
        if (!echoesInternal) {
          facts.internalStatuses.push(status);
          lastInternal = { status, ts: e.ts };
        }
        symptoms.push(e);
        continue;
      }
      const dedupe = `${e.keys.callId ?? ''}|${sip.cseq ?? e.line}|${status}`;
      const first = !seenSip.has(dedupe);
      seenSip.add(dedupe);
      if (status >= 200 && status < 300 && (sip.method === 'REGISTER' || sip.method === undefined)) {
        registered = true;
        lastRegisteredTs = e.ts;
      }
      if (status >= 200 && e.keys.callId && (sip.method === 'REGISTER' || sip.method === undefined))
        lastFinalByCall.set(e.keys.callId, e);
      if (status < 300) continue;
      if (first && sip.headers !== undefined) facts.sipStatuses.push(status);
      if (status === 401 || status === 407) {
        const call = e.keys.callId ?? '';
        if (first) {
          // a challenge answered with another challenge right away is a rejection; a challenge
          // of a refresh minutes later starts over (the 2xx in between may be missing from the log)
          const last = lastChallengeByCall.get(call);
          const again = last !== undefined && e.ts - last <= RECHALLENGE_MS;
          challengesByCall.set(call, again ? (challengesByCall.get(call) ?? 0) + 1 : 1);
          lastChallengeByCall.set(call, e.ts);
        }
        continue;
      }
      if (isOrdinaryOutcome(sip)) continue;
      if (e.signal !== 'registration-failed') symptoms.push(e);
      const reason = sip.reason ?? '';
      if (status === 503 || status === 480 || (status === 486 && LOAD_REASON.test(reason))) {
        if (sip.retryAfter !== undefined) facts.retryAfter = sip.retryAfter;
        add(
          scores,
          'sbc-throttling',
          e,
          sip.retryAfter !== undefined ? 4 : 3,
          `SIP ${status} ${reason}`.trim(),
        );
      } else if (status === 403) {
        if (RATE_REASON.test(reason) && !AUTH_REASON.test(reason.replace(/forbidden/i, '')))
          add(scores, 'sbc-throttling', e, 3, `SIP 403 ${reason}`);
        else add(scores, 'auth-failure', e, 3, `SIP 403 ${reason}`.trim());
      } else if (status === 504 || status === 408) {
        // a 408 the client made itself is a timeout symptom, one received from the server is the server's
        add(scores, 'upstream-timeout', e, status === 504 ? 3 : 1.5, `SIP ${status} ${reason}`.trim());
      } else if (status === 429) {
        // SIP 429 is "Provide Referrer Identity", not a rate limit
        symptoms.push(e);
      }
      continue;
    }

    switch (e.signal) {
      case 'sbc-flood-block':
        add(scores, 'sbc-throttling', e, 4, 'SBC flood protection blocked this source');
        break;
      case 'sbc-rate-limit':
        add(scores, 'sbc-throttling', e, 3.5, 'SBC rate limiter refused a request');
        break;
      case 'sbc-capacity':
      case 'sbc-overload':
        add(scores, 'sbc-throttling', e, 3, 'SBC capacity reached');
        break;
      case 'edge-rate-limit':
      case 'edge-connection-limit':
        add(scores, 'edge-rate-limit', e, 4, 'edge limiter refused the handshake');
        symptoms.push(e);
        break;
      case 'upstream-timeout':
        add(scores, 'upstream-timeout', e, e.role === 'lb' ? 4 : 3, 'edge timed out waiting for the SBC');
        symptoms.push(e);
        break;
      case 'bad-header':
        add(scores, 'client-misconfig', e, 5, 'malformed handshake header');
        symptoms.push(e);
        break;
      case 'missing-subprotocol':
        add(scores, 'client-misconfig', e, 5, 'handshake without the sip subprotocol');
        symptoms.push(e);
        break;
      case 'bad-url':
        add(scores, 'client-misconfig', e, 5, 'wrong WebSocket URL or scheme');
        symptoms.push(e);
        break;
      case 'resource-exhausted':
        add(scores, 'client-misconfig', e, 4, 'load generator out of WebSocket resources');
        symptoms.push(e);
        break;
      case 'client-timeout':
        add(
          scores,
          'client-misconfig',
          e,
          e.role === 'lb' ? 2.5 : 2,
          'client gave up before the server answered',
        );
        symptoms.push(e);
        break;
      case 'auth-failed':
        add(scores, 'auth-failure', e, 4, 'credentials rejected');
        symptoms.push(e);
        break;
      case 'acl-rejected':
        add(scores, 'auth-failure', e, 3, 'refused by policy / ACL');
        symptoms.push(e);
        break;
      case 'unknown-header':
        facts.customHeader ??= /X-[A-Za-z0-9-]+/.exec(e.text ?? e.raw)?.[0];
        break;
      case 'app-ws-failed':
      case 'registration-failed':
      case 'transaction-timeout':
        symptoms.push(e);
        break;
      case 'ws-handshake-failed': {
        symptoms.push(e);
        const status = e.http?.status;
        if (status) facts.handshakeStatuses.push(status);
        if (status !== undefined) classifyHandshakeStatus(scores, e, status, run);
        break;
      }
      case 'ws-close':
        break;
    }
    if (
      e.role === 'lb' &&
      e.http?.status !== undefined &&
      e.signal === undefined &&
      e.http.status >= 400 &&
      (e.kind === 'ws-handshake' || e.http.upgrade)
    ) {
      facts.handshakeStatuses.push(e.http.status);
      symptoms.push(e);
      classifyHandshakeStatus(scores, e, e.http.status, run);
    }
    if (
      !facts.customHeader &&
      e.role === 'client' &&
      /\bX-[A-Za-z][A-Za-z0-9-]{0,63}\s{0,4}[:=]/.test(e.text ?? '') &&
      e.signal !== 'bad-header'
    ) {
      facts.customHeader = /X-[A-Za-z0-9-]+/.exec(e.text ?? '')?.[0];
    }
  }

  // ---- authentication: a challenge answered with another challenge, or never answered
  for (const [call, count] of challengesByCall) {
    const last = lastFinalByCall.get(call);
    const lastStatus = last?.sip?.status;
    const unresolved = lastStatus === 401 || lastStatus === 407;
    if (count >= 2 && unresolved) {
      add(scores, 'auth-failure', last!, 4, `SIP ${lastStatus} again after credentials were sent`);
      symptoms.push(last!);
    } else if (
      unresolved &&
      !registered &&
      events.some((x) => x.signal === 'registration-failed' || x.signal === 'app-ws-failed')
    ) {
      add(scores, 'auth-failure', last!, 2.5, `SIP ${lastStatus} challenge never answered successfully`);
      symptoms.push(last!);
    }
  }

  // ---- SBC flood guard: this session's source was blocked and it then timed out in silence
  // (pike drops without answering); only when nothing else explains the session
  for (const ip of scores.size === 0 ? ips : []) {
    const blocks = run.floodBlocks.get(ip);
    if (!blocks) continue;
    const after = events.find(
      (x) =>
        (x.signal === 'transaction-timeout' || isAbnormalClose(x) || x.signal === 'app-ws-failed') &&
        blocks.some((b) => x.ts >= b && x.ts - b < FLOOD_BAN_MS),
    );
    if (after) add(scores, 'sbc-throttling', after, 2.5, `timed out after the SBC blocked ${ip}`);
  }

  // ---- pike drops silently: timeouts right after a flood block, with nothing else to explain
  // them, are the block's even when no SBC line names this user's address
  if (scores.size === 0 && run.floodBlocks.size > 0) {
    const allBlocks = [...run.floodBlocks.values()].flat();
    const silent = events.find(
      (x) =>
        (x.signal === 'transaction-timeout' || (x.sip?.status === 408 && x.kind === 'sip-response')) &&
        allBlocks.some((b) => x.ts >= b && x.ts - b < FLOOD_BAN_MS),
    );
    if (silent)
      add(scores, 'sbc-throttling', silent, 2, 'timed out while the SBC flood guard was blocking sources');
  }

  // ---- idle timeout: a tunnel that lived exactly as long as the run's idle timeout, silent at the end
  const tunnels = tunnelsOf(events);
  for (const t of tunnels) {
    if (!t.abnormal) continue;
    // idle for as long as the run's idle timeout: the silence before the close, not the lifetime,
    // so a busy socket closed early never matches
    const T = run.idleTimeoutMs;
    const clustered = T !== undefined && Math.abs(t.idleGap - T) <= Math.max(1_500, T * 0.02);
    if (!clustered && !(t.idleFlag && (T === undefined || t.idleGap >= BUSY_FRACTION * T))) continue;
    // a tunnel whose registration had already failed was cut as a consequence, not the cause
    if (failedUnregistered(events, t.start, t.end)) continue;
    // nor one whose client was still waiting for an answer: the silence was the server's
    if (unansweredRequest(events, t.start - MATCH_TOLERANCE_MS, t.end)) continue;
    if (!t.idleFlag && isTeardown(t.end, events, run.endTs)) continue;
    facts.idleLifetimeMs = t.idleGap;
    add(
      scores,
      'idle-timeout',
      t.source,
      t.idleFlag ? 4 : 3.5,
      `tunnel closed after ${(t.idleGap / 1000).toFixed(1)} s with no traffic`,
    );
    symptoms.push(t.source);
  }
  for (const e of events) {
    if (e.signal === 'idle-close' && e.role !== 'lb' && scores.has('idle-timeout'))
      add(scores, 'idle-timeout', e, 2, 'the SBC saw the idle connection go');
    if (e.signal === 'conn-reset' && e.role === 'sbc' && scores.has('idle-timeout'))
      add(scores, 'idle-timeout', e, 1, 'the SBC saw the connection reset');
  }

  // ---- retry storms: many connects, far faster than any backoff
  const attempts = Math.max(connects, opens, lbHandshakes, events.length ? 1 : 0);
  if (connectTimes.length >= STORM_MIN_ATTEMPTS) {
    const gaps: number[] = [];
    for (let i = 1; i < connectTimes.length; i++) gaps.push(connectTimes[i] - connectTimes[i - 1]);
    gaps.sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)];
    if (median < STORM_INTERVAL_MS) {
      const where = events.find((x) => x.signal === 'ws-connecting' || x.signal === 'reconnect') ?? events[0];
      add(
        scores,
        'client-misconfig',
        where,
        3,
        `${connectTimes.length} connection attempts, median ${median} ms apart (no backoff)`,
      );
      symptoms.push(where);
    }
  } else if (
    retryDelays.length >= STORM_MIN_ATTEMPTS &&
    retryDelays.filter((d) => d < STORM_INTERVAL_MS).length >= STORM_MIN_ATTEMPTS
  ) {
    const where = events.find((x) => x.retryDelayMs !== undefined)!;
    add(scores, 'client-misconfig', where, 3, 'reconnects scheduled with no backoff');
    symptoms.push(where);
  }

  // ---- did it fail? a close with nothing wrong around it, after registering, is a teardown
  const abnormalCloses = events.filter((x) => isAbnormalClose(x));
  for (const c of abnormalCloses) {
    const reconnected = events.some(
      (x) =>
        x.ts > c.ts && x.ts - c.ts < 120_000 && (x.signal === 'ws-connecting' || x.signal === 'reconnect'),
    );
    const neverRegistered = !registered;
    const teardown = isTeardown(c.ts, events, run.endTs) && lastRegisteredTs < c.ts;
    if ((reconnected || neverRegistered) && !teardown) symptoms.push(c);
  }

  let best: CauseId | undefined;
  let bestScore = 0;
  for (const cause of PRECEDENCE) {
    const s = total(scores.get(cause));
    if (s > bestScore + 1e-9) {
      best = cause;
      bestScore = s;
    }
  }
  // the SBC's refusal is the root of a gateway timeout in the same session
  if (best === 'upstream-timeout' && scores.has('sbc-throttling')) best = 'sbc-throttling';
  // throttled first, cut idle later (the socket sat silent after its registration was dropped):
  // the first failure is the cause
  if (best === 'idle-timeout' && scores.has('sbc-throttling')) {
    const first = (cause: CauseId) => Math.min(...(scores.get(cause) ?? []).map((w) => w.event.ts));
    if (first('sbc-throttling') < first('idle-timeout')) best = 'sbc-throttling';
  }

  const failed = symptoms.length > 0 || scores.size > 0;
  if (!failed) {
    return { failed: false, confidence: 0, evidence: [], symptoms: [], attempts, explanation: '', facts };
  }
  const cause: CauseId = best ?? 'unclassified';
  const evidence = [...(scores.get(cause) ?? [])].sort(
    (a, b) => b.weight - a.weight || a.event.ts - b.event.ts,
  );
  const roles = new Set(evidence.map((w) => w.event.role));
  const confidence =
    cause === 'unclassified'
      ? 0.3
      : Math.min(0.99, 0.45 + 0.08 * Math.min(bestScore, 6) + 0.05 * (roles.size - 1));
  return {
    failed: true,
    cause,
    confidence: Math.round(confidence * 100) / 100,
    evidence,
    symptoms,
    attempts,
    explanation: '',
    facts,
  };
}

/** A status made up by the client library on a line that named no user, just before `ts`. */
function echoesKeylessInternal(run: RunContext, status: number, ts: number): boolean {
  const list = run.keylessInternal;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].ts < ts - 2_000) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < list.length && list[i].ts <= ts; i++) if (list[i].status === status) return true;
  return false;
}

/**
 * Inside [start, end): the last registration outcome was a failure (never succeeded, or a refresh
 * failed after an earlier success): a tunnel cut after that was a consequence.
 */
function failedUnregistered(events: readonly LogEvent[], start: number, end: number): boolean {
  let failed = false;
  for (const e of events) {
    if (e.ts < start || e.ts >= end) continue;
    if (e.signal === 'registered') failed = false;
    const status = e.sip?.status;
    if (
      status !== undefined &&
      e.kind === 'sip-response' &&
      (e.sip?.method === 'REGISTER' || e.sip?.method === undefined)
    ) {
      if (status >= 200 && status < 300) failed = false;
      else if (status >= 300 && status !== 401 && status !== 407) failed = true;
    }
    if (e.signal === 'transaction-timeout' || e.signal === 'registration-failed') failed = true;
  }
  return failed;
}

/** Inside [start, end): the client sent a SIP request and received no SIP response at all. */
function unansweredRequest(events: readonly LogEvent[], start: number, end: number): boolean {
  let asked = false;
  for (const e of events) {
    if (e.role !== 'client' || e.ts < start || e.ts >= end || !e.sip || e.sip.headers === undefined) continue;
    if (e.kind === 'sip-response' && e.sip.direction === 'received') return false;
    if (e.kind === 'sip-request' && e.sip.direction === 'sent') asked = true;
  }
  return asked;
}

function hasPrecedingConnect(events: readonly LogEvent[], e: LogEvent): boolean {
  const i = events.indexOf(e);
  for (let j = i - 1; j >= 0 && e.ts - events[j].ts < 5_000; j--) {
    if (events[j].role === 'client' && events[j].signal === 'ws-connecting') return true;
  }
  return false;
}

/** An HTTP status on the upgrade: who made it decides the cause. */
/** Envoy's response flags for "no upstream could take it" (not a limiter): UH, UF, NR. */
const NO_UPSTREAM =
  /(?:^|[,\s])(?:UH|UF|NR)(?:$|[,\s])|no_healthy_upstream|upstream_connect_failure|NoHealthyUpstream/;

function classifyHandshakeStatus(scores: Scores, e: LogEvent, status: number, run: RunContext): void {
  const fromUpstream = typeof e.http?.upstreamStatus === 'number';
  const edgeMade = e.role === 'lb' && e.http?.upstreamStatus === null;
  if (status === 429) {
    add(scores, 'edge-rate-limit', e, 4, 'HTTP 429 on the handshake');
  } else if (status === 503 || status === 403) {
    if (fromUpstream)
      add(
        scores,
        status === 403 ? 'auth-failure' : 'sbc-throttling',
        e,
        3,
        `HTTP ${status} on the handshake from the upstream`,
      );
    else if (edgeMade && NO_UPSTREAM.test(e.http?.flags ?? ''))
      add(
        scores,
        'upstream-timeout',
        e,
        2,
        `HTTP ${status} made by the edge: no healthy upstream to send it to`,
      );
    else if (edgeMade) add(scores, 'edge-rate-limit', e, 3, `HTTP ${status} made by the edge (no upstream)`);
    else if (e.role === 'client') {
      // the client cannot tell who answered; the run's LB lines can
      if (run.edgeRefusals > 0 && run.edgeRefusals >= run.upstreamRefusals)
        add(
          scores,
          'edge-rate-limit',
          e,
          2,
          `HTTP ${status} on the handshake; the edge refused handshakes in this run`,
        );
      else if (run.upstreamRefusals > 0)
        add(
          scores,
          'sbc-throttling',
          e,
          2,
          `HTTP ${status} on the handshake; the SBC refused handshakes in this run`,
        );
      else
        add(
          scores,
          status === 403 ? 'auth-failure' : 'edge-rate-limit',
          e,
          1.5,
          `HTTP ${status} on the handshake`,
        );
    }
  } else if (status === 504 || status === 502) {
    add(scores, 'upstream-timeout', e, status === 504 ? 3.5 : 2, `HTTP ${status} on the handshake`);
  } else if (status === 499) {
    add(scores, 'client-misconfig', e, 2.5, 'client closed before the answer (499)');
  } else if (status === 401 || status === 407) {
    add(scores, 'auth-failure', e, 3, `HTTP ${status} on the handshake`);
  } else if (status === 400 || status === 404 || status === 426 || status === 431 || status === 405) {
    add(scores, 'client-misconfig', e, 3, `HTTP ${status} on the handshake`);
  }
}
