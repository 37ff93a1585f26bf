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

export function triage(sessions: readonly Session[], findings: readonly Finding[], attempts: number): Triage {
  const out: Triage = {
    attemptsPerUser: sessions.length ? Math.round((attempts / sessions.length) * 100) / 100 : 0,
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
    for (const s of sessions) {
      let first = Infinity;
      let last = -Infinity;
      for (const e of s.events) {
        if (e.ts < first) first = e.ts;
        if (e.ts > last) last = e.ts;
      }
      if (first <= onset && last >= onset) open++;
      if (first <= onset && first > onset - 60_000) arrivals++;
    }
    out.onset = { at: iso(onset), openSessions: open, arrivalsPerMinute: arrivals };
  }

  // concentration: failed sessions per source address the edge saw
  const failed = new Set(findings.map((f) => f.session));
  const perIp = new Map<string, number>();
  for (const s of sessions) {
    if (!failed.has(s.id)) continue;
    const ips = new Set<string>();
    for (const e of s.events) if (e.role === 'lb' && e.keys.ip) ips.add(e.keys.ip);
    for (const ip of ips) perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
  }
  if (perIp.size > 0 && failed.size > 0) {
    out.failedBySource = [...perIp.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([ip, n]) => ({ ip, failedSessions: n, share: Math.round((n / failed.size) * 100) / 100 }));
  }

  // retry waves: seconds in which many clients (re)connected at once
  const perSecond = new Map<number, number>();
  for (const s of sessions) {
    for (const e of s.events) {
      if (!isConnect(e) || Number.isNaN(e.ts)) continue;
      const sec = Math.floor(e.ts / 1000);
      perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
    }
  }
  if (perSecond.size > 0) {
    const counts = [...perSecond.values()].sort((a, b) => a - b);
    const usual = counts[Math.floor(counts.length / 2)];
    const waves = [...perSecond.entries()]
      .filter(([, n]) => n >= WAVE_MIN && n >= WAVE_FACTOR * usual)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([sec, n]) => ({ at: iso(sec * 1000), connects: n }));
    if (waves.length) out.retryWaves = waves;
  }
  const line = timeline(sessions, findings);
  if (line) out.timeline = line;
  return out;
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
 * (client open→close, or the LB's tunnel when the client log shows none).
 */
export function timeline(
  sessions: readonly Session[],
  findings: readonly Finding[],
): { stepSec: number; intervals: TimelineInterval[] } | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const s of sessions) {
    for (const e of s.events) {
      if (Number.isNaN(e.ts)) continue;
      if (e.ts < first) first = e.ts;
      if (e.ts > last) last = e.ts;
    }
  }
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
  // +1 where a connection opens, −1 where it closes; the running sum is the open count
  const delta = new Array<number>(n + 1).fill(0);
  for (const s of sessions) {
    let clientOpens = 0;
    let open: number | undefined;
    // an app line saying "registered" and the 200 it follows are one success: count one kind
    const saysRegistered = s.events.some((e) => e.role === 'client' && e.signal === 'registered');
    for (const e of s.events) {
      if (Number.isNaN(e.ts)) continue;
      if (isConnect(e)) intervals[slot(e.ts)].attempts++;
      if (saysRegistered ? e.role === 'client' && e.signal === 'registered' : isSuccess(e))
        intervals[slot(e.ts)].successes++;
      if (e.role !== 'client') continue;
      if (e.signal === 'ws-open') {
        clientOpens++;
        if (open === undefined) open = e.ts;
      } else if (e.signal === 'ws-close' && open !== undefined) {
        delta[slot(open)]++;
        delta[slot(e.ts)]--;
        open = undefined;
      }
    }
    if (open !== undefined) delta[slot(open)]++;
    if (clientOpens > 0) continue;
    for (const e of s.events) {
      if (e.role !== 'lb' || e.http?.status !== 101 || e.http.durationMs === undefined || Number.isNaN(e.ts))
        continue;
      delta[slot(e.http.startTs ?? e.ts - e.http.durationMs)]++;
      delta[slot(e.ts)]--;
    }
  }
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
