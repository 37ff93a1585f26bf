import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { sippErrors } from '../../src/formats/sipp-errors.js';
import { parseLines } from './run-parser.js';

const parse = (lines: readonly string[]) => parseLines(sippErrors, lines);

/** The default SIPp time (`CStat::formatTime`): local date and time, then the epoch (client-formats.md §5.3). */
const T = (clock: string, epoch: string) => `2026-11-24\t${clock}\t${epoch}`;

/** A REGISTER answer as the SBC sends it, dumped by SIPp inside the quotes of its error message. */
function answer(status: string, user: string, callId: string, cseq: number, extra: string[] = []): string[] {
  return [
    `Via: SIP/2.0/TCP 198.51.100.40:41007;branch=z9hG4bK-31337-7-${cseq};received=198.51.100.40`,
    `From: ${user} <sip:${user}@pbx.example.org>;tag=31337SIPpTag007`,
    `To: ${user} <sip:${user}@pbx.example.org>;tag=9d3a1f0c`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`,
    ...extra,
    'Server: kamailio (5.7.4 (x86_64/linux))',
    'Content-Length: 0',
    '',
    "'",
  ];
}

describe('sipp-errors: the error log (-trace_err)', () => {
  it('reads the received message of an aborted call: a 503 + Retry-After from the SBC', () => {
    const { events, outcomes } = parse([
      'The following events occurred:',
      `${T('10:00:07.512331', '1795514407.512331')}: Aborting call on unexpected message for Call-Id '7-31337@198.51.100.40': while expecting '401' (index 1), received 'SIP/2.0 503 Service Unavailable`,
      ...answer('503', 'ld-007', '7-31337@198.51.100.40', 1, ['Retry-After: 5']),
    ]);
    expect(outcomes[0]).toBe('skip');
    expect(outcomes[1]).toBe('event');
    expect(outcomes.slice(2).every((o) => o === 'part')).toBe(true);
    expect(events).toHaveLength(1);
    const e = events[0];
    expect(e.ts).toBe(1795514407512.331);
    expect(e.role).toBe('client');
    expect(e.line).toBe(2);
    expect(e.kind).toBe('sip-response');
    expect(e.keys).toEqual({ callId: '7-31337@198.51.100.40', user: 'ld-007' });
    expect(e.sip).toMatchObject({
      status: 503,
      reason: 'Service Unavailable',
      method: 'REGISTER',
      cseq: 1,
      retryAfter: 5,
      direction: 'received',
      agent: 'kamailio (5.7.4 (x86_64/linux))',
    });
    expect(e.sip?.headers).toContain('retry-after');
    // SIPp gave up the registration on it
    expect(e.signal).toBe('registration-failed');
    expect(e.text).toContain("expected '401'");
  });

  it('reads the reference line (mojolingo/sippy_cup#94, SIPp/sipp#280 time prefix) without its dump', () => {
    // client-formats.md §5.3
    const { events } = parse([
      "2017-01-20\t01:02:02.562708\t1484845322.562708: Aborting call on unexpected message for Call-Id '1-3332@172.31.0.23': while expecting '180' (index 2), received 'SIP/2.0 407 Proxy Authentication Required",
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].ts).toBe(1484845322562.708);
    expect(events[0].keys.callId).toBe('1-3332@172.31.0.23');
    expect(events[0].sip).toMatchObject({ status: 407, direction: 'received' });
  });

  it('skips lines of no diagnostic value (SIPp/sipp#280) but keeps reading', () => {
    const { events, outcomes } = parse([
      '2017-01-20      01:02:02.562708 1484845322.562708: wheel_base is 13344408, clock_tick is 13344404 - expected wheel_base to be less than or equal to clock_tick.',
    ]);
    expect(outcomes).toEqual(['skip']);
    expect(events).toEqual([]);
  });

  it('prefers the Call-ID of the message, falls back to SIPp’s own', () => {
    // an OpenIMSCore answer whose Call-ID differs from SIPp's id (seen in public SIPp logs)
    const { events } = parse([
      `${T('19:53:30.076000', '1795514410.076000')}: Aborting call on unexpected message for Call-Id '1-31@172.17.0.3': while expecting '401' (index 1), received 'SIP/2.0 478 Unresolvable destination (478/TM)`,
      'Via: SIP/2.0/UDP 172.17.0.3:3061;branch=z9hG4bK-31-1-0;rport=3061',
      'From: "alice" <sip:alice@open-ims.test>;tag=1',
      'To: "alice" <sip:alice@open-ims.test>;tag=5d140a338aa6e1dd545b3496380067c9-c30a',
      'Call-ID: reg///1-31@172.17.0.3',
      'CSeq: 1 REGISTER',
      'Content-Length: 0',
      '',
      "'",
    ]);
    expect(events[0].keys).toEqual({ callId: 'reg///1-31@172.17.0.3', user: 'alice' });
    expect(events[0].sip?.status).toBe(478);
  });

  it('reads 403 and 504 answers, and the older millisecond time shape', () => {
    const { events } = parse([
      `${T('10:00:09.100200', '1795514409.100200')}: Aborting call on unexpected message for Call-Id '11-31337@198.51.100.40': while expecting '200' (index 3), received 'SIP/2.0 403 Forbidden`,
      ...answer('403', 'ld-011', '11-31337@198.51.100.40', 2),
      // older SIPp builds print milliseconds after a colon
      "2026-11-24\t10:00:15:004\t1795514415.004117: Aborting call on unexpected message for Call-Id '12-31337@198.51.100.40': while expecting '401' (index 1), received 'SIP/2.0 504 Server Time-out",
      ...answer('504', 'ld-012', '12-31337@198.51.100.40', 1),
    ]);
    expect(events.map((e) => [e.keys.user, e.sip?.status, e.sip?.reason, e.signal])).toEqual([
      ['ld-011', 403, 'Forbidden', 'registration-failed'],
      ['ld-012', 504, 'Server Time-out', 'registration-failed'],
    ]);
    expect(events[1].ts).toBe(1795514415004.117);
  });

  it('a second challenge after the credentials (stock kamailio.cfg re-challenges on a bad password)', () => {
    const { events } = parse([
      `${T('10:00:09.100200', '1795514409.100200')}: Aborting call on unexpected message for Call-Id '13-31337@198.51.100.40': while expecting '200' (index 3), received 'SIP/2.0 401 Unauthorized`,
      ...answer('401', 'ld-013', '13-31337@198.51.100.40', 2, [
        'WWW-Authenticate: Digest realm="pbx.example.org", nonce="Z2kR1WdpEKm"',
      ]),
    ]);
    // the failed registration is told by the signal; the 401 stays a challenge for the classifier
    expect(events[0]).toMatchObject({
      kind: 'sip-response',
      signal: 'registration-failed',
      sip: { status: 401, cseq: 2, method: 'REGISTER', direction: 'received' },
    });
  });

  it('skips what SIPp prints around its errors on stderr (src/logger.cpp print_errors)', () => {
    const { outcomes } = parse([
      "sipp: There were more errors, see 'Called_4101_errors.log' file",
      'There were more errors, enable -trace_err to log them.',
      "Resolving remote host 'pbx.example.org'... Done.",
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
  });

  it('reads the timeouts of src/call.cpp as symptoms keyed by Call-ID', () => {
    // client-formats.md §5.3 templates, filled in
    const { events, outcomes } = parse([
      `${T('10:00:40.000100', '1795514440.000100')}: Call-Id: 21-31337@198.51.100.40, receive timeout on message 200:3 without label to jump to (ontimeout attribute): aborting call`,
      `${T('10:00:41.000100', '1795514441.000100')}: Aborting call on UDP retransmission timeout for Call-ID '22-31337@198.51.100.40'`,
      `${T('10:00:42.000100', '1795514442.000100')}: Call-Id: 23-31337@198.51.100.40, send timeout on message REGISTER:2: aborting call`,
      `${T('10:00:43.000100', '1795514443.000100')}: Aborting call on an unexpected BYE for call: 24-31337@198.51.100.40`,
    ]);
    expect(outcomes).toEqual(['event', 'event', 'event', 'event']);
    expect(events.map((e) => [e.keys.callId, e.kind, e.signal])).toEqual([
      ['21-31337@198.51.100.40', 'timeout', 'transaction-timeout'],
      ['22-31337@198.51.100.40', 'timeout', 'transaction-timeout'],
      ['23-31337@198.51.100.40', 'timeout', 'transaction-timeout'],
      ['24-31337@198.51.100.40', 'error', undefined],
    ]);
    expect(events.every((e) => e.role === 'client' && e.keys.user === undefined)).toBe(true);
  });

  it('a timeout the scenario handles (jumping to a label) is no failure', () => {
    const { events } = parse([
      `${T('10:00:40.000100', '1795514440.000100')}: Call-Id: 31-31337@198.51.100.40, receive timeout on message OPTIONS:12, jumping to label 14`,
    ]);
    expect(events[0].signal).toBeUndefined();
  });

  it('a discarded out-of-call OPTIONS is the SBC pinging the user: a keep-alive, not a failure', () => {
    const { events, outcomes } = parse([
      `${T('10:00:30.250000', '1795514430.250000')}: Discarding message which can't be mapped to a known SIPp call:`,
      'OPTIONS sip:ld-005@198.51.100.40:41005;transport=tcp SIP/2.0',
      'Via: SIP/2.0/TCP 203.0.113.10:5060;branch=z9hG4bK1d2e.5b1c7a01',
      'From: <sip:pinger@pbx.example.org>;tag=6e1a2b3c',
      'To: <sip:ld-005@198.51.100.40:41005;transport=tcp>',
      'Call-ID: 7f0c1a2b3c4d5e6f-31@203.0.113.10',
      'CSeq: 10 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ]);
    expect(outcomes[0]).toBe('event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'sip-request',
      signal: 'keepalive',
      keys: { user: 'ld-005' },
      sip: { method: 'OPTIONS', direction: 'received' },
    });
  });

  it('RFC 3339 times (-rfc3339)', () => {
    const { events } = parse([
      "2026-11-24T11:00:07.512331+01:00: Aborting call on UDP retransmission timeout for Call-ID '5-777@10.0.0.9'",
    ]);
    expect(events[0].ts).toBe(Date.parse('2026-11-24T10:00:07.512Z') + 0.331);
    expect(
      sippErrors.sniff(
        "2026-11-24T11:00:07.512331+01:00: Aborting call on UDP retransmission timeout for Call-ID '5-777@10.0.0.9'",
      ),
    ).toBeGreaterThan(0.8);
  });
});

describe('sipp-errors: the message log (-trace_msg)', () => {
  const REGISTER = [
    'REGISTER sip:pbx.example.org SIP/2.0',
    'Via: SIP/2.0/TCP 198.51.100.40:41001;branch=z9hG4bK-31337-1-0',
    'From: ld-001 <sip:ld-001@pbx.example.org>;tag=31337SIPpTag001',
    'To: ld-001 <sip:ld-001@pbx.example.org>',
    'Call-ID: 1-31337@198.51.100.40',
    'CSeq: 1 REGISTER',
    'Contact: sip:ld-001@198.51.100.40:41001;transport=tcp',
    'Expires: 300',
    'Content-Length: 0',
    '',
  ];
  const CHALLENGE = [
    'SIP/2.0 401 Unauthorized',
    'Via: SIP/2.0/TCP 198.51.100.40:41001;branch=z9hG4bK-31337-1-0;received=198.51.100.40',
    'From: ld-001 <sip:ld-001@pbx.example.org>;tag=31337SIPpTag001',
    'To: ld-001 <sip:ld-001@pbx.example.org>;tag=b27e1a1d',
    'Call-ID: 1-31337@198.51.100.40',
    'CSeq: 1 REGISTER',
    'WWW-Authenticate: Digest realm="pbx.example.org", nonce="Z2kR1WdpEKm"',
    'Content-Length: 0',
    '',
  ];

  it('reads sent and received messages (SIPp/sipp#412 and current src/socket.cpp shapes)', () => {
    const { events, outcomes } = parse([
      '----------------------------------------------- 2026-11-24 10:00:05.101223',
      'TCP message sent (398 bytes):',
      '',
      ...REGISTER,
      '',
      '----------------------------------------------- 2026-11-24 10:00:05.109876',
      'TCP message received [452] bytes :',
      '',
      ...CHALLENGE,
      '',
    ]);
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
    expect(events.map((e) => [e.line, e.kind, e.sip?.direction, e.sip?.method, e.sip?.status])).toEqual([
      [1, 'sip-request', 'sent', 'REGISTER', undefined],
      [15, 'sip-response', 'received', 'REGISTER', 401],
    ]);
    // local time without zone: the input's zone (UTC here)
    expect(events[0].ts).toBe(Date.parse('2026-11-24T10:00:05.101Z') + 0.223);
    expect(events.every((e) => e.keys.user === 'ld-001' && e.keys.callId === '1-31337@198.51.100.40')).toBe(
      true,
    );
  });

  it('the short message log', () => {
    const { events } = parse([
      `${T('10:00:05.101223', '1795514405.101223')}\tS\t1-31337@198.51.100.40\tCSeq:1 REGISTER\tREGISTER sip:pbx.example.org SIP/2.0`,
      `${T('10:00:05.109876', '1795514405.109876')}\tR\t1-31337@198.51.100.40\tCSeq:1 REGISTER\tSIP/2.0 401 Unauthorized`,
    ]);
    expect(events.map((e) => [e.keys.callId, e.sip?.direction, e.sip?.status, e.sip?.cseq])).toEqual([
      ['1-31337@198.51.100.40', 'sent', undefined, 1],
      ['1-31337@198.51.100.40', 'received', 401, 1],
    ]);
  });
});

describe('sipp-errors detection', () => {
  it('is detected for its samples and for an error log with dumps', () => {
    expect(
      detectFormat(
        sippErrors.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('sipp-errors');
    const log = [
      'The following events occurred:',
      `${T('10:00:07.512331', '1795514407.512331')}: Aborting call on unexpected message for Call-Id '7-31337@198.51.100.40': while expecting '401' (index 1), received 'SIP/2.0 503 Service Unavailable`,
      ...answer('503', 'ld-007', '7-31337@198.51.100.40', 1, ['Retry-After: 5']),
      `${T('10:00:40.000100', '1795514440.000100')}: Call-Id: 21-31337@198.51.100.40, receive timeout on message 200:3 without label to jump to (ontimeout attribute): aborting call`,
    ];
    expect(detectFormat(log, FORMATS).format?.name).toBe('sipp-errors');
  });

  it('does not claim other formats’ samples', () => {
    for (const f of FORMATS) {
      if (f === sippErrors) continue;
      for (const s of f.samples) expect(sippErrors.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
  });

  it('never throws and leaves foreign lines unparsed', () => {
    const { outcomes } = parse(['hello', "'", '{"a":1}', '2026-11-24 10:00:00 something']);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'unparsed', 'unparsed']);
  });
});
