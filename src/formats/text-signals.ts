/**
 * What a free-text client or harness message says, whatever wrote it: close codes, handshake
 * statuses, header errors, reconnects, users, Call-IDs, addresses. Shared by the browser console,
 * JSON-lines and harness readers so that one phrase means the same thing everywhere.
 *
 * Every pattern here is linear (no nested quantifiers) and runs on one bounded line.
 */
import type { EventKeys, EventKind, HttpInfo, Signal, SipInfo, WsInfo } from '../model.js';
import { uriUser } from './sip-message.js';

export interface TextReading {
  kind: EventKind;
  signal?: Signal;
  keys: EventKeys;
  ws?: WsInfo;
  http?: HttpInfo;
  sip?: SipInfo;
  retryDelayMs?: number;
  timeoutMs?: number;
}

const CALL_ID = /\b(?:call-?id|callid|i)\s*[:=]\s*'?([A-Za-z0-9][\w.@~%+-]{5,})/i;
const PEER = /\b((?:\d{1,3}\.){3}\d{1,3}):(\d{2,5})\b/;
const USER_TAG =
  /(?:^|[\s[(|])((?:agent|user|usr|ua|vu|phone|softphone|client|ext|sp|endpoint|caller)(?:[-_#]| #?)?\d{1,9})(?=[\s\])|:,]|$)/i;
const USER_KV = /\b(?:user|username|agent|aor|ext|extension|vu)\s*[=:]\s*"?([A-Za-z0-9][\w.-]{0,63})/i;

function trimTrailing(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1])) end--;
  return text.slice(0, end);
}

/** "[agent-042]" stays "agent-042"; "agent 3" and "VU #12" lose the space so "agent 3" meets sip:agent3@… */
function tagUser(text: string): string | undefined {
  const tag = firstGroup(USER_TAG, text);
  return tag?.replace(/ #?/, '');
}

function firstGroup(re: RegExp, text: string): string | undefined {
  const m = re.exec(text);
  return m ? m[1] : undefined;
}

/** User named by a WebSocket URL: ?user=agent-042, /ws/agent-042, or a sip: URI in it. */
export function wsUrlUser(url: string): string | undefined {
  const q = /[?&](?:user|username|agent|aor|ext|u|id)=([^&#\s]+)/i.exec(url);
  if (q) {
    const v = safeDecode(q[1]);
    const at = v.indexOf('@');
    return uriUser(v) ?? (at < 0 ? v : v.slice(0, at));
  }
  const p = /^wss?:\/\/[^/]+\/(?:[^?#]*\/)?((?:agent|user|ua|vu|phone|ext|client)[-_]?\d+)(?:[/?#]|$)/i.exec(
    url,
  );
  return p ? p[1] : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Keys any free text can carry. */
export function textKeys(text: string): EventKeys {
  const keys: EventKeys = {};
  const url = firstGroup(/(\bwss?:\/\/[^\s'"<>)\],]+)/i, text);
  const user =
    uriUser(text) ?? (url ? wsUrlUser(url) : undefined) ?? tagUser(text) ?? firstGroup(USER_KV, text);
  if (user) keys.user = user;
  const callId = firstGroup(CALL_ID, text);
  if (callId && !/^(?:undefined|null)$/i.test(callId)) keys.callId = trimTrailing(callId, '.,;)');
  const peer = PEER.exec(text);
  if (peer && !url?.includes(peer[0])) {
    keys.peer = `${peer[1]}:${peer[2]}`;
    keys.ip = peer[1];
  }
  return keys;
}

const HANDSHAKE_STATUS =
  /(?:Unexpected (?:server response|response code)|non-101 status|Handshake status|handshake (?:failed|rejected)[^\d]{0,20}(?:status|code)?)\s*(?::\s*)?(\d{3})/i;
const CLOSE_CODE = /\b(?:code|close code|closeCode|close_code)\s*(?:[:=]\s*)?\(?(1\d{3}|[34]\d{3})\b/i;
const RETRY_DELAY =
  /(?:next connection attempt in|trying in|retrying in|reconnect(?:ing)? in|retry in|backoff(?: of)?|waiting)\s*(?::\s*)?(\d+(?:\.\d+)?) ?(ms|milliseconds|s|sec|seconds)?\b/i;

/**
 * Reads a client-side message. `text` is the message without its timestamp prefix.
 */
export function readClientText(text: string): TextReading {
  const keys = textKeys(text);
  const url = firstGroup(/(\bwss?:\/\/[^\s'"<>)\],]+)/i, text);
  const ws: WsInfo | undefined = url ? { url: url.replace(/[.:]$/, '') } : undefined;
  const r: TextReading = { kind: 'info', keys, ws };
  const lower = text.toLowerCase();

  // local header errors: nothing reached the wire
  if (
    /ERR_INVALID_CHAR|ERR_INVALID_HTTP_TOKEN|ERR_HTTP_INVALID_HEADER_VALUE|Invalid character in header content|Header name must be a valid HTTP token/.test(
      text,
    )
  ) {
    return { ...r, kind: 'config', signal: 'bad-header' };
  }
  if (/The subprotocol '[^']*' is (?:invalid|duplicated)|invalid or duplicated subprotocol/i.test(text)) {
    return { ...r, kind: 'config', signal: 'bad-header' };
  }
  if (
    /Server sent no subprotocol|Sent non-empty 'Sec-WebSocket-Protocol' header but no response|no protocols requested|Sec-WebSocket-Protocol header not present/i.test(
      text,
    )
  ) {
    return { ...r, kind: 'config', signal: 'missing-subprotocol' };
  }
  if (
    /invalid WebSocket (?:URI|Server URL)|Invalid scheme in WebSocket|URL's scheme must be|URL's protocol must be|The URL '[^']*' is invalid|Invalid URL:/i.test(
      text,
    )
  ) {
    return { ...r, kind: 'config', signal: 'bad-url' };
  }
  if (/Insufficient resources/i.test(text)) return { ...r, kind: 'error', signal: 'resource-exhausted' };

  const gen = /Generating internal (\d{3})(?: ([A-Za-z ]+))?/.exec(text);
  if (gen) {
    return {
      ...r,
      kind: 'sip-response',
      signal: 'internal-status',
      sip: { status: Number(gen[1]), reason: gen[2]?.trim(), direction: 'internal' },
    };
  }
  const ct = /connectionTimeout:\s*(\d+(?:\.\d+)?)\s*s/i.exec(text);
  if (ct || /Opening handshake has timed out|Connect timed out/i.test(text)) {
    return {
      ...r,
      kind: 'timeout',
      signal: 'client-timeout',
      timeoutMs: ct ? Number(ct[1]) * 1000 : undefined,
    };
  }

  if (/has been deprecated|deprecated option/i.test(text)) return { ...r, kind: 'config' };

  const hs = HANDSHAKE_STATUS.exec(text);
  if (hs) {
    return {
      ...r,
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: Number(hs[1]), upgrade: true },
    };
  }
  if (
    /Error during WebSocket handshake|websocket: bad handshake|closed before (?:receiving a handshake response|the connection is established)|Error in connection establishment|can.t establish a connection to the server|\bconnect (?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b|getaddrinfo ENOTFOUND/i.test(
      text,
    ) ||
    /WebSocket connection to '[^']*' failed:\s*$/.test(text)
  ) {
    return { ...r, kind: 'ws-handshake', signal: 'ws-handshake-failed' };
  }

  const app = /WebSocket connection failed\.?\s*Code:\s*(\d{4})/i.exec(text);
  if (app) {
    return { ...r, kind: 'ws-close', signal: 'app-ws-failed', ws: { ...ws, closeCode: Number(app[1]) } };
  }

  if (/regist/i.test(text) && /Request Time-?out|timed? ?out/i.test(text)) {
    return { ...r, kind: 'timeout', signal: 'transaction-timeout' };
  }
  const fr =
    /Failed to register, status code (\d{3})/.exec(text) ??
    /registration ?failed\b(?:[^\d]{0,40}?(\d{3}))?/i.exec(text);
  if (fr) {
    return {
      ...r,
      kind: 'sip-response',
      signal: 'registration-failed',
      sip: fr[1] ? { status: Number(fr[1]), method: 'REGISTER', direction: 'received' } : undefined,
    };
  }
  if (
    /\b(?:registered|registration (?:succeeded|successful|ok))\b/i.test(text) &&
    !/\bun-?registered\b|not registered/i.test(text)
  ) {
    return { ...r, kind: 'info', signal: 'registered' };
  }

  const closedWithCode = /\bclosed\b[^\n]{0,200}?\(code:\s*(\d{4})\)/i.exec(text);
  if (closedWithCode) {
    const code = Number(closedWithCode[1]);
    return {
      ...r,
      kind: 'ws-close',
      signal: 'ws-close',
      ws: { ...ws, closeCode: code, wasClean: code !== 1006 },
    };
  }

  if (/reconnect|reconnection attempt|next connection attempt|retrying/i.test(text)) {
    const d = RETRY_DELAY.exec(text);
    let delay: number | undefined;
    if (d) {
      const unit = (d[2] ?? 's').toLowerCase();
      delay = Number(d[1]) * (unit.startsWith('m') ? 1 : 1000);
    }
    return { ...r, kind: 'info', signal: 'reconnect', retryDelayMs: delay };
  }

  const cc = CLOSE_CODE.exec(text);
  if (cc && /clos|disconnect|abrupt|1006/i.test(text)) {
    return {
      ...r,
      kind: 'ws-close',
      signal: 'ws-close',
      ws: { ...ws, closeCode: Number(cc[1]), wasClean: cc[1] !== '1006' },
    };
  }
  if (/abrupt disconnection|closed unexpectedly|connection dropped|closed abnormally/i.test(text)) {
    return { ...r, kind: 'ws-close', signal: 'ws-close', ws: { ...ws, closeCode: 1006, wasClean: false } };
  }
  if (/socket hang up|ECONNRESET|connection reset/i.test(text))
    return { ...r, kind: 'error', signal: 'conn-reset' };
  if (/Timer F expired|Request Timeout|transaction timed? ?out/i.test(text)) {
    return { ...r, kind: 'timeout', signal: 'transaction-timeout' };
  }
  // the client set a well-formed custom handshake header ("handshake header X-Genesys-KeepAlive:
  // true", "extraHeaders: ['X-Agent: 7']"): harmless by itself, and worth ruling out by name
  if (/headers?\b[^\n]{0,80}?\bX-[A-Za-z][A-Za-z0-9-]{0,63}['"]?\s{0,4}[:=]/i.test(text)) {
    return { ...r, kind: 'config', signal: 'unknown-header' };
  }
  if (
    // a custom header named after keep-alives (X-Genesys-KeepAlive: true) is not keep-alive traffic
    /keep[- ]?alive|\bping\b|\bpong\b/i.test(text.replace(/\bX-[\w-]{0,64}/gi, '')) &&
    !/no keep[- ]?alive|keep[- ]?alive(?:s)? (?:off|disabled)/i.test(text)
  ) {
    return { ...r, kind: 'info', signal: 'keepalive' };
  }
  if (
    /\b(?:connected|websocket open(?:ed)?|connection open(?:ed)?|onopen)\b/i.test(text) &&
    !/not connected|disconnect|already connected|transitioned from connected/i.test(lower)
  ) {
    return { ...r, kind: 'ws-open', signal: 'ws-open' };
  }
  if (/\bconnecting to\b|\bconnecting\b.*wss?:|\bnew WebSocket\b/i.test(text)) {
    return { ...r, kind: 'ws-handshake', signal: 'ws-connecting' };
  }
  if (/\bclosed\b/i.test(text) && ws) return { ...r, kind: 'ws-close', signal: 'ws-close' };
  return r;
}
