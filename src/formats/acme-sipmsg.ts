/**
 * Oracle / Acme Packet SBC `sipmsg.log` (sbc-formats.md §5.2; wireshark test/captures/sipmsg.log):
 *
 *   Mar  6 13:34:49.416 On [6:0]10.102.130.185:5060 received from 10.102.130.150:5060
 *   REGISTER sip:csp.noklab.net SIP/2.0
 *   …
 *   ----------------------------------------
 *
 * A header names the SBC's own address and the remote one; the raw message follows, then a line
 * of 40 dashes. `received from` = the SBC received it, `sent to` = the SBC sent it. Non-SIP
 * records (MGCP/internal hex dumps, indented or brace-structured text) share the framing and are
 * read as parts. Transport `OPENED`/`CLOSED` lines and `File opened.`/`File closed.` carry nothing
 * diagnostic. Timestamps are the SBC's local wall clock, without year or zone.
 */
import type { LogEvent } from '../model.js';
import { isSipStartLine, parseSipMessage, sipCaptureEvent } from './sip-message.js';
import { parseSyslog } from './time.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

/** `Mon DD HH:MM:SS.mmm On [i:v]IP:PORT received from|sent to IP:PORT` (amateja/acmepcap's regex, IPv6 in brackets). */
const HEADER =
  /^([A-Z][a-z]{2} {1,2}\d{1,2} \d{1,2}:\d{2}:\d{2}\.\d{3}) On (?:\[\d{1,5}:\d{1,5}\])?(\[[0-9A-Fa-f:.]{2,45}\]|[\w.-]{1,253}):(\d{1,5}) (received from|sent to) (\[[0-9A-Fa-f:.]{2,45}\]|[\w.-]{1,253}):(\d{1,5})\s*$/;
/** `Mar  6 13:34:22.599 UDP[3:0]10.102.131.194:5060 OPENED` */
const TRANSPORT =
  /^[A-Z][a-z]{2} {1,2}\d{1,2} \d{1,2}:\d{2}:\d{2}\.\d{3} (?:UDP|TCP|TLS|SCTP|WS|WSS)(?:\[\d{1,5}:\d{1,5}\])?\S{1,300} (?:OPENED|CLOSED)\s*$/;
const FILE_LINE = /^File (?:opened|closed)\.\s*$/;
const SEPARATOR = /^-{40}\s*$/;
const MAX_BLOCK_LINES = 500;

interface Block {
  lineNo: number;
  raw: string;
  ts: number;
  direction: 'sent' | 'received';
  local: string;
  remoteHost: string;
  remotePort: string;
  sip: boolean;
  lines: string[];
}

function blockEvent(block: Block, ctx: ParseContext): LogEvent | undefined {
  const msg = parseSipMessage(block.lines);
  if (!msg) return undefined;
  const startLine = block.lines.find((l) => l.trim() !== '')?.trim() ?? '';
  const { lineNo, raw, ts, direction, remoteHost, remotePort } = block;
  return sipCaptureEvent(
    { input: ctx.input, lineNo, raw, ts, direction, remoteHost, remotePort },
    msg,
    startLine,
  );
}

export const acmeSipmsg: LogFormat = {
  name: 'acme-sipmsg',
  role: 'sbc',
  description:
    'Oracle/Acme Packet SBC sipmsg.log: "Mon DD HH:MM:SS.mmm On [i:v]IP:PORT received from|sent to IP:PORT", ' +
    'the raw SIP message, a 40-dash separator; transport OPENED/CLOSED lines',
  samples: [
    {
      line: 'Mar  6 13:34:49.416 On [6:0]10.102.130.185:5060 received from 10.102.130.150:5060',
      source: 'wireshark/wireshark test/captures/sipmsg.log (sbc-formats.md §5.2)',
    },
    {
      line: 'Mar  6 13:34:49.516 On [6:0]10.102.130.185:5060 sent to 10.102.130.150:5060',
      source: 'wireshark/wireshark test/captures/sipmsg.log (sbc-formats.md §5.2)',
    },
    {
      line: 'Mar  6 13:39:06.100 On 127.0.0.1:5060 received from 127.0.0.1:5070',
      source: 'wireshark/wireshark test/captures/sipmsg.log',
    },
    {
      line: 'Mar  6 13:34:22.599 UDP[3:0]10.102.131.194:5060 OPENED',
      source: 'wireshark/wireshark test/captures/sipmsg.log (sbc-formats.md §5.2)',
    },
    {
      line: 'Jun  8 14:35:50.233 UDP[6:0]10.102.130.185:5060 CLOSED',
      source: 'wireshark/wireshark test/captures/sipmsg.log (sbc-formats.md §5.2)',
    },
  ],
  sniff(line: string): number {
    if (line.length > 1024) return 0;
    if (HEADER.test(line)) return 0.95;
    if (TRANSPORT.test(line)) return 0.9;
    if (SEPARATOR.test(line)) return 0.6;
    if (FILE_LINE.test(line)) return 0.5;
    return 0;
  },
  createParser(ctx: ParseContext): LineParser {
    let block: Block | undefined;

    function finish(emit: (event: LogEvent) => void): void {
      if (block?.sip) {
        const event = blockEvent(block, ctx);
        if (event) emit(event);
      }
      block = undefined;
    }

    return {
      push(line, lineNo, emit): LineOutcome {
        const header = line.length <= 1024 ? HEADER.exec(line) : null;
        if (header) {
          finish(emit);
          block = {
            lineNo,
            raw: line,
            ts: parseSyslog(header[1], ctx),
            direction: header[4] === 'sent to' ? 'sent' : 'received',
            local: `${header[2]}:${header[3]}`,
            remoteHost: header[5],
            remotePort: header[6],
            sip: false,
            lines: [],
          };
          return 'part';
        }
        if (SEPARATOR.test(line)) {
          if (!block) return 'skip';
          finish(emit);
          return 'part';
        }
        if (FILE_LINE.test(line) || (line.length <= 1024 && TRANSPORT.test(line))) {
          finish(emit);
          return 'skip';
        }
        if (!block) return line.trim() === '' ? 'skip' : 'unparsed';
        if (block.lines.length === 0 && !block.sip) {
          if (line.trim() === '') return 'part';
          if (isSipStartLine(line)) {
            block.sip = true;
            block.lines.push(line);
            return 'event';
          }
          // an MGCP/internal record: the rest of the block is read as parts
          block.lines.push(line);
          return 'part';
        }
        if (block.sip && block.lines.length < MAX_BLOCK_LINES) block.lines.push(line);
        return 'part';
      },
      end(emit) {
        finish(emit);
      },
    };
  },
};
