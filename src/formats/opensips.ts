/**
 * OpenSIPS, whatever carries its log: syslog (`Mon DD HH:MM:SS host /usr/sbin/opensips[pid]: LEVEL:mod:func: msg`),
 * the bare syslog payload (`LEVEL:mod:func: msg`), stderr (`Mon DD HH:MM:SS [pid] LEVEL:mod:func: msg`) and
 * journald wrapping stderr (both stamps). Reference: sbc-formats.md §2 and §8.
 *
 * The tell-tale is `LEVEL:module:function:` with no space after the level colon (Kamailio always has one).
 * proto_ws/proto_wss handshake errors name no address (OpenSIPS issue #4240): they borrow the one of the
 * preceding `New TLS connection from IP:PORT` of the same process.
 *
 * Every regex is anchored or bounded; a 64 KB line costs linear time.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal, SipInfo } from '../model.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';
import { parseSyslog } from './time.js';
import { uriUser } from './sip-message.js';

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

type Level = 'ALERT' | 'CRITICAL' | 'ERROR' | 'WARNING' | 'NOTICE' | 'INFO' | 'DBG' | 'BUG';

/** `Sep 23 11:13:48 `; journald may write the month in lower case (`sep 20 00:00:05`). */
const SYSLOG_STAMP = /^[A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?: +|$)/;
/** `host /usr/sbin/opensips[172700]: ` or `opensips[7424]: ` */
const IDENT = /^(?:([^\s[\]]{1,255}) +)?([^\s[\]]{1,255})\[(\d{1,10})\]:(?: +|$)/;
/** stderr `[58] ` */
const STDERR_PID = /^\[(\d{1,10})\] +/;
const LEVEL =
  /^(ALERT|CRITICAL|ERROR|WARNING|NOTICE|INFO|DBG|BUG):([A-Za-z_][\w]{0,63}):(?:(\w{1,128}):)?(?: +|$)/;

interface Header {
  ts: number;
  pid?: string;
  ident?: string;
  level?: Level;
  module?: string;
  func?: string;
  message: string;
}

function syslogTime(stamp: string, ctx: ParseContext | undefined): number {
  if (!ctx) return NaN;
  // parseSyslog wants `Sep`, journald may write `sep`
  const text = stamp[0].toUpperCase() + stamp.slice(1, 3).toLowerCase() + stamp.slice(3);
  return parseSyslog(text, ctx);
}

/** Reads an OpenSIPS line header; undefined when the line has no OpenSIPS shape. */
function readHeader(line: string, ctx?: ParseContext): Header | undefined {
  let rest = line.trim();
  let ts = NaN;
  let m: RegExpExecArray | null;
  const header: Header = { ts, message: '' };
  if ((m = SYSLOG_STAMP.exec(rest))) {
    ts = syslogTime(m[0], ctx);
    rest = rest.slice(m[0].length);
  }
  if (!LEVEL.test(rest) && (m = IDENT.exec(rest))) {
    header.ident = m[2];
    header.pid = m[3];
    rest = rest.slice(m[0].length);
    // journald around stderr: `opensips[7424]: Sep 20 00:00:05 [7435] DBG:…`
    if ((m = SYSLOG_STAMP.exec(rest))) {
      if (Number.isNaN(ts)) ts = syslogTime(m[0], ctx);
      rest = rest.slice(m[0].length);
    }
  }
  if ((m = STDERR_PID.exec(rest))) {
    header.pid = m[1];
    rest = rest.slice(m[0].length);
  }
  header.ts = ts;
  if ((m = LEVEL.exec(rest))) {
    header.level = m[1] as Level;
    header.module = m[2];
    header.func = m[3];
    rest = rest.slice(m[0].length);
  } else if (!header.ident || !header.ident.includes('opensips')) {
    return undefined; // an xlog line without a level is only ours behind an opensips ident
  }
  header.message = rest;
  return header;
}

// ---------------------------------------------------------------------------------------------
// Message → meaning
// ---------------------------------------------------------------------------------------------

interface Reading {
  kind: EventKind;
  signal?: Signal;
  keys: EventKeys;
  sip?: SipInfo;
  http?: HttpInfo;
  skip?: boolean;
}

/** The first `ip:port` of a message (IPv4 or bracketed IPv6). */
const ADDRESS_PORT = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})\b/;
const PIKE_IP = /^BLOCKing ip ([0-9A-Fa-f:.]{2,45})/;
const FLOODING_IP = /IP ([0-9A-Fa-f:.]{2,45}) detected as flooding/;
const CALL_ID_IN_TEXT = /\b(?:call-?id|callid)[:=] ?([^\s,;|)]{6,256})/i;
const REPLY_SENT =
  /\b(?:sending|sent|replying|replied|sl_send_reply)(?: reply)?[:( ]{1,2}"?([1-6]\d\d)\b"?(?:[ ,]{1,2}"?([A-Za-z][A-Za-z ]{0,40}))?/i;
const RETRY_AFTER = /Retry-After[:=] ?(\d{1,6})/i;
const AUTH_FAILED =
  /auth(?:entication|orization)? (?:failed|failure|error|rejected)|failed to authenticate|invalid (?:credentials|password|nonce)|wrong password|unknown user|user not found/i;
const THROTTLE_REASON = /limit|too many|rate|flood|ban|block|overload|capacity|exceed|unavailable/i;

function addressKeys(host: string, port: string): EventKeys {
  const ip = host.startsWith('[') ? host.slice(1, -1) : host;
  return { ip, peer: `${host}:${port}` };
}

function messageKeys(msg: string): EventKeys {
  const keys: EventKeys = {};
  const address = ADDRESS_PORT.exec(msg);
  if (address) Object.assign(keys, addressKeys(address[1], address[2]));
  if (msg.includes('sip:') || msg.includes('sips:')) {
    const user = uriUser(msg);
    if (user) keys.user = user;
  }
  const callId = CALL_ID_IN_TEXT.exec(msg);
  if (callId) keys.callId = callId[1];
  return keys;
}

function statusSignal(status: number, reason: string | undefined, retryAfter?: number): Signal | undefined {
  const r = reason ?? '';
  if (status === 401 || status === 407) return 'auth-challenge';
  if (status === 403) return THROTTLE_REASON.test(r) ? 'sbc-rate-limit' : 'acl-rejected';
  if (status === 408) return 'transaction-timeout';
  if (status === 503)
    return retryAfter !== undefined || THROTTLE_REASON.test(r) ? 'sbc-rate-limit' : 'sbc-overload';
  return undefined;
}

function handshake(signal: Signal, keys: EventKeys, status?: number): Reading {
  const http: HttpInfo = { upgrade: true };
  if (status !== undefined) http.status = status;
  return { kind: 'ws-handshake', signal, keys, http };
}

/**
 * proto_ws handshake checks (`modules/proto_ws/ws_handshake_common.h`); the reply on failure is
 * `HTTP/1.1 400 Bad Request`. Order matters: the subprotocol check before the generic one.
 */
function readHandshake(msg: string, keys: EventKeys): Reading | undefined {
  if (msg.includes('Sec-WebSocket-Protocol header not present') || msg.startsWith('Invalid Protocol <'))
    return handshake('missing-subprotocol', keys, 400);
  if (
    msg.includes('header not present') ||
    msg.startsWith('Invalid Connection header') ||
    msg.startsWith('Invalid Upgrade header') ||
    msg.startsWith('Invalid or unsported version') ||
    msg.startsWith('Invalid or unsupported version') ||
    msg.startsWith('cannot parse headers')
  ) {
    return handshake('bad-header', keys, 400);
  }
  if (msg.startsWith('cannot complete WebSocket handshake')) return handshake('ws-handshake-failed', keys);
  if (msg.startsWith('Timeout waiting for handshake read')) return { kind: 'timeout', keys };
  if (msg.includes('before handshake is completed')) return { kind: 'ws-handshake', keys };
  return undefined;
}

function readMessage(header: Header): Reading {
  const msg = header.message;
  if (header.level === 'DBG' && !/PIKE|pike|limit|flood/.test(msg))
    return { kind: 'info', keys: {}, skip: true };
  const keys = messageKeys(msg);

  // --- flood / rate limiting (§2.3) ----------------------------------------------------------
  const pike = msg.indexOf('PIKE - ');
  if (pike >= 0) {
    const ip = PIKE_IP.exec(msg.slice(pike + 7, pike + 80));
    if (ip) {
      keys.ip = ip[1].replace(/[,.]$/, '');
      delete keys.peer;
      return { kind: 'rate-limit', signal: 'sbc-flood-block', keys };
    }
    return { kind: 'rate-limit', keys }; // UNBLOCKing
  }
  if (msg.includes('detected as flooding')) {
    const ip = FLOODING_IP.exec(msg);
    if (ip) keys.ip = ip[1];
    return { kind: 'rate-limit', signal: 'sbc-flood-block', keys };
  }

  // --- WebSocket handshake (§2.3 proto_ws) ----------------------------------------------------
  if (
    header.module?.startsWith('proto_ws') ||
    msg.includes('header not present') ||
    msg.includes('handshake')
  ) {
    const reading = readHandshake(msg, keys);
    if (reading) return reading;
  }

  // --- transport ------------------------------------------------------------------------------
  if (msg.includes('New TLS connection from')) {
    return { kind: msg.includes('failed') ? 'error' : 'info', keys };
  }
  if (msg.startsWith('send() to ') && msg.includes(' failed')) {
    return /for proto wss?\b/.test(msg)
      ? { kind: 'error', signal: 'conn-reset', keys }
      : { kind: 'error', keys };
  }

  // --- SIP replies and timeouts -----------------------------------------------------------------
  const retry = RETRY_AFTER.exec(msg);
  const retryAfter = retry ? Number(retry[1]) : undefined;
  const reply = REPLY_SENT.exec(msg);
  if (reply) {
    const status = Number(reply[1]);
    const reason = reply[2]?.trim() || undefined;
    const sip: SipInfo = { status, direction: 'sent' };
    if (reason) sip.reason = reason;
    if (retryAfter !== undefined) sip.retryAfter = retryAfter;
    return { kind: 'sip-response', signal: statusSignal(status, reason, retryAfter), keys, sip };
  }
  if (/\b408 Request Timeout|\btransaction timeout|\btimer [BF] fired/i.test(msg)) {
    return { kind: 'timeout', signal: 'transaction-timeout', keys };
  }

  // --- script limiters, ACL, auth -----------------------------------------------------------------
  if (/\brate.?limit|\brl_check|too many requests|\bpipe .{0,40}\bexceeded/i.test(msg))
    return { kind: 'rate-limit', signal: 'sbc-rate-limit', keys };
  if (/Not relaying|Rejected by (?:register )?acl|not allowed|forbidden/i.test(msg))
    return { kind: 'auth', signal: 'acl-rejected', keys };
  if (/\bchallenge\b|www_challenge|proxy_challenge/i.test(msg))
    return { kind: 'auth', signal: 'auth-challenge', keys };
  if (AUTH_FAILED.test(msg)) return { kind: 'auth', signal: 'auth-failed', keys };
  // a script's xlog of the request it is routing ("$rm from $fu ($si:$sp) callid=$ci cseq=$cs"):
  // the request as the SBC received it
  const routed = ROUTED_REQUEST.exec(msg);
  if (routed && keys.callId) {
    const sip: SipInfo = { method: routed[1], direction: 'received' };
    const cseq = /\bcseq[=:] ?(\d{1,10})\b/i.exec(msg);
    if (cseq) sip.cseq = Number(cseq[1]);
    return { kind: 'sip-request', keys, sip };
  }
  return { kind: 'info', keys };
}

const ROUTED_REQUEST =
  /^(REGISTER|INVITE|OPTIONS|SUBSCRIBE|MESSAGE|NOTIFY|PUBLISH|BYE|CANCEL|UPDATE|REFER|INFO|PRACK) (?:from|received|request)\b/;

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

const ERROR_LEVELS: ReadonlySet<Level> = new Set<Level>(['ALERT', 'BUG', 'CRITICAL', 'ERROR']);
/** How many lines later a handshake error may still borrow the address of its TLS accept. */
const PEER_MEMORY_LINES = 50;
/** Lines after `cannot parse headers` that dump the request. */
const MAX_DUMP_LINES = 100;
/** A continuation line: indented, an HTTP/SIP header, or a request/status line. */
const CONTINUATION =
  /^(?:\s|[A-Za-z][\w-]{0,40}: |(?:GET|POST|OPTIONS|HEAD) \S{1,2048} HTTP\/1\.[01]$|HTTP\/1\.[01] \d{3}\b)/;

function hasKeys(keys: EventKeys): boolean {
  return Object.values(keys).some((v) => v !== undefined);
}

class OpenSipsParser implements LineParser {
  /** pid → the last TLS peer it accepted, and on which line */
  private readonly peers = new Map<string, { host: string; port: string; lineNo: number }>();
  /** lines of a request dump still expected after `cannot parse headers` */
  private dumpLeft = 0;
  /** the previous line was ours, so an indented or header-shaped line continues it */
  private inRecord = false;

  constructor(private readonly ctx: ParseContext) {}

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') {
      if (this.dumpLeft > 0) return 'part';
      return 'skip';
    }
    const header = readHeader(text, this.ctx);
    if (!header) {
      if (this.dumpLeft > 0) {
        this.dumpLeft--;
        return 'part';
      }
      return this.inRecord && CONTINUATION.test(text) ? 'part' : 'unparsed';
    }
    this.inRecord = true;
    this.dumpLeft = header.message.startsWith('cannot parse headers') ? MAX_DUMP_LINES : 0;

    const reading = readMessage(header);
    if (reading.skip) return 'skip';
    const keys: EventKeys = { ...reading.keys };
    this.rememberPeer(header, keys, lineNo);

    let kind = reading.kind;
    if (!reading.signal && kind === 'info') {
      const level = header.level ?? 'INFO';
      if (ERROR_LEVELS.has(level)) kind = 'error';
      else if (level !== 'WARNING' && !hasKeys(keys)) return 'skip';
    }
    const event: LogEvent = {
      ts: header.ts,
      input: this.ctx.input,
      line: lineNo,
      raw: text,
      role: 'sbc',
      kind,
      keys,
      text: header.message,
    };
    if (reading.signal) event.signal = reading.signal;
    if (reading.sip) event.sip = reading.sip;
    if (reading.http) event.http = reading.http;
    emit(event);
    return 'event';
  }

  end(): void {
    this.peers.clear();
  }

  /** TLS accepts name the peer; proto_ws(s) errors of the same process borrow it (issue #4240). */
  private rememberPeer(header: Header, keys: EventKeys, lineNo: number): void {
    if (!header.pid) return;
    if (header.message.includes('New TLS connection from') && keys.peer && keys.ip) {
      const colon = keys.peer.lastIndexOf(':');
      const hostPart = keys.peer.slice(0, colon);
      const port = keys.peer.slice(colon + 1);
      if (this.peers.size > 10_000) this.peers.clear();
      this.peers.set(header.pid, { host: hostPart, port, lineNo });
      return;
    }
    if (keys.peer || !header.module?.startsWith('proto_ws')) return;
    const known = this.peers.get(header.pid);
    if (known && lineNo - known.lineNo <= PEER_MEMORY_LINES)
      Object.assign(keys, addressKeys(known.host, known.port));
  }
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

function sniffOpenSips(line: string): number {
  const text = line.trim();
  if (text === '' || text.length > 65_536) return 0;
  const header = readHeader(text);
  if (!header) return 0;
  const ours = header.ident?.includes('opensips') ?? false;
  if (header.level) return ours ? 0.95 : 0.85;
  return ours ? 0.7 : 0;
}

export const opensips: LogFormat = {
  name: 'opensips',
  role: 'sbc',
  description:
    'OpenSIPS SIP server / SBC: syslog, bare syslog payload, stderr (`Mon DD HH:MM:SS [pid] LEVEL:module:function:`), journald',
  samples: [
    {
      line: ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Sec-WebSocket-Protocol header not present!',
      source: 'OpenSIPS/opensips issue #875',
    },
    {
      line: ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Origin header not present!',
      source: 'OpenSIPS/opensips issue #875',
    },
    {
      line: 'ERROR:proto_wss:ws_parse_req_handshake: Invalid Connection header <keep-alive>',
      source: 'OpenSIPS/opensips issue #987',
    },
    {
      line: 'Sep 23 11:13:48 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:proto_wss:wss_read_req: cannot complete WebSocket handshake',
      source: 'OpenSIPS/opensips issue #987',
    },
    {
      line: 'Sep 23 11:14:50 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:tm:msg_send: send() to 111.92.8.58:61509 for proto wss/6 failed',
      source: 'OpenSIPS/opensips issue #987',
    },
    {
      line: 'Nov 15 23:08:00 [58] ERROR:proto_wss:ws_parse_req_handshake: cannot parse headers',
      source: 'OpenSIPS/opensips issue #3525',
    },
    {
      line: 'Aug  1 15:10:15 localhost /usr/local/sbin/opensips[21544]: ERROR:proto_wss:tls_accept: New TLS connection from 17.47.91.162:59554 failed to accept',
      source: 'OpenSIPS/opensips issues #1434, #4240, #3198 (sbc-formats.md §2.2)',
    },
    {
      line: 'Sep 03 11:35:27 slim.mylan /usr/local/sbin/opensips[772875]: INFO:tls_openssl:openssl_tls_accept: New TLS connection from 3.131.220.121:60966 accepted',
      source: 'OpenSIPS/opensips issues #1434, #4240, #3198 (sbc-formats.md §2.2)',
    },
  ],
  sniff: sniffOpenSips,
  createParser(ctx: ParseContext): LineParser {
    return new OpenSipsParser(ctx);
  },
};
