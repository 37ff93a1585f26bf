/**
 * Run-level triage for load testers: the load at which failures began (the knee), how retries
 * amplified the load, and whether failures concentrate on a few source addresses.
 */
import type { CauseId, Finding, LogEvent, TimelineInterval, Triage } from '../model.js';
import type { Session } from '../correlate/sessions.js';

/** A second with this many connection attempts, and five times the usual, is a retry wave. */
const WAVE_MIN = 10;
const WAVE_FACTOR = 5;

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

function isConnect(e: LogEvent): boolean {
  return e.role === 'client' && (e.signal === 'ws-connecting' || e.signal === 'reconnect');
}

/** What one session contributes to the run's triage: numbers only, so sessions can be dropped. */
interface SessionMarks {
  first: number;
  last: number;
}

/**
 * Collects the triage of a run from its counted sessions given one at a time, and finishes it once
 * the findings are known.
 */
export class TriageCollector {
  private readonly spans: SessionMarks[] = [];
  private readonly failedIps = new Map<string, number>();
  private readonly perSecond = new Map<number, number>();
  private readonly timeline = new TimelineCollector();

  /** `failed`: the session has a finding */
  addSession(s: Session, failed: boolean): void {
    let first = Infinity;
    let last = -Infinity;
    const ips = new Set<string>();
    for (const e of s.events) {
      if (e.ts < first) first = e.ts;
      if (e.ts > last) last = e.ts;
      if (failed && e.role === 'lb' && e.keys.ip) ips.add(e.keys.ip);
      if (isConnect(e) && !Number.isNaN(e.ts)) {
        const sec = Math.floor(e.ts / 1000);
        this.perSecond.set(sec, (this.perSecond.get(sec) ?? 0) + 1);
      }
    }
    this.spans.push({ first, last });
    for (const ip of ips) this.failedIps.set(ip, (this.failedIps.get(ip) ?? 0) + 1);
    this.timeline.addSession(s);
  }

  finish(findings: readonly Finding[], attempts: number): Triage {
    const sessions = this.spans.length;
    const out: Triage = {
      attemptsPerUser: sessions ? Math.round((attempts / sessions) * 100) / 100 : 0,
    };

    // onset: the earliest evidence of any failure, and the load then
    let onset = Infinity;
    for (const f of findings) {
      for (const e of f.evidence) {
        const t = e.time ? Date.parse(e.time) : NaN;
        if (t < onset) onset = t;
      }
    }
    if (Number.isFinite(onset)) {
      let open = 0;
      let arrivals = 0;
      for (const { first, last } of this.spans) {
        if (first <= onset && last >= onset) open++;
        if (first <= onset && first > onset - 60_000) arrivals++;
      }
      out.onset = { at: iso(onset), openSessions: open, arrivalsPerMinute: arrivals };
    }

    // concentration: failed sessions per source address the edge saw
    const failed = new Set(findings.map((f) => f.session));
    if (this.failedIps.size > 0 && failed.size > 0) {
      out.failedBySource = [...this.failedIps.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 5)
        .map(([ip, n]) => ({ ip, failedSessions: n, share: Math.round((n / failed.size) * 100) / 100 }));
    }

    // retry waves: seconds in which many clients (re)connected at once
    if (this.perSecond.size > 0) {
      const counts = [...this.perSecond.values()].sort((a, b) => a - b);
      const usual = counts[Math.floor(counts.length / 2)];
      const waves = [...this.perSecond.entries()]
        .filter(([, n]) => n >= WAVE_MIN && n >= WAVE_FACTOR * usual)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, 5)
        .map(([sec, n]) => ({ at: iso(sec * 1000), connects: n }));
      if (waves.length) out.retryWaves = waves;
    }
    const line = this.timeline.finish(findings);
    if (line) out.timeline = line;
    return out;
  }
}

/** Interval lengths a person reads easily, in seconds. */
const STEPS_SEC = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
const MAX_INTERVALS = 60;

function isSuccess(e: LogEvent): boolean {
  if (e.role !== 'client') return false;
  return e.sip?.method === 'REGISTER' && e.sip.status === 200 && e.sip.direction === 'received';
}

/**
 * Per-interval load and outcome: attempts, successful registrations, failures by cause (by when
 * each failed session's failure began) and WebSocket connections open at the end of each interval
 * (client open→close, or the LB's tunnel when the client log shows none). The sessions' moments
 * are kept as numbers until the run's span, and so the intervals, are known.
 */
class TimelineCollector {
  private first = Infinity;
  private last = -Infinity;
  private readonly attempts: number[] = [];
  private readonly successes: number[] = [];
  /** +1 at an opening, −1 at a closing: [ts, delta] flattened */
  private readonly changes: number[] = [];

  addSession(s: Session): void {
    let clientOpens = 0;
    let open: number | undefined;
    // an app line saying "registered" and the 200 it follows are one success: count one kind
    const saysRegistered = s.events.some((e) => e.role === 'client' && e.signal === 'registered');
    for (const e of s.events) {
      if (Number.isNaN(e.ts)) continue;
      if (e.ts < this.first) this.first = e.ts;
      if (e.ts > this.last) this.last = e.ts;
      if (isConnect(e)) this.attempts.push(e.ts);
      if (saysRegistered ? e.role === 'client' && e.signal === 'registered' : isSuccess(e))
        this.successes.push(e.ts);
      if (e.role !== 'client') continue;
      if (e.signal === 'ws-open') {
        clientOpens++;
        if (open === undefined) open = e.ts;
      } else if (e.signal === 'ws-close' && open !== undefined) {
        this.changes.push(open, 1, e.ts, -1);
        open = undefined;
      }
    }
    if (open !== undefined) this.changes.push(open, 1);
    if (clientOpens > 0) return;
    for (const e of s.events) {
      if (e.role !== 'lb' || e.http?.status !== 101 || e.http.durationMs === undefined || Number.isNaN(e.ts))
        continue;
      this.changes.push(e.http.startTs ?? e.ts - e.http.durationMs, 1, e.ts, -1);
    }
  }

  finish(findings: readonly Finding[]): { stepSec: number; intervals: TimelineInterval[] } | undefined {
    const { first, last } = this;
    if (!Number.isFinite(first)) return undefined;
    const span = Math.max(1, (last - first) / 1000);
    const stepSec = STEPS_SEC.find((s) => span / s <= MAX_INTERVALS) ?? Math.ceil(span / MAX_INTERVALS);
    const stepMs = stepSec * 1000;
    const t0 = Math.floor(first / stepMs) * stepMs;
    const n = Math.floor((last - t0) / stepMs) + 1;
    const intervals: TimelineInterval[] = Array.from({ length: n }, (_, i) => ({
      at: iso(t0 + i * stepMs),
      attempts: 0,
      successes: 0,
      failures: {},
      openConnections: 0,
    }));
    const slot = (ts: number) => Math.min(n - 1, Math.max(0, Math.floor((ts - t0) / stepMs)));
    for (const ts of this.attempts) intervals[slot(ts)].attempts++;
    for (const ts of this.successes) intervals[slot(ts)].successes++;
    // the running sum of openings and closings is the open count
    const delta = new Array<number>(n + 1).fill(0);
    for (let i = 0; i < this.changes.length; i += 2) delta[slot(this.changes[i])] += this.changes[i + 1];
    let openNow = 0;
    for (let i = 0; i < n; i++) {
      openNow += delta[i];
      intervals[i].openConnections = openNow;
    }
    for (const f of findings) {
      const t = Date.parse(f.firstSeen);
      if (Number.isNaN(t)) continue;
      const failures = intervals[slot(t)].failures;
      failures[f.cause as CauseId] = (failures[f.cause] ?? 0) + 1;
    }
    return { stepSec, intervals };
  }
}
