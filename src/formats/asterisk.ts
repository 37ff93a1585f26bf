/**
 * Asterisk (res_pjsip, res_http_websocket) logs: the file channel (`[date] LEVEL[lwp][C-xxxxxxxx] file.c: msg`),
 * the console / plain formatter (`[date] LEVEL[lwp][C-…]: file.c:NNN func: msg`), the syslog channel
 * (`LEVEL[lwp]: file.c:NNN in func: msg`), dates `%b %e %T` (no year) or `%F %T`, the console's undated
 * verbose lines (`  == `, `    -- `, `       > `), PJSIP logger blocks (`<--- Received SIP request (N bytes)
 * from WS:ip:port --->` + the message) and the legacy chan_sip trace (`<--- SIP read from …--->`, closed by
 * `<------------->`). Reference: sbc-formats.md §4 and §8.
 *
 * Undated lines (verbose console lines, SIP trace blocks) take the time of the last dated line.
 * Every regex is anchored or bounded; a 64 KB line costs linear time.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal, SipInfo, WsInfo } from '../model.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';
import { sipDumpEvent } from './harness.js';
import { uriUser } from './sip-message.js';
import { parseIso, parseSyslog } from './time.js';

// ---------------------------------------------------------------------------------------------
// Line header
// ---------------------------------------------------------------------------------------------

type Level = 'DEBUG' | 'TRACE' | 'NOTICE' | 'WARNING' | 'ERROR' | 'VERBOSE' | 'DTMF' | 'SECURITY';

const DATE =
  /^\[([A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\] {1,4}/;
/** syslog channel: `Mon DD HH:MM:SS host asterisk[pid]: ` */
const SYSLOG_PREFIX =
  /^([A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}) (?:[^\s[\]]{1,255} )?[^\s[\]]{1,255}\[\d{1,10}\]: /;
const LEVEL =
  /^(DEBUG|TRACE|NOTICE|WARNING|ERROR|VERBOSE|DTMF|SECURITY)\[(\d{1,10})\](?:\[(C-[0-9a-f]{8})\])?:? {1,4}/;
/** `res_pjsip/pjsip_distributor.c:649 log_failed_request: `, `res_http_websocket.c: `, `file.c:12 in func: ` */
const ORIGIN = /^([\w./-]{1,128}\.c)(?::(\d{1,6}))?(?:(?: in)? (\w{1,64}))?: ?/;
/** Console verbose magic prefixes. */
const VERBOSE = /^ {0,8}(?:==|--|>) /;

interface Header {
  ts: number;
  level?: Level;
  /** Asterisk's own call id `C-xxxxxxxx` (not the SIP Call-ID) */
  callTag?: string;
  file?: string;
  dated: boolean;
  message: string;
}

function readHeader(line: string, ctx?: ParseContext): Header | undefined {
  let rest = line;
  let ts = NaN;
  let dated = false;
  let m: RegExpExecArray | null;
  if ((m = DATE.exec(rest))) {
    dated = true;
    if (ctx) ts = /^\d/.test(m[1]) ? parseIso(m[1], ctx) : parseSyslog(m[1], ctx);
    rest = rest.slice(m[0].length);
  } else if ((m = SYSLOG_PREFIX.exec(rest))) {
    dated = true;
    if (ctx) ts = parseSyslog(m[1], ctx);
    rest = rest.slice(m[0].length);
  }
  const header: Header = { ts, dated, message: '' };
  if ((m = LEVEL.exec(rest))) {
    header.level = m[1] as Level;
    header.callTag = m[3];
    rest = rest.slice(m[0].length);
    if ((m = ORIGIN.exec(rest))) {
      header.file = m[1];
      rest = rest.slice(m[0].length);
    }
  } else if (!dated) {
    if (!(m = VERBOSE.exec(rest))) return undefined;
    rest = rest.slice(m[0].length);
  } else {
    return undefined;
  }
  const verbose = VERBOSE.exec(rest); // the file channel keeps `    -- ` in VERBOSE messages
  header.message = (verbose ? rest.slice(verbose[0].length) : rest).trim();
  return header;
}

// ---------------------------------------------------------------------------------------------
// Message → meaning (sbc-formats.md §4.2, §8)
// ---------------------------------------------------------------------------------------------

interface Reading {
  kind: EventKind;
  signal?: Signal;
  keys: EventKeys;
  sip?: SipInfo;
  http?: HttpInfo;
  ws?: WsInfo;
}

const QUOTED_ADDRESS = /'(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})'/;
const CHANNEL_USER = /\b(?:PJSIP|SIP)\/([^\s/@'"-]{1,64})-[0-9a-f]{8}\b/;
/** `Request 'REGISTER' from '"User1" <sip:User1@bp.erss.in>' failed for '192.168.2.8:45524' (callid: …) - reason` */
const FAILED_REQUEST =
  /^Request '([A-Z]{3,12})' from '([^']{0,256})' failed for '([^']{1,64})' \(callid: ([^)]{1,256})\) - ([^\n]{1,200})$/;
/** chan_sip: `Registration from '<sip:1001@host>' failed for '1.2.3.4:5060' - Wrong password` */
const FAILED_REGISTRATION = /^Registration from '([^']{0,256})' failed for '([^']{1,64})' - ([^\n]{1,200})$/;
const AOR = /\bAOR '([^']{1,128})'/;
const REMOVED_DUE = / due to (\w{1,32})/;
const CONTACT_STATUS = /^Contact ([^/\s]{1,128})\/\S{1,512} is now (Reachable|Unreachable)\b/;
const SECURITY_EVENT = /^SecurityEvent="(\w{1,40})"/;
const SECURITY_ACCOUNT = /,AccountID="([^"]{0,128})"/;
const SECURITY_REMOTE = /,RemoteAddress="IPV[46]\/\w{2,4}\/([^/"]{1,64})\/(\d{1,5})"/;
const SECURITY_SESSION = /,SessionID="([^"]{1,256})"/;
const PROTOCOL = /for protocol '([^']{0,64})'/;

function addressKeys(host: string, port: string): EventKeys {
  const ip = host.startsWith('[') ? host.slice(1, -1) : host;
  return { ip, peer: `${host}:${port}` };
}

/** `1.2.3.4:5060`, `[2001:db8::1]:5060`; a host name gives no keys. */
function splitAddress(text: string): EventKeys {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return {};
  const host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) return {};
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host) || /^\[[0-9A-Fa-f:.]{2,45}\]$/.test(host))
    return addressKeys(host, port);
  return {};
}

function messageKeys(msg: string): EventKeys {
  const keys: EventKeys = {};
  const address = msg.includes("'") ? QUOTED_ADDRESS.exec(msg) : null;
  if (address) Object.assign(keys, addressKeys(address[1], address[2]));
  const callId = msg.indexOf('(callid: ');
  if (callId >= 0) {
    const end = msg.indexOf(')', callId);
    if (end > callId + 9 && end - callId < 266) keys.callId = msg.slice(callId + 9, end);
  }
  const channel = CHANNEL_USER.exec(msg);
  if (channel) keys.user = channel[1];
  else if (msg.includes('sip:') || msg.includes('sips:')) {
    const user = uriUser(msg);
    if (user) keys.user = user;
  }
  return keys;
}

function handshake(signal: Signal, keys: EventKeys, status: number): Reading {
  return { kind: 'ws-handshake', signal, keys, http: { status, upgrade: true } };
}

/** res_pjsip distributor / chan_sip refusal reasons. */
function refusalSignal(reason: string): Signal | undefined {
  if (/ACL|Not a local domain/i.test(reason)) return 'acl-rejected';
  if (
    /No matching (?:endpoint|peer)|authenticate|Wrong password|mismatch|not found|Peer is not supposed/i.test(
      reason,
    )
  )
    return 'auth-failed';
  return undefined;
}

function readSecurity(msg: string, keys: EventKeys): Reading | undefined {
  const event = SECURITY_EVENT.exec(msg);
  if (!event) return undefined;
  const account = SECURITY_ACCOUNT.exec(msg);
  if (account?.[1]) keys.user = account[1];
  const remote = SECURITY_REMOTE.exec(msg);
  if (remote)
    Object.assign(
      keys,
      splitAddress(`${remote[1].includes(':') ? `[${remote[1]}]` : remote[1]}:${remote[2]}`),
    );
  const session = SECURITY_SESSION.exec(msg);
  if (session && !/^0x/.test(session[1])) keys.callId = session[1];
  switch (event[1]) {
    case 'InvalidAccountID':
    case 'InvalidPassword':
    case 'ChallengeResponseFailed':
    case 'AuthMethodNotAllowed':
      return { kind: 'auth', signal: 'auth-failed', keys };
    case 'FailedACL':
      return { kind: 'auth', signal: 'acl-rejected', keys };
    case 'ChallengeSent':
      return { kind: 'auth', signal: 'auth-challenge', keys };
    case 'LoadAverageLimit':
    case 'SessionLimit':
    case 'MemoryLimit':
      return { kind: 'rate-limit', signal: 'sbc-capacity', keys };
    default:
      return { kind: 'auth', keys };
  }
}

function readMessage(msg: string, level: Level | undefined): Reading {
  const keys = messageKeys(msg);
  let m: RegExpExecArray | null;

  // --- PJSIP identification / authentication failures ------------------------------------------
  if (msg.startsWith("Request '") && (m = FAILED_REQUEST.exec(msg))) {
    const user = uriUser(m[2]);
    if (user) keys.user = user;
    Object.assign(keys, splitAddress(m[3]));
    keys.callId = m[4];
    const reason = m[5].replace(/ after \d{1,10} tries in [\d.]{1,20} ms$/, '');
    const signal = refusalSignal(reason);
    return { kind: signal ? 'auth' : 'error', signal, keys, sip: { method: m[1], direction: 'received' } };
  }
  if (msg.startsWith("Registration from '") && (m = FAILED_REGISTRATION.exec(msg))) {
    const user = uriUser(m[1]);
    if (user) keys.user = user;
    Object.assign(keys, splitAddress(m[2]));
    const signal = refusalSignal(m[3]);
    return {
      kind: signal ? 'auth' : 'error',
      signal,
      keys,
      sip: { method: 'REGISTER', direction: 'received' },
    };
  }
  if (level === 'SECURITY') {
    const security = readSecurity(msg, keys);
    if (security) return security;
  }

  // --- WebSocket transport (res_http_websocket.c) ---------------------------------------------------
  const lower = msg.toLowerCase();
  if (lower.includes('websocket') || lower.includes('web socket')) {
    if (msg.includes('could not be accepted')) {
      if (msg.includes('no protocols')) return handshake('missing-subprotocol', keys, 400);
      if (msg.includes('did not request WebSocket')) return handshake('bad-header', keys, 400);
      if (msg.includes("unsupported version '00/76'")) return handshake('bad-header', keys, 400);
      if (msg.includes('unsupported version')) return handshake('bad-header', keys, 426);
      return handshake('ws-handshake-failed', keys, 400);
    }
    if (msg.includes('seems unresponsive')) return { kind: 'ws-close', signal: 'idle-close', keys };
    if (msg.includes('closed abruptly')) return { kind: 'ws-close', signal: 'conn-reset', keys };
    if (msg.includes('forcefully closed due to fatal write error'))
      return { kind: 'ws-close', signal: 'conn-reset', keys };
    if (msg.startsWith('Error reading from web socket')) return { kind: 'error', signal: 'conn-reset', keys };
    if (/^WebSocket connection (?:from|to) '/.test(msg)) {
      if (msg.includes(' accepted using version')) {
        const ws: WsInfo = {};
        const protocol = PROTOCOL.exec(msg);
        if (protocol) ws.subprotocol = protocol[1];
        return { kind: 'ws-open', signal: 'ws-open', keys, ws };
      }
      if (msg.endsWith(' closed')) return { kind: 'ws-close', signal: 'ws-close', keys };
    }
  }

  // --- overload (main/taskprocessor.c, pjsip_distributor.c) -----------------------------------------
  if (msg.includes('task processor queue reached') || msg.startsWith('Taskprocessor overload alert'))
    return { kind: 'error', signal: 'sbc-overload', keys };

  // --- registrar / qualify (res_pjsip_registrar.c, pjsip_options.c) --------------------------------
  if (msg.startsWith('Added contact ') || msg.startsWith('Removed contact ')) {
    const aor = AOR.exec(msg);
    if (aor) keys.user = aor[1];
    if (msg.startsWith('Added')) return { kind: 'info', signal: 'registered', keys };
    const due = REMOVED_DUE.exec(msg)?.[1];
    return due === 'shutdown' ? { kind: 'ws-close', signal: 'ws-close', keys } : { kind: 'info', keys };
  }
  if ((m = CONTACT_STATUS.exec(msg))) {
    keys.user = m[1];
    return m[2] === 'Unreachable'
      ? { kind: 'timeout', signal: 'transaction-timeout', keys }
      : { kind: 'info', signal: 'keepalive', keys };
  }

  // --- chan_sip transaction timeouts --------------------------------------------------------------
  if (msg.startsWith('Retransmission timeout reached') || msg.startsWith('Maximum retries exceeded'))
    return { kind: 'timeout', signal: 'transaction-timeout', keys };
  return { kind: 'info', keys };
}

// ---------------------------------------------------------------------------------------------
// SIP trace blocks (res_pjsip_logger.c, legacy chan_sip)
// ---------------------------------------------------------------------------------------------

/** direction, request|response, proto, address */
const PJSIP_TRACE =
  /^<--- (Received|Transmitting) SIP (request|response) \(\d{1,10} bytes\) (?:from|to) (UDP|TCP|TLS|WSS?|ws|wss|udp|tcp|tls):(\S{1,80}) --->$/;
const CHAN_SIP_READ = /^<--- SIP read from (?:(?:UDP|TCP|TLS|WSS?):)?(\S{1,80}) --->$/;
const CHAN_SIP_SENT =
  /^<--- (?:Reliably )?Transmitting \((?:no )?NAT\) to (?:(?:UDP|TCP|TLS|WSS?):)?(\S{1,80}) --->$/;
const CHAN_SIP_END = /^<-{13}>$/;
const TRACE_MAX_LINES = 400;

interface TraceHeader {
  direction: 'sent' | 'received';
  address: string;
}

function readTraceHeader(text: string): TraceHeader | undefined {
  if (!text.startsWith('<--- ')) return undefined;
  let m: RegExpExecArray | null;
  if ((m = PJSIP_TRACE.exec(text)))
    return { direction: m[1] === 'Received' ? 'received' : 'sent', address: m[4] };
  if ((m = CHAN_SIP_READ.exec(text))) return { direction: 'received', address: m[1] };
  if ((m = CHAN_SIP_SENT.exec(text))) return { direction: 'sent', address: m[1] };
  return undefined;
}

interface TraceBlock extends TraceHeader {
  lineNo: number;
  ts: number;
  raw: string;
  lines: string[];
}

function statusSignal(
  status: number,
  reason: string | undefined,
  retryAfter?: number,
  method?: string,
): Signal | undefined {
  const r = reason ?? '';
  if (status === 401 || status === 407) return 'auth-challenge';
  if (status === 403) return /limit|too many|rate|flood|block/i.test(r) ? 'sbc-rate-limit' : 'acl-rejected';
  if (status === 408) return 'transaction-timeout';
  if (status === 503)
    return retryAfter !== undefined || /limit|too many|rate|overload|Maximum Calls/i.test(r)
      ? 'sbc-rate-limit'
      : 'sbc-overload';
  if (status === 200 && method === 'REGISTER') return 'registered';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

function hasKeys(keys: EventKeys): boolean {
  return Object.values(keys).some((v) => v !== undefined);
}

class AsteriskParser implements LineParser {
  private trace?: TraceBlock;
  private lastTs = NaN;

  constructor(private readonly ctx: ParseContext) {}

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const trimmed = text.trim();
    const header = trimmed.startsWith('<---') ? undefined : readHeader(text, this.ctx);
    // the file channel prefixes the trace header: `[date] VERBOSE[lwp] res_pjsip_logger.c: <--- Received …`
    const traceHeader = readTraceHeader(header ? header.message : trimmed);

    if (this.trace) {
      if (!header && !traceHeader) {
        if (CHAN_SIP_END.test(trimmed)) {
          this.flushTrace(emit);
          return 'part';
        }
        if (this.trace.lines.length < TRACE_MAX_LINES) {
          this.trace.lines.push(text);
          return 'part';
        }
      }
      this.flushTrace(emit);
    }
    if (header?.dated && !Number.isNaN(header.ts)) this.lastTs = header.ts;
    if (traceHeader) {
      this.trace = { ...traceHeader, lineNo, ts: this.lastTs, raw: trimmed, lines: [] };
      return 'event';
    }
    if (!header) {
      if (trimmed === '' || CHAN_SIP_END.test(trimmed)) return 'skip';
      return 'unparsed';
    }
    const event = this.toEvent(header, lineNo, text);
    if (!event) return 'skip';
    emit(event);
    return 'event';
  }

  end(emit: (event: LogEvent) => void): void {
    this.flushTrace(emit);
  }

  private toEvent(header: Header, lineNo: number, raw: string): LogEvent | undefined {
    if (header.level === 'DEBUG' && !/overload|task processor/i.test(header.message)) return undefined;
    const reading = readMessage(header.message, header.level);
    const keys: EventKeys = { ...reading.keys };
    if (header.callTag) keys.connId = header.callTag;
    let kind = reading.kind;
    if (!reading.signal && kind === 'info') {
      if (header.level === 'ERROR') kind = 'error';
      else if (header.level !== 'WARNING' && !hasKeys(keys)) return undefined;
    }
    const event: LogEvent = {
      ts: header.dated ? header.ts : this.lastTs,
      input: this.ctx.input,
      line: lineNo,
      raw,
      role: 'sbc',
      kind,
      keys,
      text: header.message,
    };
    if (reading.signal) event.signal = reading.signal;
    if (reading.sip) event.sip = reading.sip;
    if (reading.http) event.http = reading.http;
    if (reading.ws) event.ws = reading.ws;
    return event;
  }

  private flushTrace(emit: (event: LogEvent) => void): void {
    const block = this.trace;
    if (!block) return;
    this.trace = undefined;
    const base = sipDumpEvent(
      { lineNo: block.lineNo, ts: block.ts, raw: block.raw, direction: block.direction, lines: block.lines },
      this.ctx,
    );
    if (!base) return;
    const keys: EventKeys = {};
    if (base.keys.callId) keys.callId = base.keys.callId;
    if (base.keys.user) keys.user = base.keys.user;
    Object.assign(keys, splitAddress(block.address));
    const event: LogEvent = {
      ...base,
      role: 'sbc',
      keys,
      text: `${block.direction} ${base.text ?? ''}`.trim(),
    };
    const sip = base.sip;
    if (sip?.status !== undefined) {
      const signal = statusSignal(sip.status, sip.reason, sip.retryAfter, sip.method);
      if (signal) event.signal = signal;
    }
    emit(event);
  }
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

const ASTERISK_WORDS =
  /WebSocket connection|Executing \[|res_pjsip|PJSIP\/|SIP\/\S{1,64}-[0-9a-f]{8}|Added contact|Removed contact|Registered SIP|Spawn extension|Called |Contact \S{1,128} is now|Endpoint /;

function sniffAsterisk(line: string): number {
  const trimmed = line.trim();
  if (trimmed === '') return 0;
  if (readTraceHeader(trimmed)) return 0.9;
  const header = readHeader(line);
  if (!header) return 0;
  if (header.level) {
    if (header.file) return header.dated ? 0.95 : 0.85;
    return header.dated ? 0.6 : 0.3;
  }
  // an undated console verbose line
  return ASTERISK_WORDS.test(header.message.slice(0, 300)) ? 0.85 : 0.4;
}

export const asterisk: LogFormat = {
  name: 'asterisk',
  role: 'sbc',
  description:
    'Asterisk / res_pjsip: file, console and syslog channels (`[date] LEVEL[lwp][C-…] file.c: msg`), console verbose lines, PJSIP logger and chan_sip trace blocks',
  samples: [
    {
      line: `[Oct 10 16:29:51] NOTICE[21261]: res_pjsip/pjsip_distributor.c:649 log_failed_request: Request 'REGISTER' from '"User1" <sip:User1@bp.erss.in>' failed for '192.168.2.8:45524' (callid: cgo2ao1ceguimrqft85b) - No matching endpoint found`,
      source: 'InnovateAsterisk/Browser-Phone issue #335',
    },
    {
      line: `[Oct 10 16:29:51] NOTICE[21261]: res_pjsip/pjsip_distributor.c:649 log_failed_request: Request 'REGISTER' from '"User1" <sip:User1@bp.erss.in>' failed for '192.168.2.8:45524' (callid: cgo2ao1ceguimrqft85b) - Failed to authenticate`,
      source: 'InnovateAsterisk/Browser-Phone issue #335',
    },
    {
      line: "[Dec 15 18:42:01] NOTICE[567]: res_pjsip/pjsip_distributor.c:676 log_failed_request: Request 'REGISTER' from '<sip:8001@192.168.1.250>' failed for '192.168.1.110:5060' (callid: 156578329@192.168.1.110) - No matching endpoint found",
      source: 'TECH7Fox/asterisk-hass-addons issue #195',
    },
    {
      line: "[2025-02-01 18:00:38] VERBOSE[27266] res_http_websocket.c: WebSocket connection from '80.171.120.98:65097' forcefully closed due to fatal write error",
      source: 'flutter-webrtc/dockers issue #3',
    },
    {
      line: '[2025-02-01 18:00:40] ERROR[29178] res_http_websocket.c: Error reading from web socket: Connection reset by peer',
      source: 'flutter-webrtc/dockers issue #3',
    },
    {
      line: '[May  6 18:49:40] WARNING[4069]: res_http_websocket.c:518 ws_safe_read: Web socket closed abruptly',
      source: 'asterisk/node-ari-client issue #149',
    },
    {
      line: "  == WebSocket connection from '127.0.0.1:52492' closed",
      source: 'asterisk/node-ari-client issue #149',
    },
    {
      line: "== WebSocket connection from '192.168.0.105:53643' for protocol 'sip' accepted using version '13'",
      source: 'pastebin.com/zNtTaaw2 (Asterisk 13 WebRTC trace, sbc-formats.md §4.2)',
    },
  ],
  sniff: sniffAsterisk,
  createParser(ctx: ParseContext): LineParser {
    return new AsteriskParser(ctx);
  },
};
