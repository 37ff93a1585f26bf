/**
 * Run-level triage for load testers: the load at which failures began (the knee), how retries
 * amplified the load, and whether failures concentrate on a few source addresses.
 */
import type { Finding, LogEvent, Triage } from '../model.js';
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
  return out;
}
