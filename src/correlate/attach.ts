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

function momentOf(e: AttachEvent): Moment | undefined {
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
function tunnelFits(e: AttachEvent): ((v: AttachView) => boolean) | undefined {
  if (e.role !== 'lb' || e.http?.status !== 101 || e.http.startTs === undefined) return undefined;
  const end = e.ts;
  return (v) =>
    v.events.some(
      (c) =>
        c.role === 'client' &&
        (c.kind === 'ws-close' || c.signal === 'app-ws-failed') &&
        Math.abs(c.ts - end) <= MATCH_TOLERANCE_MS,
    );
}

/** Lines that say the edge refused a handshake even when they carry no status (error logs). */
const REFUSALS = new Set(['edge-rate-limit', 'edge-connection-limit', 'upstream-timeout', 'bad-header']);

/** The time at which an LB line saw the handshake: its start when it records one. */
function handshakeTime(e: AttachEvent): number {
  return e.role === 'lb' && e.http?.startTs !== undefined ? e.http.startTs : e.ts;
}

interface Slot {
  ts: number;
  status?: number;
  /** the client saw this handshake fail (a status ≥ 400, or a failure without one) */
  failed: boolean;
  owner: AttachView;
  used: boolean;
}

/**
 * A server line saying a handshake failed without a status (OpenSIPS "cannot complete WebSocket
 * handshake", Kamailio "required headers not present") is a refusal too: it may only join a
 * client whose handshake failed, never a neighbour that connected at the same second.
 */
function isRefusal(e: AttachEvent): boolean {
  if (REFUSALS.has(e.signal ?? '')) return true;
  return e.role !== 'client' && (e.signal === 'ws-handshake-failed' || e.signal === 'missing-subprotocol');
}

function statusOf(e: AttachEvent): number | undefined {
  const s = e.http?.status;
  return s && s !== 101 ? s : undefined;
}

/** The fields of a line that time matching reads. */
export interface AttachEvent {
  ts: number;
  input: number;
  role: LogEvent['role'];
  kind: LogEvent['kind'];
  signal?: LogEvent['signal'];
  http?: { status?: number; startTs?: number };
}

/** What time matching needs of a session (the session itself, or a light copy of its lines). */
export interface AttachView {
  /** the caller's handle on the session */
  ref: number;
  /** the session names a user */
  owned: boolean;
  /** owned: the client's handshake/close lines; orphan: every line with a handshake/close moment */
  events: readonly AttachEvent[];
  /** orphan: it holds an LB or SBC line */
  hasServerLine: boolean;
}

function isClientMoment(e: AttachEvent): boolean {
  return (
    momentOf(e) !== undefined ||
    e.signal === 'ws-connecting' ||
    e.signal === 'ws-open' ||
    e.kind === 'ws-close' ||
    e.signal === 'app-ws-failed'
  );
}

/** Only what time matching reads, so a session's view can outlive the session. */
export function lightEvent(e: LogEvent): AttachEvent {
  const light: AttachEvent = { ts: e.ts, input: e.input, role: e.role, kind: e.kind };
  if (e.signal !== undefined) light.signal = e.signal;
  if (e.http) light.http = { status: e.http.status, startTs: e.http.startTs };
  return light;
}

/** The view of a time-sorted session; `copy` makes light copies of the lines instead of sharing them. */
export function attachView(ref: number, s: Session, copy = false): AttachView {
  const owned = s.user !== undefined;
  const keep = owned
    ? s.events.filter((e) => e.role === 'client' && isClientMoment(e))
    : s.events.filter((e) => momentOf(e) !== undefined);
  return {
    ref,
    owned,
    events: copy ? keep.map(lightEvent) : keep,
    hasServerLine: !owned && s.events.some((e) => e.role !== 'client'),
  };
}

export interface AttachmentPlan {
  /** orphan view ref → owner view ref */
  orphanOwner: Map<number, number>;
  /** keyless line index → owner view ref */
  keylessOwner: Map<number, number>;
}

/**
 * Decides where orphan sessions (no user) and keyless lines go: to the user whose client saw the
 * same handshake or close at the same corrected time. Views are taken in the order given.
 */
export function planAttachment(
  views: readonly AttachView[],
  keyless: readonly { ref: number; event: AttachEvent }[],
): AttachmentPlan {
  const plan: AttachmentPlan = { orphanOwner: new Map(), keylessOwner: new Map() };
  const owned = views.filter((v) => v.owned);
  if (owned.length === 0) return plan;

  const slots: Record<Moment, Slot[]> = { handshake: [], close: [] };
  for (const v of owned) {
    for (const e of v.events) {
      if (e.role !== 'client' || Number.isNaN(e.ts)) continue;
      const m =
        momentOf(e) ?? (e.signal === 'ws-connecting' || e.signal === 'ws-open' ? 'handshake' : undefined);
      if (!m) continue;
      const status = statusOf(e);
      const failed = (status ?? 0) >= 400 || e.signal === 'ws-handshake-failed';
      slots[m].push({ ts: e.ts, status, failed, owner: v, used: false });
    }
  }
  slots.handshake.sort((a, b) => a.ts - b.ts);
  slots.close.sort((a, b) => a.ts - b.ts);

  /** status: the refusal the line records; 'refusal': it refused without saying the status */
  const find = (
    m: Moment,
    ts: number,
    status: number | 'refusal' | undefined,
    fits: (v: AttachView) => boolean = () => true,
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
      if (!fits(slot.owner)) continue;
      if (!best || Math.abs(slot.ts - ts) < Math.abs(best.ts - ts)) best = slot;
    }
    return best;
  };

  const place = (events: readonly AttachEvent[]): AttachView | undefined => {
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
        return slot.owner;
      }
    }
    return undefined;
  };

  for (const o of views) {
    if (o.owned || !o.hasServerLine) continue;
    const target = place(o.events);
    if (target) plan.orphanOwner.set(o.ref, target.ref);
  }
  for (const { ref, event } of keyless) {
    if (!isAttachCandidate(event)) continue;
    const target = place([event]);
    if (target) plan.keylessOwner.set(ref, target.ref);
  }
  return plan;
}

/**
 * Only another view (LB, SBC) of a client's handshake or close is matched by time; a client line
 * without a user cannot be told apart from its neighbours' lines.
 */
export function isAttachCandidate(e: AttachEvent): boolean {
  return e.role !== 'client' && momentOf(e) !== undefined;
}

/**
 * Moves orphans and keyless lines into their owners (sessions in memory, refs = indexes); returns
 * the sessions left: the owners, then the orphans nobody claimed.
 */
export function applyAttachment(
  sessions: readonly Session[],
  keyless: readonly LogEvent[],
  plan: AttachmentPlan,
): Session[] {
  const touched = new Set<Session>();
  const leftovers: Session[] = [];
  sessions.forEach((s, i) => {
    if (s.user) return;
    const owner = plan.orphanOwner.get(i);
    if (owner === undefined) {
      leftovers.push(s);
      return;
    }
    sessions[owner].events.push(...s.events);
    touched.add(sessions[owner]);
  });
  for (const [i, owner] of plan.keylessOwner) {
    sessions[owner].events.push(keyless[i]);
    touched.add(sessions[owner]);
  }
  for (const s of touched) s.events.sort(byTime);
  return [...sessions.filter((s) => s.user), ...leftovers];
}

/** Time matching on sessions in memory: orphans and keyless lines join their owners' events. */
export function attachByTime(sessions: Session[], keyless: readonly LogEvent[]): Session[] {
  if (!sessions.some((s) => s.user)) return sessions;
  const plan = planAttachment(
    sessions.map((s, i) => attachView(i, s)),
    keyless.map((event, ref) => ({ ref, event })),
  );
  return applyAttachment(sessions, keyless, plan);
}
