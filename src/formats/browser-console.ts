/**
 * Browser and Node console output about WebSockets (client-formats.md §3 and §6): Chrome's
 * `WebSocket connection to '…' failed: …`, exceptions thrown by the WebSocket constructor, Node `ws`
 * and WebSocket-Node errors, and application wrappers such as
 * `Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally`.
 *
 * This module also holds what every client console reader shares; the JsSIP and SIP.js formats use
 * it for the lines in their files that their library did not write:
 * - cutting a console line into its frame (colours, timestamp, DevTools source location, `[agent-042]`
 *   tag) and its message;
 * - continuation lines (stack frames, the properties Node prints after an Error, WebSocket-Node's
 *   response headers);
 * - carrying a user from line to line, only in a file that clearly holds one user agent.
 *
 * What a message means is read by readClientText (text-signals.ts), shared with the other readers.
 */
import type { LogEvent } from '../model.js';
import { readClientText, textKeys, type TextReading } from './text-signals.js';
import { leadingTimestamp, utcContext } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

export type Emit = (event: LogEvent) => void;

// ---------------------------------------------------------------------------------------------
// The frame of a console line
// ---------------------------------------------------------------------------------------------

const ANSI_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;
/** DevTools "Show timestamps": a time of day without a date. */
const TIME_OF_DAY = /^\d{2}:\d{2}:\d{2}\.\d{3} /;
/** A DevTools source location: `transport.js:197`, `jssip-2.0.2.min.js?v=1470648823940:15`, `VM12:1`. */
const SOURCE_LOCATION =
  /\.(?:m?[jt]sx?|dart|html?|vue|svelte)(?:\?[^\s:]{0,200})?:\d+(?::\d+)?$|^(?:VM\d+|\(index\)|<anonymous>):\d+(?::\d+)?$/;
/** A bracketed tag before the message: `[agent-042]`, `[INFO]`, `[webrtc-sdk]`. */
const LEADING_TAG = /^\[([\w.:@#/-]{1,64})\]\s*/;
const MAX_SOURCE_LOCATION = 300;

/** A console line cut into its frame and its message. */
export interface ConsoleLine {
  /** epoch ms of the line's own timestamp; NaN when it has none */
  ts: number;
  /** the message: the line without colours, timestamp, source location or leading tags */
  text: string;
  /** the line carried something that marks a console record (timestamp, source location, tag) */
  framed: boolean;
  /** the user named by a leading tag such as `[agent-042]` */
  tagUser?: string;
  /** the line started with white space (Node TTY `debug` output indents every line) */
  indented: boolean;
}

export function isSourceLocation(token: string): boolean {
  return token.length > 0 && token.length <= MAX_SOURCE_LOCATION && SOURCE_LOCATION.test(token);
}

/** Length of a DevTools source location and the space after it at the start of `text`, or 0. */
function sourcePrefixLength(text: string): number {
  const space = text.indexOf(' ');
  if (space <= 0 || space > MAX_SOURCE_LOCATION) return 0;
  if (!isSourceLocation(text.slice(0, space))) return 0;
  let end = space;
  while (text[end] === ' ') end++;
  return end;
}

/** The text without a DevTools source location at its end (`… (code: 1006) logger-factory.js:93`). */
function withoutSourceSuffix(text: string): string {
  const trimmed = text.trimEnd();
  const space = trimmed.lastIndexOf(' ');
  if (space < 0) return text;
  return isSourceLocation(trimmed.slice(space + 1)) ? trimmed.slice(0, space) : text;
}

export function withoutColours(line: string): string {
  return line.includes('\x1b') ? line.replace(ANSI_ESCAPE, '') : line;
}

/**
 * Cuts a console line into its frame and its message. Accepts, in this order and each optional:
 * a DevTools time of day, a timestamp in any shape leadingTimestamp knows, a DevTools source
 * location (before or after the timestamp), bracketed tags, and a source location at the end.
 */
export function splitConsoleLine(line: string, ctx: ParseContext): ConsoleLine {
  let text = withoutColours(line);
  const indented = text.length > 0 && (text[0] === ' ' || text[0] === '\t');
  text = text.trimStart();
  let ts = NaN;
  let framed = false;

  const timeOfDay = TIME_OF_DAY.exec(text);
  if (timeOfDay) {
    text = text.slice(timeOfDay[0].length);
    framed = true;
  }
  const stamp = leadingTimestamp(text, ctx);
  if (stamp) {
    ts = stamp.ts;
    text = text.slice(stamp.length);
    framed = true;
  }
  const source = sourcePrefixLength(text);
  if (source) {
    text = text.slice(source);
    framed = true;
    if (Number.isNaN(ts)) {
      const late = leadingTimestamp(text, ctx); // SIP.js: "logger-factory.js:93 Mon Nov 21 2022 …"
      if (late) {
        ts = late.ts;
        text = text.slice(late.length);
      }
    }
  }

  let tagUser: string | undefined;
  for (let tags = 0; tags < 3; tags++) {
    const tag = LEADING_TAG.exec(text);
    if (!tag) break;
    tagUser ??= textKeys(tag[1]).user;
    text = text.slice(tag[0].length);
    framed = true;
  }

  return { ts, text: withoutSourceSuffix(text), framed, tagUser, indented };
}

// ---------------------------------------------------------------------------------------------
// Continuation lines
// ---------------------------------------------------------------------------------------------

/** `    at at.onWebSocketClose (sip-0.20.0.min.js:2:226066)`, or unindented `at f (file.js:1:2)`. */
const STACK_FRAME = /^\s+at\s+\S|^at [^\s(]+ \([^()]*\)\s*$/;
/** What Node prints after an Error: `  code: 'ECONNRESET',`, `  [cause]: …`, `}`. */
const ERROR_PROPERTY = /^\s+(?:[\w$]+|\[[\w\s()]+\]): |^\s*[{}]\s*$/;
const ERROR_RECORD = /(?:^|[\s:])(?:[A-Z]\w*)?Error\b|\bException\b/;
/** WebSocket-Node: `Server responded with a non-101 status: 504 Gateway Timeout\nResponse Headers Follow:\n…`. */
const NON_101 = /non-101 status/;
const RESPONSE_HEADERS_FOLLOW = /^Response Headers Follow:\s*$/;
const HTTP_HEADER = /^[A-Za-z0-9-]{1,64}: /;

/** Tells which lines continue the previous console record instead of starting one. */
export class ConsoleContinuation {
  private after: 'record' | 'error' | 'non-101' | 'headers' = 'record';

  /** Call with the message of every line that starts a record. */
  started(text: string): void {
    this.after = NON_101.test(text) ? 'non-101' : ERROR_RECORD.test(text) ? 'error' : 'record';
  }

  continues(line: string): boolean {
    if (STACK_FRAME.test(line)) return true;
    switch (this.after) {
      case 'error':
        return ERROR_PROPERTY.test(line);
      case 'non-101':
        if (RESPONSE_HEADERS_FOLLOW.test(line)) {
          this.after = 'headers';
          return true;
        }
        return false;
      case 'headers':
        return HTTP_HEADER.test(line);
      default:
        return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a console message
// ---------------------------------------------------------------------------------------------

/** Chrome: `WebSocket connection to 'wss://…' failed: <reason>` (the reason may be empty). */
const CHROME_FAILED = /WebSocket connection to '[^'\s]{1,2048}' failed:/;
/** Node network errors before any HTTP answer: `Error: connect ECONNREFUSED 10.0.0.5:443`. */
const NODE_CONNECT_FAILED =
  /\b(?:connect (?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)|getaddrinfo (?:ENOTFOUND|EAI_AGAIN))\b/;
/** Firefox: `Firefox can’t establish a connection to the server at wss://…`. */
const FIREFOX_FAILED = /can[’']t establish a connection to the server at wss?:/;

/**
 * Reads a client console message with readClientText, then fills what it leaves out for the shapes
 * of this format: a Chrome connection failure with an empty or network reason and a Node connect
 * error are failed handshakes, and the address in a Node connect error is the server's, not the
 * client's, so it is no peer key.
 */
export function readConsoleText(text: string): TextReading {
  const reading = readClientText(text);
  const connectFailed = NODE_CONNECT_FAILED.test(text);
  if (connectFailed) {
    delete reading.keys.peer;
    delete reading.keys.ip;
  }
  if (!reading.signal && (connectFailed || CHROME_FAILED.test(text) || FIREFOX_FAILED.test(text))) {
    return { ...reading, kind: 'ws-handshake', signal: 'ws-handshake-failed' };
  }
  return reading;
}

/** What a reading has worth an event: a meaning, or a key to join it by. */
export function isDiagnostic(reading: TextReading): boolean {
  return (
    reading.signal !== undefined ||
    reading.kind !== 'info' ||
    Object.keys(reading.keys).length > 0 ||
    reading.ws?.url !== undefined
  );
}

export interface EventSource {
  ctx: ParseContext;
  lineNo: number;
  raw: string;
  ts: number;
  text: string;
}

/** A client LogEvent from a reading, without empty fields. */
export function clientEvent(source: EventSource, reading: TextReading, tagUser?: string): LogEvent {
  const keys = { ...reading.keys };
  if (tagUser) keys.user = tagUser;
  const event: LogEvent = {
    ts: source.ts,
    input: source.ctx.input,
    line: source.lineNo,
    raw: source.raw,
    role: 'client',
    kind: reading.kind,
    keys,
    text: source.text,
  };
  if (reading.signal) event.signal = reading.signal;
  if (reading.sip) event.sip = reading.sip;
  if (reading.http) event.http = reading.http;
  if (reading.ws && Object.values(reading.ws).some((v) => v !== undefined)) event.ws = reading.ws;
  if (reading.retryDelayMs !== undefined) event.retryDelayMs = reading.retryDelayMs;
  if (reading.timeoutMs !== undefined) event.timeoutMs = reading.timeoutMs;
  return event;
}

/**
 * Reads a line that no SIP library wrote (a harness line, a browser or Node error) and emits its
 * event. Shared by the three client formats.
 */
export function pushConsoleLine(source: EventSource, line: ConsoleLine, out: Emit): LineOutcome {
  const reading = readConsoleText(line.text);
  if (!isDiagnostic(reading) && !line.tagUser) return line.framed ? 'skip' : 'unparsed';
  out(clientEvent(source, reading, line.tagUser));
  return 'event';
}

// ---------------------------------------------------------------------------------------------
// Carrying the user agent's name
// ---------------------------------------------------------------------------------------------

/** A path that names exactly one user agent: `logs/agent-042.log`, `ua-17/console.txt`. */
const PATH_USER =
  /(?:^|[\\/_.\s-])((?:agent|user|ua|vu|phone|softphone|client|ext|endpoint|caller)[-_#]?\d+)(?=[\\/_.\s-]|$)/gi;

export function pathNamesOneUserAgent(path: string): boolean {
  const names = new Set<string>();
  for (const m of path.matchAll(PATH_USER)) names.add(m[1].toLowerCase());
  return names.size === 1;
}

/** How many events (and characters of raw text) wait at most for the one-UA decision. */
const WINDOW_EVENTS = 2000;
const WINDOW_CHARS = 2_000_000;

/**
 * Gives lines that name no user the user of the most recent line that named one, but only when the
 * file clearly holds one user agent: its path names one, or the lines name exactly one user. A
 * wrong join is worse than a missing one, so as soon as a file names a second user (without a path
 * that says otherwise) nothing more is carried. While that is undecided, events wait (in order, and
 * for a bounded window) so that the lines before the UA first named itself get its user too.
 */
export class UserCarrier {
  private mode: 'undecided' | 'one-ua' | 'many-ua';
  private readonly byPath: boolean;
  private readonly users = new Set<string>();
  private lastUser?: string;
  private pending: LogEvent[] = [];
  private pendingChars = 0;

  constructor(path: string) {
    this.byPath = pathNamesOneUserAgent(path);
    this.mode = this.byPath ? 'one-ua' : 'undecided';
  }

  push(event: LogEvent, emit: Emit): void {
    const user = event.keys.user;
    if (user) {
      this.lastUser = user;
      if (this.users.size < 2) this.users.add(user);
      if (this.users.size > 1 && !this.byPath) this.mode = 'many-ua';
    }
    if (this.mode === 'many-ua') {
      this.release(emit, false);
      emit(event);
      return;
    }
    if (this.mode === 'one-ua' && this.lastUser) {
      this.release(emit, true);
      if (!user) event.keys.user = this.lastUser;
      emit(event);
      return;
    }
    this.pending.push(event);
    this.pendingChars += event.raw.length;
    if (this.pending.length >= WINDOW_EVENTS || this.pendingChars >= WINDOW_CHARS) {
      // A long stretch that named one user only: one UA. Named none: nothing to carry yet.
      if (this.users.size === 1) this.mode = 'one-ua';
      this.release(emit, this.users.size === 1);
    }
  }

  end(emit: Emit): void {
    this.release(emit, this.mode !== 'many-ua' && this.users.size === 1);
  }

  private release(emit: Emit, carry: boolean): void {
    if (this.pending.length === 0) return;
    let current = carry ? (this.pending.find((e) => e.keys.user)?.keys.user ?? this.lastUser) : undefined;
    for (const event of this.pending) {
      if (event.keys.user) current = event.keys.user;
      else if (carry && current) event.keys.user = current;
      emit(event);
    }
    this.pending = [];
    this.pendingChars = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

const SNIFF_CTX = utcContext();

/** The WebSocket failure phrases this format is sure of. */
const FAILURE_PHRASES = new RegExp(
  [
    CHROME_FAILED.source,
    'WebSocket is closed before the connection is established',
    "Failed to (?:construct|execute '\\w+' on) 'WebSocket'",
    'Unexpected (?:server response|response code): \\d{3}',
    'ERR_INVALID_(?:CHAR|HTTP_TOKEN)|ERR_HTTP_INVALID_HEADER_VALUE',
    '\\bsocket hang up\\b',
    '\\b(?:read|write) ECONNRESET\\b',
    NODE_CONNECT_FAILED.source,
    'Opening handshake has timed out',
    'responded with a non-101 status',
    'WebSocket connection failed\\. Code: \\d{4}',
    'WebSocket closed wss?://\\S+ \\(code: ',
    'websocket: bad handshake',
    'The connection to wss?://\\S+ was interrupted',
    FIREFOX_FAILED.source,
  ].join('|'),
);
/** Lines that JsSIP or SIP.js wrote: theirs, not ours. */
const LIBRARY_RECORD = /^(?:JsSIP[:\s]|jssip-node-websocket\b|\| sip(?:js)?\.)/;

export function sniffBrowserConsole(line: string): number {
  const { text, framed } = splitConsoleLine(line.length > 4096 ? line.slice(0, 4096) : line, SNIFF_CTX);
  if (LIBRARY_RECORD.test(text)) return 0.05;
  if (FAILURE_PHRASES.test(text)) return 0.8;
  if (/^Uncaught\b/.test(text) || STACK_FRAME.test(line)) return 0.2;
  if (/\bWebSocket\b|\bwss?:\/\//.test(text)) return framed ? 0.15 : 0.1;
  return 0;
}

export const browserConsole: LogFormat = {
  name: 'browser-console',
  role: 'client',
  description:
    'Browser DevTools console and Node app output about WebSockets: Chrome "WebSocket connection to … failed", ' +
    'WebSocket constructor exceptions, Node ws / WebSocket-Node handshake errors, app wrapper lines',
  samples: [
    {
      line: "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      source: 'onsip/SIP.js#1016 (client-formats.md §1.2)',
    },
    {
      line: "sip-0.9.2.js:11715 WebSocket connection to 'wss://sip-ws.example.com/' failed: Error in connection establishment: net::ERR_NAME_NOT_RESOLVED",
      source: 'onsip/SIP.js#545 (client-formats.md §1.2)',
    },
    {
      line: "WebSocket connection to 'ws://ws1.versatica.com:10080/' failed: Error during WebSocket handshake: Unexpected response code: 403 jssip-devel.js:571",
      source: 'versatica/JsSIP#194 (client-formats.md §1.1)',
    },
    {
      line: "Uncaught SyntaxError: Failed to construct 'WebSocket': The subprotocol '[object Object]' is invalid.",
      source: 'dirkbonhomme/pusher-client-node#4 (client-formats.md §3.1)',
    },
    {
      line: "Uncaught DOMException: Failed to construct 'WebSocket': The subprotocol '[object Object]' is invalid.",
      source: 'hapijs/nes#270 (client-formats.md §3.1)',
    },
    {
      line: 'TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-React-Native-Project-Root"]',
      source: 'client-formats.md §3.3 (Node http header validation, observed)',
    },
    {
      line: 'Failed to reconnect Error: WebSocket closed wss://192.168.39.90:8088/ws (code: 1006)',
      source: 'InnovateAsterisk/Browser-Phone#499 (client-formats.md §1.2)',
    },
    {
      line: 'Error: WebSocket closed wss://sip.vonzoo.com/wsrtc (code: undefined)',
      source: 'onsip/SIP.js#353 (client-formats.md §1.2)',
    },
    {
      line: 'Failed to connect: failed to connect to WebSocket: websocket: bad handshake. Retrying in 3s...',
      source: 'fosrl/pangolin#1255 (client-formats.md §3.3)',
    },
    {
      line: 'The connection to wss://uswrs.incontact.com:8070/ was interrupted while the page was loading.',
      source: 'versatica/JsSIP#395 (client-formats.md §6)',
    },
    {
      line: 'Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally',
      source: 'client-formats.md §0 (application wrapper line from the brief)',
    },
  ],
  readsHarnessLines: true,
  sniff: sniffBrowserConsole,
  createParser(ctx: ParseContext): LineParser {
    const carrier = new UserCarrier(ctx.path);
    const continuation = new ConsoleContinuation();
    let lastTs = NaN;
    return {
      push(raw, lineNo, emit) {
        if (raw.trim() === '') return 'skip';
        if (continuation.continues(raw)) return 'part';
        const line = splitConsoleLine(raw, ctx);
        if (!Number.isNaN(line.ts)) lastTs = line.ts;
        continuation.started(line.text);
        const source = { ctx, lineNo, raw, ts: lastTs, text: line.text };
        return pushConsoleLine(source, line, (event) => carrier.push(event, emit));
      },
      end(emit) {
        carrier.end(emit);
      },
    };
  },
};
