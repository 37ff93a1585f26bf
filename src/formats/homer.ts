/**
 * HOMER's text export (homer-app `utils/exportwriter/exportwriter.go` WriteDataToBuffer;
 * sbc-formats.md §7): for each captured message
 *
 *   proto:UDP 2023-04-17T14:56:19.323629+02:00  10.0.0.2:5060 ---> 192.168.178.20:61000
 *
 * (`"proto:" + ProtocolText + " " + CreateDate + "  " + src + " ---> " + dst + "\r\n\r\n"`; the
 * protocol is UDP, TCP or SCTP, UDP by default; create_date is RFC 3339 with a zone; IPv6 without
 * brackets), then the raw message as the HEP agent sent it (WebSocket frames decoded by the SBC's
 * siptrace) and a CRLF. A capture server's export may hold several SBCs' legs; each message's
 * ends are judged on their own (sip-capture.ts).
 */
import { createCaptureParser, parseEndpoints, type CaptureHeader } from './sip-capture.js';
import { parseIso } from './time.js';
import type { LogFormat, ParseContext } from './types.js';

/** The date is RFC 3339 (Go's time.Time in JSON); "2021-10-04 19:16:22.699 +0000 UTC" is read too. */
const HEADER = /^proto:([A-Za-z0-9]{1,10}) (\S.{0,62}?) {1,4}(\S{1,300}) ---> (\S{1,300})\s*$/;
const EPOCH = /^\d{10}(?:\d{3}|\d{6})?$/;

function createDate(text: string, ctx: ParseContext): number {
  if (!EPOCH.test(text)) return parseIso(text, ctx);
  const n = Number(text);
  return text.length === 10 ? n * 1000 : text.length === 13 ? n : n / 1000;
}

function header(line: string, ctx?: ParseContext): CaptureHeader | undefined {
  const m = HEADER.exec(line);
  const ends = m ? parseEndpoints(m[3], m[4]) : undefined;
  return m && ends ? { ts: ctx ? createDate(m[2], ctx) : NaN, ...ends } : undefined;
}

export const homer: LogFormat = {
  name: 'homer',
  role: 'sbc',
  description:
    'HOMER (homer-app) text export of captured SIP: "proto:UDP <create_date>  SRC:PORT ---> DST:PORT", a blank line, the message',
  samples: [
    {
      line: 'proto:UDP 2023-04-17T14:56:19.323629+02:00  10.0.0.2:5060 ---> 192.168.178.20:61000',
      source:
        'a HOMER text export line quoted by a public HEP replay tool (GeneratePacketsArrayFromText); shape from sipcapture/homer-app exportwriter.go (sbc-formats.md §7)',
    },
    {
      line: 'proto:UDP 2026-06-05T14:27:15.888329Z  87.238.73.129:5060 ---> 192.168.100.101:5060',
      source:
        'a HOMER text export line quoted by a public call-log viewer (callLogsParseSipFlow); shape from sipcapture/homer-app exportwriter.go',
    },
  ],
  sniff(line: string): number {
    if (line.length > 700 || !line.startsWith('proto:')) return 0;
    return header(line) ? 0.95 : 0;
  },
  createParser(ctx: ParseContext) {
    return createCaptureParser({ header }, ctx);
  },
};
