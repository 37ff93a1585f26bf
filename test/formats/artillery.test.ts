import { describe, expect, it } from 'vitest';
import { artillery, readCounter } from '../../src/formats/artillery.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { parseLines } from './run-parser.js';

const parse = (lines: readonly string[]) => parseLines(artillery, lines);

describe('artillery counters', () => {
  it('reads the v2 counter lines of the reference (client-formats.md §5.2)', () => {
    expect(readCounter('errors.Unexpected server response: 504: ....... 140')).toEqual({
      name: 'errors.Unexpected server response: 504',
      value: 140,
    });
    expect(readCounter('errors.ECONNRESET: ........ 10')).toEqual({ name: 'errors.ECONNRESET', value: 10 });
    expect(readCounter('websocket.send_rate: ............ 1629/sec')).toEqual({
      name: 'websocket.send_rate',
      value: 1629,
    });
    expect(readCounter('  median: .............................................. 5')).toEqual({
      name: 'median',
      value: 5,
    });
    expect(readCounter('errors.x: ...... lots')).toBeUndefined();
  });

  it('without a dated period, counters are read and skipped (no time, no event)', () => {
    const { events, outcomes } = parse(artillery.samples.map((s) => s.line));
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
  });
});

describe('artillery v1 report (dated)', () => {
  // v1 shape: `Started phase … @ HH:MM:SS(+zzzz) YYYY-MM-DD`, `Report @ …`, indented `Errors:` section
  // (client-formats.md §5.2, artilleryio/artillery#1170 / #823)
  const V1 = [
    'Started phase 0, duration: 60s @ 11:00:00(+0100) 2026-11-24',
    'Report @ 11:00:10(+0100) 2026-11-24',
    'Elapsed time: 10 seconds',
    '  Scenarios launched:  100',
    '  Scenarios completed: 60',
    '  Requests completed:  60',
    '  Mean response/sec: 10.03',
    '  Response time (msec):',
    '    min: 0.1',
    '    max: 0.5',
    '  Codes:',
    '    0: 60',
    '  Errors:',
    '    Unexpected server response: 503: 28',
    '    ECONNRESET: 1',
    '    ETIMEDOUT: 11',
    '',
    'Report @ 11:00:20(+0100) 2026-11-24',
    'Elapsed time: 20 seconds',
    '  Scenarios launched:  100',
    '  Errors:',
    '    response timeout: 4',
    '',
    'All virtual users finished',
    'Summary report @ 11:01:05(+0100) 2026-11-24',
    '  Scenarios launched:  600',
    '  Errors:',
    '    Unexpected server response: 503: 28',
  ];

  it('makes one run-level event per error counter of a period, none from the summary', () => {
    const { events, outcomes } = parse(V1);
    expect(outcomes.filter((o) => o === 'unparsed')).toEqual([]);
    expect(events.map((e) => [e.line, e.kind, e.signal, e.http?.status])).toEqual([
      [14, 'ws-handshake', 'ws-handshake-failed', 503],
      [15, 'error', 'conn-reset', undefined],
      [16, 'ws-handshake', 'ws-handshake-failed', undefined],
      [22, 'timeout', 'client-timeout', undefined],
    ]);
    // the period's start, in the report's zone; no session key
    expect(events[0].ts).toBe(Date.parse('2026-11-24T10:00:00Z'));
    expect(events[3].ts).toBe(Date.parse('2026-11-24T10:00:10Z'));
    expect(events.every((e) => e.role === 'client' && Object.keys(e.keys).length === 0)).toBe(true);
    expect(events[0].text).toContain('28 ×');
    expect(events[0].http?.durationMs).toBe(10_000);
  });
});

describe('artillery v2 report', () => {
  const V2 = [
    'Test run id: t4hme_mfprgcg3x66ndbjypjpnm8nxny9wz_jfd3',
    'Phase started: ramp (index: 0, duration: 60s) 10:00:00(+0000)',
    '',
    '--------------------------------------',
    'Metrics for period to: 10:00:10(+0000) (width: 9.804s)',
    '--------------------------------------',
    '',
    'errors.Unexpected server response: 504: ....... 140',
    'vusers.created: ................................ 200',
    'vusers.failed: ................................. 140',
    'websocket.messages_sent: ....................... 60',
    'vusers.session_length:',
    '  min: ......................................................................... 10023.4',
    '  max: ......................................................................... 10088.1',
    '',
    'All VUs finished. Total time: 1 minute, 2 seconds',
  ];

  it('reads the v2 blocks; undated periods give no events', () => {
    const { events, outcomes } = parse(V2);
    expect(outcomes.filter((o) => o === 'unparsed')).toEqual([]);
    expect(events).toEqual([]);
  });

  it('a v2 period after a dated line is dated (and its error counters become events)', () => {
    const { events } = parse(['Started phase 0, duration: 60s @ 10:00:00(+0000) 2026-11-24', ...V2.slice(2)]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      signal: 'ws-handshake-failed',
      http: { status: 504 },
      keys: {},
    });
    expect(events[0].ts).toBe(Date.parse('2026-11-24T10:00:10Z') - 9804);
  });

  it('is detected for a v2 console report and for its samples', () => {
    expect(detectFormat(V2, FORMATS).format?.name).toBe('artillery');
    expect(
      detectFormat(
        artillery.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('artillery');
  });

  it('does not claim other formats’ samples', () => {
    for (const f of FORMATS) {
      if (f === artillery) continue;
      for (const s of f.samples) expect(artillery.sniff(s.line), `${f.name}: ${s.line}`).toBeLessThan(0.5);
    }
  });
});
