/**
 * Time matching for what keys could not join: an LB line that names no user, an SBC handshake
 * error that names no address. After clock correction such a line is attached to the user
 * session whose client saw the same kind of happening at the same moment (and the same HTTP
 * status, when both sides know it). Unmatched leftovers stay as sessions of their own.
 */
import type { LogEvent } from '../model.js';
import { F64Column, I32Column } from './columns.js';
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

/** Lines that say the edge refused a handshake even when they carry no status (error logs). */
const REFUSALS = new Set(['edge-rate-limit', 'edge-connection-limit', 'upstream-timeout', 'bad-header']);

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

/** What to look for: a status (> 0), a refusal without one (REFUSAL), or nothing said (NO_STATUS). */
const NO_STATUS = 0;
const REFUSAL = -1;

/** The input of a time already moved to the reference clock: no offset applies. */
const ON_REFERENCE_CLOCK = -1;

/** One handshake or close seen by an LB or SBC line that a key could not place. */
interface Candidate {
  moment: Moment;
  /** when the line saw it (an LB line's request start for a handshake), on its input's clock */
  ts: number;
  input: number;
  want: number;
  /** an LB tunnel line (101 with its start): its end, which the client's close must match */
  tunnelEnd?: number;
}

function candidateOf(e: LogEvent): Candidate | undefined {
  const moment = momentOf(e);
  if (!moment || Number.isNaN(e.ts)) return undefined;
  const startTs = e.role === 'lb' ? e.http?.startTs : undefined;
  const c: Candidate = {
    moment,
    // the time at which an LB line saw the handshake: its start when it records one
    ts: moment === 'handshake' && startTs !== undefined ? startTs : e.ts,
    input: e.input,
    want: statusOf(e) ?? (isRefusal(e) ? REFUSAL : NO_STATUS),
  };
  // an LB tunnel line belongs to the client whose socket both opened at its start and closed at
  // its end: matching the start alone would hand a cut tunnel to a neighbour
  if (e.role === 'lb' && e.http?.status === 101 && e.http.startTs !== undefined) c.tunnelEnd = e.ts;
  return c;
}

/**
 * Only another view (LB, SBC) of a client's handshake or close is matched by time; a client line
 * without a user cannot be told apart from its neighbours' lines.
 */
export function isAttachCandidate(e: LogEvent): boolean {
  return e.role !== 'client' && momentOf(e) !== undefined && !Number.isNaN(e.ts);
}

export interface AttachmentPlan {
  /** orphan session ref → owner session ref */
  orphanOwner: Map<number, number>;
  /** keyless line ref → owner session ref */
  keylessOwner: Map<number, number>;
}

/**
 * Time matching for what keys could not join. Sessions and keyless lines are given one at a time
 * (a spilled run is read one partition at a time); only numbers are kept: the moments of the users'
 * clients (slots) and the moments of orphan sessions and keyless LB/SBC lines (candidates). Times
 * stay on each input's clock until `plan` is given the offsets.
 */
export class AttachIndex {
  // slots: one per handshake or close a user's client saw
  private readonly slotTs = new F64Column();
  private readonly slotInput = new I32Column();
  /** HANDSHAKE_BIT | FAILED_BIT */
  private readonly slotFlags = new I32Column();
  private readonly slotStatus = new I32Column();
  private readonly slotOwner = new I32Column();
  // client closes (and app "connection failed" lines) of each user, for tunnel lines
  private readonly closeTs = new F64Column();
  private readonly closeInput = new I32Column();
  private readonly closeOwner = new I32Column();
  private readonly orphans: { ref: number; order: number; candidates: Candidate[] }[] = [];
  // keyless candidates, in arrival order
  private readonly keylessTs = new F64Column();
  private readonly keylessEnd = new F64Column();
  private readonly keylessInput = new I32Column();
  private readonly keylessFlags = new I32Column();
  private readonly keylessWant = new I32Column();
  private readonly keylessRef = new I32Column();

  /** A time-sorted session; `order` is the arrival of its first line (orphans are placed in that order). */
  addSession(s: Session, ref: number, order: number): void {
    if (s.user === undefined) {
      if (!s.events.some((e) => e.role !== 'client')) return;
      const candidates: Candidate[] = [];
      for (const e of s.events) {
        const c = candidateOf(e);
        if (c) candidates.push(c);
      }
      if (candidates.length) this.orphans.push({ ref, order, candidates });
      return;
    }
    for (const e of s.events) {
      if (e.role !== 'client' || Number.isNaN(e.ts)) continue;
      if (e.kind === 'ws-close' || e.signal === 'app-ws-failed') {
        this.closeTs.push(e.ts);
        this.closeInput.push(e.input);
        this.closeOwner.push(ref);
      }
      const m =
        momentOf(e) ?? (e.signal === 'ws-connecting' || e.signal === 'ws-open' ? 'handshake' : undefined);
      if (!m) continue;
      const status = statusOf(e);
      const failed = (status ?? 0) >= 400 || e.signal === 'ws-handshake-failed';
      this.slotTs.push(e.ts);
      this.slotInput.push(e.input);
      this.slotFlags.push((m === 'handshake' ? HANDSHAKE_BIT : 0) | (failed ? FAILED_BIT : 0));
      this.slotStatus.push(status ?? NO_STATUS);
      this.slotOwner.push(ref);
    }
  }

  /** A line that named no key, in arrival order; `corrected`: its time is on the reference clock already. */
  addKeyless(e: LogEvent, ref: number, corrected = false): void {
    if (!isAttachCandidate(e)) return;
    const c = candidateOf(e);
    if (!c) return;
    this.keylessTs.push(c.ts);
    this.keylessEnd.push(c.tunnelEnd ?? NaN);
    this.keylessInput.push(corrected ? ON_REFERENCE_CLOCK : c.input);
    this.keylessFlags.push(c.moment === 'handshake' ? HANDSHAKE_BIT : 0);
    this.keylessWant.push(c.want);
    this.keylessRef.push(ref);
  }

  /**
   * Where orphan sessions (no user) and keyless lines go: to the user whose client saw the same
   * handshake or close at the same corrected time (and the same status, when both sides know it).
   */
  plan(offsets: readonly number[]): AttachmentPlan {
    const plan: AttachmentPlan = { orphanOwner: new Map(), keylessOwner: new Map() };
    const slotCount = this.slotTs.length;
    if (slotCount === 0) return plan;
    const at = (ts: number, input: number) => ts - (offsets[input] ?? 0);
    const slotAt = new Float64Array(slotCount);
    for (let i = 0; i < slotCount; i++) slotAt[i] = at(this.slotTs.get(i), this.slotInput.get(i));
    const bySlotTime = (handshake: boolean) => {
      const ids: number[] = [];
      for (let i = 0; i < slotCount; i++)
        if (((this.slotFlags.get(i) & HANDSHAKE_BIT) !== 0) === handshake) ids.push(i);
      return Int32Array.from(ids).sort((a, b) => slotAt[a] - slotAt[b]);
    };
    const slots: Record<Moment, Int32Array> = { handshake: bySlotTime(true), close: bySlotTime(false) };
    const used = new Uint8Array(slotCount);
    const closeAt = new Float64Array(this.closeTs.length);
    for (let i = 0; i < closeAt.length; i++) closeAt[i] = at(this.closeTs.get(i), this.closeInput.get(i));
    const closes = Int32Array.from(closeAt.keys()).sort((a, b) => closeAt[a] - closeAt[b]);

    /** first index in `order` whose time is ≥ t */
    const lowerBound = (order: Int32Array, times: Float64Array, t: number) => {
      let lo = 0;
      let hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (times[order[mid]] < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const closedNear = (owner: number, end: number) => {
      for (let k = lowerBound(closes, closeAt, end - MATCH_TOLERANCE_MS); k < closes.length; k++) {
        const i = closes[k];
        if (closeAt[i] > end + MATCH_TOLERANCE_MS) break;
        if (this.closeOwner.get(i) === owner) return true;
      }
      return false;
    };
    const find = (c: Candidate): number | undefined => {
      const ts = at(c.ts, c.input);
      const end = c.tunnelEnd === undefined ? undefined : at(c.tunnelEnd, c.input);
      const list = slots[c.moment];
      let best: number | undefined;
      for (let k = lowerBound(list, slotAt, ts - MATCH_TOLERANCE_MS); k < list.length; k++) {
        const i = list[k];
        if (slotAt[i] > ts + MATCH_TOLERANCE_MS) break;
        if (used[i]) continue;
        // a refusal with a status goes only to a client that saw that status
        if (
          c.want === REFUSAL ? (this.slotFlags.get(i) & FAILED_BIT) === 0 : this.slotStatus.get(i) !== c.want
        )
          continue;
        if (end !== undefined && !closedNear(this.slotOwner.get(i), end)) continue;
        if (best === undefined || Math.abs(slotAt[i] - ts) < Math.abs(slotAt[best] - ts)) best = i;
      }
      return best;
    };
    const place = (candidates: readonly Candidate[]): number | undefined => {
      for (const c of candidates) {
        const slot = find(c);
        if (slot !== undefined) {
          used[slot] = 1;
          return this.slotOwner.get(slot);
        }
      }
      return undefined;
    };

    this.orphans.sort((a, b) => a.order - b.order);
    for (const o of this.orphans) {
      const owner = place(o.candidates);
      if (owner !== undefined) plan.orphanOwner.set(o.ref, owner);
    }
    for (let i = 0; i < this.keylessTs.length; i++) {
      const end = this.keylessEnd.get(i);
      const owner = place([
        {
          moment: (this.keylessFlags.get(i) & HANDSHAKE_BIT) !== 0 ? 'handshake' : 'close',
          ts: this.keylessTs.get(i),
          input: this.keylessInput.get(i),
          want: this.keylessWant.get(i),
          tunnelEnd: Number.isNaN(end) ? undefined : end,
        },
      ]);
      if (owner !== undefined) plan.keylessOwner.set(this.keylessRef.get(i), owner);
    }
    return plan;
  }
}

const HANDSHAKE_BIT = 1;
const FAILED_BIT = 2;

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
