/**
 * sngrep's text export ("Save as .txt", `-T`; sbc-formats.md §7, irontec/sngrep `save_msg_txt()`
 * and `capture_output_txt_write()`): one header per SIP message,
 *
 *   2024/01/31 12:00:00.123456 10.0.0.1:5060 -> 10.0.0.2:5060
 *
 * (`%Y/%m/%d %H:%M:%S.%06d` in the capturing host's local time, `%s:%u` addresses, IPv6 without
 * brackets), then the message as it went on the wire (WebSocket frames already decoded) and a
 * blank line. Messages are written dialog by dialog, not in time order. Taken at the SBC, so the
 * role is 'sbc'; which end is the SBC comes from the capture itself (sip-capture.ts).
 */
import { createCaptureParser, parseEndpoints, type CaptureHeader } from './sip-capture.js';
import { parseSlashDate } from './time.js';
import type { LogFormat, ParseContext } from './types.js';

const HEADER = /^(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}) (\S{1,300}) -> (\S{1,300})\s*$/;

function header(line: string, ctx?: ParseContext): CaptureHeader | undefined {
  const m = HEADER.exec(line);
  const ends = m ? parseEndpoints(m[2], m[3]) : undefined;
  return m && ends ? { ts: ctx ? parseSlashDate(m[1], ctx) : NaN, ...ends } : undefined;
}

export const sngrep: LogFormat = {
  name: 'sngrep',
  role: 'sbc',
  description:
    'sngrep text export taken at the SBC: "YYYY/MM/DD HH:MM:SS.uuuuuu SRC:PORT -> DST:PORT", the SIP message, a blank line',
  samples: [
    {
      line: '2024/01/31 12:00:00.123456 10.0.0.1:5060 -> 10.0.0.2:5060',
      source: 'irontec/sngrep src/curses/ui_save.c save_msg_txt() (sbc-formats.md §7)',
    },
    {
      line: '2015/02/23 18:36:26.101512 192.168.0.20:5060 -> 192.168.0.10:5060',
      source:
        'irontec/sngrep src/capture/capture_txt.c "%s %s %s:%u -> %s:%u" with the addresses of the OPTIONS in irontec/sngrep issue #28',
    },
  ],
  sniff(line: string): number {
    if (line.length > 700) return 0;
    return header(line) ? 0.95 : 0;
  },
  createParser(ctx: ParseContext) {
    return createCaptureParser({ header }, ctx);
  },
};
