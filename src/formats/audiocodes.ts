/**
 * AudioCodes Mediant SBC syslog (sbc-formats.md §5.1; AudioCodes Mediant user manuals "Syslog
 * Message Format"; sipcapture/paStash issues #75, #87, #240):
 *
 *   <133>[S=1718478] [SID=b9027c:24:198173]  (N  6891753) ---- Incoming SIP Message from
 *     52.114.75.24:5061 to SIPInterface #2 (Teams) TLS TO(#134) SocketID(200) ---- #012SIP/2.0 200 OK #012…
 *   14:32:52.028: 10.33.8.70: NOTICE: [S=9369] [SID=2ed1c8:96:5] (lgr_psbrdex)(274) recv <-- OFF_HOOK Ch:4
 *   [S=41] |CALL_END |SBC |20767593291410201017029@10.33.45.80 |1871197419|LCL |10.33.45.80 |5060 …
 *
 * One syslog record: an optional collector prefix (`Mon DD HH:MM:SS host`, ISO), an optional
 * `<PRI>`, an optional device prefix `HH:MM:SS.mmm : devIP : LEVEL:`, then `[S=<seq>]`, the session
 * id `[SID=mac:resets:n]` (`[SID:…]`, `[BID=…]` for non-call events), then one or more
 * `(N <n>)` statements and the device time `[Time:DD-MM@HH:MM:SS.mmm]`. Newlines inside a record
 * are sent as `#012`; collectors that decode them write the record over several lines, so a
 * record runs until the next record start. A SIP message follows a
 * `---- Incoming|Outgoing SIP Message from|to IP:PORT to|from SIPInterface #n (name) PROTO … ----`
 * statement; a message cut into two records continues at the start of the next record of the
 * same SID. CDR records (`|SBCReportType |…` header, `|CALL_END |…` rows) name the termination
 * reason. The SID, shared by both SBC legs, is the connection key.
 *
 * Throttling: Call Admission Control rejects with SIP 480 (internal 805 "IP Profile Call Limit",
 * 806 "Media Limits Exceeded", 818 "Signalling Limits Exceeded"); CDR category NO_RESOURCES.
 */
import type { EventKeys, EventKind, LogEvent, Signal, SipInfo } from '../model.js';
import { SbcSessions, sbcStatusSignal, type TracedMessage } from './sbc-trace.js';
import { isSipStartLine, uriUser } from './sip-message.js';
import { leadingTimestamp, utcContext } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

/** Where a record head may start its `[S=`/`[SID`/`[BID` mark. */
const MAX_PREFIX = 200;
const MAX_RECORD_LINES = 600;
const MAX_PENDING = 256;
const DAY_MS = 86_400_000;
/** Zones differ by whole quarter hours. */
const ZONE_STEP_MS = 900_000;

const PRI = /^<\d{1,3}>\s{0,4}/;
const HOST = /^[\w.:[\]-]{1,255}\s{1,4}/;
/** `14:32:52.028: 10.33.8.70: NOTICE:` / `18:38:14. 83 : 10.33.45.72 : NOTICE:` */
const DEVICE =
  /^(\d{1,2}):(\d{2}):(\d{2})\.\s?(\d{1,3})\s{0,2}:\s{0,2}[\w.:-]{1,64}?\s{0,2}:\s{0,2}(?:ERROR|WARNING|NOTICE|INFO|DEBUG)\s{0,2}:?\s{0,4}$/;
/** a syslog server's view: `10:44:11.299 10.15.77.55 local0.notice` (receive time, device, facility.severity) */
const RECEIVED =
  /^(\d{1,2}):(\d{2}):(\d{2})\.(\d{1,3})\s{1,4}[\w.:-]{1,64}\s{1,4}[a-z0-9]{1,8}\.(?:emerg|alert|crit|err|error|warn|warning|notice|info|debug)\s{0,4}$/i;
const SEQ = /^\[S=(\d{1,12})\]\s{0,4}/;
const SID = /^\[(SID|BID)[=:]([\w.:-]{1,64})\]\s{0,4}/;
const STATEMENT = /^\s{0,4}\(N\s{1,12}\d{1,12}\)\s?/;
/** `[Time:DD-MM@HH:MM:SS.mmm]` at the end of a record, sometimes followed by a number (`[1108]`) */
const DEVICE_TIME =
  /\s?\[Time:\s?(?:(\d{2})-(\d{2})@)?(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?\](?:\s{0,4}\[\d{1,10}\])?\s{0,4}$/;
const TIME_ONLY_LINE =
  /^\s{0,8}\[Time:\s?(?:\d{2}-\d{2}@)?\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?\](?:\s{0,4}\[\d{1,10}\])?\s{0,4}$/;
/** `---- Incoming SIP Message from 52.114.75.24:5061 to SIPInterface #2 (Teams) TLS TO(#134) … ----` */
const SIP_MESSAGE =
  /---- (Incoming|Outgoing) SIP Message (?:from|to) (\[[0-9A-Fa-f:.]{2,45}\]|[\w.-]{1,253}):(\d{1,5}) (?:to|from) SIPInterface #\d{1,5} \(([^)]{0,64})\) ([A-Za-z]{2,4})\b/;
const MARKER_END = / ----\s?/g;

/** Call Admission Control and the release causes the device makes up (805, 806, 818). */
const CAC_TEXT =
  /IP Profile Call Limit|Signall?ing Limits Exceeded|Media Limits Exceeded|\b(?:release cause|cause|reason)\W{0,4}8(?:05|06|18)\b/i;
const ADMISSION = /\b(?:CAC|call admission(?: control)?|admission control)\b/i;
const REFUSED = /\b(?:reject\w{0,3}|refus\w{0,3}|exceed\w{0,3}|denied|reached)\b/i;

const CDR_REFUSAL = /\|\s{0,40}(?:503|408)\s{0,40}\||NO_RESOURCES/;

/** CDR columns of recent firmware, used until the record's own header line is seen. */
const CDR_COLUMNS = [
  'SBCReportType',
  'EPTyp',
  'SIPCallId',
  'SessionId',
  'Orig',
  'SourceIp',
  'SourcePort',
  'DestIp',
  'DestPort',
  'TransportType',
  'SrcURI',
  'SrcURIBeforeMap',
  'DstURI',
  'DstURIBeforeMap',
  'Duration',
  'TrmSd',
  'TrmReason',
  'TrmReasonCategory',
  'SetupTime',
  'ConnectTime',
  'ReleaseTime',
  'RedirectReason',
  'RedirectURINum',
  'RedirectURINumBeforeMap',
  'TxSigIPDiffServ',
  'IPGroup (name)',
  'SrdId (name)',
  'SIPInterfaceId (name)',
  'ProxySetId (name)',
  'IpProfileId (name)',
  'MediaRealmId (name)',
  'DirectMedia',
  'SIPTrmReason',
  'SIPTermDesc',
  'Caller',
  'Callee',
];

interface Head {
  /** text after the SID (the record's first statement) */
  rest: string;
  sessionId?: string;
  /** collector time, epoch ms */
  collectorTs?: number;
  /** device time of day, ms (from the device prefix) */
  timeOfDayMs?: number;
}

/** Reads a record head; undefined when the line does not start an AudioCodes record. */
function readHead(line: string, ctx: ParseContext): Head | undefined {
  const window = line.length > MAX_PREFIX + 20 ? line.slice(0, MAX_PREFIX + 20) : line;
  let at = -1;
  for (const mark of ['[S=', '[SID', '[BID']) {
    const i = window.indexOf(mark);
    if (i >= 0 && i <= MAX_PREFIX && (at < 0 || i < at)) at = i;
  }
  if (at < 0) return undefined;
  let prefix = line.slice(0, at);
  const head: Head = { rest: '' };
  if (prefix !== '' && !prefix.startsWith('<') && !/^\d{1,2}:\d{2}:\d{2}\./.test(prefix)) {
    const lead = leadingTimestamp(prefix, ctx);
    if (!lead) return undefined;
    head.collectorTs = lead.ts;
    prefix = prefix.slice(lead.length);
    const host = PRI.test(prefix) || DEVICE.test(prefix) || RECEIVED.test(prefix) ? null : HOST.exec(prefix);
    if (host) prefix = prefix.slice(host[0].length);
  }
  const pri = PRI.exec(prefix);
  if (pri) prefix = prefix.slice(pri[0].length);
  if (prefix !== '') {
    const dev = DEVICE.exec(prefix) ?? RECEIVED.exec(prefix);
    if (!dev) return undefined;
    head.timeOfDayMs = ((+dev[1] * 60 + +dev[2]) * 60 + +dev[3]) * 1000 + Number(dev[4]);
  }
  let rest = line.slice(at);
  const seq = SEQ.exec(rest);
  if (seq) rest = rest.slice(seq[0].length);
  const sid = SID.exec(rest);
  if (sid) {
    head.sessionId = sid[2];
    rest = rest.slice(sid[0].length);
  }
  if (!seq && !sid) return undefined;
  head.rest = rest;
  return head;
}

/** `#012` is the syslog-escaped newline, `#015` a carriage return, `#011` a tab. */
function decode(text: string): string[] {
  if (!text.includes('#0')) return [text];
  return text.replace(/#015/g, '').replace(/#011/g, '\t').split('#012', MAX_RECORD_LINES);
}

interface Line {
  text: string;
  lineNo: number;
}

interface SipSegment {
  lineNo: number;
  raw: string;
  direction: 'sent' | 'received';
  host: string;
  port: string;
  transport: string;
  lines: string[];
}

function sipSegment(first: Line, rest: readonly Line[]): SipSegment | undefined {
  const m = SIP_MESSAGE.exec(first.text);
  if (!m) return undefined;
  MARKER_END.lastIndex = m.index + m[0].length;
  const end = MARKER_END.exec(first.text);
  const after = end ? first.text.slice(end.index + end[0].length) : '';
  const lines = after.trim() === '' ? [] : [after];
  for (const l of rest) lines.push(l.text);
  return {
    lineNo: first.lineNo,
    raw: first.text.slice(m.index, end ? end.index + 5 : undefined).trim(),
    direction: m[1] === 'Incoming' ? 'received' : 'sent',
    host: m[2],
    port: m[3],
    transport: m[5],
    lines,
  };
}

/** A decoded line without its `(N <n>)` mark or the trace header it follows. */
function stripStatement(text: string): string {
  const marker = text.lastIndexOf(' ---- ');
  if (marker >= 0) return text.slice(marker + 6);
  const st = STATEMENT.exec(text);
  return st ? text.slice(st[0].length) : text;
}

function hasStartLine(lines: readonly string[]): boolean {
  const first = lines.find((l) => l.trim() !== '');
  return first !== undefined && isSipStartLine(first);
}

/** Enough of a message to use it: a start line and its Call-ID. */
function looksComplete(lines: readonly string[]): boolean {
  return hasStartLine(lines) && lines.some((l) => /^\s{0,4}(?:call-id|i)\s{0,4}:/i.test(l));
}

/** AudioCodes' own refusals: 480 is what Call Admission Control answers. */
function statusSignal(sip: SipInfo): Signal | undefined {
  if (sip.status === 480 && sip.direction === 'sent') return 'sbc-capacity';
  return sbcStatusSignal(sip);
}

function textSignal(text: string): Signal | undefined {
  const t = text.length > 2_000 ? text.slice(0, 2_000) : text;
  if (CAC_TEXT.test(t)) return 'sbc-capacity';
  if (ADMISSION.test(t) && REFUSED.test(t)) return 'sbc-capacity';
  return undefined;
}

interface PendingRecord {
  lineNo: number;
  head: Head;
  lines: Line[];
  /** the device time closed the record */
  closed: boolean;
}

class AudioCodesParser implements LineParser {
  private record?: PendingRecord;
  private readonly sessions: SbcSessions;
  /** SIP messages whose rest comes in the next record of their SID */
  private readonly pending = new Map<string, TracedMessage>();
  private cdrColumns: string[] = CDR_COLUMNS;
  /** wall time (as if UTC) of the last dated record, to date device times of day */
  private lastWallMs = NaN;
  private lastTs = NaN;

  constructor(private readonly ctx: ParseContext) {
    this.sessions = new SbcSessions(ctx, statusSignal);
  }

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const head = readHead(text, this.ctx);
    if (head) {
      this.flush(emit);
      this.record = { lineNo, head, lines: [{ text: head.rest, lineNo }], closed: false };
      if (DEVICE_TIME.test(head.rest)) this.record.closed = true;
      return this.outcomeOf(head.rest, true);
    }
    const record = this.record;
    if (!record || record.closed) {
      if (text.trim() === '') return 'skip';
      return record && TIME_ONLY_LINE.test(text) ? 'part' : 'unparsed';
    }
    if (record.lines.length < MAX_RECORD_LINES) record.lines.push({ text, lineNo });
    if (DEVICE_TIME.test(text)) record.closed = true;
    return this.outcomeOf(text, false);
  }

  end(emit: (event: LogEvent) => void): void {
    this.flush(emit);
    for (const message of this.pending.values()) this.emitMessage(message, emit);
    this.pending.clear();
  }

  /** 'event' for the line that holds a SIP start line or a refusal; the event comes at the record's end. */
  private outcomeOf(text: string, first: boolean): LineOutcome {
    const probe = text.length > 4_000 ? text.slice(0, 4_000) : text;
    const sipStart =
      probe.includes('SIP/2.0') && decode(probe).some((l) => isSipStartLine(stripStatement(l)));
    if (sipStart || textSignal(probe) || (probe.includes('|CALL_END') && CDR_REFUSAL.test(probe)))
      return 'event';
    return first ? 'skip' : 'part';
  }

  private flush(emit: (event: LogEvent) => void): void {
    const record = this.record;
    if (!record) return;
    this.record = undefined;
    const ts = this.recordTime(record);
    const sid = record.head.sessionId;
    if (record.lines[0].text.trimStart().startsWith('|')) {
      this.readCdr(record, ts, emit);
      return;
    }
    const logical: Line[] = [];
    for (const l of record.lines) {
      for (const t of decode(l.text)) {
        if (logical.length >= MAX_RECORD_LINES) break;
        logical.push({ text: t, lineNo: l.lineNo });
      }
    }
    // segments: statements start with "(N <n>)"; what comes before the first one continues the
    // previous record of this SID (a message cut in two)
    const segments: Line[][] = [[]];
    for (const l of logical) {
      const st = STATEMENT.exec(l.text);
      if (st) segments.push([{ text: l.text.slice(st[0].length), lineNo: l.lineNo }]);
      else segments[segments.length - 1].push(l);
    }
    const [lead, ...statements] = segments;
    const held = sid !== undefined ? this.pending.get(sid) : undefined;
    if (held && sid !== undefined) {
      this.pending.delete(sid);
      for (const l of lead) held.lines.push(l.text);
      this.emitMessage(held, emit);
    } else if (lead.some((l) => l.text.trim() !== '')) {
      statements.unshift(lead);
    }
    for (const seg of statements) {
      if (seg.length === 0) continue;
      const sip = sipSegment(seg[0], seg.slice(1));
      if (sip) {
        this.readMessage(sip, ts, sid, emit);
        continue;
      }
      const body = seg.map((l) => l.text).join(' ');
      const signal = textSignal(body);
      if (signal) emit(this.logEvent(seg[0].lineNo, ts, body.trim(), signal, 'rate-limit', sid));
    }
  }

  private readMessage(
    seg: SipSegment,
    ts: number,
    sid: string | undefined,
    emit: (event: LogEvent) => void,
  ): void {
    const message: TracedMessage = {
      lineNo: seg.lineNo,
      ts,
      raw: seg.raw,
      direction: seg.direction,
      remoteHost: seg.host,
      remotePort: seg.port,
      transport: seg.transport,
      sessionId: sid,
      lines: seg.lines,
    };
    if (sid !== undefined && !looksComplete(seg.lines)) {
      const older = this.pending.get(sid);
      if (older) this.emitMessage(older, emit);
      this.pending.delete(sid);
      this.pending.set(sid, message);
      if (this.pending.size > MAX_PENDING) {
        const [oldest, value] = this.pending.entries().next().value!;
        this.pending.delete(oldest);
        this.emitMessage(value, emit);
      }
      return;
    }
    this.emitMessage(message, emit);
  }

  private emitMessage(message: TracedMessage, emit: (event: LogEvent) => void): void {
    if (!hasStartLine(message.lines)) return;
    const event = this.sessions.event(message);
    if (event) emit(event);
  }

  private logEvent(
    lineNo: number,
    ts: number,
    text: string,
    signal: Signal,
    kind: EventKind,
    sid: string | undefined,
    extra: EventKeys = {},
  ): LogEvent {
    const keys: EventKeys = { ...extra };
    if (sid !== undefined) keys.connId = sid;
    const user = keys.user ?? this.sessions.userOf(sid) ?? uriUser(text);
    if (user) keys.user = user;
    const shown = text.length > 400 ? text.slice(0, 400) : text;
    return {
      ts,
      input: this.ctx.input,
      line: lineNo,
      raw: shown,
      role: 'sbc',
      kind,
      keys,
      signal,
      text: shown,
    };
  }

  /** CDR header (`|SBCReportType |…`) or row (`|CALL_END |SBC |<call-id> |<session> |…`). */
  private readCdr(record: PendingRecord, ts: number, emit: (event: LogEvent) => void): void {
    const joined = record.lines.map((l) => l.text).join('');
    const cells = joined.split('|').map((c) => c.trim());
    cells.shift();
    if (cells[0] === 'SBCReportType') {
      this.cdrColumns = cells;
      return;
    }
    if (cells[0] !== 'CALL_END') return;
    const get = (name: string): string => {
      const i = this.cdrColumns.indexOf(name);
      return i >= 0 ? (cells[i] ?? '') : '';
    };
    const code = get('SIPTrmReason');
    const category = get('TrmReasonCategory');
    const desc = `${get('SIPTermDesc')} ${get('TrmReason')}`.trim();
    let signal: Signal | undefined;
    let kind: EventKind = 'rate-limit';
    if (category === 'NO_RESOURCES' || textSignal(desc)) signal = 'sbc-capacity';
    else if (code === '503') signal = 'sbc-overload';
    else if (code === '408') {
      signal = 'transaction-timeout';
      kind = 'timeout';
    }
    if (!signal) return;
    const keys: EventKeys = {};
    const callId = get('SIPCallId');
    if (callId) keys.callId = callId;
    const user = uriUser(get('SrcURI')) ?? uriUser(`sip:${get('Caller')}@x`);
    if (user) keys.user = user;
    const session = get('SessionId') || record.head.sessionId;
    const text = `CALL_END ${callId} SIPTrmReason ${code} ${category} ${desc}`.trim();
    emit(this.logEvent(record.lineNo, ts, text, signal, kind, session || undefined, keys));
  }

  /**
   * Device time `[Time:DD-MM@HH:MM:SS.mmm]` or the device prefix's time of day (milliseconds), in
   * the zone of the collector's stamp when there is one: devices often log local time while the
   * syslog server stamps UTC, and one input must keep one clock. Else the input's zone applies.
   */
  private recordTime(record: PendingRecord): number {
    const last = record.lines[record.lines.length - 1];
    const dev = DEVICE_TIME.exec(last.text);
    if (dev) last.text = last.text.replace(DEVICE_TIME, '');
    const tod = dev
      ? ((+dev[3] * 60 + +dev[4]) * 60 + +dev[5]) * 1000 + Number((dev[6] ?? '0').padEnd(3, '0'))
      : record.head.timeOfDayMs;
    const collector = record.head.collectorTs;
    const stamped = collector !== undefined && !Number.isNaN(collector);
    let wall = NaN;
    if (dev?.[1] !== undefined) {
      const month = +dev[2] - 1;
      const year = this.ctx.yearFor ? this.ctx.yearFor(month) : this.ctx.year;
      wall = Date.UTC(year, month, +dev[1]) + tod!;
    } else if (tod !== undefined) {
      const ref = stamped ? collector : this.lastWallMs;
      if (!Number.isNaN(ref)) {
        wall = Math.floor(ref / DAY_MS) * DAY_MS + tod;
        if (wall < ref - DAY_MS / 2) wall += DAY_MS;
        else if (wall > ref + DAY_MS / 2) wall -= DAY_MS;
      }
    }
    let ts = NaN;
    if (!Number.isNaN(wall)) {
      this.lastWallMs = wall;
      ts = stamped
        ? wall - Math.round((wall - collector) / ZONE_STEP_MS) * ZONE_STEP_MS
        : this.ctx.localToEpoch(wall);
    } else if (stamped) {
      ts = collector;
    }
    if (Number.isNaN(ts)) ts = this.lastTs;
    else this.lastTs = ts;
    return ts;
  }
}

const SNIFF_CTX = utcContext();

export const audiocodes: LogFormat = {
  name: 'audiocodes',
  role: 'sbc',
  description:
    'AudioCodes Mediant SBC syslog: "[S=<seq>] [SID=mac:resets:n] (N <n>) …" records with an optional ' +
    '<PRI>, device "HH:MM:SS.mmm : IP : LEVEL:" or collector prefix, #012-escaped SIP messages after ' +
    '"---- Incoming|Outgoing SIP Message …" and [Time:DD-MM@HH:MM:SS.mmm]; CDR CALL_END rows',
  samples: [
    {
      line: '<133>[S=1718478] [SID=b9027c:24:198173]  (N  6891753) ---- Incoming SIP Message from 52.114.75.24:5061 to SIPInterface #2 (Teams) TLS TO(#134) SocketID(200) ---- #012SIP/2.0 200 OK #012FROM: <sip:10.160.111.51>;tag=1c808889852 #012TO: <sip:10.160.111.51> #012CSEQ: 1 OPTIONS #012CALL-ID: 143672392819122020124456@sbc.llspa.it #012VIA: SIP/2.0/TLS sbc.llspa.it:5061;branch=z9hG4bKac10785',
      source: 'sipcapture/paStash issue #75 (sbc-formats.md §5.1)',
    },
    {
      line: '<133>[S=1718476] [SID=b9027c:24:198173]  (N  6891745) (#20)gwSession[Allocated]. Handle:00007FCCBDDC17D8; Global session ID: 53e6936eefa8ca7a #012(N  6891746) SIPEntity::PrepareConfigurationData: ... #012(N  6891752) ---- Outgoing SIP Message to 52.114.75.24:5061 from SIPInterface #2 (Teams) TLS TO(#134) SocketID(200) ---- #012 [Time:19-12@12:44:56.587]',
      source: 'sipcapture/paStash issue #75 (sbc-formats.md §5.1, abbreviated there)',
    },
    {
      line: '14:32:52.062: 10.33.8.70: WARNING: [S=9399] [BID=2ed1c8:96] invalid Physical index',
      source: 'AudioCodes Mediant 4000 SBC user manual, Syslog Message Format (sbc-formats.md §5.1)',
    },
    {
      line: '18:38:14.958 : 10.33.45.72 : NOTICE: [S=301][SID:2ed1c8:96:5] (lgr_flow)(625) #0:DIGIT_EV [File: Line:-1]',
      source: 'AudioCodes Mediant 4000 SBC user manual, manualslib p.765 (sbc-formats.md §5.1)',
    },
  ],
  sniff(line: string): number {
    if (readHead(line, SNIFF_CTX)) return 0.95;
    const probe = line.length > 64 ? line.slice(0, 64) : line;
    if (STATEMENT.test(probe)) return 0.7;
    if (TIME_ONLY_LINE.test(probe)) return 0.6;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    return new AudioCodesParser(ctx);
  },
};
