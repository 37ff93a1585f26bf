import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { jsonLines } from '../../src/formats/json-lines.js';
import { har } from '../../src/formats/har.js';
import { k6 } from '../../src/formats/k6.js';
import { acmeSipmsg } from '../../src/formats/acme-sipmsg.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

const ALL = FORMATS;
const OTHERS = FORMATS.filter((f) => f !== har && f !== k6 && f !== acmeSipmsg);

/** The official example (grafana.com/docs/k6/latest/results-output/real-time/json, client-formats.md §5.1). */
const DOC = [
  '{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.625742514+02:00","value":5,"tags":null},"metric":"vus"}',
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.865729,"tags":{"group":"::my group::json","method":"GET","status":"200","url":"https://httpbin.test.k6.io/get"}},"metric":"http_req_duration"}',
];

/** ws points as k6/ws pushes them (ws_sessions then ws_connecting, same time and tags), source field order. */
function wsPair(
  time: string,
  tags: Record<string, string>,
  connectingMs: number,
  metadata?: Record<string, string>,
): string[] {
  const data = (value: number) => ({ time, value, tags, ...(metadata ? { metadata } : {}) });
  return [
    JSON.stringify({ metric: 'ws_sessions', type: 'Point', data: data(1) }),
    JSON.stringify({ metric: 'ws_connecting', type: 'Point', data: data(connectingMs) }),
  ];
}

function parse(lines: readonly string[]): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = k6.createParser(utcContext(2026, 4));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

describe('k6 JSON output', () => {
  it('skips metric definitions and non-WebSocket points', () => {
    const { events, outcomes } = parse(DOC);
    expect(events).toEqual([]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
  });

  it('makes one handshake event per attempt from the ws_sessions / ws_connecting pair', () => {
    const lines = [
      ...DOC,
      ...wsPair(
        '2026-05-01T10:00:00.100000000+02:00',
        {
          url: 'wss://sbc.example.com/ws?user=agent-001',
          status: '101',
          subproto: 'sip',
          group: '',
          scenario: 'default',
        },
        85.2,
      ),
      ...wsPair(
        '2026-05-01T10:00:01.200000000+02:00',
        { url: 'wss://sbc.example.com/ws?user=agent-002', status: '504', group: '', scenario: 'default' },
        30012.5,
      ),
      ...wsPair(
        '2026-05-01T10:00:02.300000000+02:00',
        { url: 'wss://sbc.example.com/ws', group: '', scenario: 'default' },
        60000.7,
        { vu: '17', iter: '0' },
      ),
      '{"metric":"ws_msgs_sent","type":"Point","data":{"time":"2026-05-01T10:00:03+02:00","value":1,"tags":{"url":"wss://sbc.example.com/ws?user=agent-001"}}}',
    ];
    const { events, outcomes } = parse(lines);
    expect(outcomes.slice(3)).toEqual(['event', 'part', 'event', 'part', 'event', 'part', 'skip']);
    expect(events).toHaveLength(3);
    const [open, refused, timeout] = events;

    expect(open.kind).toBe('ws-handshake');
    expect(open.signal).toBe('ws-open');
    expect(open.http?.status).toBe(101);
    expect(open.http?.durationMs).toBeCloseTo(85.2);
    expect(open.ws?.subprotocol).toBe('sip');
    expect(open.keys.user).toBe('agent-001');
    expect(open.ts).toBe(Date.parse('2026-05-01T08:00:00.100Z'));
    expect(open.role).toBe('client');
    expect(open.line).toBe(4);

    expect(refused.signal).toBe('ws-handshake-failed');
    expect(refused.http?.status).toBe(504);
    expect(refused.keys.user).toBe('agent-002');

    // no status: the dial failed; ≈ 60 s: k6's hard-coded handshake timeout fired
    expect(timeout.signal).toBe('client-timeout');
    expect(timeout.kind).toBe('timeout');
    expect(timeout.timeoutMs).toBe(60_000);
    expect(timeout.http?.status).toBeUndefined();
    expect(timeout.keys.user).toBe('vu-17');
  });

  it('reads a lone ws point (the other one filtered out), and the docs field order', () => {
    const { events } = parse([
      '{"type":"Point","data":{"time":"2026-05-01T10:00:00Z","value":1,"tags":{"status":"429","url":"wss://edge.example.com/ws/agent-7"}},"metric":"ws_sessions"}',
      '{"type":"Point","data":{"time":"2026-05-01T10:00:05Z","value":120.5,"tags":{"status":"101","url":"wss://edge.example.com/ws/agent-7"}},"metric":"ws_connecting"}',
    ]);
    expect(events.map((e) => [e.signal, e.http?.status, e.keys.user])).toEqual([
      ['ws-handshake-failed', 429, 'agent-7'],
      ['ws-open', 101, 'agent-7'],
    ]);
  });

  it('a user tag beats the vu metadata', () => {
    const { events } = parse(
      wsPair('2026-05-01T10:00:00Z', { url: 'wss://sbc/ws', status: '503', user: 'ext-2001' }, 12, {
        vu: '3',
      }),
    );
    expect(events[0].keys.user).toBe('ext-2001');
  });

  it('leaves other lines unparsed, never throws', () => {
    const { outcomes } = parse(['not json', '{"level":"error","msg":"x"}', '{"type":"Point",', '[]']);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'unparsed', 'unparsed']);
  });

  it('out-scores the generic JSON format on both envelope orders', () => {
    const lines = [...DOC, ...wsPair('2026-05-01T10:00:00Z', { url: 'wss://x/ws', status: '101' }, 5)];
    for (const line of lines) {
      expect(k6.sniff(line), line).toBeGreaterThanOrEqual(0.8);
      expect(k6.sniff(line)).toBeGreaterThan(jsonLines.sniff(line));
    }
    expect(detectFormat(lines, ALL).format?.name).toBe('k6');
    expect(
      detectFormat(
        k6.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('k6');
  });

  it('does not claim other formats’ samples', () => {
    for (const f of OTHERS) {
      if (f.name === 'json') continue; // its samples are k6 points: claiming them is the point
      for (const s of f.samples) expect(k6.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
    expect(k6.sniff('{"level":"error","msg":"WebSocket closed","time":"2026-05-01T10:00:00Z"}')).toBe(0);
    expect(k6.sniff('{"type":"send","time":1705312200.123,"opcode":1,"data":"x"}')).toBe(0);
  });
});
