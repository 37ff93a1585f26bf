/**
 * Genesys Cloud WebRTC SDK client logs (client-formats.md §2): the console lines of
 * genesys-cloud-client-logger, `[webrtc-sdk] <message>` / `[streaming-client] <message>` followed by
 * the details object as DevTools or a harness prints it (`{stanzaInstanceId: '…', channelId: '…'}`, JSON,
 * or nothing), and the JSON traces the logger uploads to `/api/v2/diagnostics/trace`: one trace
 * `{topic, level, message}` whose message is the JSON text of `{clientTime, clientId, message,
 * details, originAppId?}`, that inner object alone, or a whole upload body `{app, traces: […]}`.
 *
 * The SDK signals over XMPP on `wss://streaming.<env>/stream/channels/<channelId>`, never SIP: the
 * signals come from its verbatim connection / reconnect messages (§2.4), and the keys from the
 * identifiers of §2.3: conversationId (sessionId / sid without it) → callId, stanzaInstanceId (one
 * per WebSocket) → connId, the logger's clientId (else channelId, else the HTTP correlationId) →
 * requestId, and the user from a user field, a harness tag, the file's path or, last, the jid.
 *
 * `customHeaders` / `X-…` headers in an app's log are harmless (the SDK applies them to REST calls
 * only, DESIGN.md traps): they give `unknown-header`, never a failure.
 */
import type { EventKeys, LogEvent, Signal } from '../model.js';
import {
  ConsoleContinuation,
  UserCarrier,
  clientEvent,
  isDiagnostic,
  readConsoleText,
  splitConsoleLine,
  type Emit,
} from './browser-console.js';
import { readClientText, type TextReading } from './text-signals.js';
import { parseIso } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// The app prefix and the details object
// ---------------------------------------------------------------------------------------------

/** The logger's default formatter prefix: `[${appName}] ` (webrtc-sdk, streaming-client, …). */
const APP_TAG = /\[(webrtc-sdk|streaming-client|genesys-cloud-[a-z0-9-]{1,40}|purecloud-[a-z0-9-]{1,40})\] /;
/** How far into a line the app tag may start (after a timestamp, source location or harness tag). */
const MAX_PREFIX = 300;

export interface AppTagged {
  /** the appName of the logger */
  app: string;
  /** what came before the tag (a console frame), possibly empty */
  prefix: string;
  /** the message and its details, after the tag */
  body: string;
}

/** Finds the logger prefix in a console line: at its start, or after a frame and a space. */
export function findAppTag(line: string): AppTagged | undefined {
  const head = line.length > MAX_PREFIX + 80 ? line.slice(0, MAX_PREFIX + 80) : line;
  const m = APP_TAG.exec(head);
  if (!m || m.index > MAX_PREFIX) return undefined;
  if (m.index > 0 && !/\s/.test(head[m.index - 1])) return undefined;
  return { app: m[1], prefix: line.slice(0, m.index), body: line.slice(m.index + m[0].length) };
}

/** Values of a details object, flattened by key name (the first one of each name wins). */
export type Details = Map<string, string | number | boolean>;

const MAX_DEPTH = 5;

function flattenInto(value: unknown, out: Details, depth: number): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      if (!out.has(key)) out.set(key, v);
    } else {
      flattenInto(v, out, depth + 1);
    }
  }
}

export function flattenDetails(value: unknown): Details {
  const out: Details = new Map();
  if (typeof value === 'string') {
    const inner = parseJson(value);
    if (inner) flattenInto(inner, out, 0);
    else out.set('error', value);
  } else {
    flattenInto(value, out, 0);
  }
  return out;
}

/** A DevTools / Node object preview: `{stanzaInstanceId: 'a1', error: {status: 429}, reconnect: true}`. */
const PREVIEW_PAIR =
  /([A-Za-z_$][\w$]{0,63}): (?:'([^']{0,2000})'|"([^"]{0,2000})"|(-?\d{1,16}(?:\.\d{1,6})?)(?![\w.])|(true|false)\b)/g;

function flattenPreview(text: string): Details {
  const out: Details = new Map();
  PREVIEW_PAIR.lastIndex = 0;
  for (let m = PREVIEW_PAIR.exec(text); m; m = PREVIEW_PAIR.exec(text)) {
    if (out.has(m[1])) continue;
    if (m[2] !== undefined || m[3] !== undefined) out.set(m[1], m[2] ?? m[3]);
    else if (m[4] !== undefined) out.set(m[1], Number(m[4]));
    else out.set(m[1], m[5] === 'true');
  }
  return out;
}

/** What a console harness prints for an object it could not render. */
const OPAQUE_OBJECT = / (?:JSHandle@object|\[object Object\]|Object)$/;

/** Cuts `message {details}` into the message and its flattened details. */
export function splitDetails(body: string): { message: string; details: Details; detailsText?: string } {
  const brace = body.indexOf(' {');
  if (brace < 0) {
    const opaque = OPAQUE_OBJECT.exec(body);
    return { message: (opaque ? body.slice(0, opaque.index) : body).trimEnd(), details: new Map() };
  }
  const detailsText = body.slice(brace + 1).trim();
  const json = parseJson(detailsText);
  const details = json ? flattenDetails(json) : flattenPreview(detailsText);
  return { message: body.slice(0, brace).trimEnd(), details, detailsText };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// What a message means
// ---------------------------------------------------------------------------------------------

function str(d: Details, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = d.get(n);
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function num(d: Details, ...names: string[]): number | undefined {
  for (const n of names) {
    const v = d.get(n);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^\d{1,9}$/.test(v.trim())) return Number(v);
  }
  return undefined;
}

type Reading = Omit<TextReading, 'keys'>;

/** A refusal status of the Genesys REST API (channel creation, users/me) or of the upgrade. */
function statusReading(status: number): Reading {
  const http = { status };
  if (status === 401 || status === 403 || status === 407)
    return { kind: 'auth', signal: 'auth-failed', http };
  if (status === 429) return { kind: 'rate-limit', signal: 'edge-rate-limit', http };
  if (status === 504 || status === 408) return { kind: 'timeout', signal: 'upstream-timeout', http };
  return { kind: 'error', http };
}

/** The REST requests a streaming connection makes first: the notification channel and the jid. */
const CONNECT_REQUEST = /\/notifications\/channels(?:[?#]|$)|\/users\/me(?:[?#]|$)/;

const STREAMING_TIMEOUT_MS = 15_000;
const TIMEOUT_TEXT = /^Timeout: connecting to streaming service/;

/** What the `error` of a failed connection attempt says, if anything. */
function errorReading(d: Details): Reading | undefined {
  const status = num(d, 'status', 'statusCode');
  if (status !== undefined && status >= 400 && status <= 599) return statusReading(status);
  const message = str(d, 'error', 'message');
  if (message && TIMEOUT_TEXT.test(message))
    return { kind: 'timeout', signal: 'client-timeout', timeoutMs: STREAMING_TIMEOUT_MS };
  if (str(d, 'name') === 'SaslError' || str(d, 'condition') !== undefined)
    return { kind: 'auth', signal: 'auth-failed' };
  return undefined;
}

function retryOf(d: Details): number | undefined {
  const ms = num(d, 'retryDelay', 'expectedRetryInMs', 'currentDelayMs');
  if (ms !== undefined) return ms;
  const s = num(d, 'retryAfter');
  return s !== undefined ? s * 1000 : undefined;
}

const close = (wasClean: boolean): Reading => ({
  kind: 'ws-close',
  signal: 'ws-close',
  ws: wasClean ? { closeCode: 1000, wasClean } : { wasClean },
});
const reconnect = (d: Details): Reading => ({ kind: 'info', signal: 'reconnect', retryDelayMs: retryOf(d) });
const withSignal = (kind: Reading['kind'], signal?: Signal): Reading => ({ kind, signal });

/** The verbatim messages of genesys-cloud-streaming-client and genesys-cloud-webrtc-sdk (§2.4). */
const RULES: [RegExp, (d: Details, m: RegExpExecArray, requested: boolean) => Reading][] = [
  [/^attempting to connect streaming client on channel/, () => withSignal('ws-handshake', 'ws-connecting')],
  [/^new stanza instance connected/, () => withSignal('ws-open', 'ws-open')],
  [/^GenesysCloud streaming client (?:connected|ready for use)/, () => withSignal('info', 'registered')],
  // a disconnect while connecting (the attempt failed), or of the live socket
  [/^stanza disconnected/, (_d, _m, requested) => close(requested)],
  [/^stanzaDisconnected event received/, (_d, _m, requested) => close(requested)],
  [
    /^Streaming API connection disconnected/,
    (d, _m, requested) => close(requested || d.get('reconnecting') === false),
  ],
  [
    /^Failed streaming client connection attempt, respecting retry-after header/,
    (d) => ({ ...(errorReading(d) ?? statusReading(429)), retryDelayMs: retryOf(d) }),
  ],
  [
    /^Failed streaming client connection attempt, retrying/,
    (d) => {
      const why = errorReading(d);
      return why ? { ...why, retryDelayMs: retryOf(d) } : reconnect(d);
    },
  ],
  [/^debug: retry info/, reconnect],
  [/^streamingClient\.connect was called, but backoff is remembered/, reconnect],
  [
    /^(?:duplicate_id event received, forcing hard reconnect|Forcing a hard reconnect due to max channel reuses)/,
    reconnect,
  ],
  [/^Failed to connect streaming client/, (d) => errorReading(d) ?? withSignal('error', 'app-ws-failed')],
  [/^Max retries reached, will not retry/, () => withSignal('error', 'app-ws-failed')],
  [
    /^Streaming client received an error that it can't recover from/,
    (d) => ({ ...statusReading(num(d, 'status') ?? 401), kind: 'auth', signal: 'auth-failed' }),
  ],
  [/^Streaming-client received a SASL error/, () => withSignal('auth', 'auth-failed')],
  [TIMEOUT_TEXT, () => ({ kind: 'timeout', signal: 'client-timeout', timeoutMs: STREAMING_TIMEOUT_MS })],
  // one missed ping is tolerated by the SDK: a warning, not a failure
  [/^Missed a ping\b/, () => withSignal('timeout')],
  [
    /^(?:Missed too many pings, disconnecting|Time between XMPP stanzas exceeded timeout)/,
    () => withSignal('timeout', 'idle-close'),
  ],
  [
    /^request error: (\S+)/,
    (d, m) => {
      // only the requests a connection needs (channel, jid) refuse the connection; a refused
      // station lookup or log upload does not
      const status = num(d, 'status');
      const reading: Reading =
        status !== undefined && status >= 400 && CONNECT_REQUEST.test(m[1])
          ? statusReading(status)
          : { kind: 'error', http: status !== undefined ? { status } : undefined };
      return { ...reading, http: { ...reading.http, url: m[1] } };
    },
  ],
  [
    /^response: ([A-Z]{3,7}) (\S+)/,
    (d, m) => ({ kind: 'http-request', http: { status: num(d, 'status'), method: m[1], url: m[2] } }),
  ],
  [
    /^sdkError\b/,
    (d) => {
      const type = str(d, 'type');
      if (type === 'invalid_token') return withSignal('auth', 'auth-failed');
      // session, media, call and other http errors are about calls, not about the connection
      if (type !== 'initialization') return withSignal('error');
      return errorReading(d) ?? withSignal('error', 'app-ws-failed');
    },
  ],
  [/^Error occurred in connection attempt, but after websocket connected/, () => withSignal('error')],
  [/^streamingClient\.disconnect was called/, () => withSignal('info')],
];

/** A well-formed custom header named in the app's log (`customHeaders: {'X-Genesys-KeepAlive': 'true'}`). */
const CUSTOM_HEADER = /\b[Xx]-[A-Za-z][A-Za-z0-9-]{0,63}['"]?\s{0,4}[:=]/;

/**
 * A well-formed custom header named in a client line is harmless, and a mention of a keep-alive
 * header or setting is no keep-alive traffic.
 */
export function withHarmlessHeaders(reading: TextReading, text: string): TextReading {
  if (reading.signal !== undefined && reading.signal !== 'keepalive') return reading;
  if (CUSTOM_HEADER.test(text)) return { ...reading, kind: 'config', signal: 'unknown-header' };
  return reading.signal === 'keepalive' && /keep-?alive['"]?\s{0,4}[:=]/i.test(text)
    ? { ...reading, signal: undefined }
    : reading;
}

export interface GenesysMessage {
  app?: string;
  /** the message without the app prefix and without its details */
  message: string;
  details: Details;
  /** the details as written, for the free-text fallback */
  detailsText?: string;
  level?: string;
  /** `streamingClient.disconnect was called` was logged just before: a close is the app's own */
  disconnectRequested?: boolean;
}

/** Reads one Genesys logger message. Keys come separately (genesysKeys). */
export function readGenesysMessage(msg: GenesysMessage): TextReading {
  const full = msg.detailsText ? `${msg.message} ${msg.detailsText}` : msg.message;
  // a header that could not even be sent is the client's fault (Node's ERR_INVALID_CHAR, …)
  const local = readClientText(full);
  if (local.signal === 'bad-header' || local.signal === 'bad-url' || local.signal === 'missing-subprotocol')
    return local;
  for (const [pattern, read] of RULES) {
    const m = pattern.exec(msg.message);
    if (m) return { ...read(msg.details, m, msg.disconnectRequested === true), keys: {} };
  }
  if (msg.details.has('customHeaders')) return { kind: 'config', signal: 'unknown-header', keys: local.keys };
  // anything else (Chrome's own WebSocket errors, app lines) reads like any client text
  const reading = withHarmlessHeaders(local, full);
  if (reading.kind === 'info' && !reading.signal && /^(?:error|fatal)$/i.test(msg.level ?? ''))
    return { ...reading, kind: 'error' };
  return reading;
}

/** The local part of a jid (`5f1a…@org.orgspan.com`), the weakest name of a user. */
export function jidUser(jid: string | undefined): string | undefined {
  const m = jid ? /^([^@\s/]{1,128})@[^\s@]{1,253}$/.exec(jid.trim()) : null;
  return m ? m[1] : undefined;
}

/** A user id out of a field value: `agent-042`, `sip:agent-042@…`, `agent-042@example.com`. */
function userOf(value: string | undefined): string | undefined {
  if (!value || /[\s/()]/.test(value) || value.length > 128) return undefined;
  const bare = value.replace(/^sips?:/i, '');
  const at = bare.indexOf('@');
  return at < 0 ? bare : bare.slice(0, at) || undefined;
}

export interface GenesysKeys {
  keys: EventKeys;
  /** the jid's user, used only when nothing better names the user */
  jidUser?: string;
  /** identifiers that stay with one agent: its logger, channel and sockets */
  ids: string[];
  /** the id of the logger (or app) this one logs for: looked up, never learnt (it may be an app's) */
  originAppId?: string;
}

/** Keys of the identifiers of §2.3. */
export function genesysKeys(d: Details): GenesysKeys {
  const keys: EventKeys = {};
  const user = userOf(str(d, 'userId', 'user', 'username', 'agent', 'agentId', 'userName'));
  if (user) keys.user = user;
  const callId = str(d, 'conversationId', 'sessionId', 'sid');
  if (callId) keys.callId = callId;
  const stanza = str(d, 'stanzaInstanceId');
  if (stanza) keys.connId = stanza;
  const clientId = str(d, 'clientId');
  const channelId = str(d, 'channelId');
  const requestId = clientId ?? channelId ?? str(d, 'correlationId');
  if (requestId) keys.requestId = requestId;
  const jid = str(d, 'jid');
  const ids = [clientId, channelId, stanza, jid].filter((v): v is string => v !== undefined);
  return { keys, jidUser: jidUser(jid), ids, originAppId: str(d, 'originAppId') };
}

// ---------------------------------------------------------------------------------------------
// Who the agent is
// ---------------------------------------------------------------------------------------------

/** A path that names one agent: `agent-031.log`, `genesys/agent_031/traces.ndjson`. */
const PATH_NAME =
  /(?:^|[\\/_.\s-])((?:agent|user|ua|vu|phone|softphone|client|ext|endpoint|caller)[-_#]?\d+)(?=[\\/_.\s-]|$)/gi;

function pathUser(path: string): string | undefined {
  const names = new Set<string>();
  for (const m of path.matchAll(PATH_NAME)) names.add(m[1]);
  return names.size === 1 ? [...names][0] : undefined;
}

const MAX_IDS = 50_000;

/**
 * Names the agent of each event: a user the line names (field, harness tag), else the file's path,
 * else the user an identifier of the line (clientId, channelId, stanzaInstanceId, jid) was seen with,
 * else the jid.
 */
class AgentNames {
  private readonly byId = new Map<string, string>();
  private readonly fromPath?: string;

  constructor(path: string) {
    this.fromPath = pathUser(path);
  }

  name(event: LogEvent, found: GenesysKeys): void {
    let user = event.keys.user ?? this.fromPath;
    for (const id of found.ids) user ??= this.byId.get(id);
    if (found.originAppId) user ??= this.byId.get(found.originAppId);
    user ??= found.jidUser;
    if (!user) return;
    event.keys.user = user;
    if (this.byId.size > MAX_IDS) this.byId.clear();
    for (const id of found.ids) this.byId.set(id, user);
  }
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

/** One logger message out of a trace, the inner log message, or a console line. */
interface Entry {
  ts: number;
  msg: GenesysMessage;
  /** identifiers outside the details (a trace's clientId) */
  extra: Details;
}

function traceRecords(root: JsonObject, ctx: ParseContext): Entry[] {
  const traces = Array.isArray(root.traces) ? root.traces : [root];
  const out: Entry[] = [];
  for (const t of traces) {
    if (t === null || typeof t !== 'object') continue;
    const trace = t as JsonObject;
    const inner = typeof trace.message === 'string' ? parseJson(trace.message) : undefined;
    const log = inner ?? trace;
    const text = typeof log.message === 'string' ? log.message : undefined;
    if (text === undefined) continue;
    const tagged = findAppTag(text);
    const topic = typeof trace.topic === 'string' ? trace.topic : undefined;
    const extra: Details = new Map();
    for (const key of ['clientId', 'originAppId']) {
      const v = log[key];
      if (typeof v === 'string') extra.set(key, v);
    }
    const level = typeof trace.level === 'string' ? trace.level : undefined;
    out.push({
      ts: typeof log.clientTime === 'string' ? parseIso(log.clientTime, ctx) : NaN,
      msg: {
        app: tagged?.app ?? topic,
        message: (tagged && tagged.prefix === '' ? tagged.body : text).trim(),
        details: flattenDetails(log.details),
        level,
      },
      extra,
    });
  }
  return out;
}

function isTraceShape(root: JsonObject): boolean {
  return (
    Array.isArray(root.traces) ||
    (typeof root.topic === 'string' && typeof root.message === 'string') ||
    (typeof root.clientTime === 'string' && typeof root.message === 'string')
  );
}

const DISCONNECT_REQUESTED = /^streamingClient\.disconnect was called/;

function createGenesysParser(ctx: ParseContext): LineParser {
  const carrier = new UserCarrier(ctx.path);
  const names = new AgentNames(ctx.path);
  const continuation = new ConsoleContinuation();
  const out: (emit: Emit) => Emit = (emit) => (event) => carrier.push(event, emit);
  let lastTs = NaN;
  /** the app asked for a disconnect: the closes until the next connection are its own */
  let requested = false;

  /** Traces name their client (clientId): only AgentNames names their agent, never the carrier. */
  function emitRecord(
    rec: Entry,
    lineNo: number,
    raw: string,
    tagUser: string | undefined,
    emit: Emit,
    carried: boolean,
  ): void {
    if (DISCONNECT_REQUESTED.test(rec.msg.message)) requested = true;
    const reading = readGenesysMessage({ ...rec.msg, disconnectRequested: requested });
    const details = new Map([...rec.extra, ...rec.msg.details]);
    const found = genesysKeys(details);
    const text = rec.msg.app ? `[${rec.msg.app}] ${rec.msg.message}` : rec.msg.message;
    const event = clientEvent(
      { ctx, lineNo, raw, ts: rec.ts, text },
      { ...reading, keys: { ...reading.keys, ...found.keys } },
      tagUser,
    );
    if (reading.signal === 'ws-connecting' || reading.signal === 'ws-open') requested = false;
    names.name(event, found);
    if (carried) out(emit)(event);
    else emit(event);
  }

  /** A console record whose details object goes on over the next lines (util.inspect breaks long objects). */
  let open: OpenRecord | undefined;

  /** Emits the open record; false when it said nothing worth an event. */
  function flush(emit: Emit): boolean {
    const rec = open;
    open = undefined;
    if (!rec) return false;
    if (rec.app) {
      const { message, details, detailsText } = splitDetails(rec.body);
      continuation.started(message);
      const msg = { app: rec.app, message, details, detailsText };
      emitRecord({ ts: rec.ts, msg, extra: new Map() }, rec.lineNo, rec.raw, rec.tagUser, emit, true);
      return true;
    }
    continuation.started(rec.body);
    const reading = withHarmlessHeaders(readConsoleText(rec.body), rec.body);
    if (!isDiagnostic(reading) && !rec.tagUser) return false;
    const source = { ctx, lineNo: rec.lineNo, raw: rec.raw, ts: rec.ts, text: rec.body };
    out(emit)(clientEvent(source, reading, rec.tagUser));
    return true;
  }

  return {
    push(raw, lineNo, emit): LineOutcome {
      if (open && /^[\s}\]]/.test(raw) && raw.trim() !== '') {
        open.body += ` ${raw.trim()}`;
        open.depth += braceDepth(raw);
        if (open.depth <= 0 || ++open.lines >= MAX_OBJECT_LINES) flush(emit);
        return 'part';
      }
      flush(emit);
      const trimmed = raw.trim();
      if (trimmed === '') return 'skip';
      if (trimmed.startsWith('{')) {
        const root = parseJson(trimmed);
        if (!root || !isTraceShape(root)) return 'unparsed';
        const records = traceRecords(root, ctx);
        if (records.length === 0) return 'skip';
        for (const rec of records) emitRecord(rec, lineNo, raw, undefined, emit, false);
        return 'event';
      }
      if (continuation.continues(raw)) return 'part';
      const tagged = findAppTag(raw);
      const line = splitConsoleLine(tagged ? tagged.prefix : raw, ctx);
      if (!Number.isNaN(line.ts)) lastTs = line.ts;
      const body = tagged ? tagged.body : line.text;
      open = {
        lineNo,
        raw,
        ts: lastTs,
        tagUser: line.tagUser,
        app: tagged?.app,
        body,
        depth: braceDepth(body),
        lines: 1,
      };
      if (open.depth > 0 || flush(emit)) return 'event';
      return line.framed ? 'skip' : 'unparsed';
    },
    end(emit) {
      flush(emit);
      carrier.end(emit);
    },
  };
}

interface OpenRecord {
  lineNo: number;
  raw: string;
  ts: number;
  tagUser?: string;
  app?: string;
  body: string;
  /** `{` minus `}` so far */
  depth: number;
  lines: number;
}

const MAX_OBJECT_LINES = 200;

function braceDepth(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) depth++;
    else if (c === 125) depth--;
  }
  return depth;
}

const JSON_MARKERS = /"topic"\s*:\s*"(?:webrtc-sdk|streaming-client)"|"clientTime"\s*:\s*"\d{4}-/;

export const genesys: LogFormat = {
  name: 'genesys',
  role: 'client',
  description:
    'Genesys Cloud WebRTC SDK / streaming-client logs: "[webrtc-sdk] …" / "[streaming-client] …" console lines ' +
    'with their details, and the JSON diagnostics traces ({topic, level, message: {clientTime, clientId, …}})',
  samples: [
    {
      line: "[streaming-client] attempting to connect streaming client on channel {channelId: 'streaming-7c1e2b4a-0d5f-4b7e-9a51-6f0c3e2d1a90'}",
      source:
        'purecloudlabs/genesys-cloud-streaming-client src/client.ts via the client-logger defaultFormatter `[${appName}] ` (client-formats.md §2.2, §2.4)',
    },
    {
      line: "[streaming-client] new stanza instance connected {stanzaInstanceId: '0b6f0a4e-3d2c-4f8e-a1b7-5c9d2e8f7a61', channelId: 'streaming-7c1e2b4a-0d5f-4b7e-9a51-6f0c3e2d1a90'}",
      source:
        'purecloudlabs/genesys-cloud-streaming-client src/connection-manager.ts (client-formats.md §2.4)',
    },
    {
      line: '[webrtc-sdk] GenesysCloud streaming client connected {reconnect: false}',
      source: 'MyPureCloud/genesys-cloud-webrtc-sdk src/client-private.ts (client-formats.md §2.4)',
    },
    {
      line: '[streaming-client] Missed too many pings, disconnecting {numberOfFailedPings: 2}',
      source: 'purecloudlabs/genesys-cloud-streaming-client src/ping.ts (client-formats.md §2.4)',
    },
    {
      line: '{"topic":"streaming-client","level":"ERROR","message":"{\\"clientTime\\":\\"2026-11-24T10:00:04.512Z\\",\\"clientId\\":\\"9d3c1f52-7b8e-4a06-b0c4-2e5f8a1d6c37\\",\\"message\\":\\"[streaming-client] Failed streaming client connection attempt, retrying\\",\\"details\\":{\\"connectionAttempt\\":1,\\"error\\":{\\"status\\":429,\\"name\\":\\"AxiosError\\",\\"message\\":\\"Request failed with status code 429\\"}}}"}',
      source:
        'genesys-cloud-client-logger src/server-logger.ts ITrace {topic, level, message: JSON of ILogMessage} (client-formats.md §2.2) with the streaming-client message of §2.4',
    },
    {
      line: '{"clientTime":"2026-11-24T10:00:01.020Z","clientId":"4a8e2c71-1f3b-4d59-8e60-7b2a9c0d5e14","message":"[webrtc-sdk] Streaming API connection disconnected","details":{"reconnecting":true}}',
      source:
        'genesys-cloud-client-logger ILogMessage {clientTime, clientId, message, details} (client-formats.md §2.2, §2.4)',
    },
  ],
  sniff(line: string): number {
    const text = line.trimStart();
    if (text.startsWith('{')) {
      const head = text.length > 4096 ? text.slice(0, 4096) : text;
      if (JSON_MARKERS.test(head) && head.includes('"message"')) return 0.95;
      if (head.includes('"traces"') && head.includes('"topic"')) return 0.9;
      return 0;
    }
    return findAppTag(line) ? 0.9 : 0;
  },
  createParser: createGenesysParser,
};
