/**
 * Google Cloud external Application Load Balancer request logs (lb-formats.md §6, §11, §12). The
 * reference gives the LogEntry fields, the statusDetails values with their codes and a field
 * sample (`timestamp` "2021-09-10T22:28:32.701888Z", `latency` "0.025376s", `json_payload` with
 * `@type` LoadBalancerLogEntry and `statusDetails` "response_sent_by_backend") from
 * cloud.google.com/load-balancing/docs/https/https-logging-monitoring, not whole exported lines:
 * the lines here put those fields in the documented layout (src/formats/gcp-lb.ts samples), and
 * vary status, statusDetails and URL as each case needs.
 */
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { detectFormat } from '../../src/formats/detect.js';
import { gcpLb } from '../../src/formats/gcp-lb.js';
import { FORMATS } from '../../src/formats/index.js';
import { oneEvent, parseLines } from './run-parser.js';

const parse = (lines: readonly string[]) => parseLines(gcpLb, lines);

const one = (line: string): LogEvent => oneEvent(gcpLb, line);

const [BACKEND_200, WS_BACKEND_TIMEOUT, ARMOR_THROTTLE] = gcpLb.samples.map((s) => s.line);
const START = Date.UTC(2021, 8, 10, 22, 28, 32, 701) + 0.888;

/** An entry in the documented layout with the given request fields and statusDetails. */
function entry(hr: Record<string, unknown>, details?: string, extra: Record<string, unknown> = {}): string {
  const payload: Record<string, unknown> = {
    '@type': 'type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry',
  };
  if (details) payload.statusDetails = details;
  return JSON.stringify({
    httpRequest: {
      requestMethod: 'GET',
      requestUrl: 'https://sip.example.com/ws?user=agent-042',
      remoteIp: '198.51.100.23',
      serverIp: '10.128.0.9',
      latency: '0.012000s',
      ...hr,
    },
    insertId: 'x1y2z3',
    jsonPayload: { ...payload, ...((extra.jsonPayload as object) ?? {}) },
    resource: { type: 'http_load_balancer', labels: { backend_service_name: 'sbc-ws' } },
    timestamp: '2026-11-24T10:00:00.250000Z',
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'jsonPayload')),
  });
}
const T = Date.UTC(2026, 10, 24, 10, 0, 0, 250);

describe('gcp-lb: fields', () => {
  it('timestamp is the start, latency the duration: ts = start + latency; the backend answered', () => {
    const e = one(BACKEND_200);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.signal).toBeUndefined();
    expect(e.ts).toBeCloseTo(START + 25.376, 3);
    expect(e.http?.startTs).toBeCloseTo(START, 3);
    expect(e.http).toMatchObject({
      status: 200,
      upstreamStatus: 200,
      upstream: '10.128.0.5',
      durationMs: 25,
      method: 'GET',
      url: 'https://www.example.com/',
      userAgent: 'curl/7.68.0',
      flags: 'response_sent_by_backend',
      upgrade: false,
    });
    expect(e.keys).toEqual({ ip: '203.0.113.7', requestId: '1b2w3x4y5z' });
  });

  it('takes the trace id as the request id, and the user from the URL', () => {
    const e = one(
      entry({ status: 101, requestUrl: 'https://sip.example.com/ws/agent-7' }, 'websocket_closed', {
        trace: 'projects/my-project/traces/06796866738c859f2f19b7cfb3214824',
      }),
    );
    expect(e.keys).toEqual({
      ip: '198.51.100.23',
      requestId: '06796866738c859f2f19b7cfb3214824',
      user: 'agent-7',
    });
  });

  it('reads protobuf {seconds, nanos} times and durations', () => {
    const line = entry({ status: 101, latency: { seconds: 61, nanos: 500000000 } }, 'websocket_closed', {
      timestamp: { seconds: 1795514400, nanos: 0 },
    });
    const e = one(line);
    expect(e.http?.startTs).toBe(1_795_514_400_000);
    expect(e.http?.durationMs).toBe(61_500);
    expect(e.ts).toBe(1_795_514_461_500);
  });

  it('reads snake_case keys (the field sample’s json_payload)', () => {
    const e = one(ARMOR_THROTTLE);
    expect(e.http).toMatchObject({ status: 429, upstreamStatus: null, durationMs: 1 });
    expect(e.http?.flags).toBe('throttled_by_security_policy armor=rl-policy/THROTTLE/DENY');
    expect(e.signal).toBe('edge-rate-limit');
  });
});

describe('gcp-lb: statusDetails on a WebSocket (101)', () => {
  it('backend_timeout: the GFE closed the tunnel at the backend service timeout → idle-close', () => {
    const e = one(WS_BACKEND_TIMEOUT);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('idle-close');
    expect(e.http).toMatchObject({ status: 101, upstreamStatus: 101, durationMs: 30_001, upgrade: true });
    expect(e.http?.flags).toBe('backend_timeout');
  });

  it('websocket_closed → ws-open (the handshake succeeded, the tunnel ended)', () => {
    const e = one(entry({ status: 101, latency: '842.118s' }, 'websocket_closed'));
    expect(e.signal).toBe('ws-open');
    expect(e.http).toMatchObject({ durationMs: 842_118, startTs: T });
    expect(e.ts).toBe(T + 842_118);
    expect(e.keys.user).toBe('agent-042');
  });

  it.each([
    ['client_disconnected_after_partial_response', 'ws-close'],
    ['client_disconnected_before_any_response', 'ws-close'],
    ['backend_connection_closed_after_partial_response_sent', 'conn-reset'],
    ['client_timed_out', 'idle-close'],
  ])('%s → %s', (details, signal) => {
    expect(one(entry({ status: 101 }, details)).signal).toBe(signal);
  });
});

describe('gcp-lb: who refused a handshake', () => {
  it('Cloud Armor: denied_by_security_policy (403) and banned_by_security_policy (429) → edge-rate-limit', () => {
    for (const [status, details] of [
      [403, 'denied_by_security_policy'],
      [429, 'banned_by_security_policy'],
    ] as const) {
      const e = one(entry({ status, latency: '0.000400s' }, details));
      expect(e.signal).toBe('edge-rate-limit');
      expect(e.http?.upstreamStatus).toBeNull();
    }
  });

  it('an enforced policy with outcome DENY and no statusDetails → edge-rate-limit', () => {
    const e = one(
      entry({ status: 403 }, undefined, {
        jsonPayload: {
          enforcedSecurityPolicy: { name: 'waf', priority: 1000, configuredAction: 'DENY', outcome: 'DENY' },
        },
      }),
    );
    expect(e.signal).toBe('edge-rate-limit');
    // an ACCEPT outcome is no refusal
    const ok = one(
      entry({ status: 101 }, 'websocket_closed', {
        jsonPayload: {
          enforcedSecurityPolicy: { name: 'waf', configuredAction: 'ALLOW', outcome: 'ACCEPT' },
        },
      }),
    );
    expect(ok.signal).toBe('ws-open');
  });

  it('the SBC refused the upgrade (response_sent_by_backend 503) → ws-handshake-failed from the upstream', () => {
    const e = one(entry({ status: 503 }, 'response_sent_by_backend'));
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.upstreamStatus).toBe(503);
  });

  it('malformed client headers and a refused Upgrade header → bad-header', () => {
    expect(one(entry({ status: 400 }, 'invalid_request_headers')).signal).toBe('bad-header');
    expect(one(entry({ status: 400 }, 'upgrade_header_rejected')).signal).toBe('bad-header');
    expect(one(entry({ status: 413 }, 'headers_too_long')).http?.upstreamStatus).toBeNull();
  });

  it('backend_timeout before any answer (502/503) → upstream-timeout', () => {
    const e = one(entry({ status: 502, latency: '30.000512s' }, 'backend_timeout'));
    expect(e.signal).toBe('upstream-timeout');
    expect(e.http?.durationMs).toBe(30_001);
  });

  it('status 0 (left out) and client_disconnected_before_any_response → client-timeout', () => {
    const e = one(entry({ latency: '5.001s' }, 'client_disconnected_before_any_response'));
    expect(e.http?.status).toBe(0);
    expect(e.signal).toBe('client-timeout');
  });

  it('backend unreachable: failed_to_connect_to_backend → conn-reset; failed_to_pick_backend stays a failed handshake', () => {
    expect(one(entry({ status: 503 }, 'failed_to_connect_to_backend')).signal).toBe('conn-reset');
    const e = one(entry({ status: 503 }, 'failed_to_pick_backend'));
    expect(e.signal).toBe('ws-handshake-failed');
    // not an edge limit: the upstream status is unknown, not "the edge answered"
    expect(e.http?.upstreamStatus).toBeUndefined();
  });

  it('websocket_handshake_failed → ws-handshake-failed', () => {
    expect(one(entry({ status: 400 }, 'websocket_handshake_failed')).signal).toBe('ws-handshake-failed');
  });

  it('reads a regional LB’s proxyStatus details when statusDetails is absent', () => {
    const e = one(
      entry({ latency: '2.5s' }, undefined, {
        jsonPayload: {
          proxyStatus: 'error="connection_terminated"; details="client_disconnected_before_any_response"',
        },
      }),
    );
    expect(e.http?.flags).toBe('client_disconnected_before_any_response');
    expect(e.signal).toBe('client-timeout');
  });
});

describe('gcp-lb: lines and detection', () => {
  it('reads a pretty-printed entry and an exported array frame', () => {
    const pretty = JSON.stringify(JSON.parse(WS_BACKEND_TIMEOUT), null, 2).split('\n');
    const { events, outcomes } = parse(['[', ...pretty.slice(0, -1), '},', BACKEND_200, ']']);
    expect(events).toHaveLength(2);
    expect(events[0].line).toBe(2);
    expect(events[0].signal).toBe('idle-close');
    expect(outcomes[0]).toBe('skip');
    expect(outcomes[1]).toBe('part');
    expect(outcomes[pretty.length]).toBe('event');
    expect(outcomes[pretty.length + 1]).toBe('event');
    expect(outcomes[pretty.length + 2]).toBe('skip');
  });

  it('skips other Cloud Logging entries and leaves foreign lines unparsed', () => {
    const { outcomes } = parse([
      '{"insertId":"abc","logName":"projects/p/logs/stdout","textPayload":"hello","timestamp":"2026-11-24T10:00:00Z"}',
      'hello',
      '{"httpRequest":',
    ]);
    expect(outcomes).toEqual(['skip', 'unparsed', 'unparsed']);
  });

  it('is detected as gcp-lb, not as generic JSON lines', () => {
    const lines = [BACKEND_200, WS_BACKEND_TIMEOUT, entry({ status: 101 }, 'websocket_closed')];
    expect(detectFormat(lines, FORMATS).format?.name).toBe('gcp-lb');
    expect(gcpLb.sniff('{"level":"error","msg":"WebSocket connection failed. Code: 1006"}')).toBe(0);
    expect(
      gcpLb.sniff('192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET / HTTP/1.0" 200 1 "-" "-"'),
    ).toBe(0);
  });
});
