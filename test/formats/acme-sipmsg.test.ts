import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { har } from '../../src/formats/har.js';
import { k6 } from '../../src/formats/k6.js';
import { acmeSipmsg } from '../../src/formats/acme-sipmsg.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';
import { expectLinear } from './run-parser.js';

const ALL = FORMATS;
const OTHERS = FORMATS.filter((f) => f !== har && f !== k6 && f !== acmeSipmsg);
const CORPUS = new URL('../../../shared/peer-corpus/wireshark-sipmsg.log', import.meta.url);
const DASHES = '-'.repeat(40);

function parse(lines: readonly string[], year = 2026): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = acmeSipmsg.createParser(utcContext(year, 1));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

describe.skipIf(!existsSync(CORPUS))('acme-sipmsg: the Wireshark test capture end to end', () => {
  const lines = readFileSync(CORPUS, 'utf8').split('\n');

  it('is detected as acme-sipmsg', () => {
    const d = detectFormat(lines, ALL);
    expect(d.format?.name).toBe('acme-sipmsg');
    expect(d.format?.role).toBe('sbc');
  });

  it('reads its five SIP messages with directions, Call-IDs, peers and times', () => {
    const { events, outcomes } = parse(lines);
    expect(
      events.map((e) => [
        e.line,
        e.kind,
        e.sip?.direction,
        e.sip?.method,
        e.sip?.status,
        e.keys.callId,
        e.keys.peer,
        e.keys.user,
      ]),
    ).toEqual([
      [
        4,
        'sip-request',
        'received',
        'REGISTER',
        undefined,
        '003094c3-a0160002-23aa7e86-29e5808d@192.168.1.100',
        '10.102.130.150:5060',
        '34903',
      ],
      [
        18,
        'sip-response',
        'sent',
        'REGISTER',
        200,
        '003094c3-a0160002-23aa7e86-29e5808d@192.168.1.100',
        '10.102.130.150:5060',
        '34903',
      ],
      [
        29,
        'sip-request',
        'received',
        'INVITE',
        undefined,
        '7f00000113ce0000047b000cd140@127.0.0.1',
        '127.0.0.1:5070',
        '7323685154',
      ],
      [
        54,
        'sip-response',
        'sent',
        'INVITE',
        100,
        '7f00000113ce0000047b000cd140@127.0.0.1',
        '127.0.0.1:5070',
        '7323685154',
      ],
      [
        124,
        'sip-response',
        'sent',
        'INVITE',
        181,
        '7f00000113ce0000047b000cd140@127.0.0.1',
        '127.0.0.1:5070',
        '7323685154',
      ],
    ]);
    expect(events.every((e) => e.role === 'sbc')).toBe(true);
    expect(new Set(events.map((e) => e.keys.callId)).size).toBe(2);
    expect(events[0].ts).toBe(Date.UTC(2026, 2, 6, 13, 34, 49, 416));
    expect(events[0].sip?.agent).toBe('CSCO/7');
    expect(events[1].signal).toBe('registered');
    // one 'event' line per SIP message (its start line); File/OPENED/CLOSED skipped; nothing unparsed
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'skip')).toHaveLength(7);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
    expect(outcomes.length).toBe(lines.length);
  });
});

describe('acme-sipmsg records', () => {
  it('reads a 503 with Retry-After sent by the SBC to a WebSocket client', () => {
    const { events, outcomes } = parse([
      'Nov 24 10:00:00.001 On [1:0]203.0.113.10:443 received from 198.51.100.7:53122',
      'REGISTER sip:sbc.example.com SIP/2.0',
      'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
      'From: <sip:agent-042@sbc.example.com>;tag=a',
      'To: <sip:agent-042@sbc.example.com>',
      'Call-ID: reg-42@abc.invalid',
      'CSeq: 3 REGISTER',
      'Content-Length: 0',
      '',
      DASHES,
      'Nov 24 10:00:00.002 On [1:0]203.0.113.10:443 sent to 198.51.100.7:53122',
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK1',
      'From: <sip:agent-042@sbc.example.com>;tag=a',
      'To: <sip:agent-042@sbc.example.com>;tag=b',
      'Call-ID: reg-42@abc.invalid',
      'CSeq: 3 REGISTER',
      'Retry-After: 30',
      'Content-Length: 0',
      '',
      DASHES,
    ]);
    expect(events).toHaveLength(2);
    const [request, refusal] = events;
    expect(request.sip?.direction).toBe('received');
    expect(refusal.sip).toMatchObject({ direction: 'sent', status: 503, method: 'REGISTER', retryAfter: 30 });
    expect(refusal.signal).toBe('sbc-rate-limit');
    expect(refusal.keys).toMatchObject({ peer: '198.51.100.7:53122', ip: '198.51.100.7', user: 'agent-042' });
    expect(refusal.line).toBe(11);
    expect(outcomes[1]).toBe('event');
    expect(outcomes[0]).toBe('part');
  });

  it('takes the remote UA’s user from the To of requests the SBC sends', () => {
    const { events } = parse([
      'Nov 24 10:00:00.001 On 203.0.113.10:443 sent to 198.51.100.7:53122',
      'OPTIONS sip:agent-042@198.51.100.7:53122;transport=ws SIP/2.0',
      'From: <sip:ping@sbc.example.com>;tag=a',
      'To: <sip:agent-042@sbc.example.com>',
      'Call-ID: opt-1',
      'CSeq: 1 OPTIONS',
      '',
    ]);
    expect(events[0].keys.user).toBe('agent-042');
    expect(events[0].sip?.method).toBe('OPTIONS');
  });

  it('reads non-SIP blocks as parts and stray lines as unparsed', () => {
    const { events, outcomes } = parse([
      'File opened.',
      'Mar  6 13:39:06.122 On 127.0.0.1:2945 sent to 127.0.0.1:2944',
      '  0000: ac 3e fd 01 00 07 89 d9 00 fc 10 00 00 00 02 00   .>..............',
      'Transaction = 494041 {',
      '}',
      DASHES,
      'some other text',
      'File closed.',
    ]);
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'part', 'part', 'part', 'part', 'part', 'unparsed', 'skip']);
  });

  it('sniffs its samples high and nobody else’s', () => {
    for (const s of acmeSipmsg.samples) expect(acmeSipmsg.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    expect(
      detectFormat(
        acmeSipmsg.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('acme-sipmsg');
    for (const f of OTHERS) {
      for (const s of f.samples) expect(acmeSipmsg.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
      const d = detectFormat(
        f.samples.map((s) => s.line),
        ALL,
      );
      expect(d.format?.name, f.name).not.toBe('acme-sipmsg');
    }
  });

  it('stays linear on long adversarial lines', () => {
    const attacks = [
      'Mar  6 13:34:49.416 On ' + '1.'.repeat(30_000),
      'Mar  6 13:34:49.416 On [6:0]10.1.1.1:5060 received from ' + 'a'.repeat(60_000),
      'Mar  6 13:34:22.599 UDP' + '['.repeat(30_000),
      '-'.repeat(60_000),
    ];
    expectLinear(acmeSipmsg, attacks, 100);
  });
});
