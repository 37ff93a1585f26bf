/**
 * Artillery's console report (client-formats.md §5.2). Artillery drives WebSockets with the Node
 * `ws` library (`engine_ws.js`) and counts errors by message, so the `ws` handshake text becomes the
 * counter name: `errors.Unexpected server response: 504: ....... 140`. What it prints is aggregate
 * only (§7: no per-session key at all):
 *
 * - v2: blocks `Metrics for period to: HH:MM:SS(+zzzz) (width: 9.804s)` of `<counter>: <dots>
 *   <value>` lines (`errors.ECONNRESET: ........ 10`, `vusers.failed: … 3`), then `Summary report @
 *   HH:MM:SS(+zzzz)` with the run's totals;
 * - v1: `Started phase 0, duration: 60s @ HH:MM:SS(+zzzz) YYYY-MM-DD`, `Report @ HH:MM:SS(+zzzz)
 *   YYYY-MM-DD` blocks with an indented `Errors:` section (`    ETIMEDOUT: 488`), `Summary report @ …`.
 *
 * An error counter says that errors of one kind happened in one reporting period, to nobody in
 * particular. It is kept as one run-level event (no keys, so it never becomes or joins a session)
 * when the period has a full time: v1 prints the date, v2 only the time of day, so a v2 period is
 * dated only after a dated line. The event is placed at the period's start; its text carries the
 * count. The summary repeats the periods' counts and is skipped, as are all other counters.
 */
import type { EventKind, HttpInfo, LogEvent, Signal } from '../model.js';
import { readClientText } from './text-signals.js';
import { zoneOffsetMinutes } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

/** `HH:MM:SS(+zzzz)` with an optional ` YYYY-MM-DD` after it. */
const CLOCK = String.raw`(\d{2}):(\d{2}):(\d{2})(?:\(([+-]\d{4})\))?(?: (\d{4})-(\d{2})-(\d{2}))?`;
const PERIOD_V2 = new RegExp(
  String.raw`^Metrics for period to: ${CLOCK}(?: \(width: (\d{1,6}(?:\.\d{1,3})?)s\))?\s*$`,
);
const REPORT_V1 = new RegExp(String.raw`^Report @ ${CLOCK}\s*$`);
const SUMMARY = new RegExp(String.raw`^Summary report @ ${CLOCK}\s*$`);
const PHASE_V1 = new RegExp(String.raw`^Started phase \d{1,4}, duration: \d{1,7}s @ ${CLOCK}\s*$`);
const PHASE_V2 = new RegExp(
  String.raw`^Phase (started|completed): [^\n]{0,200}\(index: \d{1,4}, duration: \d{1,7}s\) ${CLOCK}\s*$`,
);
const DASHES = /^-{10,80}\s*$/;
/** Lines of the report that carry nothing per period. */
const CHATTER =
  /^(?:Test run id: |All VUs finished|All virtual users finished|All scenarios completed|Elapsed time: |Run duration: |Telemetry is on|Warning:|CPU usage of Artillery|which may severely affect|See https:\/\/(?:www\.)?artillery\.io)/;
/** v1 section headings inside a report: `  Errors:`, `  Codes:`, `  Request latency:` … */
const SECTION = /^\s{0,8}([A-Z][A-Za-z ()/]{1,40}):\s*$/;
/** v1 `  Scenarios launched:  99`, `    ETIMEDOUT: 488` */
const V1_VALUE = /^(\s{0,12})(\S[^\n]{0,300}?): {1,4}(-?\d{1,15}(?:\.\d{1,6})?|NaN)(?: \(\d{1,3}%\))?\s*$/;
/** Default reporting period of v1 (`Report @` blocks carry no width). */
const V1_PERIOD_MS = 10_000;

interface Clock {
  h: number;
  mi: number;
  s: number;
  zone?: string;
  date?: { y: number; mo: number; d: number };
}

function clockOf(m: RegExpExecArray, at: number): Clock {
  const clock: Clock = { h: +m[at], mi: +m[at + 1], s: +m[at + 2], zone: m[at + 3] };
  if (m[at + 4]) clock.date = { y: +m[at + 4], mo: +m[at + 5], d: +m[at + 6] };
  return clock;
}

/** A v2 counter: `errors.ECONNRESET: ........ 10`, `websocket.send_rate: ..... 1629/sec`. */
export function readCounter(line: string): { name: string; value: number } | undefined {
  const text = line.trimStart();
  const at = text.indexOf(': .');
  if (at <= 0) return undefined;
  let i = at + 2;
  while (i < text.length && text.charCodeAt(i) === 46 /* . */) i++;
  if (text[i] !== ' ') return undefined;
  const m = /^(-?\d{1,15}(?:\.\d{1,6})?)(?:\/sec)?\s*$/.exec(text.slice(i + 1));
  return m ? { name: text.slice(0, at), value: Number(m[1]) } : undefined;
}

/** What an error name says (the `ws` message or a Node error code). */
function errorMeaning(name: string): { kind: EventKind; signal?: Signal; http?: HttpInfo } {
  // config.ws.timeout (10 s by default) ran out waiting for a capture / match (§5.2, §8)
  if (/^response timeout$/i.test(name)) return { kind: 'timeout', signal: 'client-timeout' };
  if (/^(?:ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/.test(name))
    return { kind: 'ws-handshake', signal: 'ws-handshake-failed' };
  if (/^EPIPE$/.test(name)) return { kind: 'error', signal: 'conn-reset' };
  const reading = readClientText(name);
  if (reading.signal) return { kind: reading.kind, signal: reading.signal, http: reading.http };
  return { kind: 'error' };
}

function createArtilleryParser(ctx: ParseContext): LineParser {
  /** the last date printed (v1), for the v2 times of day that follow */
  let date: { y: number; mo: number; d: number } | undefined;
  let lastWall = NaN;
  /** the current period: [start, end) in epoch ms; NaN when undated */
  let periodStart = NaN;
  let periodEnd = NaN;
  let periodLabel = '';
  /** the previous v1 boundary (phase start or report), for the next period's start */
  let boundary = NaN;
  let inSummary = false;
  let section = '';

  /** A clock line to epoch ms; a v2 time of day takes the last date, rolling over midnight. */
  function toEpoch(c: Clock): number {
    if (c.date) date = c.date;
    if (!date) return NaN;
    let wall = Date.UTC(date.y, date.mo - 1, date.d, c.h, c.mi, c.s);
    if (!c.date && !Number.isNaN(lastWall) && wall < lastWall - 12 * 3600_000) {
      wall += 86_400_000;
      const next = new Date(wall);
      date = { y: next.getUTCFullYear(), mo: next.getUTCMonth() + 1, d: next.getUTCDate() };
    }
    lastWall = wall;
    if (c.zone) return wall - zoneOffsetMinutes(c.zone) * 60_000;
    return ctx.localToEpoch(wall);
  }

  function startPeriod(end: number, widthMs: number | undefined, label: string): void {
    periodEnd = end;
    periodStart =
      widthMs !== undefined
        ? end - widthMs
        : !Number.isNaN(boundary) && boundary < end
          ? boundary
          : end - V1_PERIOD_MS;
    boundary = end;
    periodLabel = label;
    inSummary = false;
    section = '';
  }

  function errorEvent(name: string, count: number, line: string, lineNo: number): LogEvent | undefined {
    if (inSummary || Number.isNaN(periodStart) || count <= 0) return undefined;
    const meaning = errorMeaning(name);
    const event: LogEvent = {
      ts: periodStart,
      input: ctx.input,
      line: lineNo,
      raw: line.trim(),
      role: 'client',
      kind: meaning.kind,
      keys: {},
      text: `Artillery: ${count} × error "${name}" in the period ending ${periodLabel} (run-level count, no session)`,
    };
    if (meaning.signal) event.signal = meaning.signal;
    if (meaning.http) event.http = { ...meaning.http };
    if (Number.isFinite(periodEnd) && periodEnd > periodStart) {
      event.http = { ...event.http, durationMs: periodEnd - periodStart };
    }
    return event;
  }

  return {
    push(line, lineNo, emit): LineOutcome {
      const t = line.trim();
      if (t === '' || DASHES.test(t)) return 'skip';
      let m = PERIOD_V2.exec(t);
      if (m) {
        const c = clockOf(m, 1);
        startPeriod(toEpoch(c), m[8] ? Number(m[8]) * 1000 : undefined, m[0].slice(23).trim());
        return 'skip';
      }
      if ((m = REPORT_V1.exec(t))) {
        startPeriod(toEpoch(clockOf(m, 1)), undefined, t.slice(9));
        return 'skip';
      }
      if ((m = SUMMARY.exec(t))) {
        toEpoch(clockOf(m, 1));
        inSummary = true;
        section = '';
        return 'skip';
      }
      if ((m = PHASE_V1.exec(t))) {
        boundary = toEpoch(clockOf(m, 1));
        return 'skip';
      }
      if ((m = PHASE_V2.exec(t))) {
        const ts = toEpoch(clockOf(m, 2));
        if (m[1] === 'started' && Number.isNaN(boundary)) boundary = ts;
        return 'skip';
      }
      if (CHATTER.test(t)) return 'skip';

      // v2 counters
      const counter = readCounter(line);
      if (counter) {
        if (!counter.name.startsWith('errors.')) return 'skip';
        const e = errorEvent(counter.name.slice(7), counter.value, line, lineNo);
        if (!e) return 'skip';
        emit(e);
        return 'event';
      }
      // v1 sections and values
      const s = SECTION.exec(line);
      if (s) {
        section = s[1];
        return 'skip';
      }
      // a v2 histogram or group heading: `http.response_time:`, `vusers.session_length:`
      if (t.endsWith(':') && !t.includes(': ')) return 'skip';
      const v = V1_VALUE.exec(line);
      if (v) {
        if (section !== 'Errors' || v[1].length === 0) return 'skip';
        const e = errorEvent(v[2], Number(v[3]), line, lineNo);
        if (!e) return 'skip';
        emit(e);
        return 'event';
      }
      return 'unparsed';
    },
    end() {},
  };
}

export const artillery: LogFormat = {
  name: 'artillery',
  role: 'client',
  description:
    'Artillery console report (v2 `Metrics for period to:` counters, v1 `Report @` blocks): error counters such as ' +
    '`errors.Unexpected server response: 504` as run-level events without session keys',
  samples: [
    {
      line: 'errors.Unexpected server response: 504: ....... 140',
      source:
        'public load-test write-up quoted in client-formats.md §5.2 (artilleryio/artillery engine_ws.js + ws)',
    },
    {
      line: 'errors.ECONNRESET: ........ 10',
      source: 'Artillery v2 summary line format (client-formats.md §5.2)',
    },
    {
      line: 'Errors:',
      source: 'Artillery v1 report, artilleryio/artillery#1170 (client-formats.md §5.2)',
    },
  ],
  sniff(line: string): number {
    const t = line.length > 400 ? line.slice(0, 400).trim() : line.trim();
    if (t === '') return 0;
    if (PERIOD_V2.test(t) || REPORT_V1.test(t) || SUMMARY.test(t) || PHASE_V1.test(t) || PHASE_V2.test(t))
      return 0.95;
    if (t === 'Errors:') return 0.6;
    if (CHATTER.test(t)) return 0.8;
    const counter = readCounter(t);
    if (counter) return /^(?:errors|vusers|websocket|http|socketio|plugins)\./.test(counter.name) ? 0.9 : 0.5;
    if (/^(?:errors|vusers|websocket|http|socketio|plugins)\.[^:]{1,200}:$/.test(t)) return 0.7;
    if (DASHES.test(t)) return 0.4;
    return 0;
  },
  createParser: createArtilleryParser,
};
