/**
 * SIPp's own logs (client-formats.md §5.3), the client side of a SIP load test that drives the
 * SBC's UDP/TCP/TLS side (SIPp has no WebSocket transport):
 *
 * - the error log (`-trace_err`, `<scenario>_<pid>_errors.log`): `The following events
 *   occurred:`, then one entry per error, `<time>: <message>` (`src/logger.cpp` `_screen_error`),
 *   where `<time>` is `YYYY-MM-DD\tHH:MM:SS.uuuuuu\t<epoch>.<usec>` (local time plus the epoch,
 *   which is read) or RFC 3339 with `-rfc3339`. An entry may span lines: `Aborting call on
 *   unexpected message … received '<the whole SIP message>'` ends with a line holding the closing
 *   quote, `Discarding message which can't be mapped to a known SIPp call:` is followed by the
 *   message. The received message is the evidence: a 503 with Retry-After from the SBC, a 403, a
 *   504 Server Time-out. Timeouts (`receive timeout … aborting call`, `UDP retransmission
 *   timeout`) say only that no answer came: 'transaction-timeout', a symptom (the lines do not
 *   state the timeout, so they cannot tell a too-short client timer from a silent server).
 * - the message log (`-trace_msg`, `_messages.log`): `----------------------------------------------- <local time>`,
 *   `<TRANSPORT> message sent (<n> bytes):` / `<TRANSPORT> message received [<n>] bytes :`, a blank
 *   line, the SIP message (`src/socket.cpp`).
 * - the short message log (`_shortmessages.log`): `<time>\tS|R\t<call-id>\tCSeq:<n METHOD>\t<first line>`.
 *
 * A SIPp call is one scenario run (one REGISTER dialog for a registration scenario): its Call-ID
 * joins the SBC's lines, the From/To user of the messages names the user.
 */
import type { EventKeys, LogEvent } from '../model.js';
import { sipDumpEvent } from './harness.js';
import { isSipStartLine } from './sip-message.js';
import { readClientText } from './text-signals.js';
import { parseIso } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

/** `2024-01-31\t12:00:00.123456\t1706702400.123456` (tabs; spaces when pasted), older builds `12:00:00:123`. */
const EPOCH_TIME =
  /^(\d{4}-\d{2}-\d{2})[\t ]+(\d{2}:\d{2}:\d{2})[.:](\d{3,6})[\t ]+(\d{9,11})\.(\d{1,6})(?=[:\t])/;
/** `-rfc3339`: `2024-01-31T12:00:00.123456+01:00` */
const RFC3339_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})(?=[:\t])/;
/** `-trace_msg` block separator, local time without zone. */
const TRACE_SEPARATOR = /^-{20,80} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\s*$/;
const TRACE_DIRECTION =
  /^(?:[A-Z0-9]{2,6} (?:control )?message (sent|received) (?:\(\d{1,9} bytes\)|\[\d{1,9}\] bytes) ?:|Error sending (?:\S{1,16} )?(?:control )?message ?:)\s*$/;
const ERROR_LOG_BANNER = 'The following events occurred:';
/** What SIPp prints around its errors on stderr / stdout (src/logger.cpp print_errors, src/sipp.cpp). */
const CHATTER = /^(?:sipp: )?There were more errors, |^Resolving remote host '/;
/** Messages SIPp writes to its error log (src/call.cpp, src/socket.cpp), for sniffing RFC 3339 lines. */
const KNOWN_MESSAGE =
  /^(?:Aborting call|Continuing call|Call-I[dD]: |Discarding message which can't be mapped|Dead call|Unable to |Broken pipe)/;

const UNEXPECTED =
  /^(Aborting|Continuing) call on unexpected message for Call-I[dD] '([^']{1,256})': while expecting '([^']{0,64})'(?: \(index (\d{1,5})\)| response)?, received '/;
const RECV_TIMEOUT =
  /^Call-I[dD]: ([^\s,]{1,256}), (receive|send) timeout on message ([^\s:]{1,64})(?::(\d{1,5}))?(,? jumping to label| without label| *:)?/;
const RETRANS_TIMEOUT = /^Aborting call on UDP retransmission timeout for Call-I[dD] '([^']{1,256})'/;
const UNEXPECTED_BYE = /^Aborting call on an unexpected BYE for call: (\S{1,256})/;
const DISCARDED = "Discarding message which can't be mapped to a known SIPp call:";
/** The line that closes a quoted message: `'`, `' ` or `'.` */
const CLOSING_QUOTE = /^'\s?\.?\s*$/;

/** `_shortmessages.log`: time, S|R, Call-ID, CSeq, first line. */
const SHORT_MESSAGE = /^\t([SR])\t([^\t]{1,256})\tCSeq:(\d{1,10}) ([A-Z]{3,12})\t(.{1,300})$/;

/** Lines of one message kept at most (a SIP message with a large body). */
const MAX_LINES = 400;

interface Lead {
  ts: number;
  /** the text after `<time>: ` (or after the time for short messages) */
  rest: string;
}

function epochMs(seconds: string, fraction: string): number {
  return Number(seconds) * 1000 + Number(`0.${fraction}`) * 1000;
}

/** The SIPp time at the start of a line, and what follows it. */
function readLead(line: string, ctx: ParseContext): Lead | undefined {
  const e = EPOCH_TIME.exec(line);
  if (e) return { ts: epochMs(e[4], e[5]), rest: line.slice(e[0].length) };
  const r = RFC3339_TIME.exec(line);
  if (r) return { ts: parseIso(r[0], ctx), rest: line.slice(r[0].length) };
  return undefined;
}

type EntryKind = 'unexpected' | 'discarded' | 'other';

interface Entry {
  kind: EntryKind;
  lineNo: number;
  ts: number;
  raw: string;
  /** the message after the time */
  text: string;
  /** continuation lines (the SIP message of unexpected / discarded entries) */
  lines: string[];
  /** already read (one-line messages) */
  done?: boolean;
}

interface TraceBlock {
  lineNo: number;
  ts: number;
  raw: string;
  direction?: 'sent' | 'received' | 'error';
  /** the SIP start line was seen */
  started?: boolean;
  lines: string[];
}

/**
 * A SIP message SIPp sent or received, read by the shared dump reader; the user is the one this
 * SIPp call plays (From of what it sends, To of the requests it receives).
 */
function sipEvent(
  lines: string[],
  direction: 'sent' | 'received',
  at: { ts: number; lineNo: number; raw: string },
  ctx: ParseContext,
): LogEvent | undefined {
  const e = sipDumpEvent({ ...at, direction, lines }, ctx);
  if (!e?.sip) return e;
  const startedHere = (e.kind === 'sip-request') === (direction === 'sent');
  const user = startedHere ? e.sip.fromUser : e.sip.toUser;
  if (user) e.keys.user = user;
  // a server's OPTIONS ping to the registered contact (nathelper, qualify) is a keep-alive
  if (e.kind === 'sip-request' && e.sip.method === 'OPTIONS' && direction === 'received')
    e.signal = 'keepalive';
  return e;
}

function baseEvent(entry: Entry, ctx: ParseContext, keys: EventKeys): LogEvent {
  return {
    ts: entry.ts,
    input: ctx.input,
    line: entry.lineNo,
    raw: entry.raw,
    role: 'client',
    kind: 'info',
    keys,
    text: entry.text,
  };
}

/** `Aborting call on unexpected message …`: the received message is what the SBC answered. */
function unexpectedEvent(entry: Entry, ctx: ParseContext): LogEvent | undefined {
  const m = UNEXPECTED.exec(entry.text);
  if (!m) return undefined;
  const aborted = m[1] === 'Aborting';
  let start = entry.text.slice(m[0].length);
  if (start.endsWith("'") || start.endsWith("' ")) start = start.slice(0, start.lastIndexOf("'"));
  const why = `SIPp ${aborted ? 'aborted' : 'continued'} call ${m[2]}: expected '${m[3]}', received ${start.trim()}`;
  const e = sipEvent([start, ...entry.lines], 'received', entry, ctx) ?? {
    ...baseEvent(entry, ctx, {}),
    kind: 'error',
  };
  e.raw = entry.raw;
  e.text = why;
  e.keys.callId ??= m[2];
  // the registration (the scenario's call) ended on this refusal
  const sip = e.sip;
  if (aborted && e.kind === 'sip-response' && (sip?.status ?? 0) >= 300 && sip?.method === 'REGISTER')
    e.signal = 'registration-failed';
  return e;
}

/** `Discarding message which can't be mapped to a known SIPp call:` + the message. */
function discardedEvent(entry: Entry, ctx: ParseContext): LogEvent | undefined {
  const e = sipEvent(entry.lines, 'received', entry, ctx);
  if (e) e.text = `SIPp discarded a message outside any of its calls: ${e.raw.slice(entry.raw.length + 1)}`;
  return e;
}

function otherEvent(entry: Entry, ctx: ParseContext): LogEvent | undefined {
  const text = entry.text;
  let m = RECV_TIMEOUT.exec(text);
  if (m) {
    const e = baseEvent(entry, ctx, { callId: m[1] });
    e.kind = 'timeout';
    // "jumping to label": the scenario handles the timeout and goes on
    if (!m[5]?.includes('jumping')) e.signal = 'transaction-timeout';
    return e;
  }
  m = RETRANS_TIMEOUT.exec(text);
  if (m) {
    const e = baseEvent(entry, ctx, { callId: m[1] });
    e.kind = 'timeout';
    e.signal = 'transaction-timeout';
    return e;
  }
  m = UNEXPECTED_BYE.exec(text);
  if (m) {
    const e = baseEvent(entry, ctx, { callId: m[1] });
    e.kind = 'error';
    return e;
  }
  // socket errors and the like: what the shared client reading makes of them
  const reading = readClientText(text);
  if (!reading.signal && !reading.keys.callId && !reading.keys.user) return undefined;
  const e = baseEvent(entry, ctx, reading.keys);
  e.kind = reading.kind;
  if (reading.signal) e.signal = reading.signal;
  if (reading.http) e.http = reading.http;
  if (reading.sip) e.sip = reading.sip;
  return e;
}

function entryEvent(entry: Entry, ctx: ParseContext): LogEvent | undefined {
  return entry.kind === 'unexpected' ? unexpectedEvent(entry, ctx) : discardedEvent(entry, ctx);
}

function shortMessageEvent(lead: Lead, raw: string, lineNo: number, ctx: ParseContext): LogEvent | undefined {
  const m = SHORT_MESSAGE.exec(lead.rest);
  if (!m) return undefined;
  const direction = m[1] === 'S' ? 'sent' : 'received';
  const first = m[5].trim();
  const status = /^SIP\/2\.0 (\d{3})(?: (.*))?$/.exec(first);
  return {
    ts: lead.ts,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'client',
    kind: status ? 'sip-response' : 'sip-request',
    keys: { callId: m[2] },
    sip: {
      method: m[4],
      cseq: Number(m[3]),
      status: status ? Number(status[1]) : undefined,
      reason: status?.[2]?.trim() || undefined,
      direction,
    },
    text: `${direction} ${first}`,
  };
}

function createSippParser(ctx: ParseContext): LineParser {
  let entry: Entry | undefined;
  let block: TraceBlock | undefined;

  function flushBlock(emit: (e: LogEvent) => void): void {
    const b = block;
    block = undefined;
    if (!b?.direction) return;
    const sent = b.direction !== 'received';
    const e = sipEvent(b.lines, sent ? 'sent' : 'received', b, ctx);
    if (!e) return;
    if (b.direction !== 'error') {
      emit(e);
      return;
    }
    // "Error sending": the message never left
    emit({
      ...e,
      kind: 'error',
      sip: undefined,
      signal: undefined,
      text: `SIPp could not send: ${e.text ?? ''}`,
    });
  }

  function flush(emit: (e: LogEvent) => void): void {
    if (entry) {
      const event = entry.done ? undefined : entryEvent(entry, ctx);
      entry = undefined;
      if (event) emit(event);
    }
    if (block) flushBlock(emit);
  }

  return {
    push(line, lineNo, emit): LineOutcome {
      // --- message log: separator, direction line, SIP message
      const sep = line.charCodeAt(0) === 45 /* - */ ? TRACE_SEPARATOR.exec(line) : null;
      if (sep) {
        flush(emit);
        block = { lineNo, ts: parseIso(sep[1], ctx), raw: line.trim(), lines: [] };
        return 'part';
      }
      const lead = readLead(line, ctx);
      if (!lead && (block || !entry)) {
        const d = block?.direction || block?.lines.length ? null : TRACE_DIRECTION.exec(line.trim());
        if (d) {
          // a direction line without its separator (a cut file) starts a block without time
          block ??= { lineNo, ts: NaN, raw: '', lines: [] };
          block.direction = d[1] === 'sent' ? 'sent' : d[1] === 'received' ? 'received' : 'error';
          block.raw = `${block.raw} ${line.trim()}`.trim();
          return 'part';
        }
        if (block) {
          // the message's start line is the one that makes the event
          const starts = block.direction !== undefined && !block.started && isSipStartLine(line);
          if (starts) block.started = true;
          if (block.lines.length < MAX_LINES) block.lines.push(line);
          return starts ? 'event' : 'part';
        }
      }

      // --- error log and short message log
      if (lead) {
        flush(emit);
        if (lead.rest.startsWith('\t')) {
          const e = shortMessageEvent(lead, line, lineNo, ctx);
          if (!e) return 'unparsed';
          emit(e);
          return 'event';
        }
        const text = lead.rest.replace(/^: /, '');
        const kind: EntryKind = UNEXPECTED.test(text)
          ? 'unexpected'
          : text.startsWith(DISCARDED)
            ? 'discarded'
            : 'other';
        entry = { kind, lineNo, ts: lead.ts, raw: line, text, lines: [] };
        if (kind !== 'other') return 'event';
        // a one-line message: read now; what follows it (if anything) belongs to it
        const event = otherEvent(entry, ctx);
        entry.done = true;
        if (!event) return 'skip';
        emit(event);
        return 'event';
      }
      if (entry) {
        if (entry.kind === 'unexpected' && CLOSING_QUOTE.test(line)) {
          flush(emit);
          return 'part';
        }
        if (entry.lines.length < MAX_LINES) entry.lines.push(line);
        return 'part';
      }
      const t = line.trim();
      if (t === '' || t === ERROR_LOG_BANNER || CHATTER.test(t)) return 'skip';
      return 'unparsed';
    },
    end(emit) {
      flush(emit);
    },
  };
}

export const sippErrors: LogFormat = {
  name: 'sipp-errors',
  role: 'client',
  description:
    'SIPp -trace_err error log (aborted calls with the SIP message received, receive / retransmission timeouts, ' +
    'discarded out-of-call messages), -trace_msg message log and _shortmessages.log; Call-ID and From/To user as keys',
  samples: [
    {
      line: '2017-01-20      01:02:02.562708 1484845322.562708: wheel_base is 13344408, clock_tick is 13344404 - expected wheel_base to be less than or equal to clock_tick.',
      source: 'SIPp/sipp#280 (client-formats.md §5.3)',
    },
    {
      line: "2017-01-20\t01:02:02.562708\t1484845322.562708: Aborting call on unexpected message for Call-Id '1-3332@172.31.0.23': while expecting '180' (index 2), received 'SIP/2.0 407 Proxy Authentication Required",
      source:
        'SIPp error log line shape: mojolingo/sippy_cup#94 message behind the SIPp/sipp#280 time prefix (client-formats.md §5.3)',
    },
    {
      line: 'The following events occurred:',
      source:
        'SIPp src/logger.cpp _screen_error, first line of <scenario>_<pid>_errors.log (client-formats.md §5.3)',
    },
    {
      line: '----------------------------------------------- 2019-08-17 16:28:54.421891',
      source: 'SIPp/sipp#412 -trace_msg block separator (client-formats.md §5.3)',
    },
    {
      line: 'TCP message sent (576 bytes):',
      source: 'SIPp/sipp#412 -trace_msg (client-formats.md §5.3)',
    },
  ],
  sniff(line: string): number {
    const c = line.charCodeAt(0);
    if (c === 45 /* - */) return TRACE_SEPARATOR.test(line) ? 0.95 : 0;
    if (c >= 48 && c <= 57) {
      const t = line.length > 400 ? line.slice(0, 400) : line;
      if (EPOCH_TIME.test(t)) return 0.95;
      const r = RFC3339_TIME.exec(t);
      if (r && KNOWN_MESSAGE.test(t.slice(r[0].length).replace(/^: /, ''))) return 0.9;
      return 0;
    }
    if (line === ERROR_LOG_BANNER) return 0.9;
    if (CHATTER.test(line)) return 0.8;
    if (CLOSING_QUOTE.test(line)) return 0.3;
    return TRACE_DIRECTION.test(line.length > 200 ? '' : line.trim()) ? 0.9 : 0;
  },
  createParser: createSippParser,
};
