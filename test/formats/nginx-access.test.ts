import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { haproxy } from '../../src/formats/haproxy.js';
import { nginxAccess } from '../../src/formats/nginx-access.js';
import { nginxError } from '../../src/formats/nginx-error.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome, LogFormat } from '../../src/formats/types.js';

const CORPUS = '/work/shared/peer-corpus';

function parse(format: LogFormat, lines: string[]): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = format.createParser(utcContext(2026));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function one(line: string): LogEvent {
  const { events, outcomes } = parse(nginxAccess, [line]);
  expect(outcomes).toEqual(['event']);
  expect(events).toHaveLength(1);
  return events[0];
}

describe('nginx-access: combined', () => {
  it('reads a combined line: end time with its zone, client, status, no upstream fields', () => {
    // peer-corpus/lnav-access.log line 1 (tstack/lnav test/logfile_access_log.0)
    const e = one(
      '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
    );
    expect(e.ts).toBe(Date.UTC(2009, 6, 20, 22, 59, 26));
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.keys).toEqual({ ip: '192.168.202.254' });
    expect(e.http).toMatchObject({
      status: 200,
      method: 'GET',
      url: '/vmw/cgi/tramp',
      userAgent: 'gPXE/0.9.7',
      upgrade: false,
    });
    expect(e.http?.upstreamStatus).toBeUndefined(); // combined says nothing about the upstream
    expect(e.http?.durationMs).toBeUndefined();
    expect(e.signal).toBeUndefined();
  });

  it('gives no signal to a 404 on a file (not the softphone socket)', () => {
    // peer-corpus/lnav-access.log line 2
    const e = one(
      '192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7"',
    );
    expect(e.http?.status).toBe(404);
    expect(e.signal).toBeUndefined();
  });

  it('reads a whole real file and sniffs it as nginx-access', () => {
    const lines = readFileSync(`${CORPUS}/lnav-access.log`, 'utf8').split('\n').filter(Boolean);
    const { events, outcomes } = parse(nginxAccess, lines);
    expect(outcomes.every((o) => o === 'event')).toBe(true);
    expect(events.map((e) => e.http?.status)).toEqual([200, 404, 200]);
    for (const line of lines) {
      expect(nginxAccess.sniff(line)).toBeGreaterThanOrEqual(0.8);
      expect(haproxy.sniff(line)).toBeLessThan(0.3);
      expect(nginxError.sniff(line)).toBeLessThan(0.3);
    }
  });

  it('applies the $time_local zone offset', () => {
    // a public Go log-enrichment test (code index), ingress-nginx line with -0700
    const e = one(
      '203.0.113.11 - - [08/Oct/2024:06:42:27 -0700] "POST /api/completions HTTP/1.1" 200 658 "-" "RestSharp/110.2.0.0" 650 0.023 [base-search-service-search-service-5000] [] 10.244.1.16:5000 658 0.023 200 134828790ba4a09d748ed1526be8de50',
    );
    expect(e.ts).toBe(Date.UTC(2024, 9, 8, 13, 42, 27));
  });

  it('strips a docker-compose prefix', () => {
    // leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.1)
    const e = one(
      'edge_1        | 172.22.0.1 - - [05/Jan/2022:17:24:48 +0000] "GET /path/to/my/content.ext HTTP/1.1" 200 70 "-" "HTTPie/2.6.0"',
    );
    expect(e.ts).toBe(Date.UTC(2022, 0, 5, 17, 24, 48));
    expect(e.keys.ip).toBe('172.22.0.1');
    expect(e.http?.userAgent).toBe('HTTPie/2.6.0');
  });

  it('reads a request line nginx could not parse without inventing a method or a signal', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/nginx-bad-request
    const e = one('12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "" 400 47 "-" "-" "-"');
    expect(e.ts).toBe(Date.UTC(2015, 0, 20, 18, 53, 28));
    expect(e.http?.status).toBe(400);
    expect(e.http?.method).toBeUndefined();
    expect(e.signal).toBeUndefined();
  });

  it('calls a 404 on a bare path a failed handshake', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/nginx-bad-request
    const e = one('192.168.144.1 - - [12/Dec/2014:22:59:02 +0100] "GET /adsf HTTP/1.1" 404 118 "-" "-" "-"');
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.userAgent).toBeUndefined(); // "-"
  });
});

describe('nginx-access: key=value extras (nginx amplify format)', () => {
  // github.com/nginxinc/nginx-amplify-doc issue #16 (lb-formats.md §2.1): a WebSocket alive 24388 s
  const line =
    '10.140.0.4 - - [03/Feb/2017:11:49:25 +0000] "GET /socket.io/?EIO=3&transport=websocket HTTP/1.1" 101 2945 "-" "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.21 Safari/537.36" "xxx.xxx.xxx.xxx,xxx.xxx.xxx.xxx" "xxx.com" sn="xxx.com" rt=24388.248 ua="10.115.242.54:8082" us="101" ut="24388.248" ul="0" cs=-';

  it('puts ts at the end of the tunnel and startTs = end − request_time', () => {
    const e = one(line);
    const end = Date.UTC(2017, 1, 3, 11, 49, 25);
    expect(e.ts).toBe(end);
    expect(e.http?.durationMs).toBe(24_388_248);
    expect(e.http?.startTs).toBe(end - 24_388_248);
  });

  it('reads the upstream, the 101 and the WebSocket upgrade', () => {
    const e = one(line);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.http).toMatchObject({
      status: 101,
      upstreamStatus: 101,
      upstream: '10.115.242.54:8082',
      upgrade: true,
      method: 'GET',
      url: '/socket.io/?EIO=3&transport=websocket',
    });
    expect(e.http?.userAgent).toMatch(/^Mozilla\/5\.0/);
    expect(e.keys).toEqual({ ip: '10.140.0.4' }); // X-Forwarded-For and host are not upstreams or keys
  });

  it('reads spelled-out keys in any order', () => {
    // constructed: combined + `connection=$connection request_id=$request_id upstream_status=… request_time=… upstream_addr=… remote_port=…`
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 503 197 "-" "JsSIP 3.13.0" connection=42 request_id=0b7c3c1e9f2a4d5e8f6a7b8c9d0e1f2a upstream_status=- request_time=0.000 upstream_addr=- remote_port=40123',
    );
    expect(e.keys).toEqual({
      ip: '203.0.113.7',
      peer: '203.0.113.7:40123',
      connId: '42',
      requestId: '0b7c3c1e9f2a4d5e8f6a7b8c9d0e1f2a',
      user: 'agent-042',
    });
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.durationMs).toBe(0);
    expect(e.signal).toBe('edge-rate-limit');
  });

  it('reads conn= and req_id=', () => {
    // constructed: combined + `conn=$connection req_id=$request_id rt=$request_time us=$upstream_status`
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws HTTP/1.1" 101 0 "-" "JsSIP 3.13.0" conn=9 req_id=abc-123 rt=60.002 us=101',
    );
    expect(e.keys.connId).toBe('9');
    expect(e.keys.requestId).toBe('abc-123');
    expect(e.http?.durationMs).toBe(60_002);
  });
});

describe('nginx-access: ingress-nginx log-format-upstream', () => {
  it('reads request_length, request_time, upstream name, addr, response time, status and req_id by position', () => {
    // a public Kubernetes lab write-up (code index), ingress-nginx default format
    const e = one(
      '10.1.5.3 - - [15/Dec/2023:01:47:13 +0000] "GET /api/v1/generate-mandelbrot-tile?size=512&xc=-1.5&yc=0.5&scale=1.0&iterations=256 HTTP/1.1" 200 2603224 "-" "Java/19" 235 0.069 [mandelbrot-process-service-80] [] 10.1.5.60:8080 2600999 0.069 200 50145b36dff8b913fdd17d556bbd083c',
    );
    const end = Date.UTC(2023, 11, 15, 1, 47, 13);
    expect(e.ts).toBe(end);
    expect(e.http).toMatchObject({
      status: 200,
      upstreamStatus: 200,
      upstream: '10.1.5.60:8080',
      durationMs: 69,
      startTs: end - 69,
    });
    expect(e.keys).toEqual({ ip: '10.1.5.3', requestId: '50145b36dff8b913fdd17d556bbd083c' });
    expect(e.keys.connId).toBeUndefined(); // 235 is $request_length, not a connection
  });

  it('reads the older layout with [$the_real_ip] and a single upstream-name bracket', () => {
    // a public ingress tutorial (code index): `$the_real_ip - [$the_real_ip] - $remote_user [...]`
    const e = one(
      '10.180.0.1 - [10.180.0.1] - - [15/Feb/2023:15:04:05 +0000] "GET /app1/index.html HTTP/1.1" 200 615 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/97.0.4692.99 Safari/537.36" 343 0.043 [default-app1-service-80] [] 10.244.0.5:80 615 0.042 200 a0be52e8f9055c4e72c2d81cd9392329',
    );
    expect(e.ts).toBe(Date.UTC(2023, 1, 15, 15, 4, 5));
    expect(e.http).toMatchObject({
      status: 200,
      upstreamStatus: 200,
      upstream: '10.244.0.5:80',
      durationMs: 43,
    });
  });

  it('reads retried upstream lists (", ") and keeps the last status', () => {
    // constructed around the upstream tail of a real ingress line (code index): three tries, all 502
    const e = one(
      '10.244.0.1 - - [11/Mar/2026:15:24:55 +0000] "GET /webapp/ HTTP/1.1" 502 150 "-" "Mozilla/5.0" 667 0.001 [default-webapp-8000] [] 10.244.0.27:8000, 10.244.0.27:8000, 10.244.0.27:8000 0, 0, 0 0.000, 0.000, 0.000 502, 502, 502 065205c3ab074cab564e29aa7684f6f6',
    );
    expect(e.http?.upstream).toBe('10.244.0.27:8000, 10.244.0.27:8000, 10.244.0.27:8000');
    expect(e.http?.upstreamStatus).toBe(502);
    expect(e.keys.requestId).toBe('065205c3ab074cab564e29aa7684f6f6');
    expect(e.signal).toBe('ws-handshake-failed');
  });

  it('sees a WebSocket tunnel cut at 60 s: 101, ws-open, duration 60.002 s, user from the path', () => {
    // constructed in the ingress-nginx default format (lb-formats.md §3): the tunnel line of an idle cut
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws/agent-042 HTTP/1.1" 101 1234 "-" "JsSIP 3.13.0" 512 60.002 [default-sbc-ws-8080] [] 10.0.0.5:8080 1234 60.001 101 5e1f8c1b0f7a4e2b9c3d4e5f6a7b8c9d',
    );
    const end = Date.UTC(2026, 10, 24, 0, 45, 4);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.keys.user).toBe('agent-042');
    expect(e.http).toMatchObject({
      status: 101,
      upstreamStatus: 101,
      durationMs: 60_002,
      startTs: end - 60_002,
      upgrade: true,
    });
  });

  it('tells an edge 503 (upstream "-") from an SBC 503', () => {
    // constructed in the ingress-nginx default format: limit-rps refusal, nginx answered itself
    const edge = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 503 190 "-" "JsSIP 3.13.0" 512 0.000 [default-sbc-ws-8080] [] - - - - 9f0e1d2c3b4a59687766554433221100',
    );
    expect(edge.http?.upstreamStatus).toBeNull();
    expect(edge.http?.upstream).toBeUndefined();
    expect(edge.signal).toBe('edge-rate-limit');
    // the same request refused by the SBC itself
    const sbc = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 503 190 "-" "JsSIP 3.13.0" 512 0.004 [default-sbc-ws-8080] [] 10.0.0.5:8080 190 0.004 503 9f0e1d2c3b4a59687766554433221100',
    );
    expect(sbc.http?.upstreamStatus).toBe(503);
    expect(sbc.signal).toBe('ws-handshake-failed');
  });
});

describe('nginx-access: bare extras after combined', () => {
  // constructed: log_format `$remote_addr:$remote_port - $remote_user [$time_local] "$request" $status
  // $body_bytes_sent "$http_referer" "$http_user_agent" $connection $request_id $request_time $upstream_addr $upstream_status`
  // (lb-formats.md §2.1 recommends these fields)
  const base = '203.0.113.7:40123 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1"';

  it('reads ip:port, connection, request id, request time, upstream addr and status from their shapes', () => {
    const e = one(
      `${base} 101 512 "-" "JsSIP 3.13.0" 17 4f2a9c1e0b7d4e3f8a6b5c4d3e2f1a0b 60.002 10.0.0.5:5060 101`,
    );
    expect(e.keys).toEqual({
      ip: '203.0.113.7',
      peer: '203.0.113.7:40123',
      connId: '17',
      requestId: '4f2a9c1e0b7d4e3f8a6b5c4d3e2f1a0b',
      user: 'agent-042',
    });
    expect(e.http).toMatchObject({
      status: 101,
      upstreamStatus: 101,
      upstream: '10.0.0.5:5060',
      durationMs: 60_002,
    });
  });

  it('reads "- -" after the request time as upstream addr and status "-"', () => {
    const e = one(`${base} 503 197 "-" "JsSIP 3.13.0" 18 4f2a9c1e0b7d4e3f8a6b5c4d3e2f1a0c 0.000 - -`);
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.keys.connId).toBe('18');
    expect(e.signal).toBe('edge-rate-limit');
  });

  it('reads a 3-digit connection number before the request time as a connection, not a status', () => {
    const e = one(`${base} 101 0 "-" "JsSIP 3.13.0" 123 60.002 101`);
    expect(e.keys.connId).toBe('123');
    expect(e.http?.upstreamStatus).toBe(101);
  });

  it('leaves connId unset when two bare integers could each be it', () => {
    // `$request_length $connection`: no way to tell them apart
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws HTTP/1.1" 101 0 "-" "JsSIP" 512 17 60.002',
    );
    expect(e.keys.connId).toBeUndefined();
    expect(e.http?.durationMs).toBe(60_002);
  });

  it('takes the end time from $msec when present (ms precision)', () => {
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws HTTP/1.1" 101 0 "-" "JsSIP" 1795481104.250 60.002',
    );
    expect(e.ts).toBe(1_795_481_104_250);
    expect(e.http?.startTs).toBe(1_795_481_104_250 - 60_002);
  });

  it('reads a sip: URI in the path as the user', () => {
    const e = one(
      '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws/sip:agent-007@example.com HTTP/1.1" 101 0 "-" "JsSIP"',
    );
    expect(e.keys.user).toBe('agent-007');
  });
});

describe('nginx-access: status → signal', () => {
  const at = (status: number, tail = '', path = '/ws?user=agent-042') =>
    one(
      `203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET ${path} HTTP/1.1" ${status} 0 "-" "JsSIP 3.13.0"${tail}`,
    );

  it.each([
    [101, 'ws-open'],
    [499, 'client-timeout'],
    [504, 'upstream-timeout'],
    [429, 'edge-rate-limit'],
    [400, 'ws-handshake-failed'],
    [404, 'ws-handshake-failed'],
    [426, 'ws-handshake-failed'],
    [403, 'ws-handshake-failed'],
  ] as const)('%i → %s', (status, signal) => {
    expect(at(status).signal).toBe(signal);
  });

  it('a 503 with unknown upstream is a failed handshake (the error log decides if it was a limit)', () => {
    expect(at(503).http?.upstreamStatus).toBeUndefined();
    expect(at(503).signal).toBe('ws-handshake-failed');
  });

  it('a 503 nginx answered itself is an edge limit; one from the SBC a failed handshake', () => {
    expect(at(503, ' 0.000 - -').signal).toBe('edge-rate-limit');
    expect(at(503, ' 0.003 10.0.0.5:5060 503').signal).toBe('ws-handshake-failed');
  });

  it('a 404 on a page asset says nothing about the socket', () => {
    expect(at(404, '', '/favicon.ico').signal).toBeUndefined();
    expect(at(404, '', '/favicon.ico').kind).toBe('http-request');
  });

  it('treats a WebSocket-looking path as an upgrade even when the answer is not 101', () => {
    expect(at(400).kind).toBe('ws-handshake');
    expect(at(400).http?.upgrade).toBe(true);
    expect(at(200, '', '/index.html').http?.upgrade).toBe(false);
  });
});

describe('nginx-access: detection and robustness', () => {
  it('claims its own samples and refuses other formats', () => {
    for (const s of nginxAccess.samples) expect(nginxAccess.sniff(s.line)).toBeGreaterThanOrEqual(0.8);
    expect(nginxAccess.samples.length).toBeGreaterThanOrEqual(6);
    const others = [
      ...readFileSync(`${CORPUS}/lnav-haproxy.log`, 'utf8').split('\n').filter(Boolean),
      ...readFileSync(`${CORPUS}/lnav-syslog.log`, 'utf8').split('\n').filter(Boolean),
      ...nginxError.samples.map((s) => s.line),
      'Mar 12 03:30:31 dev1 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      // Envoy default format (lb-formats.md §5.4)
      '[2024-07-21T09:11:33.481Z] "GET /ws HTTP/1.1" 101 SI stream_idle_timeout 100 154 413322 - "-" "-" "8a458ce2-bb8d-4e80-a305-f323bbab338f" "localhost:8000" "192.168.5.2:8080"',
    ];
    for (const line of others) expect(nginxAccess.sniff(line), line).toBeLessThan(0.3);
  });

  it('every sample parses into an event', () => {
    const { outcomes } = parse(
      nginxAccess,
      nginxAccess.samples.map((s) => s.line),
    );
    expect(outcomes.every((o) => o === 'event')).toBe(true);
  });

  it('reports other lines as unparsed', () => {
    const { outcomes } = parse(nginxAccess, [
      '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests',
      'hello world',
    ]);
    expect(outcomes).toEqual(['unparsed', 'unparsed']);
  });

  it('stays linear on hostile 64 KB lines', () => {
    const head = '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws HTTP/1.1" 101 0 "-" "x" ';
    const hostile = [
      head + '"a '.repeat(21_000),
      head + '[a '.repeat(21_000),
      head + 'a=" '.repeat(16_000),
      head + '1, '.repeat(21_000),
      '1'.repeat(65_536),
      '[' + ' ['.repeat(32_000),
    ];
    const started = performance.now();
    for (const line of hostile) {
      parse(nginxAccess, [line]);
      nginxAccess.sniff(line);
    }
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
