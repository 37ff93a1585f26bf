import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { ngrep } from '../../src/formats/ngrep.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(lines: readonly string[]) {
  const parser = ngrep.createParser(utcContext(2026, 4));
  const events: LogEvent[] = [];
  const outcomes: LineOutcome[] = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

/** A SIP message as `ngrep -W byline` prints it: each CR as a trailing '.', then an empty line. */
function byline(lines: readonly string[]): string[] {
  return [...lines.map((l) => `${l}.`), '.', ''];
}

// The header and the REGISTER are the lines of sipcapture/sipgrep issue #6 quoted in
// sbc-formats.md §7 (addresses redacted as "xx" by their author); the 401 is the registrar's answer.
const REGISTER = [
  'REGISTER sip:sip.xx.net SIP/2.0',
  'Via: SIP/2.0/UDP 192.168.80.31:5070;rport;branch=z9hG4bK8HtUSj9j02rtK',
  'From: <sip:140@sip.xx.net>;tag=1326110477',
  'To: <sip:140@sip.xx.net>',
  'Call-ID: 7763c89ac17a934882cb9025251e8605@192.168.233.87',
  'CSeq: 20 REGISTER',
  'User-Agent: SIPAUA/0.1.001',
  'Content-Length: 0',
];
const CHALLENGE = [
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 192.168.80.31:5070;rport=50040;branch=z9hG4bK8HtUSj9j02rtK',
  'From: <sip:140@sip.xx.net>;tag=1326110477',
  'To: <sip:140@sip.xx.net>;tag=as1b2c',
  'Call-ID: 7763c89ac17a934882cb9025251e8605@192.168.233.87',
  'CSeq: 20 REGISTER',
  'Content-Length: 0',
];

describe('ngrep / sipgrep -W byline', () => {
  it('reads packets between banners and # marks, CRs shown as dots', () => {
    // `ngrep -t -W byline port 5060` (jpr5/ngrep EXAMPLES.md shows the banner and the marks)
    const lines = [
      'interface: eth0 (10.0.0.0/255.255.255.0)',
      'filter: ( port 5060 ) and ((ip || ip6) || (vlan && (ip || ip6)))',
      '#',
      'U 2014/04/14 17:05:04.057430 xx.xx.xx.123:50040 -> xx.xx.xx.3:5060',
      ...byline(REGISTER),
      '#',
      'U 2014/04/14 17:05:04.060912 xx.xx.xx.3:5060 -> xx.xx.xx.123:50040',
      ...byline(CHALLENGE),
      '###',
      'exit',
      '2 received, 0 dropped',
    ];
    const { events, outcomes } = parse(lines);
    expect(
      events.map((e) => [e.line, e.kind, e.sip?.direction, e.sip?.method, e.sip?.status, e.keys.peer]),
    ).toEqual([
      [4, 'sip-request', 'received', 'REGISTER', undefined, 'xx.xx.xx.123:50040'],
      [16, 'sip-response', 'sent', 'REGISTER', 401, 'xx.xx.xx.123:50040'],
    ]);
    const [request, challenge] = events;
    expect(request.ts).toBeCloseTo(Date.UTC(2014, 3, 14, 17, 5, 4, 57) + 0.43, 2);
    expect(request.keys).toMatchObject({
      user: '140',
      callId: '7763c89ac17a934882cb9025251e8605@192.168.233.87',
    });
    expect(request.sip?.agent).toBe('SIPAUA/0.1.001');
    expect(request.sip?.headers).toEqual([
      'via',
      'from',
      'to',
      'call-id',
      'cseq',
      'user-agent',
      'content-length',
    ]);
    expect(challenge.signal).toBe('auth-challenge');
    expect(outcomes.slice(0, 5)).toEqual(['skip', 'skip', 'skip', 'part', 'event']);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
    expect(outcomes.slice(-3)).toEqual(['part', 'skip', 'skip']);
  });

  it('reads sipgrep’s coloured output, its empty line after UDP headers and its TCP flags line', () => {
    // sipcapture/sipgrep dump_byline(): BOLDRED method, BOLDMAGENTA Call-ID, BOLDBLUE From tag, RESET
    const lines = [
      'T 2026/11/24 10:00:00.901755 10.20.0.11:8080 -> 10.20.0.5:41310',
      ' [AP]',
      '\x1b[1m\x1b[33mSIP/2.0 503 Server Unavailable.',
      '\x1b[0mVia: SIP/2.0/WS 7sd0ak2jd9q1.invalid;received=10.20.0.5;rport=41310;\x1b[1m\x1b[36mbranch=z9hG4bK4471932\x1b[0m.',
      'From: "u-11" <sip:u-11@rtc.example.io>;\x1b[1m\x1b[34mtag=q0aj2m1n8d\x1b[0m.',
      'To: <sip:u-11@rtc.example.io>;tag=b27e1a1d33761e85846fc98f5f3a7e58.2d4c.',
      'Call-ID:\x1b[1m\x1b[35m 0oq1h3sl2d0v9kqjv7b3aa\x1b[0m.',
      'CSeq: 3 REGISTER.',
      'Retry-After: 10.',
      'Content-Length: 0.',
      '.',
      '',
      'U 2026/11/24 10:00:00.902001 10.20.0.11:5060 -> 10.20.5.10:5060',
      '',
      'OPTIONS sip:10.20.5.10:5060 SIP/2.0.',
      'Via: SIP/2.0/UDP 10.20.0.11;branch=z9hG4bK.opt1.',
      'From: <sip:keepalive@10.20.0.11>;tag=k1.',
      'To: <sip:10.20.5.10:5060>.',
      'Call-ID: ka-1@10.20.0.11.',
      'CSeq: 10 OPTIONS.',
      'Content-Length: 0.',
      '.',
      '',
    ];
    const { events } = parse(lines);
    expect(events).toHaveLength(2);
    const [refusal, ping] = events;
    expect(refusal.sip).toMatchObject({ status: 503, retryAfter: 10, method: 'REGISTER', direction: 'sent' });
    expect(refusal.keys).toMatchObject({
      callId: '0oq1h3sl2d0v9kqjv7b3aa',
      user: 'u-11',
      peer: '10.20.0.5:41310',
    });
    expect(refusal.signal).toBe('sbc-rate-limit');
    // a keep-alive between the SBC and its registrar: neither address names a client's connection
    expect(ping.sip?.method).toBe('OPTIONS');
    expect(ping.keys.peer).toBeUndefined();
    expect(ping.keys.user).toBe('keepalive');
  });

  it('finds SIP text behind a WebSocket frame header and ignores masked frames', () => {
    // server→client frames are not masked: FIN+text (0x81), 0x7E and a 16-bit length print as ".~.."
    // before the SIP text; client→server frames are masked and print as noise
    const lines = [
      'T 2026/11/24 10:00:01.207310 10.20.0.11:8080 -> 10.20.0.5:41234 [AP] #118',
      '.~..SIP/2.0 200 OK.',
      'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;received=10.20.0.5;rport=41234;branch=z9hG4bK1183421.',
      'From: "u-07" <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk.',
      'To: <sip:u-07@rtc.example.io>;tag=z9hG4bK2c1a.',
      'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1.',
      'CSeq: 2 REGISTER.',
      'Content-Length: 0.',
      '.',
      '',
      'T 2026/11/24 10:00:01.301000 10.20.0.5:41234 -> 10.20.0.11:8080 [AP] #119',
      '...c.K2.q.._3.h.Z...W.wq..E%..8.r..J..u..#a..Q.3l.]',
      '.8..Y.z..G...o..v.P1..',
      '',
      // a frame header whose length byte is a line feed splits the header from the text
      'T 2026/11/24 10:00:02.000000 10.20.0.11:8080 -> 10.20.0.5:41234 [AP] #120',
      '.~.',
      'SIP/2.0 200 OK.',
      'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;branch=z9hG4bK1183422.',
      'From: <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk.',
      'To: <sip:u-07@rtc.example.io>;tag=z9hG4bK2c1b.',
      'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1.',
      'CSeq: 3 REGISTER.',
      'Content-Length: 0.',
      '.',
    ];
    const { events, outcomes } = parse(lines);
    expect(events.map((e) => [e.line, e.sip?.status, e.sip?.cseq, e.sip?.direction, e.keys.user])).toEqual([
      [1, 200, 2, 'sent', 'u-07'],
      [15, 200, 3, 'sent', 'u-07'],
    ]);
    expect(events[0].signal).toBe('registered');
    expect(outcomes[1]).toBe('event');
    expect(outcomes.slice(10, 14)).toEqual(['part', 'part', 'part', 'part']);
    expect(outcomes[16]).toBe('event');
  });

  it('reads the default wrapped dump (CRLF as "..") and -W single', () => {
    // jpr5/ngrep dump_formatted(): two spaces, the payload cut at the terminal width, padded
    const wire = `${REGISTER.join('..')}....`;
    const wrapped = [];
    for (let i = 0; i < wire.length; i += 75) wrapped.push(`  ${wire.slice(i, i + 75).padEnd(75)}`);
    const { events } = parse([
      'U 2014/04/14 17:05:04.057430 xx.xx.xx.123:50040 -> xx.xx.xx.3:5060',
      ...wrapped,
      '#',
      `U 2014/04/14 17:05:04.060912 xx.xx.xx.3:5060 -> xx.xx.xx.123:50040 ${CHALLENGE.join('..')}....`,
    ]);
    expect(events.map((e) => [e.sip?.method, e.sip?.status, e.keys.callId, e.keys.user])).toEqual([
      ['REGISTER', undefined, '7763c89ac17a934882cb9025251e8605@192.168.233.87', '140'],
      ['REGISTER', 401, '7763c89ac17a934882cb9025251e8605@192.168.233.87', '140'],
    ]);
    expect(events[0].sip?.agent).toBe('SIPAUA/0.1.001');
  });

  it('reads two SIP messages in one TCP segment', () => {
    const { events } = parse([
      'T 2026/11/24 10:00:03.000000 10.20.5.10:5060 -> 10.20.0.11:5060 [AP]',
      ...byline(['SIP/2.0 100 Trying', 'Call-ID: inv-1', 'CSeq: 1 INVITE', 'Content-Length: 0']).slice(0, -1),
      ...byline(['SIP/2.0 180 Ringing', 'Call-ID: inv-1', 'CSeq: 1 INVITE', 'Content-Length: 0']),
    ]);
    expect(events.map((e) => e.sip?.status)).toEqual([100, 180]);
  });

  it('keeps packets without an absolute time (no -t, or -T deltas) with an unknown time', () => {
    const { events } = parse([
      'U +0.000281 xx.xx.xx.3:5060 -> xx.xx.xx.123:50040',
      ...byline(CHALLENGE),
      'U xx.xx.xx.3:5060 -> xx.xx.xx.123:50040',
      ...byline(CHALLENGE),
    ]);
    expect(events).toHaveLength(2);
    expect(events.every((e) => Number.isNaN(e.ts))).toBe(true);
  });

  it('claims its own lines, is detected over a whole capture, and leaves other formats alone', () => {
    for (const s of ngrep.samples) expect(ngrep.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.5);
    const capture = [
      'interface: eth0 (10.0.0.0/255.255.255.0)',
      'filter: ( port 5060 )',
      'U 2014/04/14 17:05:04.057430 xx.xx.xx.123:50040 -> xx.xx.xx.3:5060',
      ...byline(REGISTER),
      '#',
      'U 2014/04/14 17:05:04.060912 xx.xx.xx.3:5060 -> xx.xx.xx.123:50040',
      ...byline(CHALLENGE),
    ];
    expect(detectFormat(capture, FORMATS).format?.name).toBe('ngrep');
    for (const f of FORMATS) {
      if (f === ngrep) continue;
      for (const s of f.samples) expect(ngrep.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      'U 2014/04/14 17:05:04.057430 ' + 'a'.repeat(60_000),
      'U ' + '1.2.3.4:5 -> '.repeat(4_000),
      'T 1.2.3.4:5 -> 6.7.8.9:10 [' + 'A'.repeat(60_000),
      '#'.repeat(60_000) + 'x',
      'U 1.2.3.4:5 -> 6.7.8.9:10 ' + '..'.repeat(30_000),
    ];
    for (const line of attacks) {
      const t0 = performance.now();
      ngrep.sniff(line);
      parse([line, '.~..' + 'x'.repeat(60_000)]);
      expect(performance.now() - t0).toBeLessThan(300);
    }
  });
});
