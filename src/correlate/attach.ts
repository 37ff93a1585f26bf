/**
 * Time matching for what keys could not join: an LB line that names no user, an SBC handshake
 * error that names no address. After clock correction such a line is attached to the user
 * session whose client saw the same kind of happening at the same moment (and the same HTTP
 * status, when both sides know it). Unmatched leftovers stay as sessions of their own.
 */
import type { LogEvent } from '../model.js';
import { byTime, type Session } from './sessions.js';

/** How far apart (after clock correction) two views of one handshake or close may be. */
export const MATCH_TOLERANCE_MS = 2_000;

type Moment = 'handshake' | 'close';

function momentOf(e: LogEvent): Moment | undefined {
  if (e.kind === 'ws-handshake' || e.signal === 'ws-handshake-failed' || e.signal === 'missing-subprotocol')
    return 'handshake';
  if (e.signal === 'ws-open' && e.role === 'lb') return 'handshake';
  // an edge's limiter, timeout or header complaint is about a handshake request
  if (
    e.role === 'lb' &&
    (e.signal === 'edge-rate-limit' ||
      e.signal === 'edge-connection-limit' ||
      e.signal === 'upstream-timeout' ||
      e.signal === 'bad-header')
  )
    return 'handshake';
  if (e.kind === 'ws-close' || e.signal === 'conn-reset' || e.signal === 'idle-close') return 'close';
  return undefined;
}

/**
 * An LB tunnel line (101 with its lifetime) belongs to the client whose socket both opened at its
 * start and closed at its end: matching the start alone would hand a cut tunnel to a neighbour.
 */
function tunnelFits(e: LogEvent): ((s: Session) => boolean) | undefined {
  if (e.role !== 'lb' || e.http?.status !== 101 || e.http.startTs === undefined) return undefined;
  const end = e.ts;
  return (s) =>
    s.events.some(
      (c) =>
        c.role === 'client' &&
        (c.kind === 'ws-close' || c.signal === 'app-ws-failed') &&
        Math.abs(c.ts - end) <= MATCH_TOLERANCE_MS,
    );
}

/** Lines that say the edge refused a handshake even when they carry no status (error logs). */
const REFUSALS = new Set(['edge-rate-limit', 'edge-connection-limit', 'upstream-timeout', 'bad-header']);

/** The time at which an LB line saw the handshake: its start when it records one. */
function handshakeTime(e: LogEvent): number {
  return e.role === 'lb' && e.http?.startTs !== undefined ? e.http.startTs : e.ts;
}

interface Slot {
  ts: number;
  status?: number;
  /** the client saw this handshake fail (a status ≥ 400, or a failure without one) */
  failed: boolean;
  session: Session;
  used: boolean;
}

/**
 * A server line saying a handshake failed without a status (OpenSIPS "cannot complete WebSocket
 * handshake", Kamailio "required headers not present") is a refusal too: it may only join a
 * client whose handshake failed, never a neighbour that connected at the same second.
 */
function isRefusal(e: LogEvent): boolean {
  if (REFUSALS.has(e.signal ?? '')) return true;
  return e.role !== 'client' && (e.signal === 'ws-handshake-failed' || e.signal === 'missing-subprotocol');
}

function statusOf(e: LogEvent): number | undefined {
  const s = e.http?.status;
  return s && s !== 101 ? s : undefined;
}

export function attachByTime(sessions: Session[], keyless: readonly LogEvent[]): Session[] {
  const owned = sessions.filter((s) => s.user);
  const orphans = sessions.filter((s) => !s.user);
  if (owned.length === 0) return sessions;

  const slots: Record<Moment, Slot[]> = { handshake: [], close: [] };
  for (const s of owned) {
    for (const e of s.events) {
      if (e.role !== 'client' || Number.isNaN(e.ts)) continue;
      const m =
        momentOf(e) ?? (e.signal === 'ws-connecting' || e.signal === 'ws-open' ? 'handshake' : undefined);
      if (!m) continue;
      const status = statusOf(e);
      const failed = (status ?? 0) >= 400 || e.signal === 'ws-handshake-failed';
      slots[m].push({ ts: e.ts, status, failed, session: s, used: false });
    }
  }
  slots.handshake.sort((a, b) => a.ts - b.ts);
  slots.close.sort((a, b) => a.ts - b.ts);

  /** status: the refusal the line records; 'refusal': it refused without saying the status */
  const find = (
    m: Moment,
    ts: number,
    status: number | 'refusal' | undefined,
    fits: (s: Session) => boolean = () => true,
  ): Slot | undefined => {
    const list = slots[m];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].ts < ts - MATCH_TOLERANCE_MS) lo = mid + 1;
      else hi = mid;
    }
    // a refusal with a status goes only to a client that saw that status
    let best: Slot | undefined;
    for (let i = lo; i < list.length && list[i].ts <= ts + MATCH_TOLERANCE_MS; i++) {
      const slot = list[i];
      if (slot.used) continue;
      if (
        status === 'refusal'
          ? !slot.failed
          : status !== undefined
            ? slot.status !== status
            : slot.status !== undefined
      )
        continue;
      if (!fits(slot.session)) continue;
      if (!best || Math.abs(slot.ts - ts) < Math.abs(best.ts - ts)) best = slot;
    }
    return best;
  };

  const touched = new Set<Session>();
  const leftovers: Session[] = [];
  const place = (events: LogEvent[]): Session | undefined => {
    for (const e of events) {
      const m = momentOf(e);
      if (!m || Number.isNaN(e.ts)) continue;
      const slot = find(
        m,
        m === 'handshake' ? handshakeTime(e) : e.ts,
        statusOf(e) ?? (isRefusal(e) ? 'refusal' : undefined),
        tunnelFits(e),
      );
      if (slot) {
        slot.used = true;
        return slot.session;
      }
    }
    return undefined;
  };

  for (const o of orphans) {
    const target = o.events.some((e) => e.role !== 'client') ? place(o.events) : undefined;
    if (target) {
      target.events.push(...o.events);
      touched.add(target);
    } else leftovers.push(o);
  }
  for (const e of keyless) {
    // only another view (LB, SBC) of a client's handshake or close is matched by time; a client
    // line without a user cannot be told apart from its neighbours' lines
    if (e.role === 'client') continue;
    const target = place([e]);
    if (target) {
      target.events.push(e);
      touched.add(target);
    }
  }
  for (const s of touched) s.events.sort(byTime);
  return [...owned, ...leftovers];
}
