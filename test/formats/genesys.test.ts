import { describe, it, expect } from 'vitest';
import { genesys } from '../../src/formats/genesys.js';
import { browserConsole } from '../../src/formats/browser-console.js';
import { chromeLog } from '../../src/formats/chrome-log.js';
import { harness } from '../../src/formats/harness.js';
import { jsonLines } from '../../src/formats/json-lines.js';
import { jssip } from '../../src/formats/jssip.js';
import { k6 } from '../../src/formats/k6.js';
import { sipjs } from '../../src/formats/sipjs.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(
  lines: readonly string[],
  path = 'genesys/console.log',
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = genesys.createParser(utcContext(2026, 5, path));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  events.sort((a, b) => a.line - b.line);
  return { events, outcomes };
}

function parseOne(line: string, path?: string): LogEvent {
  const { events } = parse([line], path);
  expect(events).toHaveLength(1);
  return events[0];
}

/** A trace as genesys-cloud-client-logger uploads it (client-formats.md §2.2). */
function trace(topic: string, level: string, log: Record<string, unknown>): string {
  return JSON.stringify({ topic, level, message: JSON.stringify(log) });
}

const CLIENT = '9d3c1f52-7b8e-4a06-b0c4-2e5f8a1d6c37';
const CHANNEL = 'streaming-7c1e2b4a-0d5f-4b7e-9a51-6f0c3e2d1a90';
const STANZA = '0b6f0a4e-3d2c-4f8e-a1b7-5c9d2e8f7a61';

describe('genesys sniff', () => {
  it('scores every sample high, above every other client format', () => {
    expect(genesys.samples.length).toBeGreaterThanOrEqual(6);
    for (const sample of genesys.samples) {
      expect(sample.source).not.toBe('');
      const score = genesys.sniff(sample.line);
      expect(score, sample.line).toBeGreaterThanOrEqual(0.9);
      for (const other of [browserConsole, jssip, sipjs, chromeLog, jsonLines, k6, harness])
        expect(score, `${other.name}: ${sample.line}`).toBeGreaterThan(other.sniff(sample.line));
    }
  });

  it('finds the logger prefix after a console frame (timestamp, DevTools source, harness tag)', () => {
    const lines = [
      '2026-11-24T10:00:01.123Z [agent-031] [webrtc-sdk] GenesysCloud streaming client ready for use',
      "genesys-cloud-webrtc-sdk.bundle.js:2 [streaming-client] Missed a ping. {channelId: 'x'}",
      '10:00:01.123 bundle.js:2 [streaming-client] stanza disconnected',
    ];
    for (const line of lines) expect(genesys.sniff(line), line).toBeGreaterThanOrEqual(0.9);
  });

  it("leaves Chrome's log lines, generic JSON and the platform SDK logger to their formats", () => {
    const notOurs = [
      '[4242:4242:1124/100002.118000:INFO:CONSOLE(2)] "[webrtc-sdk] GenesysCloud streaming client connected", source: https://a/b.js (2)',
      // json-lines samples: k6 process log, Genesys *platform* JS SDK logger (client-formats.md §2.6)
      '{"level":"error","msg":"WebSocket connection failed. Code: 1006","source":"console","time":"2026-11-24T10:00:03Z"}',
      '{"level":"error","date":"2026-11-24T10:00:03.120Z","method":"POST","url":"https://api.mypurecloud.com/api/v2/notifications/channels","correlationId":"8f0c2a51-6f4e-4a55-9b1e-3d3b8a1c2f10","statusCode":429}',
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      '[2024-01-31 12:00:00,123] loadgen-1/INFO/locust.runners: [agent-042] registered, 12 users running',
    ];
    for (const line of notOurs) expect(genesys.sniff(line), line).toBe(0);
  });

  it('makes detection pick genesys for traces and leave other JSON lines to json', () => {
    const traces = [
      trace('webrtc-sdk', 'INFO', {
        clientTime: '2026-11-24T10:00:00.100Z',
        clientId: CLIENT,
        message: '[webrtc-sdk] GenesysCloud streaming client connected',
        details: { reconnect: false },
      }),
      trace('streaming-client', 'ERROR', {
        clientTime: '2026-11-24T10:00:04.512Z',
        clientId: CLIENT,
        message: '[streaming-client] stanza disconnected',
        details: { stanzaInstanceId: STANZA, channelId: CHANNEL },
      }),
    ];
    expect(detectFormat(traces, FORMATS).format?.name).toBe('genesys');
    expect(
      detectFormat(
        jsonLines.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('json');
  });
});

describe('genesys console lines', () => {
  it('reads the connection life cycle of §2.4 with its identifiers as keys', () => {
    const { events } = parse(
      [
        `2026-11-24T10:00:00.100Z [streaming-client] attempting to connect streaming client on channel {channelId: '${CHANNEL}'}`,
        `2026-11-24T10:00:00.900Z [streaming-client] new stanza instance connected {stanzaInstanceId: '${STANZA}', channelId: '${CHANNEL}'}`,
        '2026-11-24T10:00:01.000Z [webrtc-sdk] GenesysCloud streaming client connected {reconnect: false}',
        '2026-11-24T10:00:01.010Z [webrtc-sdk] GenesysCloud streaming client ready for use',
      ],
      'genesys/agent-031.console.log',
    );
    expect(events.map((e) => e.signal)).toEqual(['ws-connecting', 'ws-open', 'registered', 'registered']);
    expect(events[0]).toMatchObject({
      ts: Date.UTC(2026, 10, 24, 10, 0, 0, 100),
      role: 'client',
      kind: 'ws-handshake',
      keys: { requestId: CHANNEL, user: 'agent-031' },
    });
    expect(events[1].keys).toMatchObject({ connId: STANZA, requestId: CHANNEL, user: 'agent-031' });
    expect(events.every((e) => e.keys.user === 'agent-031')).toBe(true);
  });

  it('reads conversationId / sid into callId', () => {
    const e = parseOne(
      "[webrtc-sdk] received webrtc session {sessionId: 'a1b2c3', conversationId: '5e7f9a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b', sessionType: 'softphone'}",
    );
    expect(e.keys.callId).toBe('5e7f9a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b');
    expect(
      parseOne(
        "[webrtc-sdk] connection state change {state: 'connected', sid: 'jingle-77', sessionType: 'softphone'}",
      ).keys.callId,
    ).toBe('jingle-77');
  });

  it('tells an unexpected disconnect from one the app asked for', () => {
    const { events } = parse([
      `[streaming-client] stanzaDisconnected event received {stanzaInstanceId: '${STANZA}', channelId: '${CHANNEL}'}`,
      '[webrtc-sdk] Streaming API connection disconnected {reconnecting: true}',
      '[streaming-client] streamingClient.disconnect was called',
      `[streaming-client] stanzaDisconnected event received {stanzaInstanceId: '${STANZA}', channelId: '${CHANNEL}'}`,
      '[webrtc-sdk] Streaming API connection disconnected {reconnecting: false}',
    ]);
    const closes = events.filter((e) => e.signal === 'ws-close');
    expect(closes.map((e) => e.ws?.wasClean)).toEqual([false, false, true, true]);
    expect(closes[2].ws?.closeCode).toBe(1000);
  });

  it('reads a REST 429 on channel creation as the edge rate limit, with the retry delay', () => {
    const e = parseOne(
      "[streaming-client] Failed streaming client connection attempt, respecting retry-after header and will retry afterwards. {connectionAttempt: 2, error: {config: {url: 'https://api.mypurecloud.com/api/v2/notifications/channels?connectionType=streaming', method: 'post'}, status: 429, code: 'ERR_BAD_REQUEST', name: 'AxiosError', message: 'Request failed with status code 429'}, retryDelay: 30000}",
    );
    expect(e).toMatchObject({
      kind: 'rate-limit',
      signal: 'edge-rate-limit',
      http: { status: 429 },
      retryDelayMs: 30000,
    });
  });

  it('reads the failure an attempt names: 401/403, a 504, a timeout, a SASL error', () => {
    const attempt = (error: string) =>
      parseOne(
        `[streaming-client] Failed streaming client connection attempt, retrying {connectionAttempt: 1, error: ${error}}`,
      );
    expect(attempt("{status: 504, name: 'AxiosError'}").signal).toBe('upstream-timeout');
    expect(attempt("{status: 401, name: 'AxiosError'}").signal).toBe('auth-failed');
    expect(attempt("'Timeout: connecting to streaming service'")).toMatchObject({
      signal: 'client-timeout',
      timeoutMs: 15000,
    });
    expect(attempt("{name: 'SaslError', condition: 'not-authorized'}").signal).toBe('auth-failed');
    expect(attempt("{name: 'OfflineError'}").signal).toBe('reconnect');
  });

  it('reads the unrecoverable and the final failures', () => {
    expect(
      parseOne(
        "[streaming-client] Streaming client received an error that it can't recover from and will not attempt to reconnect {connectionAttempt: 1, error: {status: 401}}",
      ),
    ).toMatchObject({ kind: 'auth', signal: 'auth-failed', http: { status: 401 } });
    expect(
      parseOne("[webrtc-sdk] sdkError {name: 'Error', message: 'token expired', type: 'invalid_token'}")
        .signal,
    ).toBe('auth-failed');
    expect(parseOne('[streaming-client] Failed to connect streaming client {error: {}}').signal).toBe(
      'app-ws-failed',
    );
    expect(parseOne('[streaming-client] Timeout: connecting to streaming service').signal).toBe(
      'client-timeout',
    );
  });

  it('tolerates one missed ping; too many is a dead (idle-cut) connection', () => {
    const one = parseOne(
      "[streaming-client] Missed a ping. {error: 'Timeout', channelId: 'c', jid: '5f1a2b3c4d5e6f7a8b9c0d1e@acme.orgspan.com', stanzaInstanceId: 's'}",
    );
    expect(one.signal).toBeUndefined();
    expect(one.kind).toBe('timeout');
    expect(
      parseOne('[streaming-client] Missed too many pings, disconnecting {numberOfFailedPings: 2}').signal,
    ).toBe('idle-close');
  });

  it('reads REST request errors and responses with their status and correlationId', () => {
    const err = parseOne(
      "[streaming-client] request error: https://api.mypurecloud.com/api/v2/notifications/channels?connectionType=streaming {message: 'Request failed with status code 429', now: 1795514400000, elapsed: '41ms', status: 429, correlationId: 'c0ffee00-1111-4222-8333-944445555666'}",
    );
    expect(err).toMatchObject({ signal: 'edge-rate-limit', http: { status: 429 } });
    expect(err.keys.requestId).toBe('c0ffee00-1111-4222-8333-944445555666');
    const ok = parseOne(
      "[streaming-client] response: POST https://api.mypurecloud.com/api/v2/notifications/channels?connectionType=streaming {now: 1795514400000, status: 200, elapsed: '80ms', correlationId: 'abc'}",
    );
    expect(ok).toMatchObject({ kind: 'http-request', http: { status: 200, method: 'POST' } });
    expect(ok.signal).toBeUndefined();
    // a 404 on some other API is no connection failure
    const other = parseOne(
      '[webrtc-sdk] request error: https://api.mypurecloud.com/api/v2/users/me/station {status: 404}',
    );
    expect(other.signal).toBeUndefined();
  });

  it('treats a well-formed custom header (X-Genesys-KeepAlive) as harmless, not as keep-alive traffic', () => {
    const e = parseOne(
      "2026-11-24T10:00:00.050Z [agent-033] softphone: starting WebRTC SDK {environment: 'mypurecloud.com', customHeaders: {'X-Genesys-KeepAlive': 'true'}}",
    );
    expect(e.signal).toBe('unknown-header');
    const sdk = parseOne("[webrtc-sdk] initializing sdk {customHeaders: {'X-Genesys-KeepAlive': 'true'}}");
    expect(sdk.signal).toBe('unknown-header');
    // a header Node refused to send is the client's fault (client-formats.md §3.3)
    const bad = parseOne(
      '[webrtc-sdk] TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
    );
    expect(bad.signal).toBe('bad-header');
  });

  it("reads Chrome's own WebSocket errors in the same console", () => {
    const e = parseOne(
      "2026-11-24T10:00:02.000Z WebSocket connection to 'wss://streaming.mypurecloud.com/stream/channels/streaming-1' failed: Error during WebSocket handshake: Unexpected response code: 503",
    );
    expect(e).toMatchObject({ signal: 'ws-handshake-failed', http: { status: 503 } });
  });

  it('takes the user from a field or a harness tag, and the jid only as a last resort', () => {
    expect(parseOne("[webrtc-sdk] softphone ready {userId: 'agent-040'}").keys.user).toBe('agent-040');
    expect(
      parseOne('2026-11-24T10:00:00Z [agent-041] [webrtc-sdk] GenesysCloud streaming client connected').keys
        .user,
    ).toBe('agent-041');
    const { events } = parse([
      "[streaming-client] Missed a ping. {error: 'Timeout', channelId: 'ch-1', jid: '5f1a2b3c4d5e6f7a8b9c0d1e@acme.orgspan.com', stanzaInstanceId: 's-1'}",
      "[streaming-client] stanzaDisconnected event received {stanzaInstanceId: 's-1', channelId: 'ch-1'}",
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['5f1a2b3c4d5e6f7a8b9c0d1e', '5f1a2b3c4d5e6f7a8b9c0d1e']);
    // a file named after one agent wins over the jid
    const named = parseOne(
      "[streaming-client] Missed a ping. {jid: '5f1a2b3c4d5e6f7a8b9c0d1e@acme.orgspan.com'}",
      'logs/agent-037/console.log',
    );
    expect(named.keys.user).toBe('agent-037');
  });

  it('reads a details object that util.inspect broke over several lines', () => {
    const { events, outcomes } = parse([
      '[2026-11-24 10:01:20.122] [error] [streaming-client] Failed streaming client connection attempt, retrying {',
      '  connectionAttempt: 1,',
      "  error: 'Timeout: connecting to streaming service',",
      `  details: { channelId: '${CHANNEL}', stanzaInstanceId: '${STANZA}' }`,
      '}',
      '[2026-11-24 10:01:22.130] [info] [streaming-client] attempting to connect streaming client on channel',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part', 'part', 'part', 'event']);
    expect(events[0]).toMatchObject({
      ts: Date.UTC(2026, 10, 24, 10, 1, 20, 122),
      signal: 'client-timeout',
      keys: { connId: STANZA, requestId: CHANNEL },
    });
    expect(events[1].signal).toBe('ws-connecting');
  });

  it('reads stack frames after an error as part of it', () => {
    const { outcomes } = parse([
      "[webrtc-sdk] sdkError {name: 'Error', message: 'boom', type: 'generic'}",
      '    at t.handleError (genesys-cloud-webrtc-sdk.bundle.js:2:41234)',
    ]);
    expect(outcomes).toEqual(['event', 'part']);
  });
});

describe('genesys JSON traces', () => {
  it('reads a trace {topic, level, message: JSON} with clientTime and clientId', () => {
    const e = parseOne(genesys.samples[4].line);
    expect(e).toMatchObject({
      ts: Date.UTC(2026, 10, 24, 10, 0, 4, 512),
      signal: 'edge-rate-limit',
      http: { status: 429 },
      keys: { requestId: '9d3c1f52-7b8e-4a06-b0c4-2e5f8a1d6c37' },
      text: '[streaming-client] Failed streaming client connection attempt, retrying',
    });
  });

  it('reads the inner log message alone', () => {
    const e = parseOne(genesys.samples[5].line);
    expect(e).toMatchObject({ signal: 'ws-close', ws: { wasClean: false } });
  });

  it('reads a whole upload body: one event per trace', () => {
    const body = JSON.stringify({
      app: { appId: 'streaming-client', appVersion: '19.8.1' },
      traces: [
        JSON.parse(
          trace('streaming-client', 'INFO', {
            clientTime: '2026-11-24T10:00:00.900Z',
            clientId: CLIENT,
            message: '[streaming-client] new stanza instance connected',
            details: { stanzaInstanceId: STANZA, channelId: CHANNEL },
          }),
        ),
        JSON.parse(
          trace('streaming-client', 'WARN', {
            clientTime: '2026-11-24T10:00:30.900Z',
            clientId: CLIENT,
            message: '[streaming-client] Missed a ping.',
            details: { channelId: CHANNEL, stanzaInstanceId: STANZA },
          }),
        ),
      ],
    });
    const { events, outcomes } = parse([body]);
    expect(outcomes).toEqual(['event']);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ signal: 'ws-open', keys: { connId: STANZA, requestId: CLIENT } });
    expect(events[1].kind).toBe('timeout');
  });

  it('names the agent of every trace of a client once one trace named it', () => {
    const { events } = parse([
      trace('webrtc-sdk', 'INFO', {
        clientTime: '2026-11-24T10:00:00.000Z',
        clientId: CLIENT,
        message: '[webrtc-sdk] softphone ready',
        details: { userId: 'agent-035' },
      }),
      trace('webrtc-sdk', 'ERROR', {
        clientTime: '2026-11-24T10:05:00.000Z',
        clientId: CLIENT,
        message: '[webrtc-sdk] Streaming API connection disconnected',
        details: { reconnecting: true },
      }),
      trace('webrtc-sdk', 'ERROR', {
        clientTime: '2026-11-24T10:05:00.000Z',
        clientId: 'another-client',
        message: '[webrtc-sdk] Streaming API connection disconnected',
        details: { reconnecting: true },
      }),
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-035', 'agent-035', undefined]);
  });

  it('leaves JSON that is not a trace unparsed and never throws', () => {
    const { outcomes } = parse(['{"level":"info","msg":"hello"}', '{not json', '{"traces":[null,1,"x"]}']);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'skip']);
  });
});
