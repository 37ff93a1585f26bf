/**
 * Envoy text access log (lb-formats.md §5). Lines: the default-format example of Envoy's
 * usage.rst, renuka-fernando/examples envoy/simple/README.md (default + response code details),
 * an Istio-format local rate limit line. Lines marked "derived" change named fields of a cited
 * line to reach a case no public line shows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { detectFormat } from '../../src/formats/detect.js';
import { envoy } from '../../src/formats/envoy.js';
import { FORMATS } from '../../src/formats/index.js';
import { oneEvent, parseLines } from './run-parser.js';

const CORPUS = '/work/shared/peer-corpus';
const ALL = FORMATS;

const parse = (lines: readonly string[]) => parseLines(envoy, lines);

const one = (line: string): LogEvent => oneEvent(envoy, line);

// envoyproxy/envoy usage.rst default format example (wrapped in the doc; joined)
const DEFAULT =
  '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
// renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)
const UT =
  '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"';
const UH =
  '[2024-07-20T07:06:24.729Z] "GET /no-healthy-upstream HTTP/1.1" 503 UH no_healthy_upstream 0 19 0 - "-" "curl/8.4.0" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "-"';
const UF =
  '[2024-07-20T07:09:48.470Z] "GET /upstream-connection-failure HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} 0 145 0 - "-" "curl/8.4.0" "44898dba-8d8e-48f4-93f7-23e4b4c592c0" "localhost:8000" "172.28.0.2:801"';
const UO =
  '[2024-07-20T07:32:21.519Z] "GET /upstream-service-overflow?delayMs=5000 HTTP/1.1" 503 UO upstream_reset_before_response_started{overflow} 0 81 0 - "-" "curl/8.4.0" "c414b70a-7c85-4f78-9c35-2ce2b9131aa3" "localhost:8000" "172.31.0.3:8080"';
const WS_DC =
  '[2024-07-21T08:32:59.547Z] "GET /ws HTTP/1.1" 101 DC downstream_remote_disconnect 61 105 13342 - "-" "-" "e5248829-b318-443a-a763-e2460530f070" "localhost:8000" "192.168.5.2:8080"';
const WS_SI =
  '[2024-07-21T09:11:33.481Z] "GET /ws HTTP/1.1" 101 SI stream_idle_timeout 100 154 413322 - "-" "-" "8a458ce2-bb8d-4e80-a305-f323bbab338f" "localhost:8000" "192.168.5.2:8080"';
// Istio format, local rate limit (lb-formats.md §5.4)
const ISTIO_RL =
  '[2024-09-15T16:27:47.687Z] "HEAD / HTTP/1.1" 429 RL local_rate_limited - "-" 0 0 0 - "192.168.245.106" "curl/8.5.0" "467a7648-b9ef-4e9b-b75b-f9f500a88589" "nginx.test.local" "-" inbound|80|| - 10.0.196.75:80 192.168.245.106:0 outbound_.80_._.nginx.istio-test.svc.cluster.local default';

describe('envoy: default format', () => {
  it('START_TIME is the start: ts = start + DURATION; upstream answered; X-Request-ID; client from XFF', () => {
    const e = one(DEFAULT);
    const start = Date.UTC(2016, 3, 15, 20, 17, 0, 310);
    expect(e.ts).toBe(start + 226);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.signal).toBeUndefined();
    expect(e.keys).toEqual({ ip: '10.0.35.28', requestId: 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2' });
    expect(e.http).toEqual({
      status: 204,
      upstreamStatus: 204,
      upgrade: false,
      startTs: start,
      durationMs: 226,
      upstream: 'tcp://10.0.2.1:80',
      method: 'POST',
      url: '/api/v1/locations',
      userAgent: 'nsq2http',
    });
  });

  it('reads a line behind a docker-compose prefix', () => {
    // derived: WS_DC as docker compose prints it (lb-formats.md §5.4 note)
    const e = one(`envoy-1  | ${WS_DC}`);
    expect(e.http?.status).toBe(101);
    expect(e.ts).toBe(Date.UTC(2024, 6, 21, 8, 32, 59, 547) + 13342);
  });
});

describe('envoy: response flags and details', () => {
  it('504 UT: Envoy gave up on the upstream → upstream-timeout, upstreamStatus null', () => {
    const e = one(UT);
    const start = Date.UTC(2024, 6, 20, 7, 5, 54, 173);
    expect(e.signal).toBe('upstream-timeout');
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.flags).toBe('UT response_timeout');
    expect(e.http?.startTs).toBe(start);
    expect(e.http?.durationMs).toBe(4497);
    expect(e.ts).toBe(start + 4497);
    expect(e.http?.upstream).toBe('172.27.0.2:8080');
  });

  it('503 UH: no healthy upstream, answered by Envoy', () => {
    const e = one(UH);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.upstream).toBeUndefined();
    expect(e.signal).toBe('ws-handshake-failed');
  });

  it('503 UF: the SBC could not be reached → conn-reset, upstreamStatus null', () => {
    const e = one(UF);
    expect(e.signal).toBe('conn-reset');
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.flags).toBe(
      'UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}',
    );
  });

  it('503 UO: circuit breaker overflow → edge-connection-limit', () => {
    const e = one(UO);
    expect(e.signal).toBe('edge-connection-limit');
    expect(e.http?.upstreamStatus).toBeNull();
  });

  it('101 DC: the client closed the tunnel → ws-close; the 101 is the upstream’s', () => {
    const e = one(WS_DC);
    const start = Date.UTC(2024, 6, 21, 8, 32, 59, 547);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-close');
    expect(e.http?.upgrade).toBe(true);
    expect(e.http?.upstreamStatus).toBe(101);
    expect(e.http?.startTs).toBe(start);
    expect(e.http?.durationMs).toBe(13342);
    expect(e.ts).toBe(start + 13342);
    expect(e.keys.requestId).toBe('e5248829-b318-443a-a763-e2460530f070');
  });

  it('101 SI: cut by the stream idle timeout → idle-close, lifetime 413 s', () => {
    const e = one(WS_SI);
    expect(e.signal).toBe('idle-close');
    expect(e.http?.flags).toBe('SI stream_idle_timeout');
    expect(e.http?.durationMs).toBe(413322);
    expect(e.ts).toBe(Date.UTC(2024, 6, 21, 9, 11, 33, 481) + 413322);
  });

  it('101 UC upstream_reset_after_response_started: the SBC side reset → conn-reset', () => {
    // derived from WS_DC
    const e = one(
      '[2024-07-21T08:32:59.547Z] "GET /ws HTTP/1.1" 101 UC upstream_reset_after_response_started{remote_reset} 61 105 13342 - "-" "-" "e5248829-b318-443a-a763-e2460530f070" "localhost:8000" "192.168.5.2:8080"',
    );
    expect(e.signal).toBe('conn-reset');
    expect(e.http?.upstreamStatus).toBe(101);
  });

  it('400 DPE http1.invalid_characters: malformed handshake header → bad-header', () => {
    // derived from UH (§11.4: Envoy 400 DPE http1.invalid_characters)
    const e = one(
      '[2024-07-20T07:06:24.729Z] "GET /ws HTTP/1.1" 400 DPE http1.invalid_characters 0 11 0 - "-" "-" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "-"',
    );
    expect(e.signal).toBe('bad-header');
    expect(e.kind).toBe('ws-handshake');
    expect(e.http?.upstreamStatus).toBeNull();
  });

  it('503 via_upstream: the SBC refused the upgrade itself → upstream status', () => {
    // derived from UH (§11.1: `503 - via_upstream`)
    const e = one(
      '[2024-07-20T07:06:24.729Z] "GET /ws?user=agent-042 HTTP/1.1" 503 - via_upstream 0 19 3 2 "-" "-" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "172.27.0.2:8080"',
    );
    expect(e.http?.upstreamStatus).toBe(503);
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.keys.user).toBe('agent-042');
  });
});

describe('envoy: Istio format', () => {
  it('429 RL local_rate_limited → edge-rate-limit, answered by Envoy; port 0 gives no peer', () => {
    const e = one(ISTIO_RL);
    const start = Date.UTC(2024, 8, 15, 16, 27, 47, 687);
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.http?.status).toBe(429);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.flags).toBe('RL local_rate_limited');
    expect(e.ts).toBe(start);
    expect(e.keys).toEqual({ ip: '192.168.245.106', requestId: '467a7648-b9ef-4e9b-b75b-f9f500a88589' });
  });

  it('DOWNSTREAM_REMOTE_ADDRESS with a port is the peer', () => {
    // derived from ISTIO_RL: a WebSocket tunnel from 203.0.113.7:51234
    const e = one(
      '[2024-09-15T16:27:47.687Z] "GET /ws HTTP/1.1" 101 - via_upstream - "-" 310 420 60000 2 "203.0.113.7" "JsSIP 3.10.0" "467a7648-b9ef-4e9b-b75b-f9f500a88589" "sbc.test.local" "10.0.196.75:8080" outbound|8080||sbc.default.svc.cluster.local 10.0.196.80:40000 10.0.196.75:8080 203.0.113.7:51234 - default',
    );
    expect(e.keys.peer).toBe('203.0.113.7:51234');
    expect(e.keys.ip).toBe('203.0.113.7');
    expect(e.signal).toBe('ws-open');
    expect(e.http?.durationMs).toBe(60000);
    expect(e.http?.userAgent).toBe('JsSIP 3.10.0');
  });
});

describe('envoy: other lines', () => {
  it('a TCP proxy line ("- - -") with UF is a connection failure', () => {
    // derived from DEFAULT: tcp_proxy access log with the default format
    const e = one('[2016-04-15T20:17:00.310Z] "- - -" 0 UF 0 0 1 - "-" "-" "-" "-" "10.0.2.1:5060"');
    expect(e.kind).toBe('error');
    expect(e.signal).toBe('conn-reset');
    expect(e.http?.upstreamStatus).toBeUndefined();
  });

  it('leaves other lines alone', () => {
    const { outcomes } = parse([
      '[2024-05-01 10:00:00] something else',
      '[2016-04-15T20:17:00.310Z] "GET / HTTP/1.1" abc - 1 2 3',
      '',
    ]);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'skip']);
  });
});

describe('envoy: detection', () => {
  it('scores its own samples ≥ 0.8 and is detected for them', () => {
    expect(envoy.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of envoy.samples) expect(envoy.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    expect(
      detectFormat(
        envoy.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('envoy');
  });

  it('confusion matrix: every format keeps its own samples, nothing is taken for envoy', () => {
    for (const f of ALL) {
      expect(
        detectFormat(
          f.samples.map((s) => s.line),
          ALL,
        ).format?.name,
        f.name,
      ).toBe(f.name);
      if (f !== envoy) for (const s of f.samples) expect(envoy.sniff(s.line), s.line).toBeLessThan(0.3);
    }
  });

  it.skipIf(!existsSync(CORPUS))('scores other corpus files < 0.3', () => {
    for (const name of [
      'lnav-syslog.log',
      'lnav-haproxy.log',
      'lnav-access.log',
      'wireshark-sipmsg.log',
      'lnav-alb-samples.log',
    ]) {
      for (const line of readFileSync(`${CORPUS}/${name}`, 'utf8').split('\n').slice(0, 200))
        expect(envoy.sniff(line), `${name}: ${line}`).toBeLessThan(0.3);
    }
  });
});
