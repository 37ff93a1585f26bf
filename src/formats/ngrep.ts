/**
 * ngrep and sipgrep packet dumps taken at the SBC (sbc-formats.md §7; jpr5/ngrep `dump_packet()`,
 * sipcapture/sipgrep): one header per packet,
 *
 *   U 2014/04/14 17:05:04.057430 xx.xx.xx.123:50040 -> xx.xx.xx.3:5060
 *   T 67.169.59.38:42177 -> 64.90.164.74:80 [AP]
 *
 * (`U` UDP, `T` TCP; the absolute time only with `-t`, local; `+s.uuuuuu` with `-T`; TCP flags,
 * fragment info and, in recent ngrep, ` #N` may follow), then the payload: with `-W byline` line by
 * line, each CR shown as a trailing `.`; by default wrapped into indented lines with CRLF shown as
 * `..`; with `-W single` on the header line. ngrep prints a `#` per packet seen (not with `-q`);
 * sipgrep colours Call-ID/From/To/branch unless `-C`. A WebSocket frame's header shows as a few
 * characters before the SIP text; frames a browser sent are masked and not readable at all.
 */
import { createCaptureParser, parseEndpoints, type CaptureHeader } from './sip-capture.js';
import { parseSlashDate } from './time.js';
import type { LogFormat, ParseContext } from './types.js';

const HEADER =
  /^([TU])(?:\(\d{1,3}\))? (?:(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}) |\+\d{1,10}\.\d{6} )?(\S{1,300}) -> (\S{1,300})(?: \[[A-Z]{0,8}\])?(?: \+?\d{1,10}@\d{1,10}:\d{1,10})?(?: #\d{1,12})?(?: (.*))?$/;
/** ngrep's and sipgrep's banner and exit lines */
const BANNER =
  /^(?:(?:interface|filter|match|don't match|input|output): |exit$|\d{1,20} received, \d{1,20} dropped$|#{1,200}exit$)/;
const MARKS = /^#{1,10000}$/;
const COLOUR = /\x1b\[[0-9;]{0,12}[A-Za-z]/g;

function header(line: string, ctx?: ParseContext): CaptureHeader | undefined {
  const m = HEADER.exec(line);
  const ends = m ? parseEndpoints(m[3], m[4]) : undefined;
  if (!m || !ends) return undefined;
  const ts = m[2] && ctx ? parseSlashDate(m[2], ctx) : NaN;
  return { ts, ...ends, inline: m[5]?.trim() ? m[5] : undefined };
}

/** The SIP lines of a payload, in any of ngrep's -W modes. */
function sipText(lines: string[]): string[] {
  const first = lines.find((l) => l.trim() !== '') ?? '';
  // -W normal: indented, wrapped at the terminal width, CRLF as ".."
  if (first.startsWith('  ')) {
    const joined = lines
      .filter((l) => l.startsWith('  '))
      .map((l) => l.slice(2))
      .join('')
      .trimEnd();
    return joined.split('..');
  }
  // -W single: the whole payload on the header line
  if (lines.length === 1 && first.includes('..')) return first.split('..');
  // -W byline: the CR of each CRLF as a trailing '.'
  return lines.map((l) => (l.endsWith('.') ? l.slice(0, -1) : l));
}

export const ngrep: LogFormat = {
  name: 'ngrep',
  role: 'sbc',
  description:
    'ngrep / sipgrep packet dump taken at the SBC: "U|T [YYYY/MM/DD HH:MM:SS.uuuuuu] SRC:PORT -> DST:PORT", the payload (-W byline, normal or single), "#" packet marks',
  samples: [
    {
      line: 'U 2014/04/14 17:05:04.057430 xx.xx.xx.123:50040 -> xx.xx.xx.3:5060',
      source: 'sipcapture/sipgrep issue #6 (sbc-formats.md §7)',
    },
    {
      line: 'U 2004/03/28 20:32:37.088525 64.90.164.74:53 -> 195.113.155.7:2949',
      source: 'jpr5/ngrep EXAMPLES.md (`ngrep -tD ns3 -I /tmp/dns.dump`)',
    },
    {
      line: 'T 67.169.59.38:42177 -> 64.90.164.74:80 [AP]',
      source: 'jpr5/ngrep EXAMPLES.md (`ngrep -W byline port 80`)',
    },
    { line: '####', source: 'jpr5/ngrep EXAMPLES.md (packet marks)' },
  ],
  sniff(line: string): number {
    if (line.length > 2000) return 0;
    const h = header(line);
    if (h) return /^[TU] \d{4}\//.test(line) ? 0.95 : 0.8;
    if (MARKS.test(line) || line === '.') return 0.5;
    return 0;
  },
  createParser(ctx: ParseContext) {
    return createCaptureParser(
      {
        header,
        skip: (line) => BANNER.test(line),
        closes: (line) => MARKS.test(line),
        clean: (line) => (line.includes('\x1b') ? line.replace(COLOUR, '') : line),
        text: sipText,
      },
      ctx,
    );
  },
};
