/**
 * One shared parser for SIP messages that logs dump over several lines (JsSIP and SIP.js traces,
 * harness dumps, SBC traces). Formats find the block boundaries; this reads the message.
 */
import type { EventKeys, LogEvent, Signal, SipInfo } from '../model.js';

export interface SipMessage {
  isRequest: boolean;
  method?: string; // request method, or the CSeq method of a response
  requestUri?: string;
  status?: number;
  reason?: string;
  callId?: string;
  cseq?: number;
  retryAfter?: number;
  fromUser?: string;
  toUser?: string;
  agent?: string;
  /** lower-case header names, compact forms expanded */
  headers: string[];
  via?: string;
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  e: 'content-encoding',
  s: 'subject',
};

const REQUEST_LINE = /^([A-Z]{3,12}) (\S+) SIP\/2\.0$/;
const STATUS_LINE = /^SIP\/2\.0 (\d{3})(?: (.*))?$/;

export function isSipStartLine(line: string): boolean {
  const t = stripTrace(line);
  return STATUS_LINE.test(t) || REQUEST_LINE.test(t);
}

/** ngrep renders CRLF as a trailing "."; Kamailio/Homer exports keep \r. */
function stripTrace(line: string): string {
  let t = line.trim();
  if (t.endsWith('.') && / SIP\/2\.0\.$|^SIP\/2\.0 |^[A-Za-z-]+: .*\.$/.test(t)) t = t.slice(0, -1);
  return t;
}

/** The user part of a SIP or WebSocket URI: sip:agent-042@example.com → agent-042. */
export function uriUser(text: string): string | undefined {
  const m = /\bsips?:([^@\s;>:"]+)@/i.exec(text);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

/**
 * Parses the lines of one SIP message (start line first; blank lines and a body may follow).
 * Returns undefined when the first non-empty line is not a SIP start line.
 */
export function parseSipMessage(lines: readonly string[]): SipMessage | undefined {
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  if (i >= lines.length) return undefined;
  const first = stripTrace(lines[i]);
  let msg: SipMessage;
  const sm = STATUS_LINE.exec(first);
  if (sm) {
    msg = { isRequest: false, status: Number(sm[1]), reason: sm[2] || undefined, headers: [] };
  } else {
    const rm = REQUEST_LINE.exec(first);
    if (!rm) return undefined;
    msg = { isRequest: true, method: rm[1], requestUri: rm[2], headers: [] };
  }
  for (i++; i < lines.length; i++) {
    const line = stripTrace(lines[i]);
    if (line === '') break; // end of headers
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let name = line.slice(0, colon).trim().toLowerCase();
    if (name.length === 1 && COMPACT[name]) name = COMPACT[name];
    const value = line.slice(colon + 1).trim();
    msg.headers.push(name);
    switch (name) {
      case 'call-id':
        msg.callId = value;
        break;
      case 'cseq': {
        const c = /^(\d+)\s+([A-Z]+)/.exec(value);
        if (c) {
          msg.cseq = Number(c[1]);
          if (!msg.isRequest) msg.method = c[2];
        }
        break;
      }
      case 'retry-after': {
        const r = /^(\d+)/.exec(value);
        if (r) msg.retryAfter = Number(r[1]);
        break;
      }
      case 'from':
        msg.fromUser = uriUser(value);
        break;
      case 'to':
        msg.toUser = uriUser(value);
        break;
      case 'server':
      case 'user-agent':
        msg.agent = value;
        break;
      case 'via':
        if (!msg.via) msg.via = value;
        break;
    }
  }
  return msg;
}

// ---------------------------------------------------------------------------------------------
// SIP messages an SBC-side capture or trace shows (Acme sipmsg.log, sngrep, ngrep, HOMER)
// ---------------------------------------------------------------------------------------------

/** The SipInfo of a message seen in the given direction. */
export function sipInfoOf(msg: SipMessage, direction: SipInfo['direction']): SipInfo {
  const sip: SipInfo = { direction, headers: msg.headers };
  if (msg.method) sip.method = msg.method;
  if (msg.status !== undefined) sip.status = msg.status;
  if (msg.reason) sip.reason = msg.reason;
  if (msg.cseq !== undefined) sip.cseq = msg.cseq;
  if (msg.retryAfter !== undefined) sip.retryAfter = msg.retryAfter;
  if (msg.agent) sip.agent = msg.agent;
  if (msg.fromUser) sip.fromUser = msg.fromUser;
  if (msg.toUser) sip.toUser = msg.toUser;
  return sip;
}

/**
 * The other party's own AOR, seen from the SBC: the From of transactions it started (requests
 * the SBC received, responses it sent), the To of those the SBC started.
 */
export function remoteUser(msg: SipMessage, direction: 'sent' | 'received'): string | undefined {
  const startedByRemote = msg.isRequest === (direction === 'received');
  return startedByRemote ? (msg.fromUser ?? msg.toUser) : (msg.toUser ?? msg.fromUser);
}

/** What a status an SBC sent or relayed means (sbc-formats.md §6.2, §8). */
export function sipStatusSignal(msg: SipMessage): Signal | undefined {
  switch (msg.status) {
    case 401:
    case 407:
      return 'auth-challenge';
    case 408:
      return 'transaction-timeout';
    case 503:
      return msg.retryAfter !== undefined ? 'sbc-rate-limit' : 'sbc-overload';
    case 200:
      return msg.method === 'REGISTER' ? 'registered' : undefined;
    default:
      return undefined;
  }
}

/** Where a captured SIP message was seen: the capture's header for it, from the SBC's side. */
export interface SipCapture {
  input: number;
  lineNo: number;
  ts: number;
  /** the capture's header line for this message */
  raw: string;
  direction: 'sent' | 'received';
  /** the other party as the capture names it (an IPv6 address in brackets) */
  remoteHost: string;
  remotePort: string;
  /** the other party's address names its connection (false: a registrar or trunk every user shares) */
  peer?: boolean;
}

/** One SBC event for a captured SIP message: Call-ID, the remote user, the remote address, status. */
export function sipCaptureEvent(capture: SipCapture, msg: SipMessage, startLine: string): LogEvent {
  const host = capture.remoteHost.startsWith('[') ? capture.remoteHost.slice(1, -1) : capture.remoteHost;
  const address = `${capture.remoteHost}:${capture.remotePort}`;
  const keys: EventKeys = capture.peer === false ? {} : { peer: address, ip: host };
  if (msg.callId) keys.callId = msg.callId;
  const user = remoteUser(msg, capture.direction);
  if (user) keys.user = user;
  const event: LogEvent = {
    ts: capture.ts,
    input: capture.input,
    line: capture.lineNo,
    raw: `${capture.raw} ${startLine}`,
    role: 'sbc',
    kind: msg.isRequest ? 'sip-request' : 'sip-response',
    keys,
    sip: sipInfoOf(msg, capture.direction),
    text: `${capture.direction === 'sent' ? 'sent to' : 'received from'} ${address}: ${startLine}`,
  };
  const signal = sipStatusSignal(msg);
  if (signal) event.signal = signal;
  return event;
}
