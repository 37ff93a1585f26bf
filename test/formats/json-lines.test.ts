import { describe, it, expect } from 'vitest';
import { jsonLines } from '../../src/formats/json-lines.js';
import { kamailio } from '../../src/formats/kamailio.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(lines: readonly string[]): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = jsonLines.createParser(utcContext(2024, 2));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

// k6 --out json, verbatim from grafana.com/docs/k6/latest/results-output/real-time/json (client-formats.md §5.1)
const K6_METRIC =
  '{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}';
const K6_POINT =
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.625742514+02:00","value":5,"tags":null},"metric":"vus"}';
const K6_HTTP =
  '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.865729,"tags":{"group":"::my group::json","method":"GET","status":"200","url":"https://httpbin.test.k6.io/get"}},"metric":"http_req_duration"}';

describe('json sniff', () => {
  it('scores objects with a time key at 0.6', () => {
    for (const sample of jsonLines.samples) expect(jsonLines.sniff(sample.line), sample.line).toBe(0.6);
    expect(jsonLines.sniff('{"msg":"connected","ts":1716950956123}')).toBe(0.6);
  });

  it('scores objects without a time key low and everything else 0', () => {
    expect(jsonLines.sniff(K6_METRIC)).toBeLessThan(0.6);
    expect(jsonLines.sniff('{"time": "broken')).toBe(0);
    expect(jsonLines.sniff('[1,2,3]')).toBe(0);
    // /work/shared/peer-corpus/lnav-syslog.log (tstack/lnav test/logfile_syslog.0)
    expect(
      jsonLines.sniff('Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed'),
    ).toBe(0);
  });

  it('leaves Kamailio JSON to kamailio', () => {
    // kamailio/kamailio issue #4203
    const line =
      '{ "time": "2025-04-04T15:51:44.448427533Z", "idx": 193, "pid": 200, "level": "DEBUG", "module": "core", "file": "core/receive.c", "line": 128, "function": "sip_check_fline", "message": "first line indicates a SIP reply" }';
    expect(jsonLines.sniff(line)).toBeLessThan(kamailio.sniff(line));
  });
});

describe('json parsing', () => {
  it('reads k6 samples: nested data.time with offset, tags.status and url', () => {
    const { events, outcomes } = parse([K6_METRIC, K6_POINT, K6_HTTP]);
    expect(outcomes).toEqual(['skip', 'event', 'event']); // a metric declaration has no time and no message
    expect(events[0].ts).toBeCloseTo(Date.UTC(2017, 4, 9, 12, 34, 45) + 625.742514, 3);
    expect(events[0].role).toBe('client');
    expect(events[0].input).toBe(2);
    expect(events[1].http).toMatchObject({
      status: 200,
      method: 'GET',
      url: 'https://httpbin.test.k6.io/get',
    });
    expect(events[1].http?.upgrade).toBeFalsy();
    expect(events[1].text).toBe('http_req_duration');
  });

  it('a k6 ws_connecting sample with a non-101 status → ws-handshake-failed', () => {
    // k6 k6/ws pushes ws_connecting with tags status/url even when the dial fails (client-formats.md §5.1)
    const e = parseOne(
      '{"metric":"ws_connecting","type":"Point","data":{"time":"2024-05-29T02:49:16.000000000Z","value":60000,"tags":{"status":"504","url":"wss://sbc.example.com/ws?user=agent-042"}}}',
    );
    expect(e).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: 504, upgrade: true },
    });
    expect(e.keys.user).toBe('agent-042');
    expect(e.ts).toBe(Date.UTC(2024, 4, 29, 2, 49, 16));
  });

  it('reads the message through the shared client-text reader, with JSON fields winning', () => {
    // logrus JSON shape of k6 process logs (client-formats.md §5.1) carrying a Browser-Phone style message
    const e = parseOne(
      '{"level":"error","msg":"WebSocket connection failed. Code: 1006 user=agent-1","source":"console","time":"2024-05-29T02:49:16Z","user":"agent-042"}',
    );
    expect(e.signal).toBe('app-ws-failed');
    expect(e.ws?.closeCode).toBe(1006);
    expect(e.keys.user).toBe('agent-042');
    expect(e.role).toBe('client'); // "source":"console" names no role
  });

  it('reads epoch ms and epoch seconds, a close code and its reason', () => {
    const e = parseOne(
      '{"ts":1716950956123,"event":"ws_close","closeCode":1006,"reason":"Connection dropped by remote peer.","vu":"vu17","url":"wss://sbc.example.com/ws"}',
    );
    expect(e.ts).toBe(1716950956123);
    expect(e).toMatchObject({ kind: 'ws-close', signal: 'ws-close' });
    expect(e.ws).toMatchObject({
      closeCode: 1006,
      closeReason: 'Connection dropped by remote peer.',
      wasClean: false,
      url: 'wss://sbc.example.com/ws',
    });
    expect(e.keys.user).toBe('vu17');
    expect(parseOne('{"t":1716950956,"msg":"connected"}').ts).toBe(1716950956000);
  });

  it('an HTTP status on a WebSocket URL is a handshake answer; the request id is kept', () => {
    const e = parseOne(
      '{"time":"2024-05-29T02:49:16.250Z","msg":"handshake","status":429,"wsUrl":"wss://sbc.example.com/ws?user=agent-007","requestId":"7f3a9c"}',
    );
    expect(e).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: 429, upgrade: true },
    });
    expect(e.keys).toMatchObject({ user: 'agent-007', requestId: '7f3a9c' });
    expect(
      parseOne(
        '{"time":"2024-05-29T02:49:16Z","msg":"upgrade","status":101,"url":"wss://sbc.example.com/ws"}',
      ).signal,
    ).toBe('ws-open');
  });

  it('reads keys one level down, a SIP status by method, and the role field', () => {
    const e = parseOne(
      '{"time":"2024-05-29T02:49:16.5Z","message":"REGISTER answered","call_id":"a84b4c76e66710","status":403,"method":"REGISTER","role":"sbc","details":{"aor":"sip:agent-9@example.com","peer":"10.0.0.5:40312"}}',
    );
    expect(e.role).toBe('sbc');
    expect(e.kind).toBe('sip-response');
    expect(e.signal).toBe('registration-failed');
    expect(e.sip).toMatchObject({ status: 403, method: 'REGISTER', direction: 'sent' });
    expect(e.keys).toMatchObject({
      callId: 'a84b4c76e66710',
      user: 'agent-9',
      peer: '10.0.0.5:40312',
      ip: '10.0.0.5',
    });
    expect(parseOne('{"time":"2024-05-29T02:49:16Z","msg":"x","component":"haproxy"}').role).toBe('lb');
  });

  it('opens a JSON-encoded message (Genesys telemetry trace shape, client-formats.md §2.2)', () => {
    const e = parseOne(
      '{"topic":"webrtc-sdk","level":"INFO","message":"{\\"clientTime\\":\\"2024-05-29T02:49:17.000Z\\",\\"clientId\\":\\"c1\\",\\"message\\":\\"streaming-client reconnecting in 5000 ms\\",\\"details\\":{\\"user\\":\\"agent-3\\"}}"}',
    );
    expect(e.ts).toBe(Date.UTC(2024, 4, 29, 2, 49, 17));
    expect(e).toMatchObject({
      signal: 'reconnect',
      retryDelayMs: 5000,
      text: 'streaming-client reconnecting in 5000 ms',
    });
    expect(e.keys.user).toBe('agent-3');
  });

  it('takes the message of an error object and marks error levels', () => {
    const e = parseOne(
      '{"@timestamp":"2024-05-29T02:49:18Z","level":"error","error":{"message":"socket hang up","code":"ECONNRESET"}}',
    );
    expect(e.signal).toBe('conn-reset');
    const plain = parseOne('{"@timestamp":"2024-05-29T02:49:18Z","level":"error","msg":"something odd"}');
    expect(plain.kind).toBe('error');
  });

  it('never crashes on malformed input and accounts for every line', () => {
    const { events, outcomes } = parse([
      '{"time": "broken',
      '[1,2,3]',
      'plain text',
      '',
      '{}',
      'null',
      '{"msg":',
    ]);
    expect(events).toHaveLength(0);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'unparsed', 'skip', 'skip', 'unparsed', 'unparsed']);
  });

  it('keeps records with a message but no time, with ts NaN', () => {
    const e = parseOne('{"msg":"WebSocket closed wss://sbc.example.com/ws (code: 1006)"}');
    expect(e.ts).toBeNaN();
    expect(e.ws?.closeCode).toBe(1006);
  });
});

describe('json: a pino error object', () => {
  it('reads ERR_INVALID_CHAR from err.code as a malformed header', async () => {
    const { jsonLines } = await import('../../src/formats/json-lines.js');
    const { parseLines } = await import('./run-parser.js');
    const { events } = parseLines(jsonLines, [
      '{"level":50,"time":1795528990123,"user":"1021","err":{"type":"TypeError","code":"ERR_INVALID_CHAR","message":"Invalid character in header content [\\"X-Loadtest-Run\\"]"},"msg":"ua start failed"}',
    ]);
    expect(events[0]).toMatchObject({ signal: 'bad-header', keys: { user: '1021' } });
  });
});
