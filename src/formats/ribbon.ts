/**
 * Ribbon / Sonus SBC Core DBG and TRC (call trace) logs (sbc-formats.md §5.3; Ribbon publicdoc
 * "Notes and Examples on Call Trace Log Message", "SBC Troubleshooting How to Analyze DBG";
 * sipcapture/paStash filter_app_sonus.js / filter_app_sonuslog.js):
 *
 *   1787 12162016 083615.737177:1.01.00.38939.MAJOR .SIPSG:FILTER=Cisco_Test_Call GCID=0x00000DDB: EXTRA
 *     INFO: Ingress: received msg for CallId:804ee913… gcid:0xDDB from IP/port:10.100.100.10/5000, Local IP/port:…
 *   RAW PDU:
 *   INVITE sip:+8005555555@abc.company.com:5000 SIP/2.0
 *   …
 *   150 09202018 165651.572939:1.01.00.38374.Info .SIPFE: *FindRegistrationBlock: RCB not found by sourceIP, …
 *
 * Each entry: `<length> <MMDDYYYY> <HHMMSS.uuuuuu>:<x.yy.zz>.<sequence>.<Level> .<MODULE>: <text>`
 * (the SBC's wall clock, with year). A `received|sent msg for CallId:<id> … from|to IP/port:<ip>/<port>`
 * entry is followed by `RAW PDU:` and the SIP message over the next lines, up to the next entry;
 * remote syslog sends the same text on one line with `#012` for newlines (`RAW PDU:#012INVITE …`).
 * Entries over 1800 bytes are split into chunks with the same timestamp and sequence. `GCID`, the
 * global call id both legs share, is the connection key.
 *
 * Throttling: "Register Rate Policing", "Other Req Rate Policing", "Register TGLimit",
 * "Congestion Policing" (adaptive overload control) refuse with 503 and a randomised Retry-After.
 */
import type { EventKeys, LogEvent, Signal } from '../model.js';
import { SbcSessions, type TracedMessage } from './sbc-trace.js';
import { uriUser } from './sip-message.js';
import { parseIso } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

/** length, MM, DD, YYYY, hh, mm, ss, µs, node, sequence, level, module, text */
const ENTRY =
  /^(\d{1,6}) (\d{2})(\d{2})(\d{4}) (\d{2})(\d{2})(\d{2})\.(\d{6}):(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,12})\.([A-Za-z]{1,12})\s{0,4}\.([A-Za-z0-9_]{1,32}):\s?(.*)$/;
/** remote syslog: `<147> 1 2020-05-01T10:00:00.123456+00:00 host … msg for CallId:…` */
const SYSLOG = /^<\d{1,3}>\s?\d\s(\d{4}-\d{2}-\d{2}T[\d:.]{8,15}(?:Z|[+-]\d{2}:?\d{2})?)\s(.*)$/;
const PDU_HEADER =
  /\b(received|sent) msg for CallId:(\S{1,256}?),? (?:gcid:(0x[0-9A-Fa-f]{1,16}) )?(?:from|to) IP\/port:([0-9A-Fa-f.:]{2,45})\/(\d{1,5})/;
const RAW_PDU = 'RAW PDU:';
const GCID = /\bGCID[=:](0x[0-9A-Fa-f]{1,16})\b/i;
const CALL_ID = /\bCallId:([^\s,]{1,256})/;
const MAX_PDU_LINES = 400;

const RATE_POLICING = /\b(?:Register|Other Req(?:uest)?) Rate Polic|\bRate Policing\b/i;
const OVERLOAD = /\bCongestion Policing\b|\b(?:Adaptive )?Overload Control\b|\boverload(?:ed)? state\b/i;
const ADMISSION =
  /\bRegister TGLimit\b|\bTGLimit\b|\bCall Admission Control\b|\bCAC\b.{0,40}\b(?:limit|reject|exceed)/i;
const LICENSES = /\bLicensed Session Count = (\d{1,12})\. Current Active Count = (\d{1,12})\b/;

function gcidKey(hex: string | undefined): string | undefined {
  if (!hex) return undefined;
  const n = Number.parseInt(hex.slice(2), 16);
  return Number.isNaN(n) ? undefined : `gcid:${n.toString(16)}`;
}

function decode(text: string): string[] {
  return text.replace(/#015/g, '').replace(/#011/g, '\t').split('#012');
}

/** What a DBG/TRC text says about refusals. */
function textSignal(text: string): Signal | undefined {
  const t = text.length > 2_000 ? text.slice(0, 2_000) : text;
  if (RATE_POLICING.test(t)) return 'sbc-rate-limit';
  if (OVERLOAD.test(t)) return 'sbc-overload';
  if (ADMISSION.test(t)) return 'sbc-capacity';
  const lic = LICENSES.exec(t);
  if (lic && Number(lic[2]) >= Number(lic[1])) return 'sbc-capacity';
  return undefined;
}

interface Entry {
  ts: number;
  /** timestamp + sequence: the chunks of one long entry share it */
  id: string;
  text: string;
}

function readEntry(line: string, ctx: ParseContext): Entry | undefined {
  const m = ENTRY.exec(line);
  if (m) {
    const wall = Date.UTC(+m[4], +m[2] - 1, +m[3], +m[5], +m[6], +m[7]) + Number(m[8]) / 1000;
    const valid = +m[2] >= 1 && +m[2] <= 12 && +m[3] >= 1 && +m[3] <= 31;
    return {
      ts: valid ? ctx.localToEpoch(wall) : NaN,
      id: `${m[2]}${m[3]}${m[4]} ${m[5]}${m[6]}${m[7]}.${m[8]} ${m[10]}`,
      text: m[13],
    };
  }
  const s = line.includes('msg for CallId:') ? SYSLOG.exec(line) : null;
  if (s) return { ts: parseIso(s[1], ctx), id: '', text: s[2] };
  return undefined;
}

interface Block {
  entryId: string;
  inPdu: boolean;
  message: TracedMessage;
}

class RibbonParser implements LineParser {
  private block?: Block;
  private readonly sessions: SbcSessions;

  constructor(private readonly ctx: ParseContext) {
    this.sessions = new SbcSessions(ctx);
  }

  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    const entry = readEntry(text, this.ctx);
    if (!entry) return this.pushPduLine(text);
    const block = this.block;
    // the next chunk of an entry over 1800 bytes
    if (block?.inPdu && entry.id !== '' && entry.id === block.entryId) {
      this.addPdu(block, decode(entry.text));
      return 'part';
    }
    this.finish(emit);
    const pdu = PDU_HEADER.exec(entry.text);
    if (pdu) {
      const at = entry.text.indexOf(RAW_PDU);
      const header = at >= 0 ? entry.text.slice(0, at) : entry.text;
      const gcid = gcidKey(pdu[3] ?? GCID.exec(header)?.[1]);
      const started: Block = {
        entryId: entry.id,
        inPdu: at >= 0,
        message: {
          lineNo,
          ts: entry.ts,
          raw: (pdu[0].length > 300 ? pdu[0].slice(0, 300) : pdu[0]).trim(),
          direction: pdu[1] === 'received' ? 'received' : 'sent',
          remoteHost: pdu[4],
          remotePort: pdu[5],
          sessionId: gcid,
          callId: pdu[2],
          lines: [],
        },
      };
      this.block = started;
      if (at >= 0) this.addPdu(started, decode(entry.text.slice(at + RAW_PDU.length)));
      // the SIP start line is the event's line; the header alone is part of the record
      return started.message.lines.length > 0 ? 'event' : 'part';
    }
    const signal = textSignal(entry.text);
    if (!signal) return 'skip';
    emit(this.signalEvent(entry, lineNo, text, signal));
    return 'event';
  }

  end(emit: (event: LogEvent) => void): void {
    this.finish(emit);
  }

  private pushPduLine(text: string): LineOutcome {
    const block = this.block;
    if (!block) return text.trim() === '' ? 'skip' : 'unparsed';
    if (!block.inPdu) {
      const at = text.indexOf(RAW_PDU);
      if (at < 0) return 'part';
      block.inPdu = true;
      this.addPdu(block, decode(text.slice(at + RAW_PDU.length)));
      return block.message.lines.length > 0 ? 'event' : 'part';
    }
    const first = block.message.lines.length === 0;
    this.addPdu(block, [text]);
    return first && block.message.lines.length > 0 ? 'event' : 'part';
  }

  private addPdu(block: Block, lines: readonly string[]): void {
    const into = block.message.lines;
    for (const l of lines) {
      if (into.length >= MAX_PDU_LINES) return;
      // the text right after "RAW PDU:" is empty when the message starts on the next line
      if (into.length === 0 && l.trim() === '') continue;
      into.push(l);
    }
  }

  private finish(emit: (event: LogEvent) => void): void {
    const block = this.block;
    this.block = undefined;
    if (!block || block.message.lines.length === 0) return;
    const event = this.sessions.event(block.message);
    if (event) emit(event);
  }

  private signalEvent(entry: Entry, lineNo: number, raw: string, signal: Signal): LogEvent {
    const keys: EventKeys = {};
    const callId = CALL_ID.exec(entry.text)?.[1];
    if (callId) keys.callId = callId;
    const gcid = gcidKey(GCID.exec(entry.text)?.[1]);
    if (gcid) keys.connId = gcid;
    const user = uriUser(entry.text) ?? this.sessions.userOf(gcid);
    if (user) keys.user = user;
    const shown = raw.length > 400 ? raw.slice(0, 400) : raw;
    return {
      ts: entry.ts,
      input: this.ctx.input,
      line: lineNo,
      raw: shown,
      role: 'sbc',
      kind: 'rate-limit',
      keys,
      signal,
      text: entry.text.length > 400 ? entry.text.slice(0, 400) : entry.text,
    };
  }
}

export const ribbon: LogFormat = {
  name: 'ribbon',
  role: 'sbc',
  description:
    'Ribbon / Sonus SBC Core DBG and TRC call trace: "<len> MMDDYYYY HHMMSS.uuuuuu:x.yy.zz.<seq>.<Level> .<MODULE>: …", ' +
    '"received|sent msg for CallId:… IP/port:…" entries followed by "RAW PDU:" and the SIP message; ' +
    'remote-syslog lines with #012',
  samples: [
    {
      line: '242 12162016 083615.736943:1.02.00.38938.Info .SIPSG:CALL:FILTER=Cisco_Test_Call GCID=0x00000DDB: 14443. TraceCallLogger invoked - From pstProperties: PeerIP/port: 10.100.100.10/5000 LocalIP/port:10.139.160.141/5000 ulMsgType-0x40000004',
      source:
        'Ribbon publicdoc SBXDOC120 "Notes and Examples on Call Trace Log Message" (sbc-formats.md §5.3)',
    },
    {
      line: '1787 12162016 083615.737177:1.01.00.38939.MAJOR .SIPSG:FILTER=Cisco_Test_Call GCID=0x00000DDB: EXTRA INFO: Ingress: received msg for CallId:804ee913ccfe61c2aa581a72a000 gcid:0xDDB from IP/port:10.100.100.10/5000, Local IP/port:10.139.160.141/5000',
      source:
        'Ribbon publicdoc SBXDOC120 "Notes and Examples on Call Trace Log Message" (sbc-formats.md §5.3)',
    },
    {
      line: '150 09202018 165651.572939:1.01.00.38374.Info .SIPFE: *FindRegistrationBlock: RCB not found by sourceIP, sourceIP:172.16.101.182 port:57208 zone:2',
      source: 'Ribbon "SBC Troubleshooting How to Analyze DBG" (sbc-formats.md §5.3)',
    },
    {
      line: '114 09202018 165651.573462:1.01.00.38383.Info .NRM: *Licensed Session Count = 150000. Current Active Count = 1 TRM: Trunk Resource Manager',
      source: 'Ribbon "SBC Troubleshooting How to Analyze DBG" (sbc-formats.md §5.3)',
    },
  ],
  sniff(line: string): number {
    if (ENTRY.test(line.length > 4_096 ? line.slice(0, 4_096) : line)) return 0.95;
    if (line.startsWith(RAW_PDU)) return 0.7;
    if (line.startsWith('<') && line.includes('msg for CallId:') && line.includes('IP/port:')) return 0.9;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    return new RibbonParser(ctx);
  },
};
