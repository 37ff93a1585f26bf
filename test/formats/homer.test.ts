import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { homer } from '../../src/formats/homer.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(lines: readonly string[]) {
  const parser = homer.createParser(utcContext(2026, 5));
  const events: LogEvent[] = [];
  const outcomes: LineOutcome[] = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

/**
 * homer-app exportwriter.go WriteDataToBuffer: "proto:" + ProtocolText + " " + CreateDate + "  " +
 * src + " ---> " + dst + "\r\n\r\n", the raw message, "\r\n" (sbc-formats.md §7); the first header
 * is a real export line quoted by a public HEP replay tool. Here the SBC (10.0.0.2) relays a
 * softphone's REGISTER (192.168.178.20:61000, the other sample's NATed client) to its registrar.
 */
function record(header: string, message: readonly string[]): string[] {
  return [header, '', ...message, '', ''];
}

const EXPORT = [
  ...record('proto:UDP 2023-04-17T14:56:19.323629+02:00  192.168.178.20:61000 ---> 10.0.0.2:5060', [
    'REGISTER sip:voip.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 192.168.178.20:61000;branch=z9hG4bK-524287-1---4c1b9d;rport',
    'Max-Forwards: 70',
    'Contact: <sip:620@192.168.178.20:61000;rinstance=5b0e1b>',
    'To: <sip:620@voip.example.net>',
    'From: <sip:620@voip.example.net>;tag=0f1e8c6d',
    'Call-ID: ZmU0YjA4NjZlZTg4MmZiOGVkNDk',
    'CSeq: 2 REGISTER',
    'Expires: 120',
    'User-Agent: Z 5.6.4 v2.10.20.2',
    'Content-Length: 0',
  ]),
  ...record('proto:UDP 2023-04-17T14:56:19.325117+02:00  10.0.0.2:5060 ---> 10.0.0.9:5060', [
    'REGISTER sip:voip.example.net SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKd1e1.c4f7a1f2.0',
    'Via: SIP/2.0/UDP 192.168.178.20:61000;received=192.168.178.20;branch=z9hG4bK-524287-1---4c1b9d;rport=61000',
    'To: <sip:620@voip.example.net>',
    'From: <sip:620@voip.example.net>;tag=0f1e8c6d',
    'Call-ID: ZmU0YjA4NjZlZTg4MmZiOGVkNDk',
    'CSeq: 2 REGISTER',
    'Content-Length: 0',
  ]),
  ...record('proto:UDP 2023-04-17T14:56:24.325900+02:00  10.0.0.2:5060 ---> 192.168.178.20:61000', [
    'SIP/2.0 408 Request Timeout',
    'Via: SIP/2.0/UDP 192.168.178.20:61000;received=192.168.178.20;branch=z9hG4bK-524287-1---4c1b9d;rport=61000',
    'To: <sip:620@voip.example.net>;tag=b27e1a1d33761e85846fc98f5f3a7e58.a1b2',
    'From: <sip:620@voip.example.net>;tag=0f1e8c6d',
    'Call-ID: ZmU0YjA4NjZlZTg4MmZiOGVkNDk',
    'CSeq: 2 REGISTER',
    'Server: kamailio (5.7.2 (x86_64/linux))',
    'Content-Length: 0',
  ]),
];

describe('HOMER text export', () => {
  it('reads each captured message with its zoned time and the SBC’s side of it', () => {
    const { events, outcomes } = parse(EXPORT);
    expect(
      events.map((e) => [
        e.line,
        e.kind,
        e.sip?.direction,
        e.sip?.status,
        e.keys.peer,
        e.keys.user,
        e.keys.callId,
      ]),
    ).toEqual([
      [1, 'sip-request', 'received', undefined, '192.168.178.20:61000', '620', 'ZmU0YjA4NjZlZTg4MmZiOGVkNDk'],
      [16, 'sip-request', 'sent', undefined, undefined, '620', 'ZmU0YjA4NjZlZTg4MmZiOGVkNDk'],
      [28, 'sip-response', 'sent', 408, '192.168.178.20:61000', '620', 'ZmU0YjA4NjZlZTg4MmZiOGVkNDk'],
    ]);
    expect(events[0].ts).toBeCloseTo(Date.UTC(2023, 3, 17, 12, 56, 19, 323) + 0.629, 2);
    expect(events[2].ts).toBeCloseTo(Date.UTC(2023, 3, 17, 12, 56, 24, 325) + 0.9, 2);
    expect(events[2].signal).toBe('transaction-timeout');
    expect(events[2].sip?.agent).toBe('kamailio (5.7.2 (x86_64/linux))');
    expect(events.every((e) => e.role === 'sbc')).toBe(true);
    expect(outcomes.slice(0, 3)).toEqual(['part', 'part', 'event']);
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
  });

  it('reads TCP legs of WebSocket clients, UTC dates and IPv6 addresses', () => {
    const { events } = parse([
      ...record('proto:TCP 2026-11-24T10:00:01.5Z  2001:db8:1::7:50412 ---> 2001:db8:1::10:8080', [
        'REGISTER sip:rtc.example.io SIP/2.0',
        'Via: SIP/2.0/WSS 9s8d7f6g5h4j.invalid;branch=z9hG4bK55',
        'From: <sip:u-21@rtc.example.io>;tag=x',
        'To: <sip:u-21@rtc.example.io>',
        'Call-ID: reg-u21',
        'CSeq: 1 REGISTER',
        'Content-Length: 0',
      ]),
      ...record('proto:TCP 2026-11-24T10:00:01.502Z  2001:db8:1::10:8080 ---> 2001:db8:1::7:50412', [
        'SIP/2.0 403 Forbidden',
        'Via: SIP/2.0/WSS 9s8d7f6g5h4j.invalid;branch=z9hG4bK55',
        'From: <sip:u-21@rtc.example.io>;tag=x',
        'To: <sip:u-21@rtc.example.io>;tag=y',
        'Call-ID: reg-u21',
        'CSeq: 1 REGISTER',
        'Content-Length: 0',
      ]),
    ]);
    expect(events.map((e) => [e.ts, e.sip?.direction, e.sip?.status, e.keys.peer, e.keys.ip])).toEqual([
      [
        Date.UTC(2026, 10, 24, 10, 0, 1, 500),
        'received',
        undefined,
        '[2001:db8:1::7]:50412',
        '2001:db8:1::7',
      ],
      [Date.UTC(2026, 10, 24, 10, 0, 1, 502), 'sent', 403, '[2001:db8:1::7]:50412', '2001:db8:1::7'],
    ]);
  });

  it('reads a database-style date and an epoch date', () => {
    const reply = [
      'SIP/2.0 200 OK',
      'From: <sip:u-1@x>;tag=a',
      'To: <sip:u-1@x>;tag=b',
      'Call-ID: c1',
      'CSeq: 1 REGISTER',
    ];
    const { events } = parse([
      ...record('proto:UDP 2021-10-04 19:16:22.699 +0000 UTC  10.0.0.9:5060 ---> 10.0.0.2:5060', reply),
      ...record('proto:UDP 1633374982699  10.0.0.9:5060 ---> 10.0.0.2:5060', reply),
    ]);
    expect(events.map((e) => e.ts)).toEqual([Date.UTC(2021, 9, 4, 19, 16, 22, 699), 1633374982699]);
  });

  it('leaves non-SIP payloads (HEP log records) without events', () => {
    const { events, outcomes } = parse([
      ...record('proto:UDP 2026-11-24T10:00:01.5Z  10.0.0.2:0 ---> 10.0.0.9:0', [
        '{"level":"info","msg":"x"}',
      ]),
    ]);
    expect(events).toEqual([]);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
  });

  it('is detected over a whole export and claims no other format’s samples', () => {
    for (const s of homer.samples) expect(homer.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.9);
    expect(detectFormat(EXPORT, FORMATS).format?.name).toBe('homer');
    for (const f of FORMATS) {
      if (f === homer) continue;
      for (const s of f.samples) expect(homer.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      'proto:UDP ' + 'x'.repeat(60_000),
      'proto:UDP 2026-11-24T10:00:01Z  ' + 'a --->'.repeat(10_000),
      'proto:UDP 2026-11-24T10:00:01Z ' + ' '.repeat(60_000) + '1:1 ---> 2:2',
    ];
    for (const line of attacks) {
      const t0 = performance.now();
      homer.sniff(line);
      parse([line]);
      expect(performance.now() - t0).toBeLessThan(200);
    }
  });
});
