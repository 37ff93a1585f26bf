/**
 * Traefik JSON access log (lb-formats.md §8). Lines: maxlerebourg/crowdsec-bouncer-traefik-plugin
 * issue #323 (Traefik 3.6), traefik/traefik issues #12354 and #10504, and the samples in
 * src/formats/traefik.ts. Lines marked "derived" change named fields of a cited line to reach a
 * case no public line shows (a rate-limit 429, a 504, a 499).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { jsonLines } from '../../src/formats/json-lines.js';
import { traefik } from '../../src/formats/traefik.js';
import { oneEvent, parseLines } from './run-parser.js';

const CORPUS = '/work/shared/peer-corpus';
const ALL = FORMATS;

const parse = (lines: readonly string[]) => parseLines(traefik, lines);

const one = (line: string): LogEvent => oneEvent(traefik, line);

const [GET_SERVER_KEY, , MIDDLEWARE_403, STREAM_60S, DOCKER_PREFIXED] = traefik.samples.map((s) => s.line);

/**
 * traefik/traefik issue #10504 (a WebSocket logged 0/0 behind a `pod container` prefix). The issue
 * shows the line up to "RequestScheme":"h…; the rest (scheme, router, start) is completed here.
 */
const WS_0_0 =
  'traefik-secure-687cf57f46-dx6v7 traefik-secure {"ClientAddr":"X.X.X.X:3808","ClientHost":"A.A.A.A, B.B.B.B, C.C.C.C","ClientPort":"3808","ClientUsername":"-","DownstreamContentSize":0,"DownstreamStatus":0,"Duration":38786475932,"OriginContentSize":0,"OriginDuration":38786282729,"OriginStatus":0,"Overhead":193203,"RequestAddr":"tdc.ap.cloud.x.com","RequestContentSize":0,"RequestCount":6508019,"RequestHost":"tdc.ap.cloud.x.com","RequestMethod":"GET","RequestPath":"/api/v1/relay/ws","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"https","RetryAttempts":0,"RouterName":"relay@kubernetescrd","StartUTC":"2024-03-07T10:00:00.000000000Z","entryPointName":"websecure","level":"info","msg":"","time":"2024-03-07T10:00:38Z"}';

/** derived from the #12354 line: status fields and path changed. */
function variant(downstream: number, origin: number, path = '/ws?user=agent-042'): string {
  return DOCKER_PREFIXED.replace('"DownstreamStatus":200', `"DownstreamStatus":${downstream}`)
    .replace('"OriginStatus":200', `"OriginStatus":${origin}`)
    .replace('"/_blazor?id=KUNdQzmVKPgC6C7dWab3iw\\u0026_=1764766146914"', JSON.stringify(path));
}

describe('traefik: fields', () => {
  it('StartUTC is the start, Duration in ns: ts = start + Duration; the server answered', () => {
    const e = one(GET_SERVER_KEY);
    const start = Date.UTC(2026, 3, 30, 11, 58, 47, 720) + 0.064751;
    expect(e.http?.startTs).toBeCloseTo(start, 4);
    expect(e.ts).toBeCloseTo(start + 4.369274, 4);
    expect(e.http?.durationMs).toBe(4);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.signal).toBeUndefined();
    expect(e.http).toMatchObject({
      status: 200,
      upstreamStatus: 200,
      upgrade: false,
      upstream: 'h2c://172.20.0.7:443',
      method: 'POST',
      url: '/management.ManagementService/GetServerKey',
      userAgent: 'grpc-go/1.79.3',
    });
  });

  it('OriginStatus 0: a middleware answered (403) → upstreamStatus null', () => {
    const e = one(MIDDLEWARE_403);
    expect(e.http?.status).toBe(403);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.durationMs).toBe(19808);
    expect(e.ts).toBeCloseTo(Date.UTC(2026, 3, 30, 11, 33, 11, 203) + 0.370405 + 19808.199303, 3);
    expect(e.signal).toBe('ws-handshake-failed');
  });

  it('a 60 s stream: duration from Duration, ts at its end', () => {
    const e = one(STREAM_60S);
    expect(e.http?.durationMs).toBe(60002);
    expect(e.ts).toBeCloseTo(Date.UTC(2026, 3, 30, 13, 3, 54, 803) + 0.698489 + 60002.434127, 3);
  });

  it('reads past a docker logs -t prefix: ClientAddr is the peer', () => {
    const e = one(DOCKER_PREFIXED);
    expect(e.keys.peer).toBe('172.30.72.140:55702');
    expect(e.keys.ip).toBe('172.30.72.140');
    expect(e.keys.requestId).toBeUndefined(); // TraceId all zeros
    expect(e.http?.upstreamStatus).toBe(200);
    expect(e.http?.startTs).toBeCloseTo(Date.UTC(2025, 11, 3, 12, 49, 5, 139) + 0.137383, 4);
  });
});

describe('traefik: WebSocket and refusals', () => {
  it('a WebSocket logged 0/0 (hijacked connection) is an opened tunnel for its lifetime', () => {
    const e = one(WS_0_0);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.http?.status).toBe(101);
    expect(e.http?.upstreamStatus).toBe(101);
    expect(e.http?.flags).toBe('status 0/0 (upgraded connection)');
    expect(e.http?.durationMs).toBe(38786);
    expect(e.http?.startTs).toBe(Date.UTC(2024, 2, 7, 10, 0, 0));
    expect(e.ts).toBeCloseTo(Date.UTC(2024, 2, 7, 10, 0, 0) + 38786.475932, 4);
    expect(e.keys.peer).toBeUndefined(); // masked address
  });

  it('0/0 on a request that is no upgrade stays status 0 without a signal', () => {
    const e = one(variant(0, 0, '/v1/chat/completions'));
    expect(e.http?.status).toBe(0);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.signal).toBeUndefined();
  });

  it('429 made by Traefik (OriginStatus 0) → edge-rate-limit', () => {
    const e = one(variant(429, 0));
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.kind).toBe('ws-handshake');
    expect(e.keys.user).toBe('agent-042');
    expect(e.http?.upstreamStatus).toBeNull();
  });

  it('429 sent by the server is its own refusal', () => {
    const e = one(variant(429, 429));
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.upstreamStatus).toBe(429);
  });

  it('504 (the proxy’s own timeout counts as the origin’s) → upstream-timeout', () => {
    const e = one(variant(504, 504));
    expect(e.signal).toBe('upstream-timeout');
    expect(e.http?.upstreamStatus).toBe(504);
  });

  it('499 → client-timeout', () => {
    expect(one(variant(499, 499)).signal).toBe('client-timeout');
  });

  it('skips Traefik’s own JSON log lines and leaves other text alone', () => {
    const { outcomes } = parse([
      // traefik/traefik issue #12354
      '2025-12-03T12:49:05.183777723Z {"level":"debug","time":"2025-12-03T12:49:05Z","caller":"github.com/traefik/traefik/v3/pkg/server/service/loadbalancer/wrr/wrr.go:196","message":"Service selected by WRR: ac973bbcb49995ed"}',
      'Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed',
      '{"ClientAddr": "broken',
      '',
    ]);
    expect(outcomes).toEqual(['skip', 'unparsed', 'unparsed', 'skip']);
  });
});

describe('traefik: detection', () => {
  it('scores its own samples ≥ 0.8, above the generic JSON reader, and is detected for them', () => {
    expect(traefik.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of traefik.samples) {
      expect(traefik.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
      expect(traefik.sniff(s.line)).toBeGreaterThan(jsonLines.sniff(s.line));
    }
    expect(
      detectFormat(
        traefik.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('traefik');
    expect(detectFormat([WS_0_0, MIDDLEWARE_403], ALL).format?.name).toBe('traefik');
  });

  it('confusion matrix: every format keeps its own samples, nothing is taken for traefik', () => {
    for (const f of ALL) {
      expect(
        detectFormat(
          f.samples.map((s) => s.line),
          ALL,
        ).format?.name,
        f.name,
      ).toBe(f.name);
      if (f !== traefik) for (const s of f.samples) expect(traefik.sniff(s.line), s.line).toBeLessThan(0.3);
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
        expect(traefik.sniff(line), `${name}: ${line}`).toBeLessThan(0.3);
    }
  });
});
