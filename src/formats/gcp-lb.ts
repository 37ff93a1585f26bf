/**
 * Google Cloud external Application Load Balancer request logs, as Cloud Logging exports them
 * (lb-formats.md §6, §11, §12): one `LogEntry` JSON object per line (a log sink to Cloud Storage,
 * Pub/Sub, a `gcloud … --format=json` dump reflowed to lines). A pretty-printed entry spread over
 * several lines, and the `[`/`]` frame of an exported array, are read too (with --format-of).
 *
 * Fields: `timestamp` ("the time when the first layer GFE receives the request") is the START;
 * `httpRequest.latency` ("0.025376s") is the request's (for a WebSocket the tunnel's) duration, so
 * `ts` = start + latency and `http.startTs` = start. Key names are read without regard to case or
 * underscores (`httpRequest` / `http_request`, `jsonPayload` / `json_payload` as in the reference's
 * field sample).
 *
 * Who answered and how a tunnel ended: `jsonPayload.statusDetails` ("explains why the load balancer
 * returned the HTTP status code that it did"), or the `details="…"` of a regional LB's
 * `proxyStatus`; Cloud Armor's `enforcedSecurityPolicy`. The client address is `remoteIp` (no port);
 * the request id is the trace id (`projects/…/traces/<id>`), else `insertId`.
 */
import type { EventKeys, HttpInfo, LogEvent, Signal } from '../model.js';
import { isStaticAsset, isWebSocketPath, splitClientAddr, urlUser } from './nginx-access.js';
import { parseIso } from './time.js';
import type { FormatSample, LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

export type JsonObject = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// JSON records (shared with azure-appgw.ts)
// ---------------------------------------------------------------------------------------------

export function asJsonObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

export function parseJsonObject(text: string): JsonObject | undefined {
  try {
    return asJsonObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

const normKey = (k: string): string => k.replace(/_/g, '').toLowerCase();
/** Log Analytics column suffixes: `_s` string, `_d` number, `_g` GUID, `_b` boolean. */
const TYPE_SUFFIX = /_[sdgb]$/;

/**
 * `o[name]`, else the key that differs from it only in case, underscores, or a Log Analytics
 * type suffix (`clientIP_s`, `httpStatus_d`).
 */
export function jsonField(o: JsonObject | undefined, name: string): unknown {
  if (!o) return undefined;
  if (o[name] !== undefined) return o[name];
  const want = normKey(name);
  for (const k of Object.keys(o)) if (normKey(k.replace(TYPE_SUFFIX, '')) === want) return o[k];
  return undefined;
}

/** A non-empty string field ("-" counts as empty); numbers are given as text. */
export function jsonString(o: JsonObject | undefined, name: string): string | undefined {
  const v = jsonField(o, name);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' || t === '-' ? undefined : t;
}

/** A number field, or a string holding a plain decimal number. */
export function jsonNumber(o: JsonObject | undefined, name: string): number | undefined {
  const v = jsonField(o, name);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{1,15}(?:\.\d{1,9})?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** Net `{`/`[` nesting a line opens (strings skipped). */
function nesting(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
  }
  return depth;
}

export type JsonRead =
  | { kind: 'object'; obj: JsonObject; line: number; raw: string }
  | { kind: 'part' | 'frame' | 'none' | 'bad' };

/** Lines a pretty-printed record may span, and its size. */
const MAX_BLOCK_LINES = 400;
const MAX_BLOCK_CHARS = 256 * 1024;

/**
 * One JSON object per line, or an object pretty-printed over several lines; the `[`, `]` and `,`
 * of an exported array around the objects are 'frame'.
 */
export class JsonRecords {
  private block: string[] = [];
  private depth = 0;
  private chars = 0;
  private first = 0;

  push(line: string, lineNo: number): JsonRead {
    if (this.block.length > 0) {
      this.block.push(line);
      this.depth += nesting(line);
      this.chars += line.length;
      if (this.depth > 0 && this.block.length < MAX_BLOCK_LINES && this.chars < MAX_BLOCK_CHARS)
        return { kind: 'part' };
      const raw = this.block.map((l) => l.trim()).join(' ');
      const first = this.first;
      this.block = [];
      const obj = parseJsonObject(trimFrame(raw));
      return obj ? { kind: 'object', obj, line: first, raw } : { kind: 'bad' };
    }
    const t = trimFrame(line.trim());
    if (t === '' || t === '[' || t === ']') return { kind: 'frame' };
    if (t.charCodeAt(0) !== 123) return { kind: 'none' };
    if (t.endsWith('}')) {
      const obj = parseJsonObject(t);
      if (obj) return { kind: 'object', obj, line: lineNo, raw: line };
    }
    // a pretty-printed record opens with a lone brace (a cut or broken line never starts a block)
    if (t !== '{') return { kind: 'bad' };
    this.block = [line];
    this.depth = 1;
    this.chars = line.length;
    this.first = lineNo;
    return { kind: 'part' };
  }
}

/** `[{…},` / `{…}]` / `{…},` (array elements) → `{…}`. */
function trimFrame(t: string): string {
  let s = t;
  if (s.startsWith('[') && s.length > 1) s = s.slice(1).trimStart();
  if (s.endsWith(',')) s = s.slice(0, -1).trimEnd();
  if (s.endsWith(']') && s.length > 1 && s.charCodeAt(0) === 123) s = s.slice(0, -1).trimEnd();
  return s;
}

// ---------------------------------------------------------------------------------------------
// The entry
// ---------------------------------------------------------------------------------------------

/** protobuf Timestamp: RFC 3339 text, or `{seconds, nanos}`. */
function timestampOf(v: unknown): number {
  if (typeof v === 'string') return parseIso(v.trim());
  const o = asJsonObject(v);
  const s = jsonNumber(o, 'seconds');
  return s === undefined ? NaN : s * 1000 + (jsonNumber(o, 'nanos') ?? 0) / 1e6;
}

/** protobuf Duration: "0.025376s", `{seconds, nanos}`, or a number of seconds; ms. */
function durationOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * 1000;
  if (typeof v === 'string') {
    const m = /^(\d{1,12}(?:\.\d{1,9})?)s?$/.exec(v.trim());
    return m ? Number(m[1]) * 1000 : undefined;
  }
  const o = asJsonObject(v);
  if (!o) return undefined;
  const s = jsonNumber(o, 'seconds') ?? 0;
  const n = jsonNumber(o, 'nanos') ?? 0;
  return s * 1000 + n / 1e6;
}

/** resource.type of load balancer request logs (global/classic, and the regional/internal rules). */
function isLbResource(type: string | undefined): boolean {
  return type === 'http_load_balancer' || (type !== undefined && /_lb_rule$/.test(type));
}

const LB_ENTRY_TYPE = 'LoadBalancerLogEntry';

function httpRequestOf(o: JsonObject): JsonObject | undefined {
  return asJsonObject(jsonField(o, 'httpRequest'));
}

function payloadOf(o: JsonObject): JsonObject | undefined {
  return asJsonObject(jsonField(o, 'jsonPayload'));
}

/** How sure we are that an object is a GCP LB request log entry. */
function entryScore(o: JsonObject): number {
  const hr = httpRequestOf(o);
  if (!hr) return 0;
  const payload = payloadOf(o);
  const resource = asJsonObject(jsonField(o, 'resource'));
  const atType = jsonString(payload, '@type') ?? '';
  if (
    atType.endsWith(LB_ENTRY_TYPE) ||
    jsonField(payload, 'statusDetails') !== undefined ||
    isLbResource(jsonString(resource, 'type'))
  )
    return 0.95;
  const shaped = jsonField(hr, 'requestUrl') !== undefined || jsonField(hr, 'requestMethod') !== undefined;
  return shaped && jsonField(o, 'timestamp') !== undefined ? 0.7 : 0.3;
}

/** statusDetails that mean the request reached the backend, which answered (101 if upgraded). */
const FROM_BACKEND = new Set([
  'response_sent_by_backend',
  'websocket_closed',
  'client_disconnected_after_partial_response',
  'backend_connection_closed_after_partial_response_sent',
]);
/** Cloud Armor refusals: a throttle rule, a rate-based ban (429) or a deny rule (its configured code). */
const SECURITY_POLICY = new Set([
  'throttled_by_security_policy',
  'banned_by_security_policy',
  'denied_by_security_policy',
]);
/** The client's request was malformed (400, 413). */
const CLIENT_FAULT = new Set([
  'invalid_request_headers',
  'upgrade_header_rejected',
  'headers_too_long',
  'failed_parsing_client_headers',
]);

/** `details="client_disconnected_before_any_response"` of a regional LB's proxyStatus. */
const PROXY_STATUS_DETAILS = /\bdetails="?([a-z0-9_]{1,80})/;

interface GcpEntry {
  start: number;
  durationMs?: number;
  status: number;
  details?: string;
  /** Cloud Armor outcome: the policy enforced a refusal */
  armorDenied: boolean;
  armor?: string;
  method?: string;
  url?: string;
  ip?: string;
  port?: string;
  backend?: string;
  userAgent?: string;
  requestId?: string;
}

function readEntry(o: JsonObject): GcpEntry | undefined {
  const hr = httpRequestOf(o);
  if (!hr) return undefined;
  const start = timestampOf(jsonField(o, 'timestamp'));
  if (Number.isNaN(start)) return undefined;
  const payload = payloadOf(o);
  const client = splitClientAddr(jsonString(hr, 'remoteIp') ?? '');
  const e: GcpEntry = {
    start,
    durationMs: durationOf(jsonField(hr, 'latency')),
    // proto3 JSON leaves a zero status out: "0 (client_disconnected_before_any_response)"
    status: jsonNumber(hr, 'status') ?? 0,
    armorDenied: false,
    method: jsonString(hr, 'requestMethod'),
    url: jsonString(hr, 'requestUrl'),
    ip: client.ip,
    port: client.port,
    backend: jsonString(hr, 'serverIp'),
    userAgent: jsonString(hr, 'userAgent'),
  };
  e.details = jsonString(payload, 'statusDetails');
  if (!e.details) {
    const proxyStatus = jsonString(payload, 'proxyStatus');
    e.details = proxyStatus ? PROXY_STATUS_DETAILS.exec(proxyStatus)?.[1] : undefined;
  }
  const armor = asJsonObject(jsonField(payload, 'enforcedSecurityPolicy'));
  if (armor) {
    const outcome = jsonString(armor, 'outcome');
    const action = jsonString(armor, 'configuredAction');
    e.armorDenied = outcome !== undefined && /^DENY$/i.test(outcome);
    e.armor = [jsonString(armor, 'name'), action, outcome].filter((x) => x !== undefined).join('/');
  }
  const trace = jsonString(o, 'trace');
  const traceId = trace ? trace.slice(trace.lastIndexOf('/') + 1) : undefined;
  e.requestId = traceId || jsonString(o, 'insertId');
  return e;
}

/** The backend's status; null when the GFE answered itself; undefined when unknown. */
function upstreamStatusOf(e: GcpEntry): number | null | undefined {
  const d = e.details;
  if (e.status === 101) return 101;
  if (d && FROM_BACKEND.has(d)) return e.status > 0 ? e.status : undefined;
  if (d === 'response_from_cache') return undefined;
  if (e.armorDenied || (d && (SECURITY_POLICY.has(d) || CLIENT_FAULT.has(d)))) return null;
  if (d === 'backend_timeout' || d === 'client_timed_out') return null;
  return undefined;
}

/**
 * The meaning of an entry (lb-formats.md §6, §11). Judgement calls:
 * - 101: `backend_timeout` is the GFE closing the tunnel at the backend service timeout (idle on
 *   the global LB, idle or active on the classic one) and `client_timed_out` its idling out the
 *   client → 'idle-close'; `backend_connection_closed_*` → 'conn-reset' (the SBC side closed);
 *   `client_disconnected_*` → 'ws-close' (the client went away); `websocket_closed` and the rest →
 *   'ws-open' (the handshake succeeded; how the tunnel ended is the client's and the SBC's to say).
 * - Cloud Armor (`throttled_`/`banned_`/`denied_by_security_policy`, or an enforced policy whose
 *   outcome is DENY) → 'edge-rate-limit', like a WAF refusal.
 * - malformed client headers, an Upgrade header refused → 'bad-header'.
 * - `backend_timeout` (502/503/504) or a 504 → 'upstream-timeout'.
 * - status 0 `client_disconnected_before_any_response` on the socket → 'client-timeout' (nginx 499).
 * - `failed_to_connect_to_backend`, `backend_connection_closed_before_data_sent_to_client` on the
 *   socket → 'conn-reset' (SBC unreachable or resetting); other ≥400 → 'ws-handshake-failed'.
 * - `client_timed_out` before an upgrade (0/408: the client sent no complete request) → none.
 */
function gcpSignal(e: GcpEntry, socketLike: boolean): Signal | undefined {
  const d = e.details ?? '';
  if (e.status === 101) {
    if (d === 'backend_timeout' || d === 'client_timed_out') return 'idle-close';
    if (d.startsWith('backend_connection_closed')) return 'conn-reset';
    if (d.startsWith('client_disconnected')) return 'ws-close';
    return 'ws-open';
  }
  if (e.armorDenied || SECURITY_POLICY.has(d)) return 'edge-rate-limit';
  if (CLIENT_FAULT.has(d)) return 'bad-header';
  if (d === 'websocket_handshake_failed') return 'ws-handshake-failed';
  if (d === 'backend_timeout' || e.status === 504) return 'upstream-timeout';
  if (d === 'client_timed_out') return undefined;
  if (d === 'client_disconnected_before_any_response' || e.status === 499)
    return socketLike ? 'client-timeout' : undefined;
  if (d === 'failed_to_connect_to_backend' || d === 'backend_connection_closed_before_data_sent_to_client')
    return socketLike ? 'conn-reset' : undefined;
  if (e.status === 429 && upstreamStatusOf(e) === null) return 'edge-rate-limit';
  if (e.status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

/** One request of a JSON load-balancer log, read into the fields the event needs. */
export interface LbRequest {
  /** epoch ms the request ended (the line's time) */
  end: number;
  start?: number;
  durationMs?: number;
  status: number;
  /** the backend's status; null when the load balancer answered itself */
  upstreamStatus?: number | null;
  upstream?: string;
  flags?: string;
  method?: string;
  url?: string;
  ip?: string;
  port?: string;
  requestId?: string;
  userAgent?: string;
  /** the format knows it was an upgrade (besides a 101 or a WebSocket path) */
  upgrade?: boolean;
}

/**
 * The event of one JSON LB request (gcp-lb, azure-appgw): keys, HTTP facts and the signal the
 * format chose given whether the request was the softphone's socket (`socketLike`).
 */
export function lbRequestEvent(
  r: LbRequest,
  signalOf: (socketLike: boolean) => Signal | undefined,
  raw: string,
  lineNo: number,
  ctx: ParseContext,
): LogEvent {
  const upgrade = r.status === 101 || r.upgrade === true || (r.url !== undefined && isWebSocketPath(r.url));
  const socketLike = upgrade || (r.url !== undefined && !isStaticAsset(r.url));

  const keys: EventKeys = {};
  if (r.ip) keys.ip = r.ip;
  if (r.ip && r.port) keys.peer = r.ip.includes(':') ? `[${r.ip}]:${r.port}` : `${r.ip}:${r.port}`;
  if (r.requestId) keys.requestId = r.requestId;
  const user = r.url ? urlUser(r.url) : undefined;
  if (user) keys.user = user;

  const http: HttpInfo = { status: r.status, upgrade };
  if (r.upstreamStatus !== undefined) http.upstreamStatus = r.upstreamStatus;
  if (r.upstream) http.upstream = r.upstream;
  if (r.durationMs !== undefined) {
    http.durationMs = Math.round(r.durationMs);
    http.startTs = r.start ?? r.end - r.durationMs;
  }
  if (r.flags) http.flags = r.flags;
  if (r.method) http.method = r.method;
  if (r.url) http.url = r.url;
  if (r.userAgent) http.userAgent = r.userAgent;

  const event: LogEvent = {
    ts: r.end,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: upgrade ? 'ws-handshake' : 'http-request',
    keys,
    http,
    text: `"${r.method ?? '-'} ${r.url ?? '-'}" ${r.status} upstream ${r.upstreamStatus ?? '-'}${r.flags ? ` ${r.flags}` : ''}`,
  };
  const signal = signalOf(socketLike);
  if (signal) event.signal = signal;
  return event;
}

function toEvent(e: GcpEntry, raw: string, lineNo: number, ctx: ParseContext): LogEvent {
  const flags = [e.details, e.armor ? `armor=${e.armor}` : undefined]
    .filter((x) => x !== undefined)
    .join(' ');
  const request: LbRequest = {
    end: e.start + (e.durationMs ?? 0),
    start: e.durationMs !== undefined ? e.start : undefined,
    durationMs: e.durationMs,
    status: e.status,
    upstreamStatus: upstreamStatusOf(e),
    upstream: e.backend,
    flags: flags || undefined,
    method: e.method,
    url: e.url,
    ip: e.ip,
    port: e.port,
    requestId: e.requestId,
    userAgent: e.userAgent,
    upgrade: e.details?.startsWith('websocket_'),
  };
  return lbRequestEvent(request, (socketLike) => gcpSignal(e, socketLike), raw, lineNo, ctx);
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

const HTTP_REQUEST_KEY = /"http_?request"\s?:/i;

function sniff(line: string): number {
  const t = line.trim();
  if (t.charCodeAt(0) !== 123 || !HTTP_REQUEST_KEY.test(t)) return 0;
  const o = parseJsonObject(trimFrame(t));
  return o ? entryScore(o) : 0;
}

/** A Cloud Logging entry that is not a request log (no httpRequest). */
function isLogEntry(o: JsonObject): boolean {
  return jsonField(o, 'insertId') !== undefined || jsonField(o, 'logName') !== undefined;
}

function createParser(ctx: ParseContext): LineParser {
  const records = new JsonRecords();
  return {
    push(line, lineNo, emit): LineOutcome {
      const r = records.push(line, lineNo);
      if (r.kind === 'part') return 'part';
      if (r.kind === 'frame') return 'skip';
      if (r.kind !== 'object') return 'unparsed';
      const entry = readEntry(r.obj);
      if (!entry) return isLogEntry(r.obj) ? 'skip' : 'unparsed';
      emit(toEvent(entry, r.raw, r.line, ctx));
      return 'event';
    },
    end() {},
  };
}

/**
 * The reference quotes the entry's fields and a field sample rather than a whole exported line;
 * these lines put the quoted values (`timestamp` 2021-09-10T22:28:32.701888Z, `latency`
 * "0.025376s", statusDetails, `@type`, resource labels) in the documented LogEntry layout.
 */
const samples: FormatSample[] = [
  {
    line: '{"httpRequest":{"requestMethod":"GET","requestUrl":"https://www.example.com/","status":200,"latency":"0.025376s","remoteIp":"203.0.113.7","serverIp":"10.128.0.5","userAgent":"curl/7.68.0"},"insertId":"1b2w3x4y5z","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"response_sent_by_backend"},"resource":{"type":"http_load_balancer","labels":{"backend_service_name":"web-backend","forwarding_rule_name":"web-fr","project_id":"my-project","target_proxy_name":"web-proxy","url_map_name":"web-map","zone":"global"}},"timestamp":"2021-09-10T22:28:32.701888Z"}',
    source:
      'cloud.google.com/load-balancing/docs/https/https-logging-monitoring (LogEntry fields, statusDetails) and a public repo field sample (lb-formats.md §6)',
  },
  {
    line: '{"httpRequest":{"requestMethod":"GET","requestUrl":"https://sip.example.com/ws","status":101,"latency":"30.001204s","remoteIp":"198.51.100.23","serverIp":"10.128.0.9"},"insertId":"w1x2y3z4a5","jsonPayload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"backend_timeout"},"resource":{"type":"http_load_balancer"},"timestamp":"2021-09-10T22:28:32.701888Z"}',
    source:
      'cloud.google.com/load-balancing/docs/https/https-logging-monitoring: backend_timeout, "101 if the HTTP(S) connection was upgraded to a websocket connection" (lb-formats.md §6)',
  },
  {
    line: '{"http_request":{"request_method":"GET","request_url":"https://www.example.com/ws","status":429,"latency":"0.000812s","remote_ip":"203.0.113.7"},"json_payload":{"@type":"type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry","statusDetails":"throttled_by_security_policy","enforcedSecurityPolicy":{"name":"rl-policy","configuredAction":"THROTTLE","outcome":"DENY"}},"timestamp":"2021-09-10T22:28:32.701888Z"}',
    source:
      'cloud.google.com/load-balancing/docs/https/https-logging-monitoring: throttled_by_security_policy (429), enforcedSecurityPolicy; snake_case keys as in the field sample (lb-formats.md §6, §11.2)',
  },
];

export const gcpLb: LogFormat = {
  name: 'gcp-lb',
  role: 'lb',
  description:
    'Google Cloud external Application Load Balancer request log entries (Cloud Logging JSON): timestamp = start, latency = duration; statusDetails and Cloud Armor say who answered and how a tunnel ended',
  samples,
  sniff,
  createParser,
};
