/**
 * Generic JSON lines (NDJSON) written by softphone apps, load harnesses and loggers such as pino,
 * logrus (`--log-format json`), k6 (`--out json`) or the Genesys telemetry traces. One object per
 * line; the usual key names are read at the top level and one level down (`details`, `data`,
 * `context`, …). The message text goes through the shared client-text reader, and explicit JSON
 * fields win over what the text says.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Role, Signal, SipInfo, WsInfo } from '../model.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';
import { leadingTimestamp, parseIso, utcContext } from './time.js';
import { readClientText, wsUrlUser } from './text-signals.js';
import { uriUser } from './sip-message.js';

type JsonObject = Record<string, unknown>;

const TIME_KEYS = ['time', 'timestamp', 'ts', '@timestamp', 'date', 'clientTime', 't', 'startedDateTime'];
const MESSAGE_KEYS = ['msg', 'message', 'text', 'event', 'error', 'err'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'levelname', 'log.level'];
const USER_KEYS = ['user', 'username', 'agent', 'aor', 'userId', 'user_id', 'vu', 'extension'];
const CALL_ID_KEYS = ['callId', 'call_id', 'callid', 'callID', 'Call-ID'];
const PEER_KEYS = ['peer', 'remote', 'clientAddr', 'client_addr', 'remoteAddress', 'remote_addr'];
const IP_KEYS = ['ip', 'clientIp', 'client_ip', 'remoteIp', 'remote_ip', 'sourceIp'];
const URL_KEYS = ['url', 'wsUrl', 'ws_url', 'uri', 'server'];
const HTTP_STATUS_KEYS = ['status', 'statusCode', 'status_code', 'code'];
const CLOSE_CODE_KEYS = ['closeCode', 'close_code'];
const REQUEST_ID_KEYS = ['requestId', 'request_id', 'x-request-id', 'X-Request-ID', 'reqId', 'correlationId'];
const ROLE_KEYS = ['role', 'source', 'component'];
/** Objects whose keys count as the record's own (one level down, and `tags`/`metadata` inside them). */
const NESTED_KEYS = ['details', 'data', 'context', 'tags', 'metadata', 'fields'];

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** The record itself, then its nested objects, nearest first. */
function scopesOf(root: JsonObject): JsonObject[] {
  const scopes: JsonObject[] = [root];
  for (const key of NESTED_KEYS) {
    const child = asObject(root[key]);
    if (!child) continue;
    scopes.push(child);
    for (const inner of NESTED_KEYS) {
      const grandchild = asObject(child[inner]);
      if (grandchild) scopes.push(grandchild);
    }
  }
  return scopes;
}

function firstValue(scopes: readonly JsonObject[], keys: readonly string[]): unknown {
  for (const scope of scopes) {
    for (const key of keys) {
      const v = scope[key];
      if (v !== undefined && v !== null && v !== '') return v;
    }
  }
  return undefined;
}

function firstString(scopes: readonly JsonObject[], keys: readonly string[]): string | undefined {
  for (const scope of scopes) {
    for (const key of keys) {
      const v = scope[key];
      if (typeof v === 'string' && v.trim() !== '') return v.trim();
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    }
  }
  return undefined;
}

function firstNumber(scopes: readonly JsonObject[], keys: readonly string[]): number | undefined {
  const v = firstValue(scopes, keys);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{1,5}$/.test(v.trim())) return Number(v);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/** Epoch seconds, ms, µs or ns → ms, told apart by magnitude. */
function epochToMs(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return NaN;
  if (n > 1e17) return n / 1e6; // ns
  if (n > 1e14) return n / 1e3; // µs
  if (n > 1e11) return n; // ms
  if (n > 1e8) return n * 1000; // s
  return NaN; // a duration or a counter, not a time
}

function timeOf(value: unknown, ctx: ParseContext): number {
  if (typeof value === 'number') return epochToMs(value);
  if (typeof value !== 'string') return NaN;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return epochToMs(Number(text));
  const iso = parseIso(text, ctx);
  if (!Number.isNaN(iso)) return iso;
  return leadingTimestamp(text, ctx)?.ts ?? NaN;
}

function recordTime(scopes: readonly JsonObject[], ctx: ParseContext): number {
  for (const scope of scopes) {
    for (const key of TIME_KEYS) {
      if (scope[key] === undefined) continue;
      const ts = timeOf(scope[key], ctx);
      if (!Number.isNaN(ts)) return ts;
    }
  }
  return NaN;
}

/** Sniffing has no input context; a time key only needs to hold something that reads as a time. */
const SNIFF_CONTEXT = utcContext();

function hasTime(obj: JsonObject): boolean {
  return !Number.isNaN(recordTime(scopesOf(obj), SNIFF_CONTEXT));
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

/** The message: `msg`/`message`/…; an error object gives its `message`; a JSON-encoded message is opened. */
function messageOf(scopes: readonly JsonObject[]): { text?: string; inner?: JsonObject } {
  const parts: string[] = [];
  let inner: JsonObject | undefined;
  for (const key of MESSAGE_KEYS) {
    const v = scopes[0][key];
    let text: string | undefined;
    if (typeof v === 'string') {
      const trimmed = v.trim();
      // Genesys telemetry: message is the JSON text of {clientTime, clientId, message, details}
      if (trimmed.startsWith('{') && trimmed.endsWith('}') && !inner) {
        inner = parseObject(trimmed);
        if (inner) continue;
      }
      text = trimmed;
    } else {
      // an error object (pino's `err`, a serialised Error): its message, and its code
      // (ERR_INVALID_CHAR, ECONNRESET) when the message does not already say it
      const err = asObject(v);
      const errText = err?.message ?? err?.msg;
      if (typeof errText === 'string') {
        text = errText.trim();
        if (typeof err?.code === 'string' && !text.includes(err.code)) text = `${err.code}: ${text}`;
      }
    }
    if (text && !parts.includes(text)) parts.push(text);
  }
  if (parts.length === 0) {
    for (const scope of scopes.slice(1)) {
      const v = firstString([scope], ['msg', 'message', 'text']);
      if (v) {
        parts.push(v);
        break;
      }
    }
  }
  return { text: parts.length ? parts.join(' — ') : undefined, inner };
}

/** A user id out of a field value: a SIP URI's user, or a plain token (not a User-Agent string). */
function userOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const fromUri = uriUser(value);
  if (fromUri) return fromUri;
  if (/[\s/()]/.test(value) || value.length > 64) return undefined;
  const bare = value.replace(/^sips?:/i, '');
  const at = bare.indexOf('@');
  return at < 0 ? bare : bare.slice(0, at);
}

function addressKeys(value: string | undefined): EventKeys {
  if (!value) return {};
  const m = /^(?:[a-z]+:\/\/)?(\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(value);
  if (m) return { peer: `${m[1]}:${m[2]}`, ip: m[1].replace(/^\[|\]$/g, '') };
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(value)) return { ip: value };
  return {};
}

function roleOf(value: string | undefined): Role | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (/^(?:sbc|sip[-_ ]?server|proxy[-_ ]?sip|kamailio|opensips|freeswitch|asterisk|registrar)\b/.test(v))
    return 'sbc';
  if (/^(?:lb|load[-_ ]?balancer|edge|nginx|haproxy|envoy|alb|elb|ingress|gateway|waf|cdn|traefik)\b/.test(v))
    return 'lb';
  if (
    /^(?:client|browser|softphone|phone|ua|user[-_ ]?agent|app|harness|loadgen|load[-_ ]?generator|k6|sipp)\b/.test(
      v,
    )
  )
    return 'client';
  return undefined;
}

const SIP_METHODS =
  /^(?:REGISTER|INVITE|OPTIONS|SUBSCRIBE|NOTIFY|MESSAGE|BYE|CANCEL|ACK|PUBLISH|INFO|REFER|UPDATE|PRACK)$/;

function handshakeSignal(status: number): Signal {
  return status === 101 ? 'ws-open' : 'ws-handshake-failed';
}

function sipStatusSignal(status: number, method: string | undefined): Signal | undefined {
  if (status === 401 || status === 407) return 'auth-challenge';
  if (status === 408) return 'transaction-timeout';
  if (method === 'REGISTER') {
    if (status >= 200 && status < 300) return 'registered';
    if (status >= 300) return 'registration-failed';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Record → event
// ---------------------------------------------------------------------------------------------

function toEvent(
  root: JsonObject,
  ctx: ParseContext,
  lineNo: number,
  raw: string,
  defaultRole: Role,
): LogEvent | undefined {
  let scopes = scopesOf(root);
  const message = messageOf(scopes);
  if (message.inner) {
    // the opened message is a record of its own: read it first, then the outer one
    const innerScopes = scopesOf(message.inner);
    scopes = [...innerScopes, ...scopes];
    const innerText = messageOf(innerScopes).text;
    if (innerText) message.text = innerText;
  }
  const ts = recordTime(scopes, ctx);
  if (Number.isNaN(ts) && !message.text) return undefined; // e.g. a k6 metric declaration
  // a k6 sample has no message; its metric name is the best label
  const text = message.text ?? firstString(scopes, ['metric']);
  const role = roleOf(firstString(scopes, ROLE_KEYS)) ?? defaultRole;

  const reading = readClientText(text ?? '');
  let kind: EventKind = reading.kind;
  let signal: Signal | undefined = reading.signal;

  // explicit fields
  const fieldKeys: EventKeys = {};
  const user = userOf(firstString(scopes, USER_KEYS));
  if (user) fieldKeys.user = user;
  const callId = firstString(scopes, CALL_ID_KEYS);
  if (callId) fieldKeys.callId = callId;
  Object.assign(fieldKeys, addressKeys(firstString(scopes, PEER_KEYS)));
  if (!fieldKeys.ip) {
    const ip = firstString(scopes, IP_KEYS);
    const port = firstNumber(scopes, ['port', 'remotePort', 'clientPort', 'remote_port']);
    if (ip) Object.assign(fieldKeys, port !== undefined ? addressKeys(`${ip}:${port}`) : addressKeys(ip));
  }
  const requestId = firstString(scopes, REQUEST_ID_KEYS);
  if (requestId) fieldKeys.requestId = requestId;
  const url = firstString(scopes, URL_KEYS);
  const wsUrl = url && /^wss?:\/\//i.test(url) ? url : undefined;
  if (wsUrl && !fieldKeys.user && !reading.keys.user) {
    const fromUrl = wsUrlUser(wsUrl);
    if (fromUrl) fieldKeys.user = fromUrl;
  }
  const keys: EventKeys = { ...reading.keys, ...fieldKeys };

  let ws: WsInfo | undefined = reading.ws ? { ...reading.ws } : undefined;
  if (wsUrl) ws = { ...ws, url: wsUrl };
  let http: HttpInfo | undefined = reading.http ? { ...reading.http } : undefined;
  let sip: SipInfo | undefined = reading.sip ? { ...reading.sip } : undefined;

  // close code: an explicit close-code field, or a 1000–4999 `code`
  const statusValue = firstNumber(scopes, HTTP_STATUS_KEYS);
  const closeCode =
    firstNumber(scopes, CLOSE_CODE_KEYS) ??
    (statusValue !== undefined && statusValue >= 1000 && statusValue <= 4999 ? statusValue : undefined);
  if (closeCode !== undefined) {
    const closeReason = firstString(scopes, ['closeReason', 'close_reason', 'reason']);
    const wasClean = firstValue(scopes, ['wasClean', 'was_clean']);
    ws = {
      ...ws,
      closeCode,
      closeReason: closeReason ?? ws?.closeReason,
      wasClean: typeof wasClean === 'boolean' ? wasClean : closeCode !== 1006,
    };
    if (!signal) {
      signal = 'ws-close';
      kind = 'ws-close';
    }
  }

  // status: HTTP (handshake) or SIP, by what the record is about
  if (statusValue !== undefined && statusValue >= 100 && statusValue <= 699) {
    const method = firstString(scopes, ['method', 'sipMethod', 'sip_method']);
    const sipMethod = method && SIP_METHODS.test(method.toUpperCase()) ? method.toUpperCase() : undefined;
    const isHandshake =
      !sipMethod && (wsUrl !== undefined || /handshake|upgrade|websocket/i.test(text ?? ''));
    const isSip =
      sipMethod !== undefined ||
      (!isHandshake && (callId !== undefined || /\bSIP\b|REGISTER|INVITE/.test(text ?? '')));
    if (isSip) {
      // a client receives responses; an SBC writing JSON sends them
      const direction = sip?.direction ?? (role === 'sbc' ? 'sent' : 'received');
      sip = { ...sip, status: statusValue, method: sip?.method ?? sipMethod, direction };
      if (!signal) signal = sipStatusSignal(statusValue, sip.method);
      if (kind === 'info') kind = 'sip-response';
    } else {
      http = { ...http, status: statusValue, upgrade: isHandshake || http?.upgrade };
      if (method && !sipMethod) http.method = method.toUpperCase();
      if (url) http.url = url;
      if (!signal && isHandshake) {
        signal = handshakeSignal(statusValue);
        kind = statusValue === 101 ? 'ws-open' : 'ws-handshake';
      } else if (kind === 'info') {
        kind = 'http-request';
      }
    }
  }

  // an error-level record with no meaning of its own is still an error
  const level = firstString(scopes, LEVEL_KEYS)?.toLowerCase();
  if (
    kind === 'info' &&
    !signal &&
    level &&
    /^(?:error|err|fatal|crit|critical|alert|emerg|50|60)$/.test(level)
  ) {
    kind = 'error';
  }

  const event: LogEvent = {
    ts,
    input: ctx.input,
    line: lineNo,
    raw,
    role,
    kind,
    keys,
  };
  if (text) event.text = text;
  if (signal) event.signal = signal;
  if (sip) event.sip = sip;
  if (http) event.http = http;
  if (ws) event.ws = ws;
  if (reading.retryDelayMs !== undefined) event.retryDelayMs = reading.retryDelayMs;
  if (reading.timeoutMs !== undefined) event.timeoutMs = reading.timeoutMs;
  return event;
}

function parseObject(text: string): JsonObject | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

class JsonLinesParser implements LineParser {
  constructor(
    private readonly ctx: ParseContext,
    private readonly role: Role,
  ) {}

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.trim();
    if (text === '') return 'skip';
    if (!text.startsWith('{')) return 'unparsed';
    const root = parseObject(text);
    if (!root) return 'unparsed';
    const event = toEvent(root, this.ctx, lineNo, line, this.role);
    if (!event) return 'skip';
    emit(event);
    return 'event';
  }

  end(): void {}
}

export const jsonLines: LogFormat = {
  name: 'json',
  role: 'client',
  description:
    'JSON lines from apps, harnesses and loggers (time/msg/level/user/callId/peer/url/status fields, nested details/data/context)',
  samples: [
    {
      line: '{"level":"error","msg":"WebSocket connection failed. Code: 1006","source":"console","time":"2026-11-24T10:00:03Z"}',
      source:
        'k6 `--log-format json` process log shape {"level","msg","source","time"} (client-formats.md §5.1); message from client-formats.md §0',
    },
    {
      line: '{"level":"error","date":"2026-11-24T10:00:03.120Z","method":"POST","url":"https://api.mypurecloud.com/api/v2/notifications/channels","correlationId":"8f0c2a51-6f4e-4a55-9b1e-3d3b8a1c2f10","statusCode":429}',
      source:
        'Genesys platform JS SDK logger JSON {level, date, method, url, correlationId, statusCode} (client-formats.md §2.6)',
    },
  ],
  sniff(line: string): number {
    const text = line.trim();
    if (!text.startsWith('{') || !text.endsWith('}')) return 0;
    const obj = parseObject(text);
    if (!obj) return 0;
    if (hasTime(obj)) return 0.6;
    return MESSAGE_KEYS.some((key) => obj[key] !== undefined) ? 0.3 : 0.1;
  },
  createParser(ctx: ParseContext): LineParser {
    return new JsonLinesParser(ctx, 'client');
  },
};
