import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { sngrep } from '../../src/formats/sngrep.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome, ParseContext } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(lines: readonly string[], ctx: ParseContext = utcContext(2026, 2)) {
  const parser = sngrep.createParser(ctx);
  const events: LogEvent[] = [];
  const outcomes: LineOutcome[] = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

// The header is sngrep's save_msg_txt() "%s %s %s -> %s\n%s\n\n" (sbc-formats.md §7, the reference's
// own example line is the first sample); the messages are JsSIP 3.10 REGISTERs over WebSocket
// (client-formats.md §1.1: `.invalid` Via host, reg-id/+sip.instance Contact) behind a load balancer
// at 10.20.0.5, relayed by a Kamailio at 10.20.0.11 to a registrar at 10.20.5.10 over UDP.
const DIALOG = [
  '2026/11/24 10:00:01.204311 10.20.0.5:41234 -> 10.20.0.11:8080',
  'REGISTER sip:rtc.example.io SIP/2.0',
  'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;branch=z9hG4bK1183420',
  'Max-Forwards: 69',
  'To: <sip:u-07@rtc.example.io>',
  'From: "u-07" <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk',
  'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1',
  'CSeq: 1 REGISTER',
  'Contact: <sip:9ti0sd5p@1qj2mmvk5g8o.invalid;transport=ws>;+sip.ice;reg-id=1;expires=600',
  'Expires: 600',
  'User-Agent: JsSIP 3.10.1',
  'Content-Length: 0',
  '',
  '',
  '2026/11/24 10:00:01.205102 10.20.0.11:5060 -> 10.20.5.10:5060',
  'REGISTER sip:rtc.example.io SIP/2.0',
  'Via: SIP/2.0/UDP 10.20.0.11;branch=z9hG4bK2c1a.8f3b5d4e1.0',
  'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;received=10.20.0.5;rport=41234;branch=z9hG4bK1183420',
  'Max-Forwards: 68',
  'To: <sip:u-07@rtc.example.io>',
  'From: "u-07" <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk',
  'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1',
  'CSeq: 1 REGISTER',
  'Content-Length: 0',
  '',
  '',
  '2026/11/24 10:00:01.206877 10.20.5.10:5060 -> 10.20.0.11:5060',
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 10.20.0.11;branch=z9hG4bK2c1a.8f3b5d4e1.0',
  'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;received=10.20.0.5;rport=41234;branch=z9hG4bK1183420',
  'From: "u-07" <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk',
  'To: <sip:u-07@rtc.example.io>;tag=z9hG4bK2c1a.8f3b5d4e1.0',
  'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="rtc.example.io",nonce="Y5a1ZWNhZGM3",algorithm=MD5,qop="auth"',
  'Server: Asterisk PBX 20.5.2',
  'Content-Length: 0',
  '',
  '',
  '2026/11/24 10:00:01.207310 10.20.0.11:8080 -> 10.20.0.5:41234',
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;received=10.20.0.5;rport=41234;branch=z9hG4bK1183420',
  'From: "u-07" <sip:u-07@rtc.example.io>;tag=ifu4v2q8lk',
  'To: <sip:u-07@rtc.example.io>;tag=z9hG4bK2c1a.8f3b5d4e1.0',
  'Call-ID: 5ol8m2m8ajq4nkqfn2hiv1',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="rtc.example.io",nonce="Y5a1ZWNhZGM3",algorithm=MD5,qop="auth"',
  'Server: Asterisk PBX 20.5.2',
  'Content-Length: 0',
  '',
  '',
];

// A second dialog, written after the first (sngrep saves dialog by dialog, not in time order):
// Kamailio's pipelimit answers itself (sbc-formats.md §1.5: 503 + Retry-After).
const LIMITED = [
  '2026/11/24 10:00:00.901002 10.20.0.5:41310 -> 10.20.0.11:8080',
  'REGISTER sip:rtc.example.io SIP/2.0',
  'Via: SIP/2.0/WSS 7sd0ak2jd9q1.invalid;branch=z9hG4bK4471932',
  'To: <sip:u-11@rtc.example.io>',
  'From: "u-11" <sip:u-11@rtc.example.io>;tag=q0aj2m1n8d',
  'Call-ID: 0oq1h3sl2d0v9kqjv7b3aa',
  'CSeq: 3 REGISTER',
  'Content-Length: 0',
  '',
  '',
  '2026/11/24 10:00:00.901755 10.20.0.11:8080 -> 10.20.0.5:41310',
  'SIP/2.0 503 Server Unavailable',
  'Via: SIP/2.0/WSS 7sd0ak2jd9q1.invalid;received=10.20.0.5;rport=41310;branch=z9hG4bK4471932',
  'From: "u-11" <sip:u-11@rtc.example.io>;tag=q0aj2m1n8d',
  'To: <sip:u-11@rtc.example.io>;tag=b27e1a1d33761e85846fc98f5f3a7e58.2d4c',
  'Call-ID: 0oq1h3sl2d0v9kqjv7b3aa',
  'CSeq: 3 REGISTER',
  'Retry-After: 10',
  'Server: kamailio (5.6.4 (x86_64/linux))',
  'Content-Length: 0',
  '',
  '',
];

describe('sngrep text export', () => {
  it('reads each message with its time, Call-ID, user, status and the SBC’s direction', () => {
    const { events, outcomes } = parse([...DIALOG, ...LIMITED]);
    expect(
      events.map((e) => [
        e.line,
        e.kind,
        e.sip?.direction,
        e.sip?.method,
        e.sip?.status,
        e.keys.peer,
        e.keys.user,
      ]),
    ).toEqual([
      [1, 'sip-request', 'received', 'REGISTER', undefined, '10.20.0.5:41234', 'u-07'],
      // the relayed REGISTER and the registrar's challenge: the registrar is no client's connection
      [15, 'sip-request', 'sent', 'REGISTER', undefined, undefined, 'u-07'],
      [27, 'sip-response', 'received', 'REGISTER', 401, undefined, 'u-07'],
      [40, 'sip-response', 'sent', 'REGISTER', 401, '10.20.0.5:41234', 'u-07'],
      [52, 'sip-request', 'received', 'REGISTER', undefined, '10.20.0.5:41310', 'u-11'],
      [62, 'sip-response', 'sent', 'REGISTER', 503, '10.20.0.5:41310', 'u-11'],
    ]);
    expect(events.every((e) => e.role === 'sbc')).toBe(true);
    expect(events[0].ts).toBeCloseTo(Date.UTC(2026, 10, 24, 10, 0, 1, 204) + 0.311, 3);
    expect(events[0].keys.callId).toBe('5ol8m2m8ajq4nkqfn2hiv1');
    expect(events[0].keys.ip).toBe('10.20.0.5');
    expect(events[2].sip?.agent).toBe('Asterisk PBX 20.5.2');
    expect(events[2].signal).toBe('auth-challenge');
    const refusal = events[5];
    expect(refusal.sip).toMatchObject({ status: 503, reason: 'Server Unavailable', retryAfter: 10, cseq: 3 });
    expect(refusal.signal).toBe('sbc-rate-limit');
    expect(refusal.text).toBe('sent to 10.20.0.5:41310: SIP/2.0 503 Server Unavailable');
    expect(refusal.raw).toContain('2026/11/24 10:00:00.901755 10.20.0.11:8080 -> 10.20.0.5:41310');
    // header lines are parts, each start line makes the event, nothing is unparsed
    expect(outcomes[0]).toBe('part');
    expect(outcomes[1]).toBe('event');
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(6);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
  });

  it('reads the time as the capturing host’s local time', () => {
    const ctx = { ...utcContext(2026, 2), localToEpoch: (w: number) => w - 2 * 3_600_000 };
    const { events } = parse(LIMITED, ctx);
    expect(events[0].ts).toBeCloseTo(Date.UTC(2026, 10, 24, 8, 0, 0, 901) + 0.002, 2);
  });

  it('reads a 200 OK with an SDP-free body end and an IPv6 client', () => {
    const { events } = parse([
      '2026/11/24 10:00:02.000100 2001:db8::7:50122 -> 2001:db8::10:5060',
      'REGISTER sip:rtc.example.io SIP/2.0',
      'Via: SIP/2.0/UDP [2001:db8::7]:50122;branch=z9hG4bK77',
      'From: <sip:desk-3@rtc.example.io>;tag=1',
      'To: <sip:desk-3@rtc.example.io>',
      'Call-ID: v6-reg-1',
      'CSeq: 2 REGISTER',
      'Content-Length: 0',
      '',
      '',
      '2026/11/24 10:00:02.003400 2001:db8::10:5060 -> 2001:db8::7:50122',
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP [2001:db8::7]:50122;branch=z9hG4bK77',
      'From: <sip:desk-3@rtc.example.io>;tag=1',
      'To: <sip:desk-3@rtc.example.io>;tag=2',
      'Call-ID: v6-reg-1',
      'CSeq: 2 REGISTER',
      'Content-Length: 0',
      '',
      '',
    ]);
    expect(events.map((e) => [e.sip?.direction, e.keys.peer, e.keys.ip])).toEqual([
      ['received', '[2001:db8::7]:50122', '2001:db8::7'],
      ['sent', '[2001:db8::7]:50122', '2001:db8::7'],
    ]);
    expect(events[1].signal).toBe('registered');
  });

  it('reads the reference example: a phone and the SBC both on 5060', () => {
    // the header is the reference's own example line (sbc-formats.md §7)
    const register = (cseq: number) => [
      'REGISTER sip:10.0.0.2 SIP/2.0',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK' + cseq,
      'From: <sip:2001@10.0.0.2>;tag=p1',
      'To: <sip:2001@10.0.0.2>',
      'Call-ID: desk-2001',
      `CSeq: ${cseq} REGISTER`,
      'Content-Length: 0',
      '',
      '',
    ];
    const { events } = parse([
      '2024/01/31 12:00:00.123456 10.0.0.1:5060 -> 10.0.0.2:5060',
      ...register(1),
      '2024/01/31 12:00:00.125001 10.0.0.2:5060 -> 10.0.0.1:5060',
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
      'From: <sip:2001@10.0.0.2>;tag=p1',
      'To: <sip:2001@10.0.0.2>;tag=s1',
      'Call-ID: desk-2001',
      'CSeq: 1 REGISTER',
      'Content-Length: 0',
      '',
    ]);
    expect(events.map((e) => [e.sip?.direction, e.keys.peer, e.keys.user, e.signal])).toEqual([
      ['received', '10.0.0.1:5060', '2001', undefined],
      ['sent', '10.0.0.1:5060', '2001', 'registered'],
    ]);
  });

  it('keeps an INVITE’s SDP body out of its headers and reads the next message after it', () => {
    const { events, outcomes } = parse([
      '2026/11/24 10:05:00.000001 10.20.0.5:41234 -> 10.20.0.11:8080',
      'INVITE sip:u-08@rtc.example.io SIP/2.0',
      'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;branch=z9hG4bK9',
      'From: <sip:u-07@rtc.example.io>;tag=a',
      'To: <sip:u-08@rtc.example.io>',
      'Call-ID: call-7-8',
      'CSeq: 8541 INVITE',
      'Content-Type: application/sdp',
      'Content-Length: 120',
      '',
      'v=0',
      'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
      's=-',
      'a=group:BUNDLE 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      '',
      '2026/11/24 10:05:00.010001 10.20.0.11:8080 -> 10.20.0.5:41234',
      'SIP/2.0 100 trying -- your call is important to us',
      'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;branch=z9hG4bK9',
      'From: <sip:u-07@rtc.example.io>;tag=a',
      'To: <sip:u-08@rtc.example.io>',
      'Call-ID: call-7-8',
      'CSeq: 8541 INVITE',
      'Content-Length: 0',
      '',
    ]);
    expect(events.map((e) => [e.sip?.method, e.sip?.status, e.sip?.direction, e.keys.user])).toEqual([
      ['INVITE', undefined, 'received', 'u-07'],
      ['INVITE', 100, 'sent', 'u-07'],
    ]);
    expect(events[0].sip?.headers).not.toContain('a=group');
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
  });

  it('is detected when the export opens with an INVITE and its WebRTC SDP (SDP lines tell no format apart)', () => {
    const candidates = Array.from(
      { length: 40 },
      (_, i) => `a=candidate:${i} 1 udp 2122260223 192.168.1.${i} ${50000 + i} typ host generation 0`,
    );
    const invite = [
      '2026/11/24 10:05:00.000001 10.20.0.5:41234 -> 10.20.0.11:8080',
      'INVITE sip:u-08@rtc.example.io SIP/2.0',
      'Via: SIP/2.0/WSS 1qj2mmvk5g8o.invalid;branch=z9hG4bK9',
      'Call-ID: call-7-8',
      'CSeq: 8541 INVITE',
      'Content-Type: application/sdp',
      '',
      'v=0',
      'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
      'c=IN IP4 0.0.0.0',
      ...candidates,
      '',
    ];
    expect(detectFormat([...invite, ...invite, ...invite], FORMATS).format?.name).toBe('sngrep');
  });

  it('skips blank lines and leaves stray text unparsed', () => {
    const { events, outcomes } = parse(['', 'not an export line', '']);
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'unparsed', 'skip']);
  });

  it('claims its header lines and no other format’s samples', () => {
    for (const s of sngrep.samples) expect(sngrep.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.9);
    expect(detectFormat(DIALOG, FORMATS).format?.name).toBe('sngrep');
    for (const f of FORMATS) {
      if (f === sngrep) continue;
      for (const s of f.samples) expect(sngrep.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
    // nginx's error log shares the date shape, not the rest
    expect(sngrep.sniff('2015/10/29 20:01:02 [error] 1234#0: *5 upstream timed out')).toBe(0);
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      '2026/11/24 10:00:01.204311 ' + '1'.repeat(60_000),
      '2026/11/24 10:00:01.204311 ' + 'a -> '.repeat(12_000),
      '2026/11/24 10:00:01.204311 1.2.3.4:5 -> ' + ':'.repeat(60_000),
    ];
    for (const line of attacks) {
      const t0 = performance.now();
      sngrep.sniff(line);
      parse([line]);
      expect(performance.now() - t0).toBeLessThan(200);
    }
  });
});
