/**
 * nginx access log: `combined`, ingress-nginx's `log-format-upstream`, and combined followed by
 * the extra fields a site's `log_format` adds (timings, upstream, connection, request id), bare or
 * as key=value, in any order. Reference: lb-formats.md §2.1, §2.4, §3, §11, §12.
 *
 * One line per request, written when the request ends: for a WebSocket that is when the tunnel
 * closes, with status 101 and `$request_time` = the socket's lifetime. So `ts` is the END of the
 * request and `http.startTs` = ts − duration.
 *
 * Some helpers here (container prefixes, URL readers, address splitting) are shared by the other
 * load-balancer formats (nginx-error, haproxy).
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal } from '../model.js';
import { uriUser } from './sip-message.js';
import { wsUrlUser } from './text-signals.js';
import { parseClf } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// Shared LB helpers
// ---------------------------------------------------------------------------------------------

/** docker-compose (`edge_1        | `, `edge-1  | `) */
const COMPOSE_PREFIX = /^[A-Za-z0-9][\w.-]*\s*\| /;
/** container runtime timestamp (`docker logs -t`, CRI files: `2024-05-29T02:49:15.436Z stdout F `) */
const RUNTIME_PREFIX =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}) (?:(?:stdout|stderr) [FP] )?/;

/** Removes what a container runtime or docker-compose puts before the program's own line. */
export function stripContainerPrefix(line: string): string {
  let rest = line;
  const compose = COMPOSE_PREFIX.exec(rest);
  if (compose) rest = rest.slice(compose[0].length);
  const runtime = RUNTIME_PREFIX.exec(rest);
  if (runtime) rest = rest.slice(runtime[0].length);
  return rest;
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

/** "::ffff:192.0.2.1" → "192.0.2.1", so that an IPv4 peer joins with an SBC's IPv4 log. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && IPV4.test(ip.slice(7)) ? ip.slice(7) : ip;
}

export function isIp(text: string): boolean {
  return IPV4.test(text) || (text.includes(':') && IPV6.test(text));
}

/** `ip`, `ip:port`, `[v6]:port` or a bare IPv6 address (whose last group is never read as a port). */
export function splitClientAddr(token: string): { ip?: string; port?: string } {
  const v4 = /^((?:\d{1,3}\.){3}\d{1,3})(?::(\d{1,5}))?$/.exec(token);
  if (v4) return { ip: v4[1], port: v4[2] };
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(token);
  if (v6) return { ip: normaliseIp(v6[1]), port: v6[2] };
  if (token.includes(':') && IPV6.test(token)) return { ip: normaliseIp(token) };
  return {};
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The path of a request target without query or fragment ("/ws/agent-1?x=1" → "/ws/agent-1"). */
function pathOf(url: string): string {
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  const rest = abs ? url.slice(abs[0].length) : url;
  const end = rest.search(/[?#]/);
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * A request target that looks like a WebSocket endpoint: a `ws://` URL, a path segment such as
 * `/ws`, `/wss`, `/websocket`, `/sip` (Kamailio and most SBC examples), or `transport=websocket`
 * (socket.io, Engine.IO).
 */
export function isWebSocketPath(url: string): boolean {
  if (/^wss?:\/\//i.test(url)) return true;
  if (/[?&]transport=websocket(?:&|$)/i.test(url)) return true;
  return /(?:^|\/)(?:ws|wss|websockets?|sip|sip-?ws|webrtc)(?:\/|$)/i.test(pathOf(url));
}

/** a last path segment with a file extension: /favicon.ico, /app.js, /vmkboot.gz */
const FILE_PATH = /\.[A-Za-z0-9]{1,5}$/;

/**
 * A request for a file (script, style sheet, icon, download): its 404 says nothing about the
 * softphone's socket, whose endpoint is a bare path (`/`, `/ws`, `/sip`).
 */
export function isStaticAsset(url: string): boolean {
  return FILE_PATH.test(pathOf(url));
}

/** User named by a request target: `?user=agent-042`, `/ws/agent-042`, or a sip: URI in it. */
export function urlUser(url: string): string | undefined {
  const asWs = url.startsWith('/') ? `ws://_${url}` : url.replace(/^https?:/i, 'ws:');
  return wsUrlUser(asWs) ?? uriUser(safeDecode(url));
}

/** "GET /ws?user=a HTTP/1.1" → method and target; undefined parts for "-", "" or binary junk. */
export function parseRequestLine(request: string): { method?: string; url?: string } {
  const m = /^([A-Z][A-Z_-]{0,19}) (\S+)(?: HTTP\/[\d.]+)?$/.exec(request);
  return m ? { method: m[1], url: m[2] } : {};
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

interface Token {
  /** `name` of a `name=value` token */
  key?: string;
  value: string;
  shape: 'quoted' | 'bracket' | 'bare';
}

/**
 * Quote-aware and linear: `key="…"` / `"…"` (a failed quote scan means no quote follows, so it
 * happens at most once), `[…]` whose content is one or two space-free words (`[time +zone]`,
 * `[$proxy_upstream_name]`, so its scan stops at the next token), or any run of non-space.
 */
const TOKEN = /([A-Za-z_][\w-]*=)?"([^"]*)"|\[([^\]\s]*(?: [^\]\s]*)?)\](?=\s|$)|(\S+)/g;
const KEY_VALUE = /^([A-Za-z_][\w-]*)=(.*)$/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(text))) {
    if (m[2] !== undefined) {
      tokens.push({ key: m[1]?.slice(0, -1), value: m[2], shape: 'quoted' });
    } else if (m[3] !== undefined) {
      tokens.push({ value: m[3], shape: 'bracket' });
    } else {
      const kv = KEY_VALUE.exec(m[4]);
      tokens.push(kv ? { key: kv[1], value: kv[2], shape: 'bare' } : { value: m[4], shape: 'bare' });
    }
  }
  return tokens;
}

/**
 * nginx prints retried upstreams as lists: `10.0.0.1:80, 10.0.0.2:80` (", " between tries) and
 * `10.0.0.1:80 : 10.0.0.2:80` (" : " across internal redirects). Rejoin them into one token.
 */
function joinLists(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const prev = out[out.length - 1];
    const next = tokens[i + 1];
    const bareValue = (x: Token | undefined): x is Token =>
      x !== undefined && x.shape === 'bare' && x.key === undefined;
    if (bareValue(t) && t.value === ':' && bareValue(prev) && bareValue(next)) {
      prev.value = `${prev.value} : ${next.value}`;
      i++;
    } else if (bareValue(t) && bareValue(prev) && prev.value.endsWith(',')) {
      prev.value = `${prev.value} ${t.value}`;
    } else {
      out.push({ ...t });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Extra fields after combined
// ---------------------------------------------------------------------------------------------

export interface Extras {
  /** $request_time, seconds */
  requestTimeS?: number;
  /** $upstream_response_time (last try), seconds */
  upstreamTimeS?: number;
  /** $upstream_addr; null when "-" (nginx answered itself) */
  upstreamAddr?: string | null;
  /** $upstream_status (last try); null when "-" */
  upstreamStatus?: number | null;
  connection?: string;
  requestId?: string;
  remotePort?: string;
  /** $msec: epoch seconds with ms, the log time */
  msec?: number;
  /** $http_upgrade was "websocket" */
  upgradeHeader?: boolean;
  /** $http_sec_websocket_protocol; null when the request sent none ("-") */
  subprotocol?: string | null;
}

const HEX32 = /^[0-9a-f]{32}$/i;
const SECONDS = /^\d+\.\d{1,6}$/;
const SECONDS_LIST = /^(?:\d+\.\d{1,6}|-)(?:(?:, | : )(?:\d+\.\d{1,6}|-))+$/;
const MSEC = /^\d{10}\.\d{3}$/;
const ADDRESS = /^(?:(?:\d{1,3}\.){3}\d{1,3}:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5}|unix:\S+)$/;
const STATUS = /^[1-5]\d{2}$/;
const STATUS_LIST = /^(?:[1-5]\d{2}|-)(?:(?:, | : )(?:[1-5]\d{2}|-))*$/;
const INTEGER = /^\d{1,19}$/;

/** Every element of a `, `/` : ` list satisfies `element`. */
function isListOf(value: string, element: RegExp): boolean {
  return value.split(/, | : /).every((part) => part === '-' || element.test(part));
}

/** Last number of an upstream list ("502, 101" → 101); null when the last try is "-". */
function lastOfList(value: string): number | null {
  const parts = value.split(/, | : /);
  const last = parts[parts.length - 1];
  return last === '-' ? null : Number(last);
}

function isPlausibleMsec(value: string): boolean {
  const n = Number(value);
  return MSEC.test(value) && n > 946_684_800 && n < 4_102_444_800;
}

/**
 * key=value extras, by the names log_format authors commonly give them (amplify: rt, ua, us, ut),
 * and nginx's own variable names (the log_format compiler feeds each `$variable` through here).
 */
export function readExtraField(key: string, value: string, x: Extras): void {
  const name = key.toLowerCase().replace(/-/g, '_');
  switch (name) {
    case 'rt':
    case 'request_time':
    case 'req_time':
    case 'reqtime':
      if (SECONDS.test(value)) x.requestTimeS ??= Number(value);
      return;
    case 'ut':
    case 'urt':
    case 'upstream_time':
    case 'upstream_response_time':
      if (SECONDS.test(value) || SECONDS_LIST.test(value)) x.upstreamTimeS ??= lastOfList(value) ?? undefined;
      return;
    case 'us':
    case 'ups':
    case 'upstream_status':
    case 'ustatus':
      if (STATUS_LIST.test(value)) x.upstreamStatus ??= lastOfList(value);
      return;
    case 'ua':
    case 'upstream':
    case 'upstream_addr':
    case 'uaddr':
      // `ua` is amplify's upstream address; a user agent under that name fails the address test
      if (value === '-') x.upstreamAddr ??= null;
      else if (isListOf(value, ADDRESS)) x.upstreamAddr ??= value;
      return;
    case 'connection':
    case 'conn':
    case 'connection_id':
    case 'cid':
      if (INTEGER.test(value)) x.connection ??= value;
      return;
    case 'request_id':
    case 'req_id':
    case 'reqid':
    case 'rid':
    case 'requestid':
    case 'x_request_id':
    case 'http_x_request_id':
      if (value && value !== '-') x.requestId ??= value;
      return;
    case 'remote_port':
    case 'client_port':
    case 'rport':
    case 'port':
      if (INTEGER.test(value)) x.remotePort ??= value;
      return;
    case 'msec':
      if (isPlausibleMsec(value)) x.msec ??= Number(value);
      return;
    case 'upgrade':
    case 'http_upgrade':
      if (/^websocket$/i.test(value)) x.upgradeHeader = true;
      return;
    case 'ws_protocol':
    case 'subprotocol':
    case 'sec_websocket_protocol':
    case 'http_sec_websocket_protocol':
      x.subprotocol ??= value === '-' || value === '' ? null : value;
      return;
    default:
      return;
  }
}

/**
 * Bare extras, read from their shape. The heuristic, most specific first:
 *
 * - 32 hex digits → `$request_id`.
 * - 10 digits, a dot and 3 digits, within 2000–2100 → `$msec` (epoch seconds = log time).
 * - another number with a dot → `$request_time` (the first); later floats (connect/header/response
 *   times) are not needed and are not guessed at.
 * - `ip:port`, `[v6]:port`, `unix:…`, or a `, `-list of them → `$upstream_addr`.
 * - `-` right after a float → `$upstream_addr` "-"; `-` right after an upstream address (or that
 *   "-") → `$upstream_status` "-". Any other `-` is left alone: many variables print "-".
 * - a 3-digit 1xx–5xx, or a list of them, right after a float or an upstream address, or equal to
 *   `$status` → `$upstream_status`.
 * - other integers → `$connection`, but only when exactly one such integer remains (after dropping
 *   the one right after an upstream address, `$upstream_response_length`, and one equal to the
 *   client port): `$remote_port`, `$request_length` or `$bytes_sent` look the same, and a wrong
 *   connection number would join unrelated error-log lines.
 * - quoted bare values are only checked for `websocket` (`"$http_upgrade"`); X-Forwarded-For and
 *   host names are not upstreams.
 */
function readBareExtras(tokens: Token[], status: number, clientPort: string | undefined, x: Extras): void {
  let prev: 'float' | 'addr' | 'status' | 'other' = 'other';
  const integers: string[] = [];
  for (const t of tokens) {
    if (t.key !== undefined) {
      readExtraField(t.key, t.value, x);
      prev = 'other';
      continue;
    }
    const v = t.value;
    if (t.shape !== 'bare') {
      if (/^websocket$/i.test(v)) x.upgradeHeader = true;
      prev = 'other';
      continue;
    }
    if (HEX32.test(v)) {
      x.requestId ??= v;
      prev = 'other';
    } else if (isPlausibleMsec(v)) {
      x.msec ??= Number(v);
      prev = 'other';
    } else if (SECONDS.test(v) || SECONDS_LIST.test(v)) {
      if (SECONDS.test(v)) x.requestTimeS ??= Number(v);
      prev = 'float';
    } else if (v !== '-' && isListOf(v, ADDRESS)) {
      x.upstreamAddr ??= v;
      prev = 'addr';
    } else if (v === '-') {
      if (prev === 'float' && x.upstreamAddr === undefined) {
        x.upstreamAddr = null;
        prev = 'addr';
      } else if (prev === 'addr' && x.upstreamStatus === undefined) {
        x.upstreamStatus = null;
        prev = 'status';
      } else {
        prev = 'other';
      }
    } else if (
      STATUS_LIST.test(v) &&
      x.upstreamStatus === undefined &&
      (prev === 'float' || prev === 'addr' || lastOfList(v) === status)
    ) {
      x.upstreamStatus = lastOfList(v);
      prev = 'status';
    } else if (INTEGER.test(v)) {
      if (prev !== 'addr' && v !== clientPort) integers.push(v);
      prev = 'other';
    } else {
      prev = 'other';
    }
  }
  if (integers.length === 1) x.connection ??= integers[0];
}

/**
 * ingress-nginx: `$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]
 * $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`
 * (older controllers have only the first bracket). Read by position.
 */
function readIngressExtras(tokens: Token[]): Extras | undefined {
  if (tokens.length < 8 || tokens[2].shape !== 'bracket') return undefined;
  const at = tokens[3].shape === 'bracket' ? 4 : 3;
  const reqTime = tokens[1];
  const [addr, , upTime, upStatus, reqId] = tokens.slice(at, at + 5); // the skipped one: response length
  if (!SECONDS.test(reqTime.value)) return undefined;
  const x: Extras = { requestTimeS: Number(reqTime.value) };
  if (addr) x.upstreamAddr = addr.value === '-' ? null : addr.value;
  if (upTime && (SECONDS.test(upTime.value) || SECONDS_LIST.test(upTime.value))) {
    x.upstreamTimeS = lastOfList(upTime.value) ?? undefined;
  }
  if (upStatus && STATUS_LIST.test(upStatus.value)) x.upstreamStatus = lastOfList(upStatus.value);
  if (reqId && reqId.value !== '-' && reqId.shape === 'bare') x.requestId = reqId.value;
  return x;
}

// ---------------------------------------------------------------------------------------------
// The line
// ---------------------------------------------------------------------------------------------

export interface AccessLine {
  ts: number;
  ip?: string;
  port?: string;
  request: string;
  method?: string;
  url?: string;
  status: number;
  userAgent?: string;
  extras: Extras;
}

const CLF_TIME = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$/;

/** Reads one access line (already without container prefix), or undefined if it is not one. */
function readAccessLine(body: string, ctx: ParseContext): AccessLine | undefined {
  const tokens = tokenize(body);
  if (tokens.length < 6 || tokens[0].shape !== 'bare' || tokens[0].key !== undefined) return undefined;

  // `$remote_addr - $remote_user [$time_local]`; old ingress: `$addr - [$real_ip] - $user [$time_local]`
  let timeAt = -1;
  for (let i = 2; i <= 5 && i < tokens.length; i++) {
    if (tokens[i].shape === 'bracket' && CLF_TIME.test(tokens[i].value)) {
      timeAt = i;
      break;
    }
    if (tokens[i].shape === 'quoted') return undefined;
  }
  if (timeAt < 0) return undefined;
  // "$request", or ingress-nginx's documented "$request_method $uri $server_protocol": same shape
  const request = tokens[timeAt + 1];
  const status = tokens[timeAt + 2];
  const bytes = tokens[timeAt + 3];
  if (request?.shape !== 'quoted' || request.key !== undefined) return undefined;
  if (status?.shape !== 'bare' || !STATUS.test(status.value)) return undefined;
  if (bytes && bytes.shape === 'bare' && !/^(?:\d+|-)$/.test(bytes.value)) return undefined;

  const ts = parseClf(tokens[timeAt].value, ctx);
  if (Number.isNaN(ts)) return undefined;

  let next = timeAt + 4;
  let userAgent: string | undefined;
  if (
    tokens[next]?.shape === 'quoted' &&
    tokens[next + 1]?.shape === 'quoted' &&
    !tokens[next].key &&
    !tokens[next + 1].key
  ) {
    userAgent = tokens[next + 1].value;
    next += 2;
  }

  const client = splitClientAddr(tokens[0].value);
  const statusCode = Number(status.value);
  const rest = joinLists(tokens.slice(next));
  let extras = readIngressExtras(rest);
  if (!extras) {
    extras = {};
    readBareExtras(rest, statusCode, client.port, extras);
  }
  return {
    ts,
    ip: client.ip,
    port: client.port ?? extras.remotePort,
    request: request.value,
    ...parseRequestLine(request.value),
    status: statusCode,
    userAgent: userAgent && userAgent !== '-' ? userAgent : undefined,
    extras,
  };
}

/**
 * The meaning of an access line's status (lb-formats.md §2.4, §11). 503 is nginx's default
 * limit_req / limit_conn status, so a 503 nginx answered itself (upstream "-") is an edge limit;
 * the classifier confirms with the error log. Other ≥400 answers are handshake failures when the
 * request looks like the softphone's socket (an upgrade, or anything but a page asset); a request
 * line nginx could not read ("", binary junk) gets no signal.
 */
function accessSignal(
  status: number,
  upstreamStatus: number | null | undefined,
  socketLike: boolean,
): Signal | undefined {
  if (status === 101) return 'ws-open';
  if (status === 499) return 'client-timeout';
  if (status === 504) return 'upstream-timeout';
  if (status === 429) return 'edge-rate-limit';
  if (status === 503 && upstreamStatus === null) return 'edge-rate-limit';
  if (status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

/** The event of one access line; also built by the log_format compiler (nginx-log-format.ts). */
export function accessEvent(a: AccessLine, raw: string, lineNo: number, ctx: ParseContext): LogEvent {
  const x = a.extras;
  const end = x.msec !== undefined ? Math.round(x.msec * 1000) : a.ts;
  const seconds = x.requestTimeS ?? x.upstreamTimeS;
  const durationMs = seconds !== undefined ? Math.round(seconds * 1000) : undefined;
  const upstreamStatus =
    x.upstreamStatus !== undefined ? x.upstreamStatus : x.upstreamAddr === null ? null : undefined;
  const upgrade =
    a.status === 101 || x.upgradeHeader === true || (a.url !== undefined && isWebSocketPath(a.url));
  const socketLike = upgrade || (a.url !== undefined && !isStaticAsset(a.url));

  const keys: EventKeys = {};
  if (a.ip) keys.ip = a.ip;
  if (a.ip && a.port) keys.peer = a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
  if (x.connection) keys.connId = x.connection;
  if (x.requestId) keys.requestId = x.requestId;
  const user = a.url ? urlUser(a.url) : undefined;
  if (user) keys.user = user;

  const http: HttpInfo = { status: a.status, upgrade };
  if (upstreamStatus !== undefined) http.upstreamStatus = upstreamStatus;
  if (x.upstreamAddr) http.upstream = x.upstreamAddr;
  if (durationMs !== undefined) {
    http.durationMs = durationMs;
    http.startTs = end - durationMs;
  }
  if (a.method) http.method = a.method;
  if (a.url) http.url = a.url;
  if (a.userAgent) http.userAgent = a.userAgent;

  const kind: EventKind = upgrade ? 'ws-handshake' : 'http-request';
  const event: LogEvent = {
    ts: end,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind,
    keys,
    http,
    text: `"${a.request}" ${a.status}${upstreamStatus !== undefined ? ` upstream ${upstreamStatus ?? '-'}` : ''}`,
  };
  const signal = accessSignal(a.status, upstreamStatus, socketLike);
  if (signal) event.signal = signal;
  if (typeof x.subprotocol === 'string') event.ws = { subprotocol: x.subprotocol };
  // the SBC refuses a handshake that does not offer `sip` (RFC 7118) with a 400 (or 426)
  if (upgrade && (a.status === 400 || a.status === 426) && lacksSip(x.subprotocol))
    event.signal = 'missing-subprotocol';
  return event;
}

/** $http_sec_websocket_protocol was logged and offers no `sip` (or nothing at all). */
function lacksSip(protocols: string | null | undefined): boolean {
  if (protocols === undefined) return false;
  return protocols === null || !protocols.split(',').some((p) => p.trim().toLowerCase() === 'sip');
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

/** `addr - user [dd/Mon/yyyy:HH:MM:SS +zone] "` (old ingress has two more words before the time). */
const SNIFF = /^(\S+) (?:\S+ ){2,4}\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "/;

function sniff(line: string): number {
  const m = SNIFF.exec(stripContainerPrefix(line));
  if (!m) return 0;
  return splitClientAddr(m[1]).ip ? 0.95 : 0.8;
}

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      const body = stripContainerPrefix(line);
      if (body.trim() === '') return 'skip';
      const access = readAccessLine(body, ctx);
      if (!access) return 'unparsed';
      emit(accessEvent(access, line, lineNo, ctx));
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
    source: 'tstack/lnav test/logfile_access_log.0 (peer-corpus/lnav-access.log)',
  },
  {
    line: '192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7"',
    source: 'tstack/lnav test/logfile_access_log.0 (peer-corpus/lnav-access.log)',
  },
  {
    line: '192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkernel.gz HTTP/1.0" 200 78929 "-" "gPXE/0.9.7"',
    source: 'tstack/lnav test/logfile_access_log.0 (peer-corpus/lnav-access.log)',
  },
  {
    line: 'backend_1     | 172.22.0.4 - - [05/Jan/2022:17:24:48 +0000] "GET /path/to/my/content.ext HTTP/1.0" 200 70 "-" "HTTPie/2.6.0"',
    source: 'leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.1)',
  },
  {
    line: 'edge_1        | 172.22.0.1 - - [05/Jan/2022:17:24:48 +0000] "GET /path/to/my/content.ext HTTP/1.1" 200 70 "-" "HTTPie/2.6.0"',
    source: 'leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.1)',
  },
  {
    line: '10.140.0.4 - - [03/Feb/2017:11:49:25 +0000] "GET /socket.io/?EIO=3&transport=websocket HTTP/1.1" 101 2945 "-" "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.21 Safari/537.36" "xxx.xxx.xxx.xxx,xxx.xxx.xxx.xxx" "xxx.com" sn="xxx.com" rt=24388.248 ua="10.115.242.54:8082" us="101" ut="24388.248" ul="0" cs=-',
    source: 'github.com/nginxinc/nginx-amplify-doc issue #16 (lb-formats.md §2.1)',
  },
  {
    line: '192.168.144.1 - - [12/Dec/2014:22:59:02 +0100] "GET /adsf HTTP/1.1" 404 118 "-" "-" "-"',
    source: 'fail2ban/fail2ban fail2ban/tests/files/logs/nginx-bad-request',
  },
];

export const nginxAccess: LogFormat = {
  name: 'nginx-access',
  role: 'lb',
  description:
    'nginx access log: combined, ingress-nginx log-format-upstream, combined + timing/upstream/connection/request-id extras (bare or key=value); one line per request, written at its end',
  samples,
  sniff,
  createParser,
};
