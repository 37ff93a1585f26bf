/**
 * Chrome / Chromium log files (`--enable-logging[=stderr] --v=1`), as headless load generators write
 * them (client-formats.md §4.3): `[pid:tid:MMDD/HHMMSS.uuuuuu:LEVEL:file.cc(line)] message`, with the
 * pid, the tid and the fraction optional and `file.cc:line` in recent builds. There is no year (the
 * ParseContext supplies it) and the time is local.
 *
 * `…:INFO:CONSOLE(N)] "<text>", source: <url> (N)` lines carry the page's console messages: only the
 * first argument of a console call, `%c` style markers included, and a multi-line message (a JsSIP
 * `sending message:` dump) spans lines up to the one ending in `", source: … (N)`. Their text is the
 * text of the page's console, so it is read by the readers of that console: the JsSIP and SIP.js
 * readers (SIP dumps, close reports, Chrome's own `WebSocket connection to '…' failed: …` network
 * errors, app lines through the shared readClientText) and the Genesys SDK reader. A page opened as
 * `phone.html?user=vu-017` names its user in the console source.
 *
 * Other lines are Chrome's own: those about a WebSocket or a network error read like client text,
 * the rest (GPU, sandbox, dbus noise) carries nothing diagnostic.
 */
import type { LogEvent, Signal } from '../model.js';
import { readClientText } from './text-signals.js';
import { clientEvent, type Emit } from './browser-console.js';
import { findAppTag, genesysKeys, readGenesysMessage, splitDetails, withHarmlessHeaders } from './genesys.js';
import { jssip } from './jssip.js';
import { sipjs } from './sipjs.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// The line prefix
// ---------------------------------------------------------------------------------------------

/** `[9217:0724/193431.383913:INFO:CONSOLE(170)] `, `[1013/173835.913:ERROR:ssl_client_socket_impl.cc(878)] `. */
const HEADER =
  /^\[(?:\d{1,10}:){0,2}(\d{2})(\d{2})\/(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?:([A-Z]{4,7}\d{0,2}):([^\]\s]{1,300})\] ?/;
/** The end of a console record: `", source: https://host/app.js (170)`. */
const SOURCE_TAIL = /^", source: (\S{0,2048}) \((\d{1,9})\)\s*$/;
const SOURCE_MARK = '", source: ';

interface Header {
  ts: number;
  level: string;
  file: string;
  /** length of the prefix, to cut it off */
  length: number;
}

function readHeader(line: string, ctx: ParseContext): Header | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const month = Number(m[1]) - 1;
  const day = Number(m[2]);
  const [h, mi, s] = [Number(m[3]), Number(m[4]), Number(m[5])];
  if (month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const year = ctx.yearFor ? ctx.yearFor(month) : ctx.year;
  const frac = m[6] ? Number(`0.${m[6]}`) * 1000 : 0;
  const ts = ctx.localToEpoch(Date.UTC(year, month, day, h, mi, s) + frac);
  return { ts, level: m[7], file: m[8], length: m[0].length };
}

/** Where a console record ends on this line: the text before the tail, and the source URL. */
function sourceTail(text: string): { text: string; source: string } | undefined {
  const at = text.lastIndexOf(SOURCE_MARK);
  if (at < 0) return undefined;
  const m = SOURCE_TAIL.exec(text.slice(at));
  return m ? { text: text.slice(0, at), source: m[1] } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Console records
// ---------------------------------------------------------------------------------------------

/**
 * debug's `%c` colour markers (`%cJsSIP:Transport %cconnect()%c +0ms`; only the first console
 * argument is logged, so no style follows). A `%c3` inside a percent-encoded URI stays.
 */
const STYLE_MARKER = /(^|\s)%c|%c(?=\s|$)/g;
/** debug's `+12ms` after the last line of a multi-line message. */
const DEBUG_DELTA = /\s?\+\d{1,9}(?:ms|s|m|h|d)\s*$/;
/** A console message that is a SIP message dump, read line by line by its library's reader. */
const DUMP_HEADER =
  /(?:sending|received (?:text|binary)) message:\s*$|(?:Sending|Received) WebSocket (?:text |binary )?message:\s*$/i;
/** A user named by the page that logged: `phone.html?user=vu-017`. */
const SOURCE_USER = /[?&](?:user|username|agent|ext|extension|aor)=([\w.@%+-]{1,64})/i;

const MAX_RECORD_LINES = 500;

interface ConsoleRecord {
  lineNo: number;
  raw: string;
  ts: number;
  lines: string[];
  source?: string;
}

function withoutStyles(line: string): string {
  return line.includes('%c') ? line.replace(STYLE_MARKER, '$1') : line;
}

function sourceUser(source: string | undefined): string | undefined {
  const m = source ? SOURCE_USER.exec(source) : null;
  if (!m) return undefined;
  let user = m[1];
  try {
    user = decodeURIComponent(user);
  } catch {
    // keep it encoded
  }
  const at = user.indexOf('@');
  return (at < 0 ? user : user.slice(0, at)) || undefined;
}

/** `2026-11-24T10:00:01.123Z`: the record's time, as the JsSIP reader reads a Node `debug` line. */
function isoStamp(ts: number): string | undefined {
  return Number.isNaN(ts) ? undefined : new Date(ts).toISOString();
}

/** What an inner reader's event needs from the record it came from. */
interface Origin {
  ts: number;
  raw: string;
  user?: string;
}

const MAX_ORIGINS = 50_000;

/**
 * The console text of one page goes through the readers of that console. The JsSIP reader (which
 * also reads Chrome's network errors and app lines) gets every record with the record's time in
 * front, as Node `debug` writes it; the SIP.js reader gets its own records, which carry their own
 * time. Their events come back with the Chrome line's time, raw text and page user.
 */
class ConsoleReaders {
  private readonly jssip: LineParser;
  private readonly sipjs: LineParser;
  private readonly origins = new Map<number, Origin>();

  constructor(private readonly ctx: ParseContext) {
    this.jssip = jssip.createParser(ctx);
    this.sipjs = sipjs.createParser(ctx);
  }

  private restore(emit: Emit): Emit {
    return (event: LogEvent) => {
      const origin = this.origins.get(event.line);
      if (origin) {
        if (Number.isNaN(event.ts)) event.ts = origin.ts;
        event.raw = origin.raw;
        if (!event.keys.user && origin.user) event.keys.user = origin.user;
      }
      if (
        event.kind === 'info' &&
        (event.signal === undefined || event.signal === 'keepalive') &&
        event.text
      ) {
        const r = withHarmlessHeaders(
          { kind: event.kind, signal: event.signal, keys: event.keys },
          event.text,
        );
        event.kind = r.kind;
        if (r.signal) event.signal = r.signal;
        else delete event.signal;
      }
      emit(event);
    };
  }

  /** Reads a whole record; the outcome is its first line's. */
  read(record: ConsoleRecord, emit: Emit): LineOutcome {
    const lines = record.lines.map(withoutStyles);
    const user = sourceUser(record.source);
    if (this.origins.size >= MAX_ORIGINS) {
      const oldest = this.origins.keys().next().value;
      if (oldest !== undefined) this.origins.delete(oldest);
    }
    this.origins.set(record.lineNo, { ts: record.ts, raw: record.raw, user });

    const first = lines[0].trimStart();
    const tagged = findAppTag(first);
    if (tagged && tagged.prefix === '') {
      this.readGenesys(record, tagged.app, [tagged.body, ...lines.slice(1)].join(' '), user, emit);
      return 'event';
    }
    const dump = lines.length > 1 && DUMP_HEADER.test(first.replace(DEBUG_DELTA, ''));
    let feed: string[];
    if (dump) {
      feed = [...lines];
      feed[feed.length - 1] = feed[feed.length - 1].replace(DEBUG_DELTA, '');
    } else {
      feed = [lines.map((l) => l.trim()).join(' ')];
    }
    const bySipJs = sipjs.sniff(feed[0]) >= 0.8;
    if (!bySipJs) {
      const stamp = isoStamp(record.ts);
      const tag = user ? `[${user}] ` : '';
      if (stamp) feed[0] = `${stamp} ${tag}${feed[0].trimStart()}`;
    }
    const parser = bySipJs ? this.sipjs : this.jssip;
    const out = this.restore(emit);
    const outcomes = feed.map((line) => parser.push(line, record.lineNo, out));
    return outcomes[0] === 'unparsed' ? 'skip' : outcomes[0];
  }

  private readGenesys(
    record: ConsoleRecord,
    app: string,
    body: string,
    user: string | undefined,
    emit: Emit,
  ) {
    const { message, details, detailsText } = splitDetails(body);
    const reading = readGenesysMessage({ app, message, details, detailsText });
    const found = genesysKeys(details);
    const event = clientEvent(
      { ctx: this.ctx, lineNo: record.lineNo, raw: record.raw, ts: record.ts, text: `[${app}] ${message}` },
      { ...reading, keys: { ...reading.keys, ...found.keys } },
    );
    event.keys.user ??= user ?? found.jidUser;
    emit(event);
  }

  end(emit: Emit): void {
    const out = this.restore(emit);
    this.jssip.end(out);
    this.sipjs.end(out);
  }
}

// ---------------------------------------------------------------------------------------------
// Chrome's own lines
// ---------------------------------------------------------------------------------------------

/** Chrome's own lines worth reading: WebSockets and network errors. */
const NETWORK_TEXT = /WebSocket|wss?:\/\/|net::ERR_|net_error -\d/;
/** What Chrome's own (non-console) lines may tell: failures only, never a page's life cycle. */
const NETWORK_SIGNALS: ReadonlySet<Signal> = new Set<Signal>([
  'ws-handshake-failed',
  'resource-exhausted',
  'bad-header',
  'bad-url',
  'missing-subprotocol',
  'conn-reset',
  'client-timeout',
]);

function chromeEvent(header: Header, text: string, ctx: ParseContext, lineNo: number, raw: string) {
  if (!NETWORK_TEXT.test(text)) return undefined;
  const reading = readClientText(text);
  if (reading.signal && !NETWORK_SIGNALS.has(reading.signal)) {
    reading.signal = undefined;
    reading.kind = 'info';
  }
  // a TLS or socket error that names no connection is an error line, never a verdict on someone
  if (!reading.signal && (header.level === 'ERROR' || header.level === 'FATAL')) reading.kind = 'error';
  return clientEvent({ ctx, lineNo, raw, ts: header.ts, text }, reading);
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

function createChromeParser(ctx: ParseContext): LineParser {
  const readers = new ConsoleReaders(ctx);
  let open: ConsoleRecord | undefined;

  const finish = (emit: Emit): void => {
    if (open) readers.read(open, emit);
    open = undefined;
  };

  return {
    push(line, lineNo, emit): LineOutcome {
      const header = readHeader(line, ctx);
      if (!header) {
        if (open) {
          const tail = sourceTail(line);
          open.lines.push(tail ? tail.text : line);
          if (tail) open.source = tail.source;
          if (tail || open.lines.length >= MAX_RECORD_LINES) finish(emit);
          return 'part';
        }
        return line.trim() === '' ? 'skip' : 'unparsed';
      }
      finish(emit);
      const body = line.slice(header.length);
      if (header.file.startsWith('CONSOLE') && body.startsWith('"')) {
        const record: ConsoleRecord = { lineNo, raw: line, ts: header.ts, lines: [] };
        const tail = sourceTail(body);
        record.lines.push(tail ? tail.text.slice(1) : body.slice(1));
        record.source = tail?.source;
        if (tail) return readers.read(record, emit);
        open = record;
        return 'event';
      }
      const event = chromeEvent(header, body, ctx, lineNo, line);
      if (!event) return 'skip';
      emit(event);
      return 'event';
    },
    end(emit) {
      finish(emit);
      readers.end(emit);
    },
  };
}

export const chromeLog: LogFormat = {
  name: 'chrome-log',
  role: 'client',
  description:
    'Chrome --enable-logging files of headless load generators ([pid:tid:MMDD/HHMMSS.uuuuuu:LEVEL:file(line)]): ' +
    "the pages' console (JsSIP, SIP.js, Genesys SDK, WebSocket errors) and Chrome's network errors",
  samples: [
    {
      line: '[9217:0724/193431.383913:INFO:CONSOLE(170)] "%cElectron Security Warning (Insecure Content-Security-Policy)", source: /app/node_modules/electron/dist/resources/electron.asar/renderer/security-warnings.js (170)',
      source:
        'public Electron/Chrome log quoted in client-formats.md §4.3 (`[9217:0724/193431.383913:INFO:CONSOLE(170)]`)',
    },
    {
      line: '[1013/173835.913:INFO:CONSOLE(9)] "Uncaught Error: Minified React error #425; visit https://reactjs.org/docs/error-decoder.html?invariant=425 for the full message or use the non-minified dev environment for full errors and additional helpful warnings.", source: https://mint.fun/_next/static/chunks/framework-19694439bdd76b71.js (9)',
      source: 'public README of a headless-Chrome bot, the tid-less prefix quoted in client-formats.md §4.3',
    },
    {
      line: '[24276:6160:0123/230738.058:ERROR:ssl_client_socket_impl.cc(878)] handshake failed; returned -1, SSL error code 1, net_error -101',
      source:
        'public Selenium/headless Chrome output (same `[pid:tid:MMDD/HHMMSS.fff:LEVEL:file(line)]` prefix, client-formats.md §4.3)',
    },
    {
      line: '[4242:4242:1124/100002.118000:INFO:CONSOLE(197)] "WebSocket connection to \'wss://localhost:8080/\' failed: ", source: https://loadgen.example.net/transport.js (197)',
      source:
        'client-formats.md §4.3 CONSOLE line shape carrying the Chrome network error of §6 (onsip/SIP.js#1016: `transport.js:197 WebSocket connection to …`)',
    },
  ],
  sniff(line: string): number {
    if (line.charCodeAt(0) === 91 /* [ */) return HEADER.test(line) ? 0.95 : 0;
    // the last line of a multi-line console record
    return line.includes(SOURCE_MARK) && sourceTail(line) ? 0.6 : 0;
  },
  createParser: createChromeParser,
};
