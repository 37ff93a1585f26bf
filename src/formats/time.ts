/**
 * Timestamp shapes found in SBC, LB and client logs. Every function returns epoch ms, or NaN
 * when the text is not a valid time. Shapes without a zone go through ctx.localToEpoch.
 */
import type { ParseContext } from './types.js';

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

export function monthIndex(name: string): number {
  const m = MONTHS[name.slice(0, 3).toLowerCase()];
  return m === undefined ? -1 : m;
}

/** Fractional seconds text ("123", "123456", "436088156") to ms with sub-ms precision. */
function fractionMs(frac: string | undefined): number {
  if (!frac) return 0;
  return Number(`0.${frac}`) * 1000;
}

function wall(
  year: number,
  month: number,
  day: number,
  h: number,
  mi: number,
  s: number,
  frac?: string,
): number {
  if (month < 0 || month > 11 || day < 1 || day > 31 || h > 24 || mi > 59 || s > 60) return NaN;
  return Date.UTC(year, month, day, h, mi, s) + fractionMs(frac);
}

/** "+0300", "+03:00", "-05", "Z" → offset in minutes east of UTC. */
export function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return NaN;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T \t](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}(?::?\d{2})?)?/;

/**
 * ISO 8601 / RFC 3339 ("2024-05-29T02:49:15.436088156Z", "2017-05-09T14:34:45.6+02:00",
 * "2025-01-22 12:01:13.083037"); without a zone the input's zone applies.
 */
export function parseIso(text: string, ctx?: ParseContext): number {
  const m = ISO_RE.exec(text);
  if (!m) return NaN;
  const w = wall(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7]);
  if (m[8]) return w - zoneOffsetMinutes(m[8]) * 60_000;
  return ctx ? ctx.localToEpoch(w) : w;
}

export function isoLength(text: string): number {
  const m = ISO_RE.exec(text);
  return m ? m[0].length : 0;
}

const SYSLOG_RE = /^([A-Z][a-z]{2})\s+(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;

/** RFC 3164 "Mar 12 03:30:31" or journald "Dec 31 18:29:08.819765": no year, no zone. */
export function parseSyslog(text: string, ctx: ParseContext): number {
  const m = SYSLOG_RE.exec(text);
  if (!m) return NaN;
  const month = monthIndex(m[1]);
  const year = ctx.yearFor ? ctx.yearFor(month) : ctx.year;
  return ctx.localToEpoch(wall(year, month, +m[2], +m[3], +m[4], +m[5], m[6]));
}

const CLF_RE = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([+-]\d{4}))?/;

/**
 * Common log format "05/Jan/2022:17:24:48 +0000" (nginx $time_local) and HAProxy's
 * "06/Feb/2009:12:14:14.655" (local, no zone).
 */
export function parseClf(text: string, ctx: ParseContext): number {
  const m = CLF_RE.exec(text);
  if (!m) return NaN;
  const w = wall(+m[3], monthIndex(m[2]), +m[1], +m[4], +m[5], +m[6], m[7]);
  if (m[8]) return w - zoneOffsetMinutes(m[8]) * 60_000;
  return ctx.localToEpoch(w);
}

const SLASH_RE = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;

/** nginx error log / sngrep "2015/10/29 20:01:02": local time, no zone. */
export function parseSlashDate(text: string, ctx: ParseContext): number {
  const m = SLASH_RE.exec(text);
  if (!m) return NaN;
  return ctx.localToEpoch(wall(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7]));
}

const TOSTRING_RE =
  /^(?:[A-Z][a-z]{2} )?([A-Z][a-z]{2}) (\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-]\d{4})(?: \([^)]*\))?/;

/** JavaScript Date.prototype.toString(): "Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00)". */
export function parseDateToString(text: string): number {
  const m = TOSTRING_RE.exec(text);
  if (!m) return NaN;
  const w = wall(+m[3], monthIndex(m[1]), +m[2], +m[4], +m[5], +m[6]);
  return w - zoneOffsetMinutes(m[7]) * 60_000;
}

const RFC1123_RE =
  /^(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? GMT/;

/** RFC 1123 / toUTCString(): "Tue, 24 Nov 2026 00:44:12 GMT" (the `debug` package in some builds). */
export function parseRfc1123(text: string): number {
  const m = RFC1123_RE.exec(text);
  if (!m) return NaN;
  return wall(+m[3], monthIndex(m[2]), +m[1], +m[4], +m[5], +m[6], m[7]);
}

export interface LeadingTime {
  ts: number;
  /** length of the timestamp text, including brackets, so the caller can cut it off */
  length: number;
}

const LEAD_BRACKET = /^\[([^\]]{8,40})\]\s?/;
const LEAD_EPOCH = /^(1[5-9]\d{8}|2\d{9})(?:\.(\d{1,6}))?\b/;
const LEAD_EPOCH_MS = /^(1[5-9]\d{11}|2\d{12})\b/;
const LEAD_TIME_ONLY = /^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?\b/;

function timeAt(text: string, ctx: ParseContext): LeadingTime | undefined {
  let n = isoLength(text);
  if (n) return { ts: parseIso(text, ctx), length: n };
  let m: RegExpExecArray | null;
  if ((m = SYSLOG_RE.exec(text))) return { ts: parseSyslog(text, ctx), length: m[0].length };
  if ((m = CLF_RE.exec(text))) return { ts: parseClf(text, ctx), length: m[0].length };
  if ((m = SLASH_RE.exec(text))) return { ts: parseSlashDate(text, ctx), length: m[0].length };
  if ((m = TOSTRING_RE.exec(text))) return { ts: parseDateToString(text), length: m[0].length };
  if ((m = RFC1123_RE.exec(text))) return { ts: parseRfc1123(text), length: m[0].length };
  if ((m = LEAD_EPOCH_MS.exec(text))) return { ts: Number(m[1]), length: m[0].length };
  if ((m = LEAD_EPOCH.exec(text))) return { ts: Number(m[1]) * 1000 + fractionMs(m[2]), length: m[0].length };
  n = 0;
  return undefined;
}

/**
 * Finds a timestamp at the start of a line, in any of the shapes above, optionally in square
 * brackets ("[2024-01-31 12:00:00,123]"). Used by the tolerant harness reader and by formats
 * that accept several prefixes.
 */
export function leadingTimestamp(line: string, ctx: ParseContext): LeadingTime | undefined {
  const b = LEAD_BRACKET.exec(line);
  if (b) {
    const inner = timeAt(b[1], ctx);
    if (inner && !Number.isNaN(inner.ts) && inner.length >= b[1].length - 1)
      return { ts: inner.ts, length: b[0].length };
  }
  const t = timeAt(line, ctx);
  if (t && !Number.isNaN(t.ts)) {
    const rest = line.slice(t.length);
    const gap = /^\s*/.exec(rest)?.[0].length ?? 0;
    return { ts: t.ts, length: t.length + gap };
  }
  return undefined;
}

/** Whether a line starts with something that looks like a timestamp (for sniffing). */
export function startsWithTimestamp(line: string): boolean {
  const probe = line.charCodeAt(0) === 91 ? line.slice(1) : line;
  return (
    ISO_RE.test(probe) ||
    SYSLOG_RE.test(probe) ||
    CLF_RE.test(probe) ||
    SLASH_RE.test(probe) ||
    TOSTRING_RE.test(probe) ||
    RFC1123_RE.test(probe) ||
    LEAD_EPOCH.test(probe) ||
    LEAD_TIME_ONLY.test(probe)
  );
}

/**
 * Year tracking for one yearless input: starts at `year`; a jump from the last months of a year
 * to its first months (Dec → Jan) moves to the next year. Small steps backwards (out-of-order
 * lines) do not.
 */
export function yearTracker(year: number): (month: number) => number {
  let current = year;
  let lastMonth = -1;
  return (month) => {
    if (month < 0) return current;
    if (lastMonth >= 9 && month <= 2) current++;
    else if (lastMonth >= 0 && lastMonth <= 2 && month >= 9 && current > year) current--;
    lastMonth = month;
    return current;
  };
}

/** A context for tests and tools: UTC, the given year. */
export function utcContext(year = 2026, input = 0, path = 'test.log'): ParseContext {
  return { input, path, year, localToEpoch: (w) => w };
}
