/**
 * Classification of the run: one Finding per failed session, and the run's verdict.
 */
import type { CauseId, Evidence, Finding, LogEvent, Role, RuledOut, Triage } from '../model.js';
import { CAUSES } from '../model.js';
import type { Session } from '../correlate/sessions.js';
import { CAUSE_TEXT } from './causes.js';
import { buildRunContext, type RunContext } from './run-context.js';
import { classifySession, type SessionVerdict } from './session.js';
import { TriageCollector } from './triage.js';

/** Evidence lines kept per finding. */
export const MAX_EVIDENCE = 8;

export interface InputRef {
  path: string;
  role: Role | null;
}

export interface RunClassification {
  findings: Finding[];
  sessions: number;
  healthySessions: number;
  attempts: number;
  byCause: Partial<Record<CauseId, number>>;
  primaryCause: CauseId | null;
  failuresBegan: string | null;
  ruledOut: RuledOut[];
  verdict: string;
  run: RunContext;
  triage: Triage;
  /** failed sessions that name no user and matched no user's session (LB/SBC lines only) */
  unattributed: Partial<Record<CauseId, number>>;
}

function iso(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : '';
}

/** A multi-line SIP dump is cited by its first line; its start line is added so the status shows. */
function evidenceText(e: LogEvent): string {
  const raw = e.raw.length > 500 ? `${e.raw.slice(0, 497)}...` : e.raw;
  const sip = e.sip;
  if (!sip || /SIP\/2\.0/.test(raw)) return raw;
  const start =
    sip.status !== undefined
      ? `SIP/2.0 ${sip.status}${sip.reason ? ` ${sip.reason}` : ''}`
      : sip.method
        ? `${sip.method} (CSeq ${sip.cseq ?? '?'})`
        : '';
  if (!start || (e.kind !== 'sip-request' && e.kind !== 'sip-response') || e.signal) return raw;
  return `${raw} ⏎ ${start}${sip.retryAfter !== undefined ? ` ⏎ Retry-After: ${sip.retryAfter}` : ''}`;
}

function toEvidence(e: LogEvent, inputs: readonly InputRef[]): Evidence {
  return {
    path: inputs[e.input]?.path ?? `input ${e.input}`,
    line: e.line,
    role: e.role,
    text: evidenceText(e),
    time: Number.isFinite(e.ts) ? iso(e.ts) : undefined,
  };
}

/** Strongest cause evidence first, then the symptoms, one line per role at least where possible. */
function pickEvidence(v: SessionVerdict, inputs: readonly InputRef[]): Evidence[] {
  const chosen: LogEvent[] = [];
  const seen = new Set<LogEvent>();
  const take = (e: LogEvent) => {
    if (seen.has(e) || chosen.length >= MAX_EVIDENCE) return;
    seen.add(e);
    chosen.push(e);
  };
  const rolesCovered = new Set<Role>();
  for (const w of v.evidence) {
    if (!rolesCovered.has(w.event.role)) {
      take(w.event);
      rolesCovered.add(w.event.role);
    }
  }
  for (const w of v.evidence.slice(0, 4)) take(w.event);
  for (const s of v.symptoms) {
    if (!rolesCovered.has(s.role)) {
      take(s);
      rolesCovered.add(s.role);
    }
  }
  for (const s of v.symptoms.slice(0, 3)) take(s);
  chosen.sort((a, b) => (a.ts || 0) - (b.ts || 0) || a.input - b.input || a.line - b.line);
  return chosen.map((e) => toEvidence(e, inputs));
}

function explain(v: SessionVerdict, run: RunContext): string {
  const top = v.evidence[0]?.why;
  const tries = v.attempts > 1 ? ` over ${v.attempts} attempts` : '';
  switch (v.cause) {
    case 'sbc-throttling':
      return `The SBC refused this user${tries}: ${top}${v.facts.retryAfter !== undefined ? ` (Retry-After: ${v.facts.retryAfter} s)` : ''}. Gateway timeouts and 1006 closes here are symptoms of that refusal.`;
    case 'edge-rate-limit':
      return `The load balancer refused the WebSocket handshake itself${tries}, before the SBC saw it: ${top}.`;
    case 'idle-timeout':
      return `The WebSocket was open and registered, then cut after ${((v.facts.idleLifetimeMs ?? run.idleTimeoutMs ?? 0) / 1000).toFixed(1)} s without traffic${tries}: ${run.idleClusterSize} tunnels in this run died at the same age, an intermediary's idle timeout.`;
    case 'client-misconfig':
      return `The client caused the failure${tries}: ${top}.`;
    case 'upstream-timeout':
      if (v.evidence[0]?.event.sip && v.evidence[0].event.kind === 'sip-response') {
        return `The REGISTER was answered ${top}${tries}: a server behind the edge (the SBC's registrar or upstream) did not answer in time; no throttling evidence for this session.`;
      }
      return `The edge gave up waiting for the SBC${tries}: ${top}; no throttling evidence for this session.`;
    case 'auth-failure':
      return `Authentication failed${tries}: ${top}.`;
    default: {
      const what = v.symptoms[0]?.text ?? v.symptoms[0]?.raw ?? 'a failure';
      return `Failed (${truncate(what, 120)}) but no log line explains why; a 1006 close alone carries no cause.`;
    }
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 3)}...` : s;
}

function remediation(cause: CauseId, v: SessionVerdict, run: RunContext): string {
  const base = CAUSE_TEXT[cause].remediation;
  if (cause === 'idle-timeout' && run.idleTimeoutMs) {
    return `Keep-alives every ${Math.max(1, Math.floor((run.idleTimeoutMs / 1000) * 0.4))} s or less would keep these tunnels open (idle timeout ≈ ${Math.round(run.idleTimeoutMs / 1000)} s). ${base}`;
  }
  if (cause === 'sbc-throttling' && v.facts.retryAfter !== undefined) {
    return `${base} The SBC asked for Retry-After: ${v.facts.retryAfter} s.`;
  }
  return base;
}

function keySets(s: Session): Finding['keys'] {
  const callId = new Set<string>();
  const user = new Set<string>();
  const peer = new Set<string>();
  const requestId = new Set<string>();
  if (s.user) user.add(s.user);
  for (const e of s.events) {
    if (e.keys.callId) callId.add(e.keys.callId);
    if (e.keys.peer && e.role !== 'client') peer.add(e.keys.peer);
    if (e.keys.requestId) requestId.add(e.keys.requestId);
  }
  const keys: Finding['keys'] = {};
  if (callId.size) keys.callId = [...callId].slice(0, 20);
  if (user.size) keys.user = [...user];
  if (peer.size) keys.peer = [...peer].slice(0, 20);
  if (requestId.size) keys.requestId = [...requestId].slice(0, 20);
  return keys;
}

/**
 * Classifies a run's sessions given one at a time (a run too large for memory is read partition by
 * partition), once the run context is known. `anyUser`: some session names a user, so sessions
 * without one are counted apart (unattributed) rather than as users.
 */
export class RunClassifier {
  private readonly findings: Finding[] = [];
  private readonly byCause: Partial<Record<CauseId, number>> = {};
  private readonly unattributed: Partial<Record<CauseId, number>> = {};
  private readonly triage = new TriageCollector();
  private counted = 0;
  private healthy = 0;
  private attempts = 0;
  private internal503 = 0;
  private received503 = 0;
  private customHeader: string | undefined;
  private customHeaderHealthy = 0;
  private customHeaderSessions = 0;

  constructor(
    private readonly run: RunContext,
    private readonly inputs: readonly InputRef[],
    private readonly anyUser: boolean,
  ) {}

  add(s: Session): void {
    const run = this.run;
    if (isProbeOnly(s) || isInfrastructure(s, run)) return;
    if (this.anyUser && !s.user) {
      // shown as counts by cause so a failure the inputs cannot tie to a user is still visible
      // (never hidden), without counting it twice
      const v = classifySession(s, run);
      if (!v.failed) return;
      const cause = v.cause ?? 'unclassified';
      this.unattributed[cause] = (this.unattributed[cause] ?? 0) + 1;
      return;
    }
    this.counted++;
    const v = classifySession(s, run);
    this.attempts += v.attempts;
    this.internal503 += v.facts.internalStatuses.filter((x) => x === 503).length;
    this.received503 += v.facts.sipStatuses.filter((x) => x === 503).length;
    if (v.facts.customHeader) {
      this.customHeader ??= v.facts.customHeader;
      this.customHeaderSessions++;
      if (!v.failed) this.customHeaderHealthy++;
    }
    this.triage.addSession(s, v.failed);
    if (!v.failed) {
      this.healthy++;
      return;
    }
    const cause = v.cause ?? 'unclassified';
    this.byCause[cause] = (this.byCause[cause] ?? 0) + 1;
    let first = Infinity;
    let last = -Infinity;
    for (const e of s.events) {
      if (e.ts < first) first = e.ts;
      if (e.ts > last) last = e.ts;
    }
    this.findings.push({
      session: s.id,
      cause,
      confidence: v.confidence,
      keys: keySets(s),
      firstSeen: iso(first),
      lastSeen: iso(last),
      explanation: explain(v, run),
      remediation: remediation(cause, v, run),
      evidence: pickEvidence(v, this.inputs),
      attempts: v.attempts,
    });
  }

  finish(): RunClassification {
    const { findings, run, unattributed } = this;
    // causes in their fixed order, whatever order the sessions came in
    const byCause: Partial<Record<CauseId, number>> = {};
    for (const c of CAUSES) if (this.byCause[c] !== undefined) byCause[c] = this.byCause[c];
    findings.sort((a, b) => a.firstSeen.localeCompare(b.firstSeen) || a.session.localeCompare(b.session));
    const primaryCause = pickPrimary(byCause);
    const failuresBegan = findings.length
      ? findings.reduce((m, f) => (f.firstSeen && f.firstSeen < m ? f.firstSeen : m), findings[0].firstSeen)
      : null;
    const ruledOut = ruleOut({
      byCause,
      unattributed,
      run,
      internal503: this.internal503,
      received503: this.received503,
      customHeader: this.customHeader,
      customHeaderSessions: this.customHeaderSessions,
      customHeaderHealthy: this.customHeaderHealthy,
    });
    const verdict = verdictLine(this.counted, findings.length, byCause, primaryCause, failuresBegan);
    return {
      findings,
      unattributed,
      triage: this.triage.finish(findings, this.attempts),
      sessions: this.counted,
      healthySessions: this.healthy,
      attempts: this.attempts,
      byCause,
      primaryCause,
      failuresBegan,
      ruledOut,
      verdict,
      run,
    };
  }
}

export function classifyRun(
  sessions: readonly Session[],
  extra: readonly LogEvent[],
  inputs: readonly InputRef[],
): RunClassification {
  const classifier = new RunClassifier(
    buildRunContext(sessions, extra),
    inputs,
    sessions.some((s) => s.user),
  );
  for (const s of sessions) classifier.add(s);
  return classifier.finish();
}

/**
 * With client logs in the run, every softphone has client lines. A "session" seen only at the SBC
 * that never registers and never touches a WebSocket is the SBC's own traffic (OPTIONS qualify of
 * a trunk, a carrier's answers, contact reachability): not a softphone, not a failure to report.
 */
function isInfrastructure(s: Session, run: RunContext): boolean {
  if (!run.rolesPresent.has('client')) return false;
  return s.events.every(
    (e) =>
      e.role === 'sbc' &&
      e.sip?.method !== 'REGISTER' &&
      e.ws === undefined &&
      e.http === undefined &&
      !e.kind.startsWith('ws-') &&
      !(e.signal ?? '').startsWith('ws-'),
  );
}

/** A monitoring system's OPTIONS pings are not a softphone session. */
function isProbeOnly(s: Session): boolean {
  return s.events.every((e) => e.role === 'sbc' && e.sip?.method === 'OPTIONS' && e.signal === undefined);
}

function pickPrimary(byCause: Partial<Record<CauseId, number>>): CauseId | null {
  let best: CauseId | null = null;
  let n = 0;
  for (const c of CAUSES) {
    const k = byCause[c] ?? 0;
    if (c === 'unclassified' && best) continue;
    if (k > n) {
      best = c;
      n = k;
    }
  }
  return best;
}

function verdictLine(
  sessions: number,
  failed: number,
  byCause: Partial<Record<CauseId, number>>,
  primary: CauseId | null,
  began: string | null,
): string {
  if (failed === 0) return `No failure found in ${sessions} session${sessions === 1 ? '' : 's'}.`;
  const share = Math.round(((byCause[primary!] ?? 0) / failed) * 100);
  return `${failed} of ${sessions} sessions failed; primary cause ${primary} (${byCause[primary!]} sessions, ${share}% of failures): ${CAUSE_TEXT[primary!].title}. Failures began at ${began}.`;
}

function ruleOut(f: {
  byCause: Partial<Record<CauseId, number>>;
  unattributed: Partial<Record<CauseId, number>>;
  run: RunContext;
  internal503: number;
  received503: number;
  customHeader?: string;
  customHeaderSessions: number;
  customHeaderHealthy: number;
}): RuledOut[] {
  const out: RuledOut[] = [];
  if (f.customHeader && f.customHeaderSessions > 0) {
    out.push({
      hypothesis: `the custom header ${f.customHeader} broke the handshake`,
      reason: `it was set on ${f.customHeaderSessions} sessions and ${f.customHeaderHealthy} of them are healthy; servers ignore a well-formed unknown header (and browsers cannot send handshake headers at all)`,
    });
  }
  if (f.internal503 > 0) {
    out.push({
      hypothesis: 'the SBC answered 503 (SIP.js "Failed to register, status code 503")',
      reason: `${f.internal503} of those 503s were generated inside the client library after a transport error, not received from the SBC${f.received503 ? ` (${f.received503} were really received)` : ''}`,
    });
  }
  if (!f.byCause['idle-timeout']) {
    const t = f.run.idleTimeoutMs;
    out.push({
      hypothesis: 'load-balancer idle timeouts',
      reason:
        t !== undefined
          ? `${f.run.idleClusterSize} tunnels were closed after ~${Math.round(t / 1000)} s idle, but only in sessions that had already failed for another cause: a consequence there, not the cause`
          : f.run.rolesPresent.has('lb') || f.run.rolesPresent.has('client')
            ? 'no WebSocket lifetimes cluster at an idle timeout'
            : 'no tunnel lifetimes in the inputs',
    });
  }
  if (!f.byCause['edge-rate-limit']) {
    out.push({
      hypothesis: 'an edge rate limit (429, limit_req, stick-table deny)',
      reason: f.run.rolesPresent.has('lb')
        ? 'the load balancer refused no handshake by itself'
        : 'no LB log given and no 429 seen by clients',
    });
  }
  if (!f.byCause['sbc-throttling']) {
    out.push({
      hypothesis: 'SBC throttling',
      reason: 'no 503 / Retry-After, pike block or limiter line for any failed session',
    });
  }
  // a hypothesis ruled out for the users can still have struck lines that named nobody
  for (const r of out) {
    const cause = HYPOTHESIS_CAUSE.find(([re]) => re.test(r.hypothesis))?.[1];
    const n = cause ? (f.unattributed[cause] ?? 0) : 0;
    if (n > 0)
      r.reason = `no user's session shows it; ${n} LB/SBC session${n === 1 ? '' : 's'} that named no user and matched no client did (see unattributed): other clients of the same servers, or users the logs could not tie`;
  }
  return out;
}

const HYPOTHESIS_CAUSE: [RegExp, CauseId][] = [
  [/idle timeouts/, 'idle-timeout'],
  [/edge rate limit/, 'edge-rate-limit'],
  [/^SBC throttling/, 'sbc-throttling'],
];
