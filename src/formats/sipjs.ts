/**
 * SIP.js logger output (client-formats.md §1.2): `Date.toString() | category | [label |] content`,
 * e.g. `Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket closed wss://… (code: 1006)`,
 * with DevTools source locations before (`logger-factory.js:93 `) or after (` logger-factory.js:85`),
 * the lower-case categories of releases before 0.15 (`sip.transport`, `sip.ua`), and the multi-line
 * `Sending WebSocket message:` / `Received WebSocket text message:` dumps.
 *
 * Lines SIP.js did not write (Chrome's console errors, the app's own lines) are read like browser
 * console lines.
 */
import type { SipInfo, WsInfo } from '../model.js';
import { uriUser } from './sip-message.js';
import { wsUrlUser, type TextReading } from './text-signals.js';
import {
  ConsoleContinuation,
  UserCarrier,
  clientEvent,
  pushConsoleLine,
  splitConsoleLine,
  type Emit,
  type EventSource,
} from './browser-console.js';
import {
  CloseMerger,
  SipDumpReader,
  consoleDumpParser,
  startsConsoleRecord,
  type CloseStep,
  type OpenDump,
} from './jssip.js';
import { utcContext } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

interface SipJsLine {
  category: string;
  label?: string;
  content: string;
}

/** After the timestamp: `| sip.Transport | …`, `| sip.transaction.nict | z9hG4bK… | …`. */
const RECORD = /^\| (sip(?:js)?\.[\w.-]{1,64}) \| (.*)$/;
/** When the date did not parse (an unusual locale), the record still shows by its category. */
const RECORD_ANYWHERE = /^(?:[^|]{10,100}) \| (sip(?:js)?\.[\w.-]{1,64}) \| (.*)$/;
/** A per-instance label (debug level): one token before the content. */
const LABEL = /^([^\s|]{1,120}) \| (.*)$/;

function sipjsLine(text: string): SipJsLine | undefined {
  const m = RECORD.exec(text) ?? RECORD_ANYWHERE.exec(text);
  if (!m) return undefined;
  const label = LABEL.exec(m[2]);
  return label ? { category: m[1], label: label[1], content: label[2] } : { category: m[1], content: m[2] };
}

const DUMP_HEADER = /^(Sending|Received) WebSocket (?:text |binary )?message:\s*$/i;

interface SipJsReading {
  reading: TextReading;
  step?: CloseStep;
}

type Rule = [RegExp, (m: RegExpExecArray) => SipJsReading];

const keysOf = (wsUrl: string) => {
  const user = wsUrlUser(wsUrl);
  return user ? { user } : {};
};
const url = (value: string): WsInfo => ({ url: value });

/** SIP.js 0.15+ and pre-0.15 messages (client-formats.md §1.2). */
const SIPJS_RULES: Rule[] = [
  [
    /^Connecting (wss?:\/\/\S+)/,
    (m) => ({
      reading: { kind: 'ws-handshake', signal: 'ws-connecting', keys: keysOf(m[1]), ws: url(m[1]) },
    }),
  ],
  [
    /^connecting to WebSocket (wss?:\/\/\S+)/, // before 0.15
    (m) => ({
      reading: { kind: 'ws-handshake', signal: 'ws-connecting', keys: keysOf(m[1]), ws: url(m[1]) },
    }),
  ],
  [
    /^WebSocket opened (\S+)/,
    (m) => ({ reading: { kind: 'ws-open', signal: 'ws-open', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  [
    /^WebSocket (wss?:\/\/\S+) connected$/,
    (m) => ({ reading: { kind: 'ws-open', signal: 'ws-open', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  [
    // the warning comes first, the line with the code right after it: one close
    /^WebSocket closed unexpectedly/,
    () => ({
      reading: { kind: 'ws-close', signal: 'ws-close', keys: {}, ws: { wasClean: false } },
      step: 'first',
    }),
  ],
  [
    /^WebSocket closed (\S+) \(code: (\d+|undefined)\)/,
    (m) => {
      const ws: WsInfo = { url: m[1] };
      if (m[2] !== 'undefined') ws.closeCode = Number(m[2]);
      if (ws.closeCode === 1006) ws.wasClean = false;
      return { reading: { kind: 'ws-close', signal: 'ws-close', keys: keysOf(m[1]), ws }, step: 'then' };
    },
  ],
  [
    /^WebSocket disconnected \(code: (\d+)\)/, // before 0.15
    (m) => ({
      reading: { kind: 'ws-close', signal: 'ws-close', keys: {}, ws: { closeCode: Number(m[1]) } },
      step: 'first',
    }),
  ],
  [
    /^WebSocket abrupt disconnection/,
    () => ({
      reading: { kind: 'ws-close', signal: 'ws-close', keys: {}, ws: { closeCode: 1006, wasClean: false } },
      step: 'then',
    }),
  ],
  [/^WebSocket (?:error occurred|construction failed)/, () => ({ reading: { kind: 'error', keys: {} } })],
  [
    /^Connect timed out\. Exceeded time set in configuration\.connectionTimeout: (\d+(?:\.\d+)?)s/,
    (m) => ({
      reading: { kind: 'timeout', signal: 'client-timeout', keys: {}, timeoutMs: Number(m[1]) * 1000 },
    }),
  ],
  [
    /^User agent client request (?:transport error|timed out)\. Generating internal (\d{3})(?: ([A-Za-z ]{1,60}))?/,
    (m) => {
      const sip: SipInfo = { status: Number(m[1]), direction: 'internal' };
      if (m[2]) sip.reason = m[2].trim();
      return { reading: { kind: 'sip-response', signal: 'internal-status', keys: {}, sip } };
    },
  ],
  [
    /^Failed to register, status code (\d{3})/,
    (m) => ({
      reading: {
        kind: 'sip-response',
        signal: 'registration-failed',
        keys: {},
        sip: { status: Number(m[1]), method: 'REGISTER', direction: 'received' },
      },
    }),
  ],
  [
    /^Registration transitioned to state Registered\b/,
    () => ({ reading: { kind: 'info', signal: 'registered', keys: {} } }),
  ],
  [
    /^(?:Starting|Stopping) (sips?:\S+)/,
    (m) => {
      const user = uriUser(m[1]);
      return { reading: { kind: 'info', keys: user ? { user } : {} } };
    },
  ],
  [
    /^Reconnection attempt \d+ of \d+ - trying(?: in (\d+(?:\.\d+)?) seconds)?/,
    (m) => ({
      reading: {
        kind: 'info',
        signal: 'reconnect',
        keys: {},
        retryDelayMs: m[1] ? Number(m[1]) * 1000 : undefined,
      },
    }),
  ],
  [
    /^next connection attempt in (\d+) seconds/, // before 0.15
    (m) => ({ reading: { kind: 'info', signal: 'reconnect', keys: {}, retryDelayMs: Number(m[1]) * 1000 } }),
  ],
  [
    /^Received WebSocket message with CRLF Keep Alive response/,
    () => ({ reading: { kind: 'info', signal: 'keepalive', keys: {} } }),
  ],
  [
    // the options the client really passed: stale config that may be ignored or remapped
    /\boption "[^"]{1,64}" (?:as )?has apparently been specified and has been deprecated|\bdeprecated\b/i,
    () => ({ reading: { kind: 'config', keys: {} } }),
  ],
  [
    /^Invalid (?:scheme in )?WebSocket Server URL/,
    () => ({ reading: { kind: 'config', signal: 'bad-url', keys: {} } }),
  ],
  [
    /^(?:Transport error occurred in |An attempt was made to send a REGISTER request while a prior one was still in progress|Maximum reconnection attempts reached|Reconnection maximum attempts reached)/,
    () => ({ reading: { kind: 'error', keys: {} } }),
  ],
];

function readSipJsContent(content: string): SipJsReading | undefined {
  for (const [pattern, read] of SIPJS_RULES) {
    const m = pattern.exec(content);
    if (m) return read(m);
  }
  // Free-text reading of the other library lines misfires ("Transitioned from Connecting to Connected"
  // is no second open, "Reconnection attempt 1 of 3 - failed" no second attempt): they say nothing.
  return undefined;
}

/** A `Failed to register` this close after a `Generating internal N` with the same N is that status. */
const INTERNAL_FOLLOW_LINES = 6;

const SNIFF_CTX = utcContext();

export const sipjs: LogFormat = {
  name: 'sipjs',
  role: 'client',
  description:
    'SIP.js logger lines "Date.toString() | category | [label |] content" (DevTools prefixes and suffixes, ' +
    'pre-0.15 lower-case categories) with the Sending/Received WebSocket message dumps',
  samples: [
    {
      line: 'Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket error occurred. logger-factory.js:85',
      source: 'onsip/SIP.js#860 (client-formats.md §1.2)',
    },
    {
      line: 'Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket closed unexpectedly logger-factory.js:89',
      source: 'onsip/SIP.js#860 (client-formats.md §1.2)',
    },
    {
      line: 'Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket closed wss://1xx.7x.7x.12:7443/wss (code: 1006) logger-factory.js:93',
      source: 'onsip/SIP.js#860 (client-formats.md §1.2)',
    },
    {
      line: 'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.UserAgent | Starting sip:anonymous.78lu1l@anonymous.invalid',
      source: 'onsip/SIP.js#1016 (client-formats.md §1.2)',
    },
    {
      line: 'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.Transport | Connecting wss://localhost:8080',
      source: 'onsip/SIP.js#1016 (client-formats.md §1.2)',
    },
    {
      line: 'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.Transport | Transitioned from Disconnected to Connecting',
      source: 'onsip/SIP.js#1016 (client-formats.md §1.2)',
    },
    {
      line: 'logger-factory.js:85 Mon Nov 21 2022 13:41:47 GMT+0100 (Central European Standard Time) | sip.Transport | WebSocket error occurred.',
      source: 'onsip/SIP.js#1016 (client-formats.md §1.2)',
    },
    {
      line: 'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.transport | WebSocket disconnected (code: 1006)',
      source: 'onsip/SIP.js#545 (client-formats.md §1.2)',
    },
    {
      line: 'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.ua | next connection attempt in 2 seconds',
      source: 'onsip/SIP.js#545 (client-formats.md §1.2)',
    },
    {
      line: 'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:16 GMT-0700 (PDT) | sip.transport | connecting to WebSocket wss://sip-ws.example.com',
      source: 'onsip/SIP.js#545 (client-formats.md §1.2)',
    },
  ],
  readsHarnessLines: true,
  sniff(line: string): number {
    const { text, ts } = splitConsoleLine(line.length > 4096 ? line.slice(0, 4096) : line, SNIFF_CTX);
    if (RECORD.test(text)) return Number.isNaN(ts) ? 0.85 : 0.95;
    if (RECORD_ANYWHERE.test(text)) return 0.8;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    const carrier = new UserCarrier(ctx.path);
    const continuation = new ConsoleContinuation();
    const closes = new CloseMerger();
    const out: (emit: Emit) => Emit = (emit) => (event) => carrier.push(event, emit);
    const dump: OpenDump = {};
    let lastTs = NaN;
    let lastInternal: { status: number; lineNo: number } | undefined;

    function readLine(raw: string, lineNo: number, emit: Emit): LineOutcome {
      const line = splitConsoleLine(raw, ctx);
      if (!Number.isNaN(line.ts)) lastTs = line.ts;
      continuation.started(line.text);
      const record = sipjsLine(line.text);
      const source: EventSource = { ctx, lineNo, raw, ts: lastTs, text: record?.content ?? line.text };
      if (!record) {
        closes.flush(out(emit));
        return pushConsoleLine(source, line, out(emit));
      }
      const header = DUMP_HEADER.exec(record.content);
      if (header) {
        closes.flush(out(emit));
        const direction = header[1].toLowerCase() === 'sending' ? 'sent' : 'received';
        dump.current = new SipDumpReader(
          { ...source, direction, tagUser: line.tagUser },
          { startsRecord: (l) => startsConsoleRecord(l, ctx), deltaEnds: false },
        );
        return 'event';
      }
      const read = readSipJsContent(record.content);
      if (!read) return 'skip';
      const event = clientEvent(source, read.reading, line.tagUser);
      if (event.signal === 'internal-status' && event.sip?.status !== undefined) {
        lastInternal = { status: event.sip.status, lineNo };
      } else if (event.signal === 'registration-failed' && event.sip) {
        if (
          lastInternal &&
          lastInternal.status === event.sip.status &&
          lineNo - lastInternal.lineNo <= INTERNAL_FOLLOW_LINES
        ) {
          event.sip.direction = 'internal';
        }
        lastInternal = undefined;
      }
      return closes.offer(event, read.step, out(emit));
    }

    const parser = consoleDumpParser({ dump, continuation, closes, carrier, out, readLine });
    // "Configuration:" prints each option as "· name: value"; a function value (the default
    // sessionDescriptionHandlerFactory) goes on over untimed source lines up to the next record
    let inConfigValue = false;
    return {
      push(raw, lineNo, emit) {
        if (inConfigValue && raw.trim() !== '' && !startsConsoleRecord(raw, ctx)) return 'part';
        inConfigValue = / \| · [\w$]+: (?:\(.*\)\s*=>|function\b|class\b)/.test(raw);
        return parser.push(raw, lineNo, emit);
      },
      end: (emit) => parser.end(emit),
    };
  },
};
