/**
 * Clock offsets: each input's clock error against a reference input, estimated from the same
 * happening seen on both sides (a SIP message sent by the client and received by the SBC, a
 * handshake seen by the client and the LB). The estimate is the centre of the densest window of
 * differences, so wrong pairings (other attempts of the same user) do not move it.
 *
 * Convention: an input whose clock runs ahead of the reference by D ms has clockOffsetMs = D, and
 * its corrected time is ts − D.
 */
import type { LogEvent, Role } from '../model.js';
import type { Session } from './sessions.js';

export interface InputClock {
  role: Role | null;
  /** format name: an input without pairs shares only the clock of an input in the same format */
  format?: string;
  /** an offset the user gave with --skew */
  overrideMs?: number;
}

export interface ClockEstimate {
  offsets: number[];
  /** whether each offset was estimated from pairs (or given); false means assumed 0 / role default */
  estimated: boolean[];
  reference: number;
}

/** Sample pairs kept per input pair. */
const MAX_SAMPLES = 200_000;
/** Exact (CSeq-matched) pairs needed before the loose ones are ignored for an input pair. */
const MIN_EXACT_PAIRS = 5;
/** Handshake anchors per role and session that are paired. */
const HANDSHAKE_ANCHORS = 12;
/** Anchors per loose (CSeq-less) answer of a session that are paired. */
const MAX_LOOSE_POINTS = 48;
/** Width of the window that must hold the true offset's pairs. */
const WINDOW_MS = 250;
/** Pairs further apart than this are not the same happening. */
const MAX_PAIR_DISTANCE_MS = 36 * 3_600_000;

/** 'sip*': the same SIP answer on a Call-ID without its CSeq, used only where exact pairs are missing */
type Anchor = 'sip' | 'sip*' | 'open' | 'close' | 'refuse';

interface AnchorPoint {
  anchor: Anchor;
  id: string;
  ts: number;
  input: number;
  role: Role;
  sent?: boolean;
  coarse?: boolean;
}

function anchorsOf(e: LogEvent, out: AnchorPoint[]): void {
  if (Number.isNaN(e.ts) || (!e.sip && !e.http && e.signal === undefined)) return;
  // a whole-second stamp (syslog, $time_local, Date.toString()) truncates: the true time lies in
  // [ts, ts + 1 s), so every anchor of the line (an LB start derived from it too) moves half a second
  const coarse = e.ts % 1000 === 0;
  const shift = coarse ? 500 : 0;
  const base = { ts: e.ts + shift, input: e.input, role: e.role, coarse };
  if (
    e.sip &&
    e.sip.direction !== 'internal' &&
    e.keys.callId &&
    (e.sip.cseq !== undefined || e.sip.status !== undefined)
  ) {
    const sent = e.sip.direction === 'sent';
    const what = `${e.sip.method ?? ''}|${e.sip.status ?? 'req'}`;
    if (e.sip.cseq !== undefined)
      out.push({ ...base, anchor: 'sip', id: `${e.keys.callId}|${e.sip.cseq}|${what}`, sent });
    // an app / SDK log or an SBC script line often names the answer without its CSeq: the same
    // answer on the same Call-ID (repeats, e.g. refreshes, are outvoted in the densest window)
    out.push({ ...base, anchor: 'sip*', id: `${e.keys.callId}|${what}`, sent });
  }
  if (e.role === 'lb' && e.http) {
    const status = e.http.status;
    if (status === 101 && e.http.startTs !== undefined && !Number.isNaN(e.http.startTs)) {
      out.push({ ...base, ts: e.http.startTs + shift, anchor: 'open', id: '' });
      out.push({ ...base, anchor: 'close', id: '' });
    } else if (status !== undefined && status >= 400) {
      out.push({ ...base, anchor: 'refuse', id: String(status) });
    }
  }
  if (e.role === 'client') {
    if (e.signal === 'ws-open') out.push({ ...base, anchor: 'open', id: '' });
    else if (e.signal === 'ws-close' && e.ws?.closeCode !== undefined)
      out.push({ ...base, anchor: 'close', id: '' });
    else if (e.signal === 'ws-handshake-failed' && e.http?.status)
      out.push({ ...base, anchor: 'refuse', id: String(e.http.status) });
  }
}

/** Centre of the densest WINDOW_MS window of sorted differences. */
export function densestCentre(diffs: number[], windowMs = WINDOW_MS): number | undefined {
  if (diffs.length === 0) return undefined;
  diffs.sort((a, b) => a - b);
  let best = 0;
  let bestCount = 0;
  let j = 0;
  for (let i = 0; i < diffs.length; i++) {
    while (diffs[i] - diffs[j] > windowMs) j++;
    if (i - j + 1 > bestCount) {
      bestCount = i - j + 1;
      best = j;
    }
  }
  const window = diffs.slice(best, best + bestCount);
  return window[Math.floor(window.length / 2)];
}

/**
 * A whole-second stamp is off by up to a second (moved to the middle of its second, ±0.5 s): the
 * differences of the right pairs spread evenly around the offset, so their mean is the offset.
 * Two whole-second clocks give whole seconds around it (3000 and 4000 for 3.5 s). The mean is
 * taken within ±halfWidthMs and moved until it settles (a flat-kernel mean shift from the densest
 * window), so wrong pairings further away (other attempts of the same user) do not pull it.
 */
export function coarseCentre(diffs: number[], halfWidthMs = 1_000): number | undefined {
  let centre = densestCentre(diffs, 1_000);
  if (centre === undefined) return undefined;
  for (let step = 0; step < 10; step++) {
    let sum = 0;
    let n = 0;
    for (const d of diffs) {
      if (Math.abs(d - centre) <= halfWidthMs) {
        sum += d;
        n++;
      }
    }
    if (n === 0) break;
    const mean = sum / n;
    if (Math.abs(mean - centre) < 1) return mean;
    centre = mean;
  }
  return centre;
}

/**
 * Pairs of the same happening seen by two inputs, collected session by session (a run too large for
 * memory is read one partition at a time); `estimate` turns them into offsets.
 */
export class ClockPairs {
  private readonly exact = new Map<string, number[]>(); // "i,j" (i<j) → ts_j − ts_i
  private readonly loose = new Map<string, number[]>(); // the same from 'sip*' anchors
  private readonly coarsePairs = new Map<string, number>();
  /** pairs where both stamps are whole seconds */
  private readonly bothCoarse = new Map<string, number>();

  private push(a: AnchorPoint, b: AnchorPoint): void {
    if (a.input === b.input) return;
    const [x, y] = a.input < b.input ? [a, b] : [b, a];
    const d = y.ts - x.ts;
    if (Math.abs(d) > MAX_PAIR_DISTANCE_MS) return;
    const key = `${x.input},${y.input}`;
    const diffs = a.anchor === 'sip*' ? this.loose : this.exact;
    let list = diffs.get(key);
    if (!list) diffs.set(key, (list = []));
    if (list.length >= MAX_SAMPLES) return;
    list.push(d);
    if (x.coarse || y.coarse) this.coarsePairs.set(key, (this.coarsePairs.get(key) ?? 0) + 1);
    if (x.coarse && y.coarse) this.bothCoarse.set(key, (this.bothCoarse.get(key) ?? 0) + 1);
  }

  addSession(s: Session): void {
    const points: AnchorPoint[] = [];
    for (const e of s.events) anchorsOf(e, points);
    if (points.length < 2) return;
    const sip = new Map<string, AnchorPoint[]>();
    const other: AnchorPoint[] = [];
    for (const p of points) {
      if (p.anchor === 'sip' || p.anchor === 'sip*') {
        const id = `${p.anchor}|${p.id}`;
        let l = sip.get(id);
        if (!l) sip.set(id, (l = []));
        l.push(p);
      } else other.push(p);
    }
    for (const [id, all] of sip) {
      // the same answer on one Call-ID without its CSeq repeats with every refresh: all pairs of an
      // hour of refreshes would be quadratic, and the first ones already show the offset
      const list =
        id.startsWith('sip*') && all.length > MAX_LOOSE_POINTS ? all.slice(0, MAX_LOOSE_POINTS) : all;
      for (const a of list) for (const b of list) if (a.role !== b.role && a.sent && !b.sent) this.push(a, b);
    }
    // handshake anchors: client against LB, same anchor kind and id. Every attempt of a user pairs
    // with every other attempt, and only one pairing is right: a user retrying every second for
    // minutes would fill the samples with regular wrong differences, so each session adds few
    const client = other.filter((p) => p.role === 'client').slice(0, HANDSHAKE_ANCHORS);
    const lb = other.filter((p) => p.role === 'lb').slice(0, HANDSHAKE_ANCHORS);
    for (const a of client) for (const b of lb) if (a.anchor === b.anchor && a.id === b.id) this.push(a, b);
  }

  estimate(inputs: readonly InputClock[]): ClockEstimate {
    return offsetsFromPairs(this.exact, this.loose, this.coarsePairs, this.bothCoarse, inputs);
  }
}

export function estimateClocks(sessions: readonly Session[], inputs: readonly InputClock[]): ClockEstimate {
  const pairs = new ClockPairs();
  for (const s of sessions) pairs.addSession(s);
  return pairs.estimate(inputs);
}

function offsetsFromPairs(
  exact: ReadonlyMap<string, number[]>,
  loose: ReadonlyMap<string, number[]>,
  coarsePairs: ReadonlyMap<string, number>,
  bothCoarse: ReadonlyMap<string, number>,
  inputs: readonly InputClock[],
): ClockEstimate {
  const n = inputs.length;
  // exact pairs decide; the loose ones only link inputs that have (almost) no exact pairs
  const diffs = new Map(loose);
  for (const [key, list] of exact)
    if (list.length >= MIN_EXACT_PAIRS || !loose.has(key)) diffs.set(key, list);
  const pair = new Map<string, number>();
  for (const [key, list] of diffs) {
    const mostlyCoarse = (coarsePairs.get(key) ?? 0) > 0.3 * list.length;
    // one whole-second side: the right pairs lie within ±0.5 s (and the latency); two: within ±1 s
    const halfWidth = (bothCoarse.get(key) ?? 0) > 0.5 * (coarsePairs.get(key) ?? 0) ? 1_000 : 600;
    const c = mostlyCoarse ? coarseCentre(list, halfWidth) : densestCentre(list, WINDOW_MS);
    if (c !== undefined) pair.set(key, c);
  }

  const reference = pickReference(inputs);
  const offsets = new Array<number>(n).fill(0);
  const estimated = new Array<boolean>(n).fill(false);
  if (n === 0) return { offsets, estimated, reference };
  const linked = new Array<boolean>(n).fill(false);
  const spread = (from: number) => {
    linked[from] = true;
    const queue = [from];
    while (queue.length) {
      const i = queue.shift()!;
      for (let j = 0; j < n; j++) {
        if (linked[j]) continue;
        const d = i < j ? pair.get(`${i},${j}`) : negate(pair.get(`${j},${i}`));
        if (d === undefined) continue;
        offsets[j] = offsets[i] + d;
        linked[j] = estimated[j] = true;
        queue.push(j);
      }
    }
  };
  estimated[reference] = true;
  spread(reference);
  // inputs linked to each other but not to the reference (a second SBC with its own clients) keep
  // their clocks consistent among themselves, around their own reference
  const hasPair = (j: number) => [...pair.keys()].some((k) => k.split(',').includes(String(j)));
  for (const role of ['sbc', 'lb', 'client'] as const) {
    for (let j = 0; j < n; j++) if (!linked[j] && inputs[j].role === role && hasPair(j)) spread(j);
  }
  // an input with no pairs shares the clock of an estimated input of the same role and product
  // (another file of the same host or fleet); another product's log keeps its own clock
  for (let j = 0; j < n; j++) {
    if (linked[j]) continue;
    const twin = inputs.findIndex(
      (x, i) =>
        i !== j &&
        estimated[i] &&
        x.role === inputs[j].role &&
        x.role !== null &&
        family(x) === family(inputs[j]),
    );
    if (twin >= 0) offsets[j] = offsets[twin];
  }
  for (let j = 0; j < n; j++) {
    const o = inputs[j].overrideMs;
    if (o !== undefined) {
      offsets[j] = o;
      estimated[j] = true;
    }
    offsets[j] = Math.round(offsets[j]);
  }
  return { offsets, estimated, reference };
}

/** A product's logs share a clock: nginx-access and nginx-error, sipp-errors and sipp-stats. */
function family(input: InputClock): string | undefined {
  return input.format?.split('-')[0];
}

function negate(x: number | undefined): number | undefined {
  return x === undefined ? undefined : -x;
}

function pickReference(inputs: readonly InputClock[]): number {
  for (const role of ['sbc', 'lb', 'client'] as const) {
    const i = inputs.findIndex((x) => x.role === role);
    if (i >= 0) return i;
  }
  return 0;
}

/** Moves one event to the reference clock (in place). */
export function shiftEvent(
  e: { ts: number; input: number; http?: { startTs?: number } },
  offsets: readonly number[],
): void {
  const o = offsets[e.input] ?? 0;
  if (o === 0) return;
  e.ts -= o;
  if (e.http?.startTs !== undefined) e.http.startTs -= o;
}

/** Applies offsets in place: every event's ts moves to the reference clock. */
export function applyClocks(
  sessions: readonly Session[],
  extra: readonly LogEvent[],
  offsets: readonly number[],
): void {
  for (const s of sessions) for (const e of s.events) shiftEvent(e, offsets);
  for (const e of extra) shiftEvent(e, offsets);
}
