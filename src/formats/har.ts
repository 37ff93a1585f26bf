/**
 * HAR 1.2 files with Chrome's extensions (client-formats.md §4.1): DevTools "Save all as HAR with
 * content" and Playwright's HAR recorder. The WebSocket entries (`_resourceType: "websocket"` or a
 * ws(s) URL) tell what the client really sent on the upgrade, what the handshake got back, and,
 * in `_webSocketMessages`, every SIP message that crossed the socket plus Chrome's `error` frames
 * (`opcode: -1`, e.g. `Error during WebSocket handshake: Unexpected response code: 503`).
 *
 * A HAR is one JSON document, pretty-printed over many lines or written on a single line, and can
 * be hundreds of MB. It arrives here one line at a time, so a small incremental JSON tokenizer
 * tracks the path (`log.entries[i]…`) and materialises ONE entry at a time, bounded (response
 * bodies, cookies, initiator stacks are dropped; retained text is capped), emits the entry's
 * events when it closes and forgets it. The tokenizer is lenient: a string cut by the 64 KB line
 * cap ends at the end of its line, missing commas and colons are tolerated, and whatever was
 * read of an entry left open at the end of the input (a single-line HAR cut at 64 KB) is still
 * reported.
 */
import type { LogEvent, Signal, SipInfo } from '../model.js';
import { ownUser } from './jssip.js';
import { isSipStartLine, parseSipMessage, type SipMessage } from './sip-message.js';
import { readClientText, wsUrlUser, type TextReading } from './text-signals.js';
import { parseIso } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// Incremental, lenient JSON tokenizer
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

/** What the tokenizer reports; `slot` is the key in the parent object or the index in the parent array. */
interface JsonSink {
  open(isArray: boolean, slot: string | number, depth: number, parent: Frame | undefined): void;
  close(frame: Frame): void;
  scalar(value: Json, slot: string | number, depth: number): void;
  /** whether the string value about to start at this slot should be kept */
  wantsString(slot: string | number, depth: number): boolean;
}

interface Frame {
  isArray: boolean;
  /** the key (or index) of this container in its parent */
  slot: string | number;
  /** the key read in an object, waiting for its value */
  key: string | undefined;
  afterColon: boolean;
  /** values begun in an array */
  count: number;
}

const MAX_DEPTH = 128;
const MAX_KEY = 256;
const MAX_LITERAL = 64;

const enum Ch {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Comma = 44,
  Colon = 58,
  OpenSquare = 91,
  Backslash = 92,
  CloseSquare = 93,
  OpenCurly = 123,
  CloseCurly = 125,
  Bom = 0xfeff,
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '/': '/',
  '\\': '\\',
  '"': '"',
};

class JsonTokenizer {
  readonly stack: Frame[] = [];
  /** containers opened beyond MAX_DEPTH, ignored */
  private overflow = 0;
  private inString = false;
  private stringIsKey = false;
  private keepString = false;
  private parts: string[] = [];
  private kept = 0;
  private literal = '';
  private literalSlot: string | number = 0;
  /** the current line carried something that is not JSON */
  invalid = false;
  private nextQuote = -1;
  private nextBackslash = -1;

  constructor(private readonly sink: JsonSink) {}

  feed(line: string): void {
    this.invalid = false;
    this.nextQuote = -1;
    this.nextBackslash = -1;
    const n = line.length;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        i = this.scanString(line, i);
        continue;
      }
      const c = line.charCodeAt(i);
      switch (c) {
        case Ch.Space:
        case Ch.Tab:
        case Ch.Cr:
        case Ch.Lf:
        case Ch.Bom:
          this.endLiteral();
          i++;
          break;
        case Ch.Quote:
          this.endLiteral();
          this.startString();
          i++;
          break;
        case Ch.OpenCurly:
        case Ch.OpenSquare:
          this.endLiteral();
          this.openContainer(c === Ch.OpenSquare);
          i++;
          break;
        case Ch.CloseCurly:
        case Ch.CloseSquare:
          this.endLiteral();
          this.closeContainer(c === Ch.CloseSquare);
          i++;
          break;
        case Ch.Colon:
          this.endLiteral();
          this.colon();
          i++;
          break;
        case Ch.Comma:
          this.endLiteral();
          this.comma();
          i++;
          break;
        default:
          i = this.scanLiteral(line, i);
      }
    }
    // A JSON string never spans lines: one that is still open was cut (64 KB line cap).
    if (this.inString) this.endString();
    this.endLiteral();
  }

  /** Closes every open container (end of input). */
  finish(): void {
    if (this.inString) this.endString();
    this.endLiteral();
    this.overflow = 0;
    while (this.stack.length > 0) this.pop();
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** The slot the next value goes to; counts array elements. */
  private nextSlot(): string | number {
    const top = this.top();
    if (!top) return 0;
    if (top.isArray) return top.count++;
    return top.key ?? '';
  }

  private valueDone(): void {
    const top = this.top();
    if (top && !top.isArray) {
      top.key = undefined;
      top.afterColon = false;
    }
  }

  private openContainer(isArray: boolean): void {
    if (this.overflow > 0 || this.stack.length >= MAX_DEPTH) {
      this.overflow++;
      return;
    }
    const parent = this.top();
    const slot = this.nextSlot();
    const frame: Frame = { isArray, slot, key: undefined, afterColon: false, count: 0 };
    this.sink.open(isArray, slot, this.stack.length, parent);
    this.stack.push(frame);
  }

  private pop(): void {
    const frame = this.stack.pop();
    if (!frame) return;
    this.sink.close(frame);
    this.valueDone();
  }

  private closeContainer(isArray: boolean): void {
    if (this.overflow > 0) {
      this.overflow--;
      return;
    }
    // lenient: close up to the nearest container of the right kind; a stray closer is ignored
    let k = this.stack.length - 1;
    while (k >= 0 && this.stack[k].isArray !== isArray) k--;
    if (k < 0) return;
    while (this.stack.length > k) this.pop();
  }

  private colon(): void {
    const top = this.top();
    if (top && !top.isArray) top.afterColon = true;
  }

  private comma(): void {
    const top = this.top();
    if (top && !top.isArray) {
      top.key = undefined;
      top.afterColon = false;
    }
  }

  private startString(): void {
    this.inString = true;
    this.parts = [];
    this.kept = 0;
    if (this.overflow > 0) {
      this.stringIsKey = false;
      this.keepString = false;
      return;
    }
    const top = this.top();
    this.stringIsKey = top !== undefined && !top.isArray && !top.afterColon;
    if (this.stringIsKey) {
      this.keepString = true;
      return;
    }
    this.literalSlot = this.nextSlot();
    this.keepString = this.sink.wantsString(this.literalSlot, this.stack.length);
  }

  private append(text: string): void {
    if (!this.keepString) return;
    const room = (this.stringIsKey ? MAX_KEY : MAX_STRING) - this.kept;
    if (room <= 0) return;
    const part = text.length > room ? text.slice(0, room) : text;
    this.parts.push(part);
    this.kept += part.length;
  }

  /** Scans string content from i; returns the index after what it consumed. */
  private scanString(line: string, i: number): number {
    const n = line.length;
    // native searches, each position remembered for the rest of the line (no rescans)
    if (this.nextQuote < i) {
      const q = line.indexOf('"', i);
      this.nextQuote = q < 0 ? n : q;
    }
    if (this.nextBackslash < i) {
      const b = line.indexOf('\\', i);
      this.nextBackslash = b < 0 ? n : b;
    }
    const j = Math.min(this.nextQuote, this.nextBackslash);
    if (j > i) this.append(line.slice(i, j));
    if (j >= n) return n;
    if (line.charCodeAt(j) === Ch.Quote) {
      this.endString();
      return j + 1;
    }
    // escape
    const e = line[j + 1];
    if (e === undefined) return n;
    if (e === 'u') {
      const hex = line.slice(j + 2, j + 6);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        this.append(String.fromCharCode(parseInt(hex, 16)));
        return j + 6;
      }
      return j + 2;
    }
    this.append(ESCAPES[e] ?? e);
    return j + 2;
  }

  private endString(): void {
    this.inString = false;
    if (this.overflow > 0) return;
    const text = this.parts.join('');
    this.parts = [];
    const top = this.top();
    if (this.stringIsKey && top && !top.isArray) {
      top.key = text;
      return;
    }
    this.sink.scalar(this.keepString ? text : '', this.literalSlot, this.stack.length);
    this.valueDone();
  }

  private scanLiteral(line: string, i: number): number {
    const n = line.length;
    let j = i;
    while (j < n) {
      const c = line.charCodeAt(j);
      if (
        c === Ch.Space ||
        c === Ch.Tab ||
        c === Ch.Cr ||
        c === Ch.Quote ||
        c === Ch.Comma ||
        c === Ch.Colon ||
        c === Ch.OpenCurly ||
        c === Ch.CloseCurly ||
        c === Ch.OpenSquare ||
        c === Ch.CloseSquare
      )
        break;
      j++;
    }
    if (this.literal.length < MAX_LITERAL) this.literal += line.slice(i, Math.min(j, i + MAX_LITERAL));
    return j;
  }

  private endLiteral(): void {
    if (this.literal === '') return;
    const text = this.literal;
    this.literal = '';
    let value: Json;
    if (text === 'true') value = true;
    else if (text === 'false') value = false;
    else if (text === 'null') value = null;
    else if (/^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) value = Number(text);
    else {
      this.invalid = true;
      return;
    }
    if (this.overflow > 0) return;
    const slot = this.nextSlot();
    this.sink.scalar(value, slot, this.stack.length);
    this.valueDone();
  }
}

// ---------------------------------------------------------------------------------------------
// Materialising one entry at a time
// ---------------------------------------------------------------------------------------------

/** Longest string kept (a line is at most 64 KB anyway). */
const MAX_STRING = 64 * 1024;
/** Retained text of one entry, in characters (each value also costs a little). */
const ENTRY_BUDGET = 4 * 1024 * 1024;
const VALUE_COST = 32;
/** Subtrees of an entry that never matter here (bodies, cookies, initiator stacks). */
const DROPPED_KEYS = new Set(['content', 'postData', 'cookies', '_initiator', 'queryString', 'cache']);
/** Entries are found at log.entries[i], entries[i], or as the elements of a top-level array. */
function isEntryPlace(parent: Frame | undefined, depth: number, stack: readonly Frame[]): boolean {
  if (!parent || !parent.isArray) return false;
  if (depth === 1) return true; // [ {entry}, … ]
  if (parent.slot !== 'entries') return false;
  if (depth === 2) return true; // { "entries": [ … ] }
  return depth === 3 && stack[1]?.slot === 'log' && !stack[0].isArray; // { "log": { "entries": [ … ] } }
}

interface Building {
  containers: (JsonObject | Json[] | undefined)[];
  /** the top-level object, read as an entry until it turns out to be a HAR document */
  tentative: boolean;
  lineNo: number;
  budget: number;
  lines: WeakMap<object, number>;
}

interface DoneEntry {
  entry: JsonObject;
  lineNo: number;
  lines: WeakMap<object, number>;
}

class EntryCollector implements JsonSink {
  private building: Building | undefined;
  private root: JsonObject | undefined;
  lineNo = 0;
  /** entries that closed on the current line */
  readonly done: DoneEntry[] = [];

  constructor(private readonly stackOf: () => readonly Frame[]) {}

  private attach(value: Json, slot: string | number): void {
    const b = this.building;
    if (!b) return;
    const parent = b.containers[b.containers.length - 1];
    if (parent === undefined) return;
    if (typeof value === 'string') b.budget -= value.length;
    b.budget -= VALUE_COST;
    if (Array.isArray(parent)) parent.push(value);
    else if (typeof slot === 'string') parent[slot] = value;
  }

  open(isArray: boolean, slot: string | number, depth: number, parent: Frame | undefined): void {
    if (this.building?.tentative && depth === 1 && (slot === 'log' || slot === 'entries')) {
      // the top-level object is a HAR document, not a lone entry: its entries are read one by one
      this.building = undefined;
      this.root = undefined;
    }
    const b = this.building;
    if (!b) {
      // a lone entry as the whole document (an entry copied out of a HAR) is read as an entry too
      const tentative = !isArray && depth === 0;
      if (tentative || (!isArray && isEntryPlace(parent, depth, this.stackOf()))) {
        const entry: JsonObject = {};
        const lines = new WeakMap<object, number>();
        lines.set(entry, this.lineNo);
        this.root = entry;
        this.building = { containers: [entry], lineNo: this.lineNo, budget: ENTRY_BUDGET, lines, tentative };
      }
      return;
    }
    const parentContainer = b.containers[b.containers.length - 1];
    if (
      parentContainer === undefined ||
      b.budget <= 0 ||
      (typeof slot === 'string' && DROPPED_KEYS.has(slot))
    ) {
      b.containers.push(undefined);
      return;
    }
    const container: JsonObject | Json[] = isArray ? [] : {};
    b.lines.set(container, this.lineNo);
    this.attach(container, slot);
    b.containers.push(container);
  }

  close(): void {
    const b = this.building;
    if (!b) return;
    b.containers.pop();
    if (b.containers.length === 0) {
      if (this.root) this.done.push({ entry: this.root, lineNo: b.lineNo, lines: b.lines });
      this.root = undefined;
      this.building = undefined;
    }
  }

  scalar(value: Json, slot: string | number): void {
    this.attach(value, slot);
  }

  wantsString(slot: string | number): boolean {
    const b = this.building;
    if (!b) return false;
    const parent = b.containers[b.containers.length - 1];
    if (parent === undefined || b.budget <= 0) return false;
    return !(typeof slot === 'string' && (slot === 'text' || DROPPED_KEYS.has(slot)));
  }

  /** The entry still open at the end of the input, as far as it was read. */
  takeOpen(): DoneEntry | undefined {
    const b = this.building;
    const root = this.root;
    this.building = undefined;
    this.root = undefined;
    return b && root ? { entry: root, lineNo: b.lineNo, lines: b.lines } : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Events of one entry
// ---------------------------------------------------------------------------------------------

function obj(value: Json | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: Json | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d{1,15}(?:\.\d{1,9})?$/.test(value)) return Number(value);
  return undefined;
}

interface Header {
  name: string;
  value: string;
}

function headersOf(message: JsonObject | undefined): Header[] {
  const list = message?.headers;
  if (!Array.isArray(list)) return [];
  const out: Header[] = [];
  for (const item of list) {
    const h = obj(item);
    const name = str(h?.name);
    if (name !== undefined) out.push({ name, value: str(h?.value) ?? '' });
  }
  return out;
}

function header(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** Chrome writes frame times as epoch seconds, Playwright as epoch ms: told apart by magnitude. */
export function frameTimeMs(time: number | undefined): number {
  if (time === undefined || time <= 0) return NaN;
  return time < 1e11 ? time * 1000 : time;
}

const WS_URL = /^wss?:\/\//i;
/** Header names a browser or the WebSocket library sets itself. */
const CUSTOM_HEADER = /^X-[A-Za-z0-9-]{1,64}$/;
const MAX_RAW = 1000;
const MAX_FRAME_LINES = 500;

function cut(text: string, max = MAX_RAW): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
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

const VIA_RECEIVED = /;\s*received=(\d{1,3}(?:\.\d{1,3}){3})\b/i;
const VIA_RPORT = /;\s*rport=(\d{1,5})\b/i;

interface WsFrame {
  type: string;
  ts: number;
  opcode?: number;
  data: string;
  lineNo: number;
}

function framesOf(entry: JsonObject, lines: WeakMap<object, number>, fallbackLine: number): WsFrame[] {
  const list = entry._webSocketMessages;
  if (!Array.isArray(list)) return [];
  const out: WsFrame[] = [];
  for (const item of list) {
    const f = obj(item);
    if (!f) continue;
    out.push({
      type: str(f.type) ?? '',
      ts: frameTimeMs(num(f.time)),
      opcode: num(f.opcode),
      data: str(f.data) ?? '',
      lineNo: lines.get(f) ?? fallbackLine,
    });
  }
  return out;
}

function isErrorFrame(f: WsFrame): boolean {
  return f.type === 'error' || f.opcode === -1;
}

function isDataFrame(f: WsFrame): boolean {
  return (f.type === 'send' || f.type === 'receive') && f.opcode !== -1;
}

/** Signals an error text can give the failed handshake (the rest says nothing about why). */
const HANDSHAKE_SIGNALS: ReadonlySet<Signal> = new Set<Signal>([
  'ws-handshake-failed',
  'client-timeout',
  'resource-exhausted',
  'conn-reset',
  'bad-url',
  'bad-header',
  'missing-subprotocol',
]);

/** The events of one HAR entry (none for entries that are not WebSocket upgrades). */
export function entryEvents(done: DoneEntry, ctx: ParseContext): LogEvent[] {
  const { entry, lines } = done;
  const request = obj(entry.request);
  const response = obj(entry.response);
  const url = str(request?.url) ?? '';
  const frames = framesOf(entry, lines, done.lineNo);
  const isWs = str(entry._resourceType) === 'websocket' || WS_URL.test(url) || frames.length > 0;
  if (!isWs) return [];

  const started = parseIso(str(entry.startedDateTime) ?? '');
  const entryTs = Number.isNaN(started) ? (frames.find((f) => !Number.isNaN(f.ts))?.ts ?? NaN) : started;
  const requestHeaders = headersOf(request);
  const responseHeaders = headersOf(response);
  const status = num(response?.status);
  const events: LogEvent[] = [];
  const base = (ts: number, lineNo: number, raw: string): LogEvent => ({
    ts,
    input: ctx.input,
    line: lineNo,
    raw: cut(raw),
    role: 'client',
    kind: 'info',
    keys: {},
  });

  // SIP in the frames, and the user they name
  const sipEvents: LogEvent[] = [];
  for (const f of frames) {
    if (!isDataFrame(f) || (f.opcode !== undefined && f.opcode !== 1)) continue;
    const direction = f.type === 'send' ? 'sent' : 'received';
    const ts = Number.isNaN(f.ts) ? entryTs : f.ts;
    if (f.data.trim() === '') {
      const e = base(ts, f.lineNo, `${f.type}: CRLF keep-alive`);
      e.signal = 'keepalive';
      e.text = `${direction} CRLF keep-alive`;
      sipEvents.push(e);
      continue;
    }
    const nl = f.data.indexOf('\n');
    const first = (nl < 0 ? f.data : f.data.slice(0, nl)).trim();
    if (!isSipStartLine(first)) continue;
    const message = parseSipMessage(f.data.split('\n', MAX_FRAME_LINES));
    if (!message) continue;
    const e = base(ts, f.lineNo, `${f.type}: ${first}`);
    e.kind = message.isRequest ? 'sip-request' : 'sip-response';
    e.sip = sipInfo(message, direction);
    e.text = `${direction} ${first}`;
    if (message.callId) e.keys.callId = message.callId;
    const user = ownUser(message, direction);
    if (user) e.keys.user = user;
    const received = message.via ? VIA_RECEIVED.exec(message.via) : null;
    const rport = message.via ? VIA_RPORT.exec(message.via) : null;
    if (direction === 'received' && received && rport) {
      e.keys.peer = `${received[1]}:${rport[1]}`;
      e.keys.ip = received[1];
    }
    sipEvents.push(e);
  }
  const user = wsUrlUser(url) ?? sipEvents.find((e) => e.keys.user)?.keys.user;
  if (user) for (const e of sipEvents) e.keys.user ??= user;

  // the handshake
  const opened = status === 101 || (!status && frames.some(isDataFrame));
  const errors = frames.filter(isErrorFrame);
  const failure = opened ? undefined : (errors[0]?.data ?? str(response?._error));
  const reading: TextReading | undefined = failure ? readClientText(failure) : undefined;
  const hs = base(entryTs, done.lineNo, `${str(request?.method) ?? 'GET'} ${url}`);
  hs.kind = 'ws-handshake';
  hs.http = { method: str(request?.method) ?? 'GET', url, upgrade: true };
  if (!Number.isNaN(started)) hs.http.startTs = started;
  const duration = num(entry.time);
  if (duration !== undefined && duration >= 0) hs.http.durationMs = duration;
  const agent = header(requestHeaders, 'User-Agent');
  if (agent) hs.http.userAgent = agent;
  hs.ws = { url };
  const subprotocol =
    header(responseHeaders, 'Sec-WebSocket-Protocol') ?? header(requestHeaders, 'Sec-WebSocket-Protocol');
  if (subprotocol) hs.ws.subprotocol = subprotocol;
  const wsKey = header(requestHeaders, 'Sec-WebSocket-Key');
  if (wsKey) hs.keys.wsKey = wsKey;
  if (user) hs.keys.user = user;
  const connection = str(entry.connection);
  if (connection) hs.keys.connId = connection;
  let outcome: string;
  if (status === 101) {
    hs.signal = 'ws-open';
    hs.http.status = 101;
    outcome = '101';
  } else if (status) {
    hs.signal = 'ws-handshake-failed';
    hs.http.status = status;
    outcome = `${status}${str(response?.statusText) ? ` ${str(response?.statusText)}` : ''}`;
  } else if (opened) {
    hs.signal = 'ws-open';
    outcome = 'open';
  } else if (reading) {
    const signal =
      reading.signal && HANDSHAKE_SIGNALS.has(reading.signal) ? reading.signal : 'ws-handshake-failed';
    hs.signal = signal;
    if (signal !== 'ws-handshake-failed') hs.kind = reading.kind;
    if (reading.http?.status) hs.http.status = reading.http.status;
    if (reading.timeoutMs !== undefined) hs.timeoutMs = reading.timeoutMs;
    outcome = 'failed';
  } else {
    hs.signal = 'ws-connecting';
    outcome = 'no answer recorded';
  }
  // a failed handshake is dated when it failed (the error frame, else the entry's end), as every
  // other client log dates it; its start stays in http.startTs
  if (outcome === 'failed' || (status !== undefined && status !== 101 && status !== 0)) {
    const errorTs = errors[0] && !Number.isNaN(errors[0].ts) ? errors[0].ts : NaN;
    const endTs =
      !Number.isNaN(started) && duration !== undefined && duration >= 0 ? started + duration : NaN;
    const failedAt = Number.isNaN(errorTs) ? endTs : errorTs;
    if (!Number.isNaN(failedAt)) hs.ts = failedAt;
  }
  hs.text = `WebSocket ${url} handshake: ${outcome}${failure ? ` (${cut(failure, 300)})` : ''}`;
  hs.raw = cut(`${hs.raw} → ${outcome}${failure ? ` ${failure}` : ''}`);
  events.push(hs);

  // what the client really sent on the upgrade: a custom header is harmless by itself
  const custom = requestHeaders.filter((h) => CUSTOM_HEADER.test(h.name));
  if (custom.length > 0) {
    const listed = custom.map((h) => `${h.name}: ${cut(h.value, 100)}`).join(', ');
    const e = base(entryTs, done.lineNo, `request header ${listed}`);
    e.kind = 'config';
    e.signal = 'unknown-header';
    e.text = `upgrade request to ${url} carried ${listed}`;
    e.ws = { url };
    if (user) e.keys.user = user;
    if (wsKey) e.keys.wsKey = wsKey;
    events.push(e);
  }

  events.push(...sipEvents);
  events.push(...unanswered(sipEvents, frames, base));

  // error frames other than the one that explained the failed handshake
  const consumed = opened ? undefined : errors[0];
  for (const f of errors) {
    if (f === consumed) continue;
    const r = readClientText(f.data);
    const e = base(Number.isNaN(f.ts) ? entryTs : f.ts, f.lineNo, `error: ${f.data}`);
    e.kind = r.kind === 'info' ? 'error' : r.kind;
    if (r.signal) e.signal = r.signal;
    if (r.http) e.http = r.http;
    e.ws = { ...r.ws, url };
    e.text = `WebSocket ${url} error: ${cut(f.data, 300)}`;
    if (user) e.keys.user = user;
    events.push(e);
  }
  return events;
}

/** SIP's transaction timeout (Timer F = 64 × T1): a request still unanswered after it has failed. */
const TIMER_F_MS = 32_000;

/**
 * A request the page sent that got no answer while the socket stayed open for Timer F: the HAR
 * records frames, not the library's own 408, so the silence itself is the transaction timeout
 * (an SBC's flood guard drops without answering).
 */
function unanswered(
  sipEvents: readonly LogEvent[],
  frames: readonly WsFrame[],
  base: (ts: number, lineNo: number, raw: string) => LogEvent,
): LogEvent[] {
  let lastFrame = -Infinity;
  for (const f of frames) if (!Number.isNaN(f.ts) && f.ts > lastFrame) lastFrame = f.ts;
  const answered = new Set<string>();
  for (const e of sipEvents)
    if (e.kind === 'sip-response' && e.sip?.status !== undefined && e.sip.status >= 100)
      answered.add(`${e.keys.callId}|${e.sip.cseq}|${e.sip.method}`);
  const out: LogEvent[] = [];
  for (const e of sipEvents) {
    const sip = e.sip;
    if (e.kind !== 'sip-request' || sip?.direction !== 'sent' || sip.method === 'ACK' || !e.keys.callId)
      continue;
    if (answered.has(`${e.keys.callId}|${sip.cseq}|${sip.method}`) || lastFrame - e.ts < TIMER_F_MS) continue;
    const t = base(e.ts + TIMER_F_MS, e.line, `${e.raw} → no answer within ${TIMER_F_MS / 1000} s`);
    t.kind = 'timeout';
    t.signal = 'transaction-timeout';
    t.keys = { ...e.keys };
    t.text = `no answer to ${sip.method} (CSeq ${sip.cseq ?? '?'}) within ${TIMER_F_MS / 1000} s while the socket stayed open`;
    out.push(t);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

const SOURCE =
  'client-formats.md §4.1 (HAR entry example; ChromeDevTools/devtools-frontend models/har/Log.ts)';

export const har: LogFormat = {
  name: 'har',
  role: 'client',
  description:
    'HAR 1.2 (Chrome DevTools, Playwright): WebSocket upgrade entries, their request headers, status, ' +
    '_webSocketMessages SIP frames and error frames; read as a stream, one entry at a time',
  samples: [
    {
      line: '{ "_resourceType": "websocket", "startedDateTime": "2024-01-15T10:30:00.000Z", "time": 5000,',
      source: SOURCE,
    },
    {
      line: '  "request": { "method": "GET", "url": "wss://sbc.example.com/ws", "httpVersion": "HTTP/1.1",',
      source: SOURCE,
    },
    {
      line: '  "response": { "status": 101, "statusText": "Switching Protocols",',
      source: SOURCE,
    },
    {
      line: '  "_webSocketMessages": [ {"type":"send","time":1705312200.123,"opcode":1,"data":"REGISTER sip:… SIP/2.0\\r\\n…"},',
      source: SOURCE,
    },
    {
      line: '                          {"type":"receive","time":1705312200.456,"opcode":1,"data":"SIP/2.0 401 Unauthorized\\r\\n…"} ] }',
      source: SOURCE,
    },
  ],
  sniff(line: string): number {
    let t = line.length > 4096 ? line.slice(0, 4096) : line;
    if (t.charCodeAt(0) === Ch.Bom) t = t.slice(1);
    t = t.trim();
    if (t === '{') return 0.5; // a pretty-printed document: every other line is indented
    if (/^\{\s*"log"\s*:\s*\{/.test(t)) return 0.95;
    if (/^[{\s]*"(?:_resourceType|_webSocketMessages)"\s*:/.test(t)) return 0.9;
    if (
      /^"(?:log|entries|creator|pages|startedDateTime|serverIPAddress|_initiator|_priority|_transferSize)"\s*:/.test(
        t,
      )
    )
      return 0.8;
    if (/^"(?:request|response|timings|headers)"\s*:\s*[{[]/.test(t)) return 0.6;
    if (/^\{\s*"type"\s*:\s*"(?:send|receive|error)"\s*,\s*"time"\s*:/.test(t)) return 0.8;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    let tokenizer: JsonTokenizer | undefined = undefined;
    const collector: EntryCollector = new EntryCollector(() => tokenizer?.stack ?? []);
    tokenizer = new JsonTokenizer(collector);
    const json = tokenizer;

    function drain(emit: (event: LogEvent) => void): number {
      let emitted = 0;
      for (const done of collector.done.splice(0)) {
        let events: LogEvent[] = [];
        try {
          events = entryEvents(done, ctx);
        } catch {
          events = [];
        }
        for (const e of events) emit(e);
        emitted += events.length;
      }
      return emitted;
    }

    return {
      push(line, lineNo, emit): LineOutcome {
        collector.lineNo = lineNo;
        const before = collector.done.length;
        json.feed(line);
        const closed = collector.done.length > before;
        const emitted = drain(emit);
        if (emitted > 0) return 'event';
        if (closed) return 'skip';
        if (json.invalid) return 'unparsed';
        return line.trim() === '' ? 'skip' : 'part';
      },
      end(emit) {
        json.finish();
        drain(emit);
        const open = collector.takeOpen();
        if (open) {
          try {
            for (const e of entryEvents(open, ctx)) emit(e);
          } catch {
            // a half-read entry: nothing more to say
          }
        }
      },
    };
  },
};
