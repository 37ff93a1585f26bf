/**
 * Kamailio, whatever carries its log: syslog (RFC 3164 and journald short-precise), stderr and
 * container output (`NN(pid) LEVEL: …`, optionally behind an RFC 3339 runtime stamp), the stock
 * `log_prefix` `{mt cseq method callid}` and bracket prefixes, JSON and CEE structured logging, and
 * sipdump text traces. Reference: sbc-formats.md §1 and §8, observed-on-real-servers.md.
 *
 * Every regex here is anchored or starts with a literal, and none nests quantifiers over
 * overlapping classes, so a 64 KB line costs linear time.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal, SipInfo, WsInfo } from '../model.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';
import { isoLength, parseIso, parseSyslog } from './time.js';
import { parseSipMessage, uriUser } from './sip-message.js';

// ---------------------------------------------------------------------------------------------
// Line header: [container stamp] [syslog stamp [host]] [ident[pid]:] [rank(pid)] LEVEL: [prefix]
//              [origin [file:line]:] [func():] message
// ---------------------------------------------------------------------------------------------

type Level = 'ALERT' | 'BUG' | 'CRITICAL' | 'ERROR' | 'WARNING' | 'NOTICE' | 'INFO' | 'DEBUG';

const CONTAINER_STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;
const SYSLOG_STAMP = /^[A-Z][a-z]{2}\s+\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:\s+|$)/;
/** `host ident[pid]: ` or `ident[pid]: `; ident may be a path such as /usr/sbin/kamailio. */
const IDENT = /^(?:([^\s[\]]+)\s+)?([^\s[\]]+)\[(\d+)\]:(?:\s+|$)/;
/** `23(24) ` — process rank and pid on stderr. */
const RANK = /^(-?\d+)\((\d+)\)\s+/;
/** Kamailio always writes a space after the level colon; OpenSIPS (`ERROR:proto_ws:`) does not. */
const LEVEL = /^(ALERT|BUG|CRITICAL|ERROR|WARNING|NOTICE|INFO|DEBUG):(?:\s+|$)/;
/** `<core> [core/tcp_main.c:1746]: `, `websocket [ws_frame.c:813]: `, `<script>: `, `webrtc:<script>: ` */
const ORIGIN = /^(\S*<script>|<core>|[a-z][a-z0-9_]*)(?:\s+\[([^\]\s:]+):(\d+)\])?:(?:\s+|$)/;
const FUNC = /^(\w+)\(\):(?:\s+|$)/;
const GLUED_HALVES = / ->\s*-?\d+\(\d+\) [A-Z]+: (?:<core> )?(?:\[[^\]\s]*\]: )?\w+\(\): -> /;

interface Header {
  ts: number;
  pid?: string;
  ident?: string;
  hasRank: boolean;
  level?: Level;
  /** `{1 1 REGISTER callid}` and `[callid]` prefixes, verbatim */
  prefixes: string[];
  /** `<core>`, `<script>` (or `x:<script>`), or a module name */
  origin?: string;
  file?: string;
  func?: string;
  message: string;
}

function isJsonStart(text: string): boolean {
  return text.startsWith('{"') || text.startsWith('{ "');
}

function cut(text: string, length: number): string {
  return text.slice(length).trimStart();
}

/** Reads the header of a classic Kamailio line; undefined when the line has no Kamailio shape. */
function readHeader(line: string, ctx?: ParseContext): Header | undefined {
  let rest = line.trim();
  let ts = NaN;
  let m: RegExpExecArray | null;

  if (CONTAINER_STAMP.test(rest)) {
    const n = isoLength(rest);
    ts = parseIso(rest, ctx);
    rest = cut(rest, n);
  }
  if ((m = SYSLOG_STAMP.exec(rest))) {
    if (Number.isNaN(ts) && ctx) ts = parseSyslog(rest, ctx);
    rest = rest.slice(m[0].length);
  }
  const header: Header = { ts, hasRank: false, prefixes: [], message: '' };
  // a level word first means there is no ident (and `ERROR: tm[1]:` must not read as one)
  if (!LEVEL.test(rest) && (m = IDENT.exec(rest))) {
    header.ident = m[2];
    header.pid = m[3];
    rest = rest.slice(m[0].length);
  }
  if (!LEVEL.test(rest) && (m = RANK.exec(rest))) {
    header.hasRank = true;
    header.pid = m[2];
    rest = rest.slice(m[0].length);
  }
  if (header.ident && isJsonStart(rest)) {
    // syslog JSON variant: `host kamailio[pid]: { "level": … }` — the caller reads the body
    header.message = rest;
    return header;
  }
  if ((m = LEVEL.exec(rest))) {
    header.level = m[1] as Level;
    rest = rest.slice(m[0].length);
  }
  for (let i = 0; i < 4 && (rest.startsWith('{') || rest.startsWith('[')); i++) {
    const close = rest.indexOf(rest[0] === '{' ? '}' : ']');
    if (close < 0 || isJsonStart(rest)) break;
    header.prefixes.push(rest.slice(0, close + 1));
    rest = cut(rest, close + 1);
  }
  if ((m = ORIGIN.exec(rest))) {
    // a bare word is a module only when it has a [file:line] or a level precedes it
    if (m[2] || m[1].includes('<') || header.level) {
      header.origin = m[1];
      header.file = m[2];
      rest = rest.slice(m[0].length);
      if ((m = FUNC.exec(rest))) {
        header.func = m[1];
        rest = rest.slice(m[0].length);
      }
    }
  }
  if (!header.level && !header.file) return undefined;
  // stderr has no newline between the halves of a split TCP error:
  // `… ([a]:p ->84(131) ERROR: <core> [core/tcp_read.c:299]: tcp_read_data(): -> [b]:q)`
  header.message = rest.includes('(): -> [') ? rest.replace(GLUED_HALVES, ' -> ') : rest;
  return header;
}

// ---------------------------------------------------------------------------------------------
// Prefixes and JSON records
// ---------------------------------------------------------------------------------------------

interface PrefixKeys {
  callId?: string;
  method?: string;
  cseq?: number;
}

/** `{1 1 REGISTER callid}`, `{2 1 REGISTER callid DEFAULT_ROUTE}`, `[callid]`, `[uuid]`. */
function readPrefixes(prefixes: readonly string[]): PrefixKeys {
  const keys: PrefixKeys = {};
  for (const prefix of prefixes) {
    const inner = prefix.slice(1, -1).trim();
    if (prefix[0] === '{') {
      const parts = inner.split(/\s+/);
      if (parts.length >= 4 && parts.length <= 5 && /^[12]$/.test(parts[0]) && /^\d+$/.test(parts[1])) {
        keys.cseq = Number(parts[1]);
        if (/^[A-Z]+$/.test(parts[2])) keys.method = parts[2];
        if (isCallId(parts[3])) keys.callId = parts[3];
      }
    } else if (!keys.callId && !inner.includes('=') && isCallId(inner)) {
      keys.callId = inner;
    }
  }
  return keys;
}

function isCallId(text: string): boolean {
  return text.length >= 6 && !/\s/.test(text) && !/^(?:<null>|null|-)$/i.test(text);
}

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

function stringField(obj: JsonObject | undefined, key: string): string | undefined {
  const v = obj?.[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

const LEVEL_ALIASES: Record<string, Level> = {
  ALERT: 'ALERT',
  BUG: 'BUG',
  CRITICAL: 'CRITICAL',
  CRIT: 'CRITICAL',
  ERROR: 'ERROR',
  ERR: 'ERROR',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  NOTICE: 'NOTICE',
  INFO: 'INFO',
  DEBUG: 'DEBUG',
  DBG: 'DEBUG',
};

/**
 * A Kamailio JSON record: `{ "time": …, "idx": …, "pid": …, "level": …, "module": …, "callid": …,
 * "message": … }` (a log_prefix may add fields such as `"method"`), or the CEE shape
 * `{"time":…,"proc":{"id":…},"pri":…,"subsys":…,"native":{"function":…},"msg":"…\n"}`.
 * `syslogTs` is the time of a syslog header wrapped around the record, if any.
 */
function readJsonRecord(
  text: string,
  ctx: ParseContext,
  syslogTs: number,
): { header: Header; prefix: PrefixKeys } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const obj = asObject(parsed);
  if (!obj) return undefined;
  const levelText = (stringField(obj, 'level') ?? stringField(obj, 'pri'))?.toUpperCase();
  const level = levelText ? LEVEL_ALIASES[levelText] : undefined;
  const rawMessage = obj.message ?? obj.msg;
  if (!level && rawMessage === undefined) return undefined;
  const message =
    typeof rawMessage === 'string'
      ? rawMessage.trim()
      : rawMessage === undefined
        ? ''
        : JSON.stringify(rawMessage);
  const time = stringField(obj, 'time');
  const header: Header = {
    ts: time ? parseIso(time, ctx) : syslogTs,
    pid: stringField(obj, 'pid') ?? stringField(asObject(obj.proc), 'id'),
    hasRank: false,
    level,
    prefixes: [],
    origin: stringField(obj, 'module') ?? stringField(obj, 'subsys'),
    file: stringField(obj, 'file') ?? stringField(asObject(obj.file), 'name'),
    func: stringField(obj, 'function') ?? stringField(asObject(obj.native), 'function'),
    message,
  };
  const prefix: PrefixKeys = {};
  const callId = stringField(obj, 'callid') ?? stringField(obj, 'call_id');
  if (callId && isCallId(callId)) prefix.callId = callId;
  const method = stringField(obj, 'method');
  if (method && /^[A-Z]{3,12}$/.test(method)) prefix.method = method;
  return { header, prefix };
}

function looksLikeKamailioJson(text: string): number {
  if (!text.startsWith('{') || !text.trimEnd().endsWith('}')) return 0;
  if (text.includes('"idx":') && text.includes('"level":') && text.includes('"module":')) return 0.9;
  if (
    text.includes('"proc":') &&
    text.includes('"pri":') &&
    (text.includes('"subsys":') || text.includes('"native":'))
  ) {
    return 0.9;
  }
  // syslog JSON variant: no time/idx/pid
  if (text.includes('"level":') && text.includes('"module":') && text.includes('"function":')) return 0.85;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Message text → meaning
// ---------------------------------------------------------------------------------------------

interface Reading {
  kind: EventKind;
  signal?: Signal;
  keys: EventKeys;
  sip?: SipInfo;
  http?: HttpInfo;
  ws?: WsInfo;
  /** nothing of diagnostic value */
  skip?: boolean;
}

const ADDRESS = String.raw`(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])`;
/** `([94.59.22.81]:38808 ->` — the remote side of a Kamailio TCP read error. */
const TCP_REMOTE = /\(\[([0-9A-Fa-f:.]+)\]:(\d+) ->/;
/** An address the line says a request came from: `from 1.2.3.4:5060`, `(IP:1.2.3.4:5060)`, `source address …`. */
const SOURCE_ADDRESS = new RegExp(
  String.raw`\b(?:from|source(?: address)?|src(?:ip)?|IP|client|peer)\s*(?:[:=]\s*)?` +
    ADDRESS +
    String.raw`:(\d{1,5})\b`,
  'i',
);
const IPV4 = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/;
const FROM_URI = /\bfrom[:=]?\s*<?(sips?:[^\s>;,]+)/i;
const CALL_ID_IN_TEXT = /\b(?:call-?id|callid|ci)\s*[:=]\s*([^\s,;|)]{6,})/i;
const CONN_ID = /\bid\s*(?:[:=]\s*)?(\d+)\b/;
const RETRY_AFTER = /Retry-After\s*(?:[:=]\s*)?(\d+)/i;
const SIP_METHOD =
  /\b(REGISTER|INVITE|OPTIONS|SUBSCRIBE|NOTIFY|MESSAGE|BYE|CANCEL|ACK|PUBLISH|INFO|REFER|UPDATE|PRACK)\b/;
const REPLY_SENT =
  /\b(?:sending|sent|send|replied|replying|reply|responded|responding|respond|sl_send_reply)(?: with| back)?[:(]?\s*"?([1-6]\d\d)\b"?(?:[ ,]+"?([A-Za-z][A-Za-z ]{0,40}))?/i;
const REPLY_RECEIVED = /\b(?:reply|response)\s*(?::\s*)?(\d{3})\b(?: ([A-Za-z][A-Za-z ]{0,40}))?/i;
const REQUEST_RECEIVED = new RegExp(
  String.raw`\brequest (\w+) received from ` + ADDRESS + String.raw`:(\d{1,5})(?: via (\w+))?`,
  'i',
);
/** `WebSocket connection from $si:$sp has closed` (misc/examples/webrtc/websocket.cfg) */
const WS_CLOSED_FROM = new RegExp(String.raw`connection from ` + ADDRESS + String.raw`:(\d{1,5})`, 'i');
const THROTTLE_REASON = /limit|too many|rate|flood|ban|block|overload|capacity|exceed/i;
/** Debug lines worth reading (`xdbg("request from blocked IP …")`); every ordinary close logs `EOF on 0x…` at debug. */
const DEBUG_WORTH_READING = /blocked IP|PIKE|pike|limit/;
const AUTH_FAILED =
  /auth(?:entication|orization)? (?:failed|failure|error|rejected)|failed to authenticate|invalid (?:credentials|password|nonce|user)|wrong password|bad password|unknown user|user not found|credentials? (?:rejected|invalid)/i;

function peerKeys(host: string, port: string): EventKeys {
  const ip = host.startsWith('[') ? host.slice(1, -1) : host;
  return { ip, peer: `${host}:${port}` };
}

/** Keys any Kamailio message can carry: the source address, the From user, a Call-ID. */
function messageKeys(msg: string): EventKeys {
  const keys: EventKeys = {};
  const src = SOURCE_ADDRESS.exec(msg);
  if (src) Object.assign(keys, peerKeys(src[1], src[2]));
  if (msg.includes('sip:') || msg.includes('sips:')) {
    const from = FROM_URI.exec(msg);
    const user = (from ? uriUser(from[1]) : undefined) ?? uriUser(msg);
    if (user) keys.user = user;
  }
  const callId = CALL_ID_IN_TEXT.exec(msg);
  if (callId) keys.callId = callId[1];
  return keys;
}

/** Cuts a reason phrase read by REPLY_SENT / REPLY_RECEIVED at the first non-reason word. */
function reasonPhrase(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const r = text.split(/\s(?:to|for|from|because|due|on|in|at|received|via|with)\b/i)[0].trim();
  return r && !/^(?:to|for|from|because|due|received|via|with)$/i.test(r) ? r : undefined;
}

/** What a final status from the SBC means (sbc-formats.md §1.6, §6.2, §8 heuristics). */
function statusSignal(
  status: number,
  reason?: string,
  retryAfter?: number,
  method?: string,
): Signal | undefined {
  const r = reason ?? '';
  switch (status) {
    case 401:
    case 407:
      return 'auth-challenge';
    case 403:
      if (THROTTLE_REASON.test(r)) return 'sbc-rate-limit';
      if (/auth|credential|password|wrong|invalid/i.test(r)) return 'auth-failed';
      return 'acl-rejected';
    case 408:
      return 'transaction-timeout';
    case 503:
      if (retryAfter !== undefined || THROTTLE_REASON.test(r) || /server unavailable/i.test(r))
        return 'sbc-rate-limit';
      return 'sbc-overload';
    case 200:
      return method === 'REGISTER' ? 'registered' : undefined;
    default:
      return undefined;
  }
}

/** Verbs that say the SBC itself answered; bare `reply`/`response` may also name a received one. */
const SENDING_VERB = /^(?:sending|sent|send|replied|replying|responded|responding|sl_send_reply)/i;
const RECEIVED_CONTEXT = /\b(?:got|received|receiving|incoming)\b/i;
const NOT_A_REASON = /^(?:bytes?|ms|msec|usec|sec|seconds?|times?|of|and)\b/i;

/** A script line that reports a SIP reply: `sending 503 Limiting`, `replied 200 OK to REGISTER`, `SIP reply 200 OK received`. */
function readReply(
  msg: string,
): { status: number; reason?: string; direction: 'sent' | 'received' } | undefined {
  const received = RECEIVED_CONTEXT.test(msg);
  const sent = REPLY_SENT.exec(msg);
  if (sent && !NOT_A_REASON.test(sent[2] ?? '') && (SENDING_VERB.test(sent[0]) || !received)) {
    return { status: Number(sent[1]), reason: reasonPhrase(sent[2]), direction: 'sent' };
  }
  if (!received) return undefined;
  const got = REPLY_RECEIVED.exec(msg);
  if (!got || NOT_A_REASON.test(got[2] ?? '')) return undefined;
  return { status: Number(got[1]), reason: reasonPhrase(got[2]), direction: 'received' };
}

function handshake(signal: Signal, status: number): Pick<Reading, 'kind' | 'signal' | 'http'> {
  return { kind: 'ws-handshake', signal, http: { status, upgrade: true } };
}

/**
 * Reads one Kamailio message (the text after the header). Cheap substring checks come first, so a
 * line that matches nothing costs a handful of `includes` calls.
 */
function readMessage(
  msg: string,
  level: Level | undefined,
  origin: string | undefined,
  func: string | undefined,
): Reading {
  // debug output is most of a verbose log; only the blocked-source xdbg of the stock config matters there
  if (level === 'DEBUG' && !DEBUG_WORTH_READING.test(msg)) return { kind: 'info', keys: {}, skip: true };
  if (msg.includes('executed in')) return { kind: 'info', keys: {}, skip: true }; // request-route executed in: N usec

  const keys = messageKeys(msg);
  const isScript = origin?.includes('script') ?? false;

  // --- flood / rate limiting (sbc-formats.md §1.4, §1.5) -------------------------------------
  if (msg.includes('PIKE - BLOCKing ip')) {
    const ip = /BLOCKing ip ([0-9A-Fa-f:.]+)/.exec(msg);
    if (ip) keys.ip = ip[1].replace(/[,.]$/, '');
    return { kind: 'rate-limit', signal: 'sbc-flood-block', keys };
  }
  if (msg.includes('PIKE - UNBLOCKing')) return { kind: 'rate-limit', keys };
  const lower = msg.toLowerCase();
  if (lower.includes('pike blocking') || lower.includes('from blocked ip') || lower.includes('ipban')) {
    const blocked = /pike blocking (\w+) from (\S+)/i.exec(msg);
    if (blocked) {
      const user = uriUser(blocked[2]);
      if (user) keys.user = user;
    }
    if (!keys.ip) {
      const ip = IPV4.exec(msg);
      if (ip) keys.ip = ip[1];
    }
    const method = blocked?.[1] ?? SIP_METHOD.exec(msg)?.[1];
    return {
      kind: 'rate-limit',
      signal: 'sbc-flood-block',
      keys,
      sip: method && /^[A-Z]+$/.test(method) ? { method, direction: 'received' } : undefined,
    };
  }
  if (msg.includes('pl_check(') && msg.includes('drop'))
    return { kind: 'rate-limit', signal: 'sbc-rate-limit', keys };

  // --- TCP / TLS capacity (§1.7 TCP layer) -----------------------------------------------------
  if (msg.includes('hit the limit of connections per source IP')) {
    const ip = /source IP \(([^)]{1,64})\)/.exec(msg);
    if (ip) keys.ip = ip[1].replace(/:\d+$/, '');
    return { kind: 'error', signal: 'sbc-capacity', keys };
  }
  if (/maximum number of (?:tls )?connections exceeded/.test(msg))
    return { kind: 'error', signal: 'sbc-capacity', keys };

  // --- idle cuts and broken connections (§1.7, observed-on-real-servers.md) ----------------------
  if (msg.includes('forcibly closing connection')) return { kind: 'ws-close', signal: 'idle-close', keys };
  if (msg.includes('tcp connection has been lost')) {
    const id = CONN_ID.exec(msg);
    if (id) keys.connId = id[1];
    return { kind: 'ws-close', signal: 'idle-close', keys };
  }
  if (msg.includes('error reading:') || msg.includes('EOF on 0x')) {
    const remote = TCP_REMOTE.exec(msg);
    if (remote)
      Object.assign(keys, peerKeys(remote[1].includes(':') ? `[${remote[1]}]` : remote[1], remote[2]));
    return { kind: 'error', signal: 'conn-reset', keys };
  }
  if (msg.includes('for WebSocket could not be found')) {
    const id = CONN_ID.exec(msg);
    if (id && id[1] !== '0') keys.connId = id[1];
    return { kind: 'error', signal: 'conn-reset', keys };
  }
  if (msg.includes('tcp_read_req: error reading')) return { kind: 'error', keys }; // follows every "error reading:"

  // --- WebSocket handshake refusals (§1.7 table) -------------------------------------------------
  if (msg.includes('required headers not present')) return { ...handshake('missing-subprotocol', 400), keys };
  if (msg.includes('Unsupported protocol version')) return { ...handshake('bad-header', 426), keys };
  if (msg.includes('found multiple times')) return { ...handshake('bad-header', 400), keys };
  if (msg.includes('error parsing headers') && (origin === 'websocket' || func?.startsWith('ws_'))) {
    return { ...handshake('bad-header', 500), keys };
  }
  if (msg.includes('bouncing handshake')) return { ...handshake('ws-handshake-failed', 503), keys };
  if (
    msg.includes('Bad host') ||
    msg.includes('Unauthorised client') ||
    msg.includes('Unauthorized client')
  ) {
    return { ...handshake('acl-rejected', 403), keys };
  }

  // --- WebSocket closed (event_route[websocket:closed] xlogs) -----------------------------------
  if (
    /WebSocket connection (?:from|with id)|WS connection closed|websocket:closed/i.test(msg) &&
    /closed/i.test(msg)
  ) {
    const id = /with id (\d+)/.exec(msg);
    if (id) keys.connId = id[1];
    const from = WS_CLOSED_FROM.exec(msg);
    if (from) Object.assign(keys, peerKeys(from[1], from[2]));
    return { kind: 'ws-close', signal: 'ws-close', keys };
  }

  // --- SIP transaction timeouts (§1.8) -----------------------------------------------------------
  const code408 = /completed with code:? 408|got sip response 408|\b408 Request Timeout/i.exec(msg);
  if (code408) {
    // "… completed with code: 408, replying 504 Server Time-out": the SBC answered its client
    // with a gateway timeout because its upstream (registrar) timed out
    const answer = readReply(msg.slice(code408.index + code408[0].length));
    if (answer && answer.status !== 408) {
      return {
        kind: 'sip-response',
        signal: 'upstream-timeout',
        keys,
        sip: { status: answer.status, reason: answer.reason, direction: 'sent' },
      };
    }
    const received = /got sip response/i.test(code408[0]);
    return {
      kind: 'timeout',
      signal: 'transaction-timeout',
      keys,
      sip: { status: 408, reason: 'Request Timeout', direction: received ? 'received' : 'internal' },
    };
  }

  // --- SIP messages the script logs ----------------------------------------------------------------
  const request = REQUEST_RECEIVED.exec(msg);
  if (request) {
    Object.assign(keys, peerKeys(request[2], request[3]));
    const toUser = / to (sips?:\S+)/.exec(msg);
    return {
      kind: 'sip-request',
      keys,
      sip: {
        method: request[1].toUpperCase(),
        direction: 'received',
        fromUser: keys.user,
        toUser: toUser ? uriUser(toUser[1]) : undefined,
      },
    };
  }
  const retryAfter = RETRY_AFTER.exec(msg);
  const retry = retryAfter ? Number(retryAfter[1]) : undefined;
  const reply = readReply(msg);
  if (reply) {
    const { status, reason, direction } = reply;
    const method = / to (?:the )?([A-Z]{3,12})\b/.exec(msg)?.[1] ?? SIP_METHOD.exec(msg)?.[1];
    // "authentication failed …, sending 401 again": a challenge that answers rejected credentials
    const rejected = (status === 401 || status === 407) && direction === 'sent' && AUTH_FAILED.test(msg);
    return {
      kind: 'sip-response',
      signal: rejected ? 'auth-failed' : statusSignal(status, reason, retry, method),
      keys,
      sip: { status, reason, method, retryAfter: retry, direction },
    };
  }

  // --- script-level limiter, ACL and auth xlogs ------------------------------------------------------
  if (
    /rate.?limit|\brl_check|too many requests|\b503 Limiting/i.test(msg) ||
    (retry !== undefined && isScript)
  ) {
    return {
      kind: 'rate-limit',
      signal: 'sbc-rate-limit',
      keys,
      sip: retry !== undefined ? { retryAfter: retry, direction: 'sent' } : undefined,
    };
  }
  if (/Not relaying|Rejected by acl|not allowed|forbidden/i.test(msg) && (isScript || msg.includes('403'))) {
    return { kind: 'auth', signal: 'acl-rejected', keys };
  }
  if (/\bchallenge\b|auth_challenge|www_challenge|proxy_challenge/i.test(msg)) {
    return { kind: 'auth', signal: 'auth-challenge', keys };
  }
  if (AUTH_FAILED.test(msg)) return { kind: 'auth', signal: 'auth-failed', keys };
  if (isScript && /\b40[17]\b/.test(msg)) {
    const failed = /fail|reject|denied|invalid|wrong|bad/i.test(msg);
    return { kind: 'auth', signal: failed ? 'auth-failed' : 'auth-challenge', keys };
  }

  return { kind: 'info', keys };
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

function hasKeys(keys: EventKeys): boolean {
  return Object.values(keys).some((v) => v !== undefined);
}

const ERROR_LEVELS: ReadonlySet<Level> = new Set<Level>(['ALERT', 'BUG', 'CRITICAL', 'ERROR']);

interface RecordSource {
  ctx: ParseContext;
  lineNo: number;
  raw: string;
}

/** Turns a header (text or JSON) into an event, or undefined when the line carries nothing useful. */
function toEvent(header: Header, prefix: PrefixKeys, src: RecordSource): LogEvent | undefined {
  const reading = readMessage(header.message, header.level, header.origin, header.func);
  if (reading.skip) return undefined;
  const keys: EventKeys = { ...reading.keys };
  if (prefix.callId) keys.callId = prefix.callId;

  let sip = reading.sip;
  if (prefix.method) {
    sip = sip ? { ...sip } : { direction: 'received' };
    if (!sip.method) sip.method = prefix.method;
    if (sip.cseq === undefined && prefix.cseq !== undefined) sip.cseq = prefix.cseq;
  }

  // lines without a meaning: keep errors and warnings, and notices that name a session; drop debug
  let kind = reading.kind;
  if (!reading.signal && kind === 'info') {
    const level = header.level ?? 'INFO';
    if (ERROR_LEVELS.has(level)) kind = 'error';
    else if (level === 'DEBUG' || (level !== 'WARNING' && !hasKeys(keys))) return undefined;
  }

  const event: LogEvent = {
    ts: header.ts,
    input: src.ctx.input,
    line: src.lineNo,
    raw: src.raw,
    role: 'sbc',
    kind,
    keys,
    text: header.message,
  };
  if (reading.signal) event.signal = reading.signal;
  if (sip) event.sip = sip;
  if (reading.http) event.http = reading.http;
  if (reading.ws) event.ws = reading.ws;
  return event;
}

// ---------------------------------------------------------------------------------------------
// sipdump (sbc-formats.md §1.9)
// ---------------------------------------------------------------------------------------------

const SIPDUMP_START = '====================';
const SIPDUMP_BODY = '~~~~~~~~~~~~~~~~~~~~';
const SIPDUMP_END = '||||||||||||||||||||';
const SIPDUMP_MAX_LINES = 400;

interface SipdumpBlock {
  lineNo: number;
  meta: Map<string, string>;
  inMessage: boolean;
  sipLines: string[];
}

function sipdumpTime(text: string | undefined): number {
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text ?? '');
  if (!m) return NaN;
  return Number(m[1]) * 1000 + (m[2] ? Number(m[2].padEnd(6, '0')) / 1000 : 0);
}

function sipdumpEvent(block: SipdumpBlock, ctx: ParseContext): LogEvent | undefined {
  const msg = parseSipMessage(block.sipLines);
  if (!msg) return undefined;
  const sent = block.meta.get('tag') === 'snd';
  const host = block.meta.get(sent ? 'dstip' : 'srcip');
  const port = block.meta.get(sent ? 'dstport' : 'srcport');
  const keys: EventKeys = {};
  if (msg.callId) keys.callId = msg.callId;
  if (msg.fromUser) keys.user = msg.fromUser;
  if (host && port) Object.assign(keys, peerKeys(host.includes(':') ? `[${host}]` : host, port));
  const startLine = block.sipLines.find((l) => l.trim() !== '')?.trim() ?? '';
  const event: LogEvent = {
    ts: sipdumpTime(block.meta.get('time')),
    input: ctx.input,
    line: block.lineNo,
    raw: startLine,
    role: 'sbc',
    kind: msg.isRequest ? 'sip-request' : 'sip-response',
    keys,
    sip: {
      method: msg.method,
      status: msg.status,
      reason: msg.reason,
      cseq: msg.cseq,
      retryAfter: msg.retryAfter,
      direction: sent ? 'sent' : 'received',
      agent: msg.agent,
      fromUser: msg.fromUser,
      toUser: msg.toUser,
      headers: msg.headers,
    },
    text: `${sent ? 'sent' : 'received'} ${startLine}`,
  };
  if (msg.status !== undefined) {
    const signal = statusSignal(msg.status, msg.reason, msg.retryAfter, msg.method);
    if (signal) event.signal = signal;
  }
  return event;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/** A record waiting for its continuation line. */
interface Pending {
  header: Header;
  prefix: PrefixKeys;
  lineNo: number;
  raw: string;
  /** 'address': the second half of a split `error reading:` / `EOF on` line; 'text': a wrapped message */
  awaiting: 'address' | 'text';
  /** lines seen since */
  age: number;
}

/**
 * A header cut before its message, as issue threads often show Kamailio lines:
 * `… NOTICE: <script>:` + `  http:217.120.x.x:55386: WS connection closed`, or `… WARNING: <core>` +
 * `  [msg_translator.c:2506]: via_builder(): …` (kamailio/kamailio issue #47). The next line, indented,
 * completes it.
 */
function looksWrapped(header: Header): boolean {
  if (!header.level) return false;
  if (header.origin) return header.message === '' && header.func === undefined;
  // the origin itself is the last word: `WARNING: <core>`
  return /^(?:<core>|\S*<script>|[a-z][a-z0-9_]*)$/.test(header.message);
}

/**
 * The start-up banner Kamailio prints on stdout, without level or time (observed on 5.6.3 in the
 * lab: `loading modules under config path: …`, `Listening on`, one indented `tcp: 127.0.0.1
 * [127.0.0.1]:5060` per socket, `Aliases:`), alone or behind a container runtime stamp.
 */
const BANNER =
  /^(?:loading modules under |Listening on\s*$|Aliases:\s*$|\s+(?:udp|tcp|tls|sctp|ws|wss|\*): )/;

function isBanner(text: string): boolean {
  const body = CONTAINER_STAMP.test(text) ? text.slice(isoLength(text)).replace(/^ /, '') : text;
  return body.trim() === '' || BANNER.test(body);
}

/** Lines the TCP layer splits in two: `… ([ip]:port ->` then `-> [ip]:port)`. */
const SPLIT_ADDRESS_END = / ->$/;
const ADDRESS_CONTINUATION = /^-> \[[0-9A-Fa-f:.]+\]:\d+\)/;
/** How many unrelated lines may separate the two halves of a split line (other processes log too). */
const MAX_PENDING_AGE = 3;

class KamailioParser implements LineParser {
  private pending?: Pending;
  private sipdump?: SipdumpBlock;

  constructor(private readonly ctx: ParseContext) {}

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;

    if (this.sipdump) return this.pushSipdump(text, lineNo, emit);
    if (text.startsWith(SIPDUMP_START)) {
      this.flushPending(emit);
      this.sipdump = { lineNo, meta: new Map(), inMessage: false, sipLines: [] };
      return 'event';
    }

    if (this.pending) {
      const outcome = this.continuePending(text, emit);
      if (outcome) return outcome;
    }

    const trimmed = text.trim();
    if (trimmed === '') return 'skip';
    if (trimmed.startsWith('{')) return this.pushJson(trimmed, NaN, lineNo, text, emit);

    const header = readHeader(text, this.ctx);
    if (!header) return isBanner(text) ? 'skip' : 'unparsed';
    if (isJsonStart(header.message)) return this.pushJson(header.message, header.ts, lineNo, text, emit);
    const prefix = readPrefixes(header.prefixes);

    if (SPLIT_ADDRESS_END.test(header.message) && /error reading:|EOF on /.test(header.message)) {
      if (header.level === 'DEBUG') return 'skip'; // its second half will count as a part
      this.pending = { header, prefix, lineNo, raw: text, awaiting: 'address', age: 0 };
      return 'event';
    }
    if (looksWrapped(header)) {
      this.pending = { header, prefix, lineNo, raw: text, awaiting: 'text', age: 0 };
      return 'event';
    }
    if (ADDRESS_CONTINUATION.test(header.message)) return 'part'; // second half whose first half we never saw

    const event = toEvent(header, prefix, { ctx: this.ctx, lineNo, raw: text });
    if (!event) return 'skip';
    emit(event);
    return 'event';
  }

  end(emit: (event: LogEvent) => void): void {
    this.flushPending(emit);
    if (this.sipdump) {
      const event = sipdumpEvent(this.sipdump, this.ctx);
      if (event) emit(event);
      this.sipdump = undefined;
    }
  }

  private continuePending(text: string, emit: (event: LogEvent) => void): LineOutcome | undefined {
    const pending = this.pending;
    if (!pending) return undefined;
    if (pending.awaiting === 'text') {
      this.pending = undefined;
      const joined =
        /^\s+\S/.test(text) && !readHeader(text)
          ? readHeader(`${pending.raw.trimEnd()} ${text.trim()}`, this.ctx)
          : undefined;
      if (joined) {
        this.emitRecord({ ...pending, header: joined, raw: `${pending.raw}\n${text}` }, emit);
        return 'part';
      }
      this.emitRecord(pending, emit);
      return undefined;
    }
    const header = readHeader(text);
    const tail = header?.message ?? text.trim();
    const samePid = !header?.pid || !pending.header.pid || header.pid === pending.header.pid;
    if (ADDRESS_CONTINUATION.test(tail) && samePid) {
      this.pending = undefined;
      pending.header.message = `${pending.header.message} ${tail.slice(3)}`;
      pending.raw = `${pending.raw}\n${text}`;
      this.emitRecord(pending, emit);
      return 'part';
    }
    pending.age++;
    if (pending.age > MAX_PENDING_AGE || (header?.pid !== undefined && header.pid === pending.header.pid)) {
      this.flushPending(emit);
    }
    return undefined;
  }

  private flushPending(emit: (event: LogEvent) => void): void {
    if (!this.pending) return;
    const pending = this.pending;
    this.pending = undefined;
    this.emitRecord(pending, emit);
  }

  private emitRecord(pending: Pending, emit: (event: LogEvent) => void): void {
    const event = toEvent(pending.header, pending.prefix, {
      ctx: this.ctx,
      lineNo: pending.lineNo,
      raw: pending.raw,
    });
    if (event) emit(event);
  }

  private pushJson(
    json: string,
    syslogTs: number,
    lineNo: number,
    raw: string,
    emit: (event: LogEvent) => void,
  ): LineOutcome {
    const record = readJsonRecord(json, this.ctx, syslogTs);
    if (!record) return 'unparsed';
    // the JSON engine writes the two halves of a split TCP error as two records; the first has the peer
    if (ADDRESS_CONTINUATION.test(record.header.message)) return 'part';
    const event = toEvent(record.header, record.prefix, { ctx: this.ctx, lineNo, raw });
    if (!event) return 'skip';
    emit(event);
    return 'event';
  }

  private pushSipdump(text: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const block = this.sipdump;
    if (!block) return 'unparsed';
    const trimmed = text.trim();
    if (
      trimmed.startsWith(SIPDUMP_END) ||
      trimmed.startsWith(SIPDUMP_START) ||
      block.sipLines.length > SIPDUMP_MAX_LINES
    ) {
      this.sipdump = undefined;
      const event = sipdumpEvent(block, this.ctx);
      if (event) emit(event);
      if (trimmed.startsWith(SIPDUMP_START)) {
        this.sipdump = { lineNo, meta: new Map(), inMessage: false, sipLines: [] };
        return 'event';
      }
      return 'part';
    }
    if (block.inMessage) {
      block.sipLines.push(text);
    } else if (trimmed.startsWith(SIPDUMP_BODY)) {
      block.inMessage = true;
    } else {
      const colon = trimmed.indexOf(':');
      if (colon > 0)
        block.meta.set(trimmed.slice(0, colon).trim().toLowerCase(), trimmed.slice(colon + 1).trim());
    }
    return 'part';
  }
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

function sniffKamailio(line: string): number {
  const text = line.trim();
  if (text === '') return 0;
  if (text.startsWith('{')) return looksLikeKamailioJson(text);
  if (text.startsWith(SIPDUMP_START)) return 0.6;
  if (/^tag: (?:rcv|snd)$/.test(text)) return 0.6;
  const header = readHeader(text);
  if (!header) return 0;
  const jsonBody = looksLikeKamailioJson(header.message);
  if (jsonBody) return jsonBody;
  const origin = header.origin ?? '';
  let score = 0.2; // a bare "LEVEL: " after a syslog ident is common to many daemons
  if (header.level && (origin === '<core>' || origin.endsWith('<script>'))) score = 0.95;
  else if (header.level && header.file) score = 0.9;
  else if (header.file && header.func) score = 0.8;
  if (header.prefixes.some((p) => /^\{[12] \d+ [A-Z]+ \S+/.test(p))) score = Math.max(score, 0.9);
  if (header.level && header.hasRank) score = Math.max(score, 0.7);
  if (header.ident && /kamailio|^(?:\S*\/)?(?:ser|[ips]cscf)$/i.test(header.ident))
    score = Math.max(score, 0.85);
  if (header.level && /PIKE - |pike blocking/.test(header.message)) score = Math.max(score, 0.8);
  return score;
}

export const kamailio: LogFormat = {
  name: 'kamailio',
  role: 'sbc',
  description:
    'Kamailio SIP server / SBC: syslog, journald, stderr and container output, log_prefix Call-IDs, JSON/CEE logging, sipdump traces',
  samples: [
    {
      line: 'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      source: 'kamailio/kamailio issue #1886',
    },
    {
      line: 'Nov  6 10:23:55 proxy1 kamailio[58634]: INFO: {1 1 REGISTER E3fNnAyni0_xvXIr3YHXrQ..} <script>: SIP request REGISTER received from 95.90.235.37:33534 via tcp - from sip:103@proxy1.omid.blog;transport=TCP to sip:103@proxy1.omid.blog;transport=TCP',
      source: 'Omid-Mohajerani/Learn-Kamailio issue #5',
    },
    {
      line: 'Nov  6 10:23:55 proxy1 kamailio[58605]: NOTICE: {1 3 REGISTER e5f4a465617525e4f7a159} <core> [core/receive.c:528]: receive_msg(): request-route executed in: 1514 usec',
      source: 'Omid-Mohajerani/Learn-Kamailio issue #5',
    },
    {
      line: 'Dec 31 18:29:08.819765 eqx-sjc-ecv3 kamailio_edge[19096]: WARNING: websocket [ws_frame.c:810]: ws_keepalive(): forcibly closing connection',
      source: 'kamailio/kamailio issue #2990',
    },
    {
      line: 'Jan 17 00:15:03.385850 kamailio[3519371]: DEBUG: [61e5f40c-acba-471f-94be-e66334eb217d] <core> [core/tcp_main.c:1746]: _tcpconn_find(): found connection by peer address (id: 1)',
      source: 'kamailio/kamailio issue #4115',
    },
    {
      line: 'Sep 08 11:19:43 core-rbx-1 kamailio[237295]: INFO: [163102186989202691943@edge-a1.fake.net][M=OPTIONS-1] <script>: [KEEPALIVE]IP=10.0.0.1|RURI=sip:5.5.5.5|F=sip:edge-a1.fake.net:5069|T=sip:5.5.5.5',
      source: 'kamailio/kamailio issue #4911',
    },
    {
      line: '2024-05-29T02:49:15.436088156Z 11(22) WARNING: <core> [core/msg_translator.c:3007]: via_builder(): TCP/TLS connection (id: 0) for WebSocket could not be found',
      source: 'kamailio/kamailio issue #3864',
    },
    {
      line: '23(24) ERROR: <core> [core/parser/parse_fline.c:271]: parse_first_line(): parse_first_line: bad message (offset: 22)',
      source: 'kamailio/kamailio PR #3348',
    },
    {
      line: 'icscf[439986]: ERROR: {1 1 REGISTER c5cd8ca311198f6b@10.46.0.12 DEFAULT_ROUTE} <script>: ',
      source: 'herlesupreeth/docker_open5gs PR #515',
    },
    {
      line: ' WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip 10.10.10.10, node=0x7f7e073f7dd0',
      source: 'altanai/kamailioexamples Lua_load_balancer/README.md',
    },
    {
      line: ' ALERT: pike blocking REGISTER from sip:altanai@10.10.10.10 (IP:10.10.10.10:5060)',
      source: 'altanai/kamailioexamples Lua_load_balancer/README.md',
    },
    {
      line: '85(3884) ERROR: <script>: request sent to sip:001010000000002@192.168.101.2:6700 completed with code: 408, Type 2',
      source: 'herlesupreeth/Kamailio_IMS_Config issue #6',
    },
    {
      line: '{ "time": "2025-04-04T15:51:44.448427533Z", "idx": 193, "pid": 200, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "function": "sip_check_fline", "message": "first line indicates a SIP reply" }',
      source: 'kamailio/kamailio issue #4203',
    },
  ],
  sniff: sniffKamailio,
  createParser(ctx: ParseContext): LineParser {
    return new KamailioParser(ctx);
  },
};
