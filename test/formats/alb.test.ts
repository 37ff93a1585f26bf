/**
 * AWS ALB access log (lb-formats.md §1). Lines are AWS's documented examples (joined: AWS wraps
 * them "for readability"), field lines from StackOverflow / classmethod, and tstack/lnav's samples
 * (peer-corpus/lnav-alb-samples.log). Lines marked "derived" change named fields of a cited line to
 * reach a case no public line shows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { alb } from '../../src/formats/alb.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { oneEvent, parseLines } from './run-parser.js';

const CORPUS = '/work/shared/peer-corpus';
const ALL = FORMATS;

const parse = (lines: readonly string[]) => parseLines(alb, lines);

const one = (line: string): LogEvent => oneEvent(alb, line);

// AWS docs, load-balancer-access-logs.md (lb-formats.md §1.3), joined
const AWS_HTTP =
  'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"';
const AWS_WS =
  'ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-"';
const AWS_WSS =
  'wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.171:8010" "101" "-" "-"';
const AWS_LAMBDA =
  'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"';
// StackOverflow q/43736680 (lb-formats.md §1.3)
const SO_460 =
  'https 2017-01-30T22:46:27.451363Z app/LOAD-BALANCER/bbab458ad0b80d X.X.X.X:55999 10.5.X.X:80 0.000 -1 -1 460 - 132 0 "GET https://www.website.com:443/app/page HTTP/1.1" "-" ECDHE-RSA-AES128-SHA TLSv1 arn:aws:elasticloadbalancing:us-west-2:743462462234:targetgroup/TARGET-GROUP/e6120e5adr245b79107e "Root=1-588fc23e-77aea5adf4534af3de09659d13a08"';
// dev.classmethod.jp/articles/alb-accesslog-traceabilityid (lb-formats.md §1.3)
const CLASSMETHOD =
  'http 2024-05-28T13:34:14.804475Z app/**/7bba4eaafdb3bbc6 18.180.78.**:42088 172.31.11.**:80 0.006 0.000 0.000 200 200 115 124 "GET http://alb-**.ap-northeast-1.elb.amazonaws.com:80/ HTTP/1.1" "curl/8.5.0" - - arn:aws:elasticloadbalancing:ap-northeast-1:**:targetgroup/**/f8e61ed9c1a9**** "Root=1-6655dd56-7bd889385aff85131b10****" "-" "-" 0 2024-05-28T13:34:14.797000Z "waf,forward" "-" "-" "172.31.11.**:80" "200" "-" "-" TID_dc57cebed65b444ebc8177bb698fe166';

const WS_END = Date.UTC(2018, 6, 2, 22, 23, 0) + 186.641;
const WS_START = Date.UTC(2018, 6, 2, 22, 22, 48, 364);

describe('alb: documented lines', () => {
  it('ws: ts = time (the close), startTs = request_creation_time, lifetime = the difference', () => {
    const e = one(AWS_WS);
    expect(e.ts).toBeCloseTo(WS_END, 3);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.keys).toEqual({
      ip: '10.0.0.140',
      peer: '10.0.0.140:40914',
      requestId: 'Root=1-58337364-23a8c76965a2ef7629b185e3',
    });
    expect(e.http).toEqual({
      status: 101,
      upstreamStatus: 101,
      upgrade: true,
      upstream: '10.0.1.192:8010',
      durationMs: 11823,
      startTs: WS_START,
      method: 'GET',
      url: 'http://10.0.0.30:80/',
    });
  });

  it('wss: the same, a TLS listener', () => {
    const e = one(AWS_WSS);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.keys.peer).toBe('10.0.0.140:44244');
    expect(e.http?.startTs).toBe(WS_START);
    expect(e.http?.durationMs).toBe(11823);
  });

  it('http: the target answered 200; user agent; no signal', () => {
    const e = one(AWS_HTTP);
    expect(e.kind).toBe('http-request');
    expect(e.signal).toBeUndefined();
    expect(e.http?.status).toBe(200);
    expect(e.http?.upstreamStatus).toBe(200);
    expect(e.http?.userAgent).toBe('curl/7.46.0');
    expect(e.http?.flags).toBeUndefined();
    expect(e.keys.peer).toBe('192.168.131.39:2817');
  });

  it('failed Lambda: target "-" → upstreamStatus null, error_reason in flags', () => {
    const e = one(AWS_LAMBDA);
    expect(e.http?.status).toBe(502);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.upstream).toBeUndefined();
    expect(e.http?.flags).toBe('error_reason=LambdaInvalidResponse');
    expect(e.ts).toBeCloseTo(Date.UTC(2018, 10, 30, 22, 23, 0) + 186.641, 3);
  });

  it('460 (client closed first): client-timeout, no target status, -1 timers give no duration', () => {
    const e = one(SO_460);
    expect(e.signal).toBe('client-timeout');
    expect(e.http?.status).toBe(460);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.durationMs).toBeUndefined();
    expect(e.http?.startTs).toBeUndefined();
    expect(e.ts).toBeCloseTo(Date.UTC(2017, 0, 30, 22, 46, 27) + 451.363, 3);
    expect(e.keys.requestId).toBe('Root=1-588fc23e-77aea5adf4534af3de09659d13a08');
  });

  it('conn_trace_id is the connection id; "waf,forward" that forwarded is no refusal', () => {
    const e = one(CLASSMETHOD);
    expect(e.keys.connId).toBe('TID_dc57cebed65b444ebc8177bb698fe166');
    expect(e.http?.flags).toBe('actions=waf,forward');
    expect(e.http?.durationMs).toBe(7);
    expect(e.http?.startTs).toBe(Date.UTC(2024, 4, 28, 13, 34, 14, 797));
    expect(e.signal).toBeUndefined();
  });

  it('ignores fields appended after the ones it knows', () => {
    // derived: CLASSMETHOD + three newer fields (transformed_host, transformed_uri, request_transform_status)
    const e = one(`${CLASSMETHOD} "-" "-" "-"`);
    expect(e.keys.connId).toBe('TID_dc57cebed65b444ebc8177bb698fe166');
    expect(e.http?.status).toBe(200);
  });
});

describe('alb: refusals and failures', () => {
  it('WAF block: 403, target "-", actions "waf" → edge-rate-limit', () => {
    // derived from AWS_WSS (§1.9: WAF → 403, target "-", actions contains waf)
    const e = one(
      'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 - -1 -1 -1 403 - 218 786 "GET https://10.0.0.30:443/ws?user=agent-042 HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:23:00.185000Z "waf" "-" "-" "-" "-" "-" "-"',
    );
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.kind).toBe('ws-handshake');
    expect(e.keys.user).toBe('agent-042');
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.flags).toBe('actions=waf');
    expect(e.http?.durationMs).toBe(2);
  });

  it('with WAF attached, "waf,forward" on the ALB\'s own 504 is the timeout, not a WAF block', () => {
    // the WAF block line above with the WAF's verdict "forward" and the ALB's 504 for a silent target
    const e = one(
      'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.5:8080 0.000 -1 -1 504 - 218 786 "GET https://10.0.0.30:443/ws?user=agent-043 HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-58337364-23a8c76965a2ef7629b185e4" "-" "-" 1 2018-07-02T22:23:00.185000Z "waf,forward" "-" "-" "10.0.0.5:8080" "-" "-" "-"',
    );
    expect(e.signal).not.toBe('edge-rate-limit');
    expect(e.http?.status).toBe(504);
  });

  it('desync classification Severe/BadHeader, 400 from the ALB → bad-header', () => {
    // derived from AWS_WSS (§1.7: Severe → 400, no target)
    const e = one(
      'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 - -1 -1 -1 400 - 218 0 "GET https://10.0.0.30:443/ws HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "-" "-" "-" - 2018-07-02T22:23:00.186000Z "-" "-" "-" "-" "-" "Severe" "BadHeader"',
    );
    expect(e.signal).toBe('bad-header');
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.flags).toBe('classification=Severe/BadHeader');
  });

  it('504 without a target answer → upstream-timeout', () => {
    // derived from AWS_WS: the target never answered the upgrade
    const e = one(
      'ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 -1 -1 504 - 218 0 "GET http://10.0.0.30:80/ws HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "-" "-" "-"',
    );
    expect(e.signal).toBe('upstream-timeout');
    expect(e.http?.upstreamStatus).toBeNull();
  });

  it('503 the target sent → ws-handshake-failed with the target status', () => {
    // derived from AWS_WS: the SBC refused the upgrade
    const e = one(
      'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 503 503 218 120 "GET http://10.0.0.30:80/ws HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:23:00.182000Z "forward" "-" "-" "10.0.1.192:8010" "503" "-" "-"',
    );
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.kind).toBe('ws-handshake');
    expect(e.http?.upstreamStatus).toBe(503);
  });

  it('a tunnel cut at the 60 s idle timeout: 101 with a 60 s lifetime', () => {
    // derived from AWS_WS (§1.8: 59998–60002 ms lifetimes)
    const e = one(
      'ws 2018-07-02T22:23:48.365641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-"',
    );
    expect(e.signal).toBe('ws-open');
    expect(e.http?.durationMs).toBe(60002);
    expect(e.ts - (e.http?.startTs ?? 0)).toBeCloseTo(60001.641, 3);
  });

  it('leaves other lines alone', () => {
    const { outcomes } = parse([
      'Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed',
      'http not-a-time app/x 1.2.3.4:5 - 0 0 0 200 200 1 1 "GET / HTTP/1.1"',
      '',
    ]);
    expect(outcomes).toEqual(['unparsed', 'unparsed', 'skip']);
  });
});

describe.skipIf(!existsSync(CORPUS))('alb: lnav samples (older lines, fewer trailing fields)', () => {
  const lines = readFileSync(`${CORPUS}/lnav-alb-samples.log`, 'utf8').split('\n');

  it('parses every line; a ws line without request_creation_time has no lifetime', () => {
    const nonEmpty = lines.filter((l) => l.trim() !== '');
    const { events, outcomes } = parse(nonEmpty);
    expect(outcomes.every((o) => o === 'event')).toBe(true);
    expect(events.map((e) => e.kind)).toEqual([
      'http-request',
      'http-request',
      'http-request',
      'ws-handshake',
      'ws-handshake',
    ]);
    const ws = events[3];
    expect(ws.ts).toBeCloseTo(Date.UTC(2016, 7, 10, 0, 32, 8) + 923.954, 3);
    expect(ws.http?.durationMs).toBeUndefined();
    expect(ws.signal).toBe('ws-open');
    // https: no request_creation_time, so the three processing times (0.086 + 0.048 + 0.037 s)
    const https = events[1];
    expect(https.http?.durationMs).toBe(171);
    expect(https.http?.startTs).toBeCloseTo(Date.UTC(2016, 7, 10, 23, 39, 43) + 65.466 - 171, 3);
  });

  it('is detected as alb', () => {
    expect(detectFormat(lines, ALL).format?.name).toBe('alb');
  });
});

describe('alb: detection', () => {
  it('scores its own samples ≥ 0.8 and is detected for them', () => {
    for (const s of alb.samples) expect(alb.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    expect(alb.samples.length).toBeGreaterThanOrEqual(6);
    expect(
      detectFormat(
        alb.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('alb');
  });

  it('confusion matrix: every format keeps its own samples, nothing is taken for alb', () => {
    for (const f of ALL) {
      expect(
        detectFormat(
          f.samples.map((s) => s.line),
          ALL,
        ).format?.name,
        f.name,
      ).toBe(f.name);
      if (f !== alb) for (const s of f.samples) expect(alb.sniff(s.line), s.line).toBeLessThan(0.3);
    }
  });

  it.skipIf(!existsSync(CORPUS))('scores other corpus files (syslog, HAProxy, access, SIP) < 0.3', () => {
    for (const name of ['lnav-syslog.log', 'lnav-haproxy.log', 'lnav-access.log', 'wireshark-sipmsg.log']) {
      for (const line of readFileSync(`${CORPUS}/${name}`, 'utf8').split('\n').slice(0, 200))
        expect(alb.sniff(line), `${name}: ${line}`).toBeLessThan(0.3);
    }
  });
});
