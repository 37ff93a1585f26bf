/**
 * FreeSWITCH (mod_sofia) log files and console output:
 * `[<uuid|call-id> ]YYYY-MM-DD HH:MM:SS.uuuuuu[ NN.NN%] [LEVEL] file.c:NNN msg` (local time with year, µs,
 * no zone; newer builds add the idle-CPU percentage; mod_logfile prepends the session UUID), their
 * free-text continuation lines, and sofia SIP trace blocks (`sofia global siptrace on`):
 * `recv|send N bytes from|to proto/[ip]:port at HH:MM:SS.uuuuuu:` + 72 dashes + the message.
 * Reference: sbc-formats.md §3 and §8.
 *
 * Every regex is anchored or bounded; a 64 KB line costs linear time.
 */
import type { EventKeys, EventKind, LogEvent, Signal, SipInfo } from '../model.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';
import { sipDumpEvent } from './harness.js';
import { parseIso } from './time.js';

// ---------------------------------------------------------------------------------------------
// Log lines
// ---------------------------------------------------------------------------------------------

type Level = 'CONSOLE' | 'ALERT' | 'CRIT' | 'ERR' | 'WARNING' | 'NOTICE' | 'INFO' | 'DEBUG';

/** prefix, date, time, µs, level, file, line */
const LINE =
  /^(?:(\S{1,255}) +)?(\d{4}-\d{2}-\d{2} (\d{2}):(\d{2}):(\d{2})\.(\d{6})) +(?:\d{1,3}\.\d{2}% +)?\[(CONSOLE|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG)\] +([\w.-]{1,64}):(\d{1,6})(?: |$)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ANSI = /\x1b\[[0-9;]{0,16}m/g;

interface Header {
  ts: number;
  /** the date and time as if UTC, to date trace blocks that carry only a time of day */
  wallMs: number;
  prefix?: string;
  level: Level;
  file: string;
  message: string;
}

function readHeader(line: string, ctx?: ParseContext): Header | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  const wallMs = Date.parse(`${m[2].slice(0, 10)}T${m[2].slice(11, 19)}Z`) + Number(m[6]) / 1000;
  return {
    ts: ctx ? parseIso(m[2], ctx) : NaN,
    wallMs,
    prefix: m[1],
    level: m[7] as Level,
    file: m[8],
    message: line.slice(m[0].length),
  };
}

// ---------------------------------------------------------------------------------------------
// Message → meaning (sbc-formats.md §3.2, §8)
// ---------------------------------------------------------------------------------------------

interface Reading {
  kind: EventKind;
  signal?: Signal;
  keys: EventKeys;
  sip?: SipInfo;
  connId?: string;
}

/** `sofia/internal/1001@host`: profile, user */
const CHANNEL = /\bsofia\/([^/\s]{1,64})\/([^@\s/]{1,128})@/;
const BRACKET_UUID = /\[([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\]/i;
/** `SIP auth failure (REGISTER) on sofia profile 'internal' for [985@freeswich] from ip 76.70.29.174` */
const SIP_AUTH =
  /^SIP auth (failure|challenge) \(([A-Z]{3,12})\) on sofia profile '[^']{0,128}' for \[([^\]@]{0,128})@[^\]]{0,255}\] from ip ([0-9A-Fa-f:.]{2,45})/;
/** `Can't find user [1111111@172.31.30.163] from 37.49.231.10` */
const CANT_FIND = /^Can't find user \[([^\]@]{0,128})@[^\]]{0,255}\] from ([0-9A-Fa-f:.]{2,45})/;
/** `IP 1.2.3.4 Rejected by register acl "domains"` */
const REJECTED = /^IP ([0-9A-Fa-f:.]{2,45}) Rejected by /;
const PING_FAILED = /^Ping failed \S{1,128} with code (\d{3})/;
const HANGUP_CAUSE = /\b(RECOVERY_ON_TIMER_EXPIRE|MEDIA_TIMEOUT)\b/;
const IP_AFTER_FROM = /\bfrom (?:ip )?([0-9]{1,3}(?:\.[0-9]{1,3}){3})\b/;

function readMessage(msg: string): Reading {
  const keys: EventKeys = {};
  const channel = CHANNEL.exec(msg);
  if (channel) keys.user = channel[2];
  const uuid = BRACKET_UUID.exec(msg);
  const reading = (r: Omit<Reading, 'keys'>): Reading => ({ ...r, keys, connId: uuid?.[1] });

  // --- session capacity and rate (switch_core_session.c, sofia.c) --------------------------------
  if (msg.startsWith('Throttle Error!') || msg.startsWith('Over Session Rate of'))
    return reading({ kind: 'rate-limit', signal: 'sbc-rate-limit' });
  if (msg.startsWith('Over Session Limit!') || msg.includes('cannot create any sessions at this time'))
    return reading({ kind: 'rate-limit', signal: 'sbc-capacity' });
  if (msg.includes('Error Creating Session')) return reading({ kind: 'error', signal: 'sbc-capacity' });
  if (msg.includes('due to reaching max allowed registrations')) {
    return reading({
      kind: 'rate-limit',
      signal: 'sbc-capacity',
      sip: { method: 'REGISTER', direction: 'received' },
    });
  }

  // --- authentication and ACL (sofia_reg.c) --------------------------------------------------------
  let m: RegExpExecArray | null;
  if ((m = SIP_AUTH.exec(msg))) {
    if (m[3]) keys.user = m[3];
    keys.ip = m[4];
    return reading({
      kind: 'auth',
      signal: m[1] === 'failure' ? 'auth-failed' : 'auth-challenge',
      sip: { method: m[2], direction: 'received' },
    });
  }
  if ((m = CANT_FIND.exec(msg))) {
    if (m[1]) keys.user = m[1];
    keys.ip = m[2];
    return reading({ kind: 'auth', signal: 'auth-failed' });
  }
  if ((m = REJECTED.exec(msg))) {
    keys.ip = m[1];
    return reading({ kind: 'auth', signal: 'acl-rejected' });
  }

  // --- keep-alive and timers ---------------------------------------------------------------------
  if ((m = PING_FAILED.exec(msg))) {
    const status = Number(m[1]);
    if (status === 408) {
      return reading({
        kind: 'timeout',
        signal: 'transaction-timeout',
        sip: { method: 'OPTIONS', status, reason: 'Request Timeout', direction: 'internal' },
      });
    }
    return reading({ kind: 'error', sip: { method: 'OPTIONS', status, direction: 'received' } });
  }
  const cause = HANGUP_CAUSE.exec(msg);
  if (cause) {
    return cause[1] === 'RECOVERY_ON_TIMER_EXPIRE'
      ? reading({ kind: 'timeout', signal: 'transaction-timeout' })
      : reading({ kind: 'timeout' });
  }

  if (!keys.ip) {
    const ip = IP_AFTER_FROM.exec(msg);
    if (ip) keys.ip = ip[1];
  }
  return reading({ kind: 'info' });
}

// ---------------------------------------------------------------------------------------------
// Sofia SIP trace blocks (sbc-formats.md §3.3, sofia-sip tport_logging.c)
// ---------------------------------------------------------------------------------------------

/** direction, proto, address, port, hh, mm, ss, µs */
const TRACE_HEADER =
  /^(recv|send|sent) \d{1,10} bytes (?:from|to) ([a-z]{2,5})\/\[([^\]]{1,64})\]:(\d{1,5})(?:\/\d{1,10})?(?:;comp=sigcomp)? at (\d{2}):(\d{2}):(\d{2})\.(\d{6}):$/;
const SEPARATOR = /^-{72}$/;
const TRACE_MAX_LINES = 400;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const DAY_MS = 86_400_000;

interface TraceBlock {
  lineNo: number;
  raw: string;
  direction: 'sent' | 'received';
  address: string;
  port: string;
  /** time of day in ms */
  timeOfDayMs: number;
  /** separators seen (old sofia-sip closes the message with a second one) */
  separators: number;
  lines: string[];
}

function peerKeys(address: string, port: string): EventKeys {
  if (IPV4.test(address)) return { ip: address, peer: `${address}:${port}` };
  if (address.includes(':') && IPV6.test(address)) return { ip: address, peer: `[${address}]:${port}` };
  return {}; // a host name or a redacted address
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
    return retryAfter !== undefined || /Maximum Calls|limit|too many|rate|overload/i.test(r)
      ? 'sbc-rate-limit'
      : 'sbc-overload';
  if (status === 200 && method === 'REGISTER') return 'registered';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

const ERROR_LEVELS: ReadonlySet<Level> = new Set<Level>(['ALERT', 'CRIT', 'ERR']);
/** Free-text continuation lines of one record (`Can't find user` + `You must define a domain …`). */
const MAX_CONTINUATION = 200;

function hasKeys(keys: EventKeys): boolean {
  return Object.values(keys).some((v) => v !== undefined);
}

class FreeSwitchParser implements LineParser {
  private trace?: TraceBlock;
  /** wall time (as if UTC) of the last dated line, to date trace blocks */
  private lastWallMs = NaN;
  private continuation = 0;

  constructor(private readonly ctx: ParseContext) {}

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.includes('\x1b')) text = text.replace(ANSI, '');
    const trimmed = text.trim();

    const traceHeader = trimmed.includes(' bytes ') ? TRACE_HEADER.exec(trimmed) : null;
    const header = traceHeader ? undefined : readHeader(text, this.ctx);

    if (this.trace) {
      if (!traceHeader && !header) return this.pushTraceLine(trimmed, emit);
      this.flushTrace(emit, header?.wallMs);
    }
    if (traceHeader) {
      this.continuation = 0;
      this.trace = {
        lineNo,
        raw: trimmed,
        direction: traceHeader[1] === 'recv' ? 'received' : 'sent',
        address: traceHeader[3],
        port: traceHeader[4],
        timeOfDayMs:
          ((Number(traceHeader[5]) * 60 + Number(traceHeader[6])) * 60 + Number(traceHeader[7])) * 1000 +
          Number(traceHeader[8]) / 1000,
        separators: 0,
        lines: [],
      };
      return 'event';
    }
    if (!header) {
      if (trimmed === '') return 'skip';
      if (this.continuation > 0) {
        this.continuation--;
        return 'part';
      }
      return 'unparsed';
    }

    this.lastWallMs = header.wallMs;
    this.continuation = MAX_CONTINUATION;
    const event = this.toEvent(header, lineNo, text);
    if (!event) return 'skip';
    emit(event);
    return 'event';
  }

  end(emit: (event: LogEvent) => void): void {
    this.flushTrace(emit);
  }

  private toEvent(header: Header, lineNo: number, raw: string): LogEvent | undefined {
    const reading = readMessage(header.message);
    const keys: EventKeys = { ...reading.keys };
    if (header.prefix) {
      // mod_logfile writes the session UUID; with inbound-use-callid-as-uuid it is the Call-ID
      if (UUID.test(header.prefix)) keys.connId = header.prefix;
      else keys.callId = header.prefix;
    } else if (reading.connId) {
      keys.connId = reading.connId;
    }
    let kind = reading.kind;
    if (!reading.signal && kind === 'info') {
      if (ERROR_LEVELS.has(header.level)) kind = 'error';
      else if (header.level === 'DEBUG' || (header.level !== 'WARNING' && !hasKeys(keys))) return undefined;
    }
    const event: LogEvent = {
      ts: header.ts,
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
    return event;
  }

  private pushTraceLine(trimmed: string, emit: (event: LogEvent) => void): LineOutcome {
    const block = this.trace;
    if (!block) return 'unparsed';
    if (SEPARATOR.test(trimmed)) {
      block.separators++;
      return 'part';
    }
    // old sofia-sip closes the message with a second separator; what follows is not ours
    if (block.separators >= 2 || block.lines.length >= TRACE_MAX_LINES) {
      this.flushTrace(emit);
      return trimmed === '' ? 'skip' : 'unparsed';
    }
    block.lines.push(trimmed);
    return 'part';
  }

  /** Emits the pending trace block; `nextWallMs` dates it when no dated line came before it. */
  private flushTrace(emit: (event: LogEvent) => void, nextWallMs?: number): void {
    const block = this.trace;
    if (!block) return;
    this.trace = undefined;
    const event = this.traceEvent(block, nextWallMs);
    if (event) emit(event);
  }

  private traceEvent(block: TraceBlock, nextWallMs?: number): LogEvent | undefined {
    const ref = Number.isNaN(this.lastWallMs) ? (nextWallMs ?? NaN) : this.lastWallMs;
    let ts = NaN;
    if (!Number.isNaN(ref)) {
      let wall = Math.floor(ref / DAY_MS) * DAY_MS + block.timeOfDayMs;
      // a trace just after midnight dated by a line of the evening before, or the other way round
      if (wall < ref - DAY_MS / 2) wall += DAY_MS;
      else if (wall > ref + DAY_MS / 2) wall -= DAY_MS;
      ts = this.ctx.localToEpoch(wall);
    }
    const base = sipDumpEvent(
      { lineNo: block.lineNo, ts, raw: block.raw, direction: block.direction, lines: block.lines },
      this.ctx,
    );
    if (!base) return undefined;
    const keys: EventKeys = {};
    if (base.keys.callId) keys.callId = base.keys.callId;
    if (base.keys.user) keys.user = base.keys.user;
    Object.assign(keys, peerKeys(block.address, block.port));
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
    return event;
  }
}

// ---------------------------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------------------------

function sniffFreeSwitch(line: string): number {
  const text = line.includes('\x1b') ? line.replace(ANSI, '') : line;
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  if (trimmed.includes(' bytes ') && TRACE_HEADER.test(trimmed)) return 0.9;
  const header = readHeader(text);
  if (!header) return 0;
  return /\.c$|\.cpp$/.test(header.file) ? 0.95 : 0.85;
}

export const freeswitch: LogFormat = {
  name: 'freeswitch',
  role: 'sbc',
  description:
    'FreeSWITCH / mod_sofia log file and console (`YYYY-MM-DD HH:MM:SS.uuuuuu [LEVEL] file.c:N`, UUID prefix, idle-CPU column) and sofia SIP trace blocks',
  samples: [
    {
      line: "2025-01-22 12:01:13.083037 [WARNING] sofia_reg.c:1795 SIP auth challenge (REGISTER) on sofia profile 'internal' for [985@freeswich] from ip 76.70.29.174",
      source: 'signalwire/freeswitch issue #2747',
    },
    {
      line: '2025-01-22 12:01:58.522687 [WARNING] sofia.c:6417 Ping failed test with code 408 - count 1/0/1, state DOWN',
      source: 'signalwire/freeswitch issue #2747',
    },
    {
      line: "2018-06-21 11:38:27.051799 [WARNING] sofia_reg.c:2906 Can't find user [1111111@172.31.30.163] from 37.49.231.10",
      source: 'fail2ban/fail2ban issue #2161',
    },
    {
      line: "2018-06-21 11:38:27.051799 [WARNING] sofia_reg.c:1737 SIP auth failure (REGISTER) on sofia profile 'internal' for [1111111@XX.XX.XXX.XXX] from ip 37.49.231.10",
      source: 'fail2ban/fail2ban issue #2161',
    },
    {
      line: '2023-01-30 10:07:10.270909 99.03% [WARNING] sofia_reg.c:520 fonial Failed Registration [904], setting retry to 30 seconds.',
      source: 'signalwire/freeswitch issues #1944, #1833 (sbc-formats.md §3.2)',
    },
    {
      line: '2022-10-19 07:34:13.561124 99.07% [NOTICE] switch_channel.c:1123 New Channel sofia/internal/79739980@172.16.154.33:56580 [42a396e6-4d2a-4b62-bde3-a75df666d926]',
      source: 'signalwire/freeswitch issues #1944, #1833 (sbc-formats.md §3.2)',
    },
    {
      line: '885d4ed6-a20e-424e-91d0-e0467d592e32 2023-10-13 08:37:55.200263 94.73% [DEBUG] mod_sofia.c:469 Channel sofia/internal/703@mydomain.pbx.mydomaintech.net hanging up, cause: NORMAL_CLEARING',
      source: 'signalwire/freeswitch issues #1448, #3088 (sbc-formats.md §3.2)',
    },
    {
      line: 'af780402-a8a3-406b-89c5-5efbcc2ab0d7 2026-07-23 16:03:21.333372 100.00% [NOTICE] switch_ivr_bridge.c:1029 Hangup sofia/external/11111@10.10.10.10 [CS_EXCHANGE_MEDIA] [NORMAL_CLEARING]',
      source: 'signalwire/freeswitch issues #1448, #3088 (sbc-formats.md §3.2)',
    },
  ],
  sniff: sniffFreeSwitch,
  createParser(ctx: ParseContext): LineParser {
    return new FreeSwitchParser(ctx);
  },
};
