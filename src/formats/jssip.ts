/**
 * JsSIP `debug` output (client-formats.md §1.1): Node `2024-05-01T10:00:00.123Z JsSIP:Transport …`,
 * the RFC 1123 variant of older `debug` builds (`Tue, 24 Nov 2026 00:44:12 GMT JsSIP:…`), browser
 * `JsSIP:WebSocketInterface … +12ms` (no wall clock), DevTools files with a `jssip.min.js:15 `
 * prefix, Node TTY output, jssip-node-websocket lines, the legacy `JsSIP | TRANSPORT | …` form, and
 * the multi-line `sending message:` / `received text message:` dumps.
 *
 * JsSIP writes to stdout, so a harness log interleaves these lines with its own (observed on real
 * servers); those are read like browser console lines. This module also holds the SIP message dump
 * and the close-report merging that SIP.js traces share.
 */
import type { LogEvent, Signal, SipInfo, WsInfo } from '../model.js';
import { isSipStartLine, parseSipMessage, uriUser, type SipMessage } from './sip-message.js';
import { readClientText, wsUrlUser, type TextReading } from './text-signals.js';
import {
  ConsoleContinuation,
  UserCarrier,
  clientEvent,
  isSourceLocation,
  pushConsoleLine,
  splitConsoleLine,
  withoutColours,
  type ConsoleLine,
  type Emit,
  type EventSource,
} from './browser-console.js';
import { leadingTimestamp, utcContext } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// SIP message dumps (JsSIP and SIP.js)
// ---------------------------------------------------------------------------------------------

/** debug's "+12ms" after a message; in browser and TTY output it follows the dump's last line. */
const DEBUG_DELTA = /(?:^|\s)\+\d+(?:ms|s|m|h|d)\s*$/;
const CONTENT_LENGTH = /^(?:content-length|l)\s*:\s*(\d+)/i;
const VIA_RECEIVED = /;\s*received=(\d{1,3}(?:\.\d{1,3}){3})\b/i;
const VIA_RPORT = /;\s*rport=(\d{1,5})\b/i;
const MAX_DUMP_LINES = 500;

export interface DumpHead extends EventSource {
  direction: 'sent' | 'received';
  tagUser?: string;
}

export interface DumpOptions {
  /** whether a line starts a new log record (and so ends the dump) */
  startsRecord(line: string): boolean;
  /** Node TTY `debug` output repeats `  JsSIP:Transport ` before every line of a message */
  linePrefix?: string;
  /** the header had no wall clock: debug's "+Nms" marks the end of the message */
  deltaEnds: boolean;
}

/**
 * Collects the lines of one SIP message dumped after a `sending message:` style header: blank lines,
 * the start line, headers, a blank line and a body of Content-Length bytes. The dump ends at the
 * first line that starts a new log record, or that comes after a complete message.
 */
export class SipDumpReader {
  private readonly lines: string[] = [];
  private phase: 'start' | 'headers' | 'body' | 'done' = 'start';
  private bodyLeft = 0;
  private blankLines = 0;
  private closed = false;

  constructor(
    private readonly head: DumpHead,
    private readonly options: DumpOptions,
  ) {}

  /** Offers the next line; true when it belongs to the dump. */
  accept(line: string): boolean {
    if (this.closed || this.lines.length >= MAX_DUMP_LINES) return false;
    let content = withoutColours(line);
    const prefix = this.options.linePrefix;
    if (prefix) {
      const unindented = content.trimStart();
      if (unindented.startsWith(prefix)) content = unindented.slice(prefix.length);
      else if (unindented === prefix.trimEnd()) content = '';
      else return false;
    } else if (this.options.startsRecord(content)) {
      return false;
    }
    let last = false;
    if (this.options.deltaEnds) {
      const delta = DEBUG_DELTA.exec(content);
      if (delta) {
        content = content.slice(0, delta.index);
        last = true;
      }
    }
    // DevTools puts its source link after a multi-line message
    if (isSourceLocation(content.trim())) last = true;
    else if (!this.take(content)) return false;
    this.closed = last;
    return true;
  }

  private take(content: string): boolean {
    const blank = content.trim() === '';
    switch (this.phase) {
      case 'start':
        if (blank) {
          this.blankLines++;
          return true;
        }
        if (!isSipStartLine(content)) return false;
        this.lines.push(content);
        this.phase = 'headers';
        return true;
      case 'headers': {
        if (blank) {
          this.phase = this.bodyLeft > 0 ? 'body' : 'done';
          return true;
        }
        const length = CONTENT_LENGTH.exec(content);
        if (length) this.bodyLeft = Number(length[1]);
        this.lines.push(content);
        return true;
      }
      case 'body':
        this.lines.push(content);
        this.bodyLeft -= content.length + (content.endsWith('\r') ? 1 : 2);
        if (this.bodyLeft <= 0) this.phase = 'done';
        return true;
      case 'done':
        return blank;
    }
  }

  /** The event for the dump: the SIP message, a keep-alive (nothing but CRLFs), or the bare header. */
  toEvent(): LogEvent {
    const { head } = this;
    const message = this.lines.length > 0 ? parseSipMessage(this.lines) : undefined;
    if (!message) {
      const keepalive = this.phase === 'start' && this.blankLines > 0;
      const reading: TextReading = keepalive
        ? { kind: 'info', signal: 'keepalive', keys: {} }
        : { kind: 'info', keys: {} };
      return clientEvent(head, reading, head.tagUser);
    }
    const event = clientEvent(head, { kind: message.isRequest ? 'sip-request' : 'sip-response', keys: {} });
    event.sip = sipInfo(message, head.direction);
    event.text = `${head.text} ${this.lines[0].trim()}`;
    const user = ownUser(message, head.direction) ?? head.tagUser;
    if (message.callId) event.keys.callId = message.callId;
    if (user) event.keys.user = user;
    const received = message.via ? VIA_RECEIVED.exec(message.via) : null;
    const rport = message.via ? VIA_RPORT.exec(message.via) : null;
    if (head.direction === 'received' && received && rport) {
      // The SBC wrote the client's address, as it saw it, into the Via of its response.
      event.keys.peer = `${received[1]}:${rport[1]}`;
      event.keys.ip = received[1];
    }
    return event;
  }
}

function sipInfo(message: SipMessage, direction: 'sent' | 'received'): SipInfo {
  const info: SipInfo = { direction, headers: message.headers };
  if (message.method) info.method = message.method;
  if (message.status !== undefined) info.status = message.status;
  if (message.reason) info.reason = message.reason;
  if (message.cseq !== undefined) info.cseq = message.cseq;
  if (message.retryAfter !== undefined) info.retryAfter = message.retryAfter;
  if (message.agent) info.agent = message.agent;
  if (message.fromUser) info.fromUser = message.fromUser;
  if (message.toUser) info.toUser = message.toUser;
  return info;
}

/**
 * The logging UA's own user: the From of transactions it started (requests it sent, responses it
 * received) and the To of transactions the other side started. For REGISTER, From and To are both
 * the AOR being registered.
 */
export function ownUser(message: SipMessage, direction: 'sent' | 'received'): string | undefined {
  const startedHere = message.isRequest === (direction === 'sent');
  return startedHere ? message.fromUser : message.toUser;
}

// ---------------------------------------------------------------------------------------------
// Close reports that span two lines
// ---------------------------------------------------------------------------------------------

/**
 * JsSIP logs one close as `WebSocket <url> closed` then `WebSocket abrupt disconnection`; SIP.js as
 * `WebSocket closed unexpectedly` then `WebSocket closed <url> (code: 1006)`. Both lines come from
 * the same handler, so they are adjacent: the second ('then') is merged into the first ('first')
 * and the pair makes one ws-close event.
 */
export type CloseStep = 'first' | 'then';

export class CloseMerger {
  private held?: LogEvent;
  /** what a held 'first' close means when no 'then' line follows it */
  private alone?: WsInfo;

  /** Takes a library event; returns 'part' when it completed the held close. */
  offer(event: LogEvent, step: CloseStep | undefined, out: Emit, alone?: WsInfo): LineOutcome {
    const held = this.held;
    if (held && step === 'then' && sameSocket(held.ws, event.ws)) {
      held.ws = { ...event.ws, ...definedOnly(held.ws) };
      held.text = `${held.text} / ${event.text}`;
      for (const [key, value] of Object.entries(event.keys)) {
        const name = key as keyof LogEvent['keys'];
        held.keys[name] ??= value;
      }
      this.held = undefined;
      out(held);
      return 'part';
    }
    this.flush(out);
    if (step === 'first') {
      this.held = event;
      this.alone = alone;
    } else {
      out(event);
    }
    return 'event';
  }

  flush(out: Emit): void {
    if (!this.held) return;
    if (this.alone) this.held.ws = { ...this.alone, ...definedOnly(this.held.ws) };
    out(this.held);
    this.held = undefined;
    this.alone = undefined;
  }
}

function sameSocket(a: WsInfo | undefined, b: WsInfo | undefined): boolean {
  return !(a?.url && b?.url && a.url !== b.url);
}

function definedOnly(ws: WsInfo | undefined): WsInfo {
  const out: WsInfo = {};
  if (!ws) return out;
  for (const [key, value] of Object.entries(ws)) {
    if (value !== undefined) Object.assign(out, { [key]: value });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JsSIP records
// ---------------------------------------------------------------------------------------------

interface LibraryLine {
  namespace: string;
  message: string;
}

/** `JsSIP:Transport …`, `JsSIP:WARN:Transport …`, `jssip-node-websocket …`, `jssip-node-websocket:ERROR …`. */
const NAMESPACED = /^(JsSIP(?::(?:WARN|ERROR|DEBUG))?:[\w.-]+|jssip-node-websocket(?::[\w-]+)?)(?: (.*))?$/;
/** JsSIP 0.3: `JsSIP | TRANSPORT | connecting to WebSocket ws://…`. */
const LEGACY = /^JsSIP \| ([A-Z][\w -]{0,40}?) \| (.*)$/;

function jssipLine(text: string): LibraryLine | undefined {
  const m = NAMESPACED.exec(text) ?? LEGACY.exec(text);
  if (!m) return undefined;
  const message = (m[2] ?? '').replace(DEBUG_DELTA, '').trimEnd();
  return { namespace: m[1], message };
}

const DUMP_HEADER = /^(sending|received (?:text|binary)) message:$/;

interface JsSipReading {
  reading: TextReading;
  step?: CloseStep;
  alone?: WsInfo;
}

type Rule = [RegExp, (m: RegExpExecArray) => JsSipReading];

const url = (value: string): WsInfo => ({ url: value });
const keysOf = (wsUrl: string) => {
  const user = wsUrlUser(wsUrl);
  return user ? { user } : {};
};

/** What the error text after "WebSocket <url> error:" may tell (the rest is an Event object dump). */
const ERROR_DETAIL_SIGNALS: ReadonlySet<Signal> = new Set<Signal>([
  'bad-header',
  'missing-subprotocol',
  'bad-url',
  'ws-handshake-failed',
  'resource-exhausted',
  'conn-reset',
]);

/** JsSIP 3.x, JsSIP 2.x / 0.3 and jssip-node-websocket messages (client-formats.md §1.1 table). */
const JSSIP_RULES: Rule[] = [
  // jssip-node-websocket
  [
    /^WebSocket connecting \[url:"([^"]*)"\]/,
    (m) => ({
      reading: { kind: 'ws-handshake', signal: 'ws-connecting', keys: keysOf(m[1]), ws: url(m[1]) },
    }),
  ],
  [
    /^WebSocket open \[url:"([^"]*)"\]/,
    (m) => ({ reading: { kind: 'ws-open', signal: 'ws-open', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  [
    /^WebSocket closed \[url:"([^"]*)", code:(\d+|undefined), reason:"(.*)", wasClean:(true|false|undefined)\]/,
    (m) => {
      const ws: WsInfo = { url: m[1] };
      if (m[2] !== 'undefined') ws.closeCode = Number(m[2]);
      if (m[3]) ws.closeReason = m[3];
      if (m[4] !== 'undefined') ws.wasClean = m[4] === 'true';
      return { reading: { kind: 'ws-close', signal: 'ws-close', keys: keysOf(m[1]), ws } };
    },
  ],
  [
    /^WebSocket error \[url:"([^"]*)"\]/,
    (m) => ({ reading: { kind: 'error', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  // JsSIP WebSocketInterface and Transport
  [
    /^connecting to WebSocket (\S+)/,
    (m) => ({
      reading: { kind: 'ws-handshake', signal: 'ws-connecting', keys: keysOf(m[1]), ws: url(m[1]) },
    }),
  ],
  [
    /^WebSocket (\S+) connected$/,
    (m) => ({ reading: { kind: 'ws-open', signal: 'ws-open', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  [
    // JsSIP always follows an unclean close with "abrupt disconnection": alone, the close was clean
    /^WebSocket (\S+) closed$/,
    (m) => ({
      reading: { kind: 'ws-close', signal: 'ws-close', keys: keysOf(m[1]), ws: url(m[1]) },
      step: 'first',
      alone: { wasClean: true },
    }),
  ],
  [
    /^WebSocket disconnected \(code: (\d+)\)/, // JsSIP 0.3
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
  [
    // "WebSocket <url> error: " + the error: a local header error or a handshake status says why
    /^WebSocket (\S+) error\b:?(.*)$/,
    (m) => {
      const detail = readClientText(m[2].trim());
      const why = detail.signal && ERROR_DETAIL_SIGNALS.has(detail.signal) ? detail : undefined;
      return {
        reading: {
          kind: why ? why.kind : 'error',
          signal: why?.signal,
          http: why?.http,
          keys: keysOf(m[1]),
          ws: url(m[1]),
        },
      };
    },
  ],
  [/^WebSocket connection error\b/, () => ({ reading: { kind: 'error', keys: {} } })],
  [/^invalid WebSocket URI\b/, () => ({ reading: { kind: 'config', signal: 'bad-url', keys: {} } })],
  [
    /^reconnection attempt: \d+\. next connection attempt in (\d+) seconds/,
    (m) => ({ reading: { kind: 'info', signal: 'reconnect', keys: {}, retryDelayMs: Number(m[1]) * 1000 } }),
  ],
  [
    /^trying to reconnect to WebSocket (\S+) \(reconnection attempt \d+\)/, // JsSIP 2.x
    (m) => ({ reading: { kind: 'info', signal: 'reconnect', keys: keysOf(m[1]), ws: url(m[1]) } }),
  ],
  [
    /^received message with (?:double-)?CRLF Keep Alive (?:request|response)/,
    () => ({ reading: { kind: 'info', signal: 'keepalive', keys: {} } }),
  ],
  [
    /^Timer F expired for transaction\b/,
    () => ({ reading: { kind: 'timeout', signal: 'transaction-timeout', keys: {} } }),
  ],
  [
    /^(?:transport error occurred, deleting transaction|unable to send message, |send\(\) \| unable to send message)/,
    () => ({ reading: { kind: 'error', keys: {} } }),
  ],
  [
    // UA configuration dump: the AOR, and the settings that explain retries and refreshes
    /^- (uri|registrar_server|connection_recovery_min_interval|connection_recovery_max_interval|register_expires): (.*)$/,
    (m) => {
      const user = m[1] === 'uri' ? uriUser(m[2]) : undefined;
      return { reading: { kind: 'config', keys: user ? { user } : {} } };
    },
  ],
];

function readJsSipMessage(line: LibraryLine): JsSipReading | undefined {
  for (const [pattern, read] of JSSIP_RULES) {
    const m = pattern.exec(line.message);
    if (m) return read(m);
  }
  // The rest is read by its level only: free-text reading of library lines misfires
  // ("WebSocket wss://… is already connected" is no new open).
  if (/:ERROR(?::|$)/.test(line.namespace)) return { reading: { kind: 'error', keys: {} } };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Record boundaries and the parser
// ---------------------------------------------------------------------------------------------

/** What starts a log record in a client console file: a timestamp, a source location, a tag, an error. */
const RECORD_OPENING =
  /^(?:\d{2}:\d{2}:\d{2}\.\d{3} |\[[\w.:@#/-]{1,64}\]|Uncaught\b|(?:[A-Z]\w{0,40})?Error(?: \[\w+\])?: |WebSocket (?:connection to '|is closed before))/;

/** The SIP message dump being read, if any (shared with the line reader that opens it). */
export interface OpenDump {
  current?: SipDumpReader;
}

/**
 * The line loop JsSIP and SIP.js share: feed an open dump until it ends, skip blank and
 * continuation lines, hand the rest to the format's own reader.
 */
export function consoleDumpParser(parts: {
  dump: OpenDump;
  continuation: ConsoleContinuation;
  closes: CloseMerger;
  carrier: UserCarrier;
  out: (emit: Emit) => Emit;
  readLine: (raw: string, lineNo: number, emit: Emit) => LineOutcome;
}): LineParser {
  const { dump, continuation, closes, carrier, out, readLine } = parts;
  return {
    push(raw, lineNo, emit) {
      if (dump.current) {
        if (dump.current.accept(raw)) return 'part';
        out(emit)(dump.current.toEvent());
        dump.current = undefined;
      }
      if (raw.trim() === '') return 'skip';
      if (continuation.continues(raw)) return 'part';
      return readLine(raw, lineNo, emit);
    },
    end(emit) {
      if (dump.current) out(emit)(dump.current.toEvent());
      dump.current = undefined;
      closes.flush(out(emit));
      carrier.end(emit);
    },
  };
}

export function startsConsoleRecord(line: string, ctx: ParseContext): boolean {
  const text = line.trimStart();
  if (RECORD_OPENING.test(text) || leadingTimestamp(text, ctx)) return true;
  const space = text.indexOf(' ');
  return space > 0 && isSourceLocation(text.slice(0, space));
}

function startsJsSipRecord(line: string, ctx: ParseContext): boolean {
  const text = line.trimStart();
  return (
    text.startsWith('JsSIP') || text.startsWith('jssip-node-websocket') || startsConsoleRecord(text, ctx)
  );
}

const SNIFF_CTX = utcContext();

export const jssip: LogFormat = {
  name: 'jssip',
  role: 'client',
  description:
    'JsSIP debug output (Node ISO or RFC 1123 prefix, browser +Nms, DevTools files, legacy "JsSIP | MODULE |"), ' +
    "jssip-node-websocket lines and SIP message dumps, interleaved with the harness's own lines",
  samples: [
    {
      line: 'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface send() +0ms',
      source: 'versatica/JsSIP#396 (client-formats.md §1.1)',
    },
    {
      line: 'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket wss://sipserver:wssport closed +7s',
      source: 'versatica/JsSIP#396 (client-formats.md §1.1)',
    },
    {
      line: 'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket abrupt disconnection +0ms',
      source: 'versatica/JsSIP#396 (client-formats.md §1.1)',
    },
    {
      line: 'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:ERROR:Transport unable to send message, transport is not connected +0ms',
      source: 'versatica/JsSIP#396 (client-formats.md §1.1)',
    },
    {
      line: 'JsSIP:WebSocketInterface received WebSocket message +27s',
      source: 'versatica/JsSIP#391 (client-formats.md §1.1)',
    },
    {
      line: 'jssip-2.0.2.min.js?1467915647:15 JsSIP:Transport received text message:',
      source: 'versatica/JsSIP#391 (client-formats.md §1.1)',
    },
    {
      line: 'JsSIP | TRANSPORT | connecting to WebSocket ws://ws1.versatica.com:10080 jssip-devel.js:568',
      source: 'versatica/JsSIP#194 (client-formats.md §1.1)',
    },
    {
      line: 'JsSIP | TRANSPORT | WebSocket disconnected (code: 1006) jssip-devel.js:628',
      source: 'versatica/JsSIP#194 (client-formats.md §1.1)',
    },
    {
      line: 'JsSIP:Transport trying to reconnect to WebSocket xxxxxxxxx (reconnection attempt 1)',
      source: 'versatica/JsSIP#313 (client-formats.md §1.1)',
    },
    {
      line: '2024-05-01T10:00:00.123Z JsSIP:Transport connect()',
      source: 'client-formats.md §1.1 (debug-js/debug src/node.js, non-TTY)',
    },
  ],
  readsHarnessLines: true,
  sniff(line: string): number {
    const { text } = splitConsoleLine(line.length > 4096 ? line.slice(0, 4096) : line, SNIFF_CTX);
    if (/^JsSIP(?::[\w:.-]+ | \| [A-Z])/.test(text)) return 0.95;
    if (/^jssip-node-websocket(?::[\w-]+)? /.test(text)) return 0.9;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    const carrier = new UserCarrier(ctx.path);
    const continuation = new ConsoleContinuation();
    const closes = new CloseMerger();
    const out: (emit: Emit) => Emit = (emit) => (event) => carrier.push(event, emit);
    const dump: OpenDump = {};
    let lastTs = NaN;

    function openDump(head: DumpHead, line: ConsoleLine, namespace: string): void {
      const deltaEnds = Number.isNaN(line.ts);
      dump.current = new SipDumpReader(head, {
        startsRecord: (l) => startsJsSipRecord(l, ctx),
        linePrefix: deltaEnds && line.indented ? `${namespace} ` : undefined,
        deltaEnds,
      });
    }

    // Node prints the ErrorEvent of a failed handshake as a util.inspect dump after
    // "WebSocket <url> error:  ErrorEvent {": its kMessage ("Unexpected server response: 400") is
    // the only place the handshake status appears (observed-on-real-servers.md)
    let errorDump: { source: EventSource; wsUrl: string; tagUser?: string; read: boolean } | undefined;

    function readErrorDump(raw: string, emit: Emit): LineOutcome | undefined {
      if (!errorDump) return undefined;
      if (raw === '}') {
        errorDump = undefined;
        return 'part';
      }
      if (!/^\s/.test(raw)) {
        errorDump = undefined;
        return undefined;
      }
      const m = errorDump.read ? null : /\bUnexpected server response: (\d{3})\b/.exec(raw);
      if (m) {
        errorDump.read = true;
        const reading: TextReading = {
          kind: 'ws-handshake',
          signal: 'ws-handshake-failed',
          keys: keysOf(errorDump.wsUrl),
          ws: url(errorDump.wsUrl),
          http: { status: Number(m[1]), upgrade: true },
        };
        out(emit)(clientEvent(errorDump.source, reading, errorDump.tagUser));
      }
      return 'part';
    }

    function readLine(raw: string, lineNo: number, emit: Emit): LineOutcome {
      const line = splitConsoleLine(raw, ctx);
      if (!Number.isNaN(line.ts)) lastTs = line.ts;
      continuation.started(line.text);
      const library = jssipLine(line.text);
      const source: EventSource = { ctx, lineNo, raw, ts: lastTs, text: library?.message ?? line.text };
      if (!library) {
        closes.flush(out(emit));
        return pushConsoleLine(source, line, out(emit));
      }
      const header = DUMP_HEADER.exec(library.message);
      if (header) {
        closes.flush(out(emit));
        const direction = header[1] === 'sending' ? 'sent' : 'received';
        openDump({ ...source, direction, tagUser: line.tagUser }, line, library.namespace);
        return 'event';
      }
      const dumpOpens = /^WebSocket (\S+) error:\s+\w*Event \{$/.exec(library.message);
      if (dumpOpens) errorDump = { source, wsUrl: dumpOpens[1], tagUser: line.tagUser, read: false };
      const read = readJsSipMessage(library);
      if (!read) return 'skip';
      const event = clientEvent(source, read.reading, line.tagUser);
      return closes.offer(event, read.step, out(emit), read.alone);
    }

    const parser = consoleDumpParser({ dump, continuation, closes, carrier, out, readLine });
    return {
      push: (raw, lineNo, emit) => readErrorDump(raw, emit) ?? parser.push(raw, lineNo, emit),
      end: (emit) => parser.end(emit),
    };
  },
};
