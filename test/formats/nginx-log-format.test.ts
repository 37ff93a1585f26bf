/**
 * The nginx log_format compiler (src/formats/nginx-log-format.ts). Formats: nginx's `combined`
 * (ngx_http_log_module.c) and ingress-nginx's `upstreaminfo` (config.go), both verbatim in
 * lb-formats.md §2.1 and §3; a `json_combined escape=json` and a key=value format from public
 * nginx.conf files (code index); the format in the task brief. Lines are the reference's real
 * lines, or constructed in the given format where no public line exists (marked "constructed").
 */
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { nginxAccess } from '../../src/formats/nginx-access.js';
import { compileNginxLogFormat } from '../../src/formats/nginx-log-format.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogFormat } from '../../src/formats/types.js';

function one(format: LogFormat, line: string): LogEvent {
  const events: LogEvent[] = [];
  const outcome = format.createParser(utcContext(2026)).push(line, 7, (e) => events.push(e));
  expect(outcome, line).toBe('event');
  expect(events).toHaveLength(1);
  return events[0];
}

function outcome(format: LogFormat, line: string): string {
  return format.createParser(utcContext(2026)).push(line, 1, () => undefined);
}

/** ngx_http_log_module.c (lb-formats.md §2.1) */
const COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** kubernetes/ingress-nginx internal/ingress/controller/config/config.go (lb-formats.md §3) */
const UPSTREAMINFO =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id';

/** the task brief's example */
const BRIEF =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time uct="$upstream_connect_time" urt="$upstream_response_time" $request_id $connection';

/** a public nginx.conf (code index): `log_format json_combined escape=json` with upstream fields */
const JSON_DIRECTIVE = `log_format json_combined escape=json
        '{'
        '"time":"$time_iso8601",'
        '"request_id":"$request_id",'
        '"remote_addr":"$remote_addr",'
        '"request":"$request",'
        '"status":$status,'
        '"body_bytes_sent":$body_bytes_sent,'
        '"request_time":$request_time,'
        '"upstream_addr":"$upstream_addr",'
        '"upstream_status":"$upstream_status",'
        '"upstream_response_time":"$upstream_response_time"'
        '}';`;

/** a public nginx.conf snippet (code index): key=value timings, escape=none, the request body */
const KEY_VALUE_DIRECTIVE = `log_format  main escape=none '$remote_addr - $remote_user [$time_local] "$request"'
                      ' $status $body_bytes_sent "$http_referer"'
                      ' [request body: $request_body]'
                      ' rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" urt="$upstream_response_time"'
                      ' "$http_user_agent" "$http_x_forwarded_for"';`;

describe('nginx-log-format: the same event as nginx-access for the same fields', () => {
  const combined = compileNginxLogFormat(COMBINED);
  const upstreaminfo = compileNginxLogFormat(UPSTREAMINFO);

  it('is an lb format named nginx-custom unless named', () => {
    expect(combined.name).toBe('nginx-custom');
    expect(combined.role).toBe('lb');
    expect(compileNginxLogFormat(COMBINED, 'edge').name).toBe('edge');
  });

  it.each([
    // tstack/lnav test/logfile_access_log.0 (peer-corpus/lnav-access.log)
    '192.168.202.254 - - [20/Jul/2009:22:59:29 +0000] "GET /vmw/vSphere/default/vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7"',
    // leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.1), docker-compose prefix
    'edge_1        | 172.22.0.1 - - [05/Jan/2022:17:24:48 +0000] "GET /path/to/my/content.ext HTTP/1.1" 200 70 "-" "HTTPie/2.6.0"',
    // constructed: a WebSocket upgrade with the user in the query
    '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 101 2945 "-" "JsSIP 3.13.0"',
  ])('combined: %s', (line) => {
    expect(one(combined, line)).toEqual(one(nginxAccess, line));
  });

  it.each([
    // a public Kubernetes lab write-up (code index), ingress-nginx default format
    '10.1.5.3 - - [15/Dec/2023:01:47:13 +0000] "GET /api/v1/generate-mandelbrot-tile?size=512&xc=-1.5&yc=0.5&scale=1.0&iterations=256 HTTP/1.1" 200 2603224 "-" "Java/19" 235 0.069 [mandelbrot-process-service-80] [] 10.1.5.60:8080 2600999 0.069 200 50145b36dff8b913fdd17d556bbd083c',
    // constructed around the upstream tail of a real ingress line (code index): three tries, all 502
    '10.244.0.1 - - [11/Mar/2026:15:24:55 +0000] "GET /webapp/ HTTP/1.1" 502 150 "-" "Mozilla/5.0" 667 0.001 [default-webapp-8000] [] 10.244.0.27:8000, 10.244.0.27:8000, 10.244.0.27:8000 0, 0, 0 0.000, 0.000, 0.000 502, 502, 502 065205c3ab074cab564e29aa7684f6f6',
    // constructed: a tunnel cut at 60 s, and a limit-rps refusal nginx answered itself
    '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws/agent-042 HTTP/1.1" 101 1234 "-" "JsSIP 3.13.0" 512 60.002 [default-sbc-ws-8080] [] 10.0.0.5:8080 1234 60.001 101 5e1f8c1b0f7a4e2b9c3d4e5f6a7b8c9d',
    '203.0.113.7 - - [24/Nov/2026:00:45:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 503 190 "-" "JsSIP 3.13.0" 512 0.000 [default-sbc-ws-8080] [] - - - - 9f0e1d2c3b4a59687766554433221100',
  ])('upstreaminfo: %s', (line) => {
    expect(one(upstreaminfo, line)).toEqual(one(nginxAccess, line));
  });

  it('upstreaminfo: reads the retried lists and keeps the last status', () => {
    const e = one(
      upstreaminfo,
      '10.244.0.1 - - [11/Mar/2026:15:24:55 +0000] "GET /webapp/ HTTP/1.1" 502 150 "-" "Mozilla/5.0" 667 0.001 [default-webapp-8000] [] 10.244.0.27:8000, 10.244.0.27:8000 : 10.244.0.28:8000 0, 0 : 0 0.000, 0.000 : 0.001 502, 502 : 502 065205c3ab074cab564e29aa7684f6f6',
    );
    expect(e.http?.upstream).toBe('10.244.0.27:8000, 10.244.0.27:8000 : 10.244.0.28:8000');
    expect(e.http?.upstreamStatus).toBe(502);
    expect(e.keys.requestId).toBe('065205c3ab074cab564e29aa7684f6f6');
    expect(e.line).toBe(7);
  });
});

describe('nginx-log-format: the brief’s format (timings as key=value, request id, connection)', () => {
  const f = compileNginxLogFormat(BRIEF);
  // constructed in that format: an idle cut at 60 s
  const line =
    '203.0.113.7 - - [24/Nov/2026:10:01:04 +0000] "GET /ws?user=agent-042 HTTP/1.1" 101 2210 "-" "JsSIP 3.13.0" rt=60.003 uct="0.001" urt="60.002" 4f2a9c1e0b7d4e3f8a6b5c4d3e2f1a0c 18211';

  it('reads end time, duration, request id, connection and the user', () => {
    const e = one(f, line);
    const end = Date.UTC(2026, 10, 24, 10, 1, 4);
    expect(e.ts).toBe(end);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.keys).toEqual({
      ip: '203.0.113.7',
      connId: '18211',
      requestId: '4f2a9c1e0b7d4e3f8a6b5c4d3e2f1a0c',
      user: 'agent-042',
    });
    expect(e.http).toMatchObject({ status: 101, durationMs: 60_003, startTs: end - 60_003, upgrade: true });
    expect(e.text).toBe('"GET /ws?user=agent-042 HTTP/1.1" 101');
  });

  it('sniffs its own lines above nginx-access, and nothing else', () => {
    expect(f.sniff(line)).toBeGreaterThan(nginxAccess.sniff(line));
    expect(
      f.sniff(
        '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
      ),
    ).toBe(0);
    expect(f.sniff('2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests')).toBe(0);
  });

  it('returns unparsed for other lines and skip for blank ones', () => {
    expect(outcome(f, 'hello')).toBe('unparsed');
    expect(outcome(f, '   ')).toBe('skip');
    // a status that is no status
    expect(outcome(f, line.replace('" 101 2210', '" abc 2210'))).toBe('unparsed');
  });
});

describe('nginx-log-format: escape=json directive', () => {
  const f = compileNginxLogFormat(JSON_DIRECTIVE);

  it('reads the directive form, ISO time, unquoted numbers and upstream fields', () => {
    // constructed in that format: the SBC refused the upgrade
    const e = one(
      f,
      '{"time":"2026-11-24T10:00:03+01:00","request_id":"9f0e1d2c3b4a59687766554433221100","remote_addr":"198.51.100.23","request":"GET /sip?user=agent-7 HTTP/1.1","status":503,"body_bytes_sent":0,"request_time":0.004,"upstream_addr":"10.0.0.5:8080","upstream_status":"503","upstream_response_time":"0.004"}',
    );
    expect(e.ts).toBe(Date.UTC(2026, 10, 24, 9, 0, 3));
    expect(e.keys).toEqual({
      ip: '198.51.100.23',
      requestId: '9f0e1d2c3b4a59687766554433221100',
      user: 'agent-7',
    });
    expect(e.http).toMatchObject({
      status: 503,
      upstreamStatus: 503,
      upstream: '10.0.0.5:8080',
      durationMs: 4,
    });
    expect(e.signal).toBe('ws-handshake-failed');
  });

  it('tells the edge’s own 503 (upstream "") from the SBC’s', () => {
    const e = one(
      f,
      '{"time":"2026-11-24T10:00:03+00:00","request_id":"9f0e1d2c3b4a59687766554433221101","remote_addr":"198.51.100.23","request":"GET /sip?user=agent-8 HTTP/1.1","status":503,"body_bytes_sent":197,"request_time":0.000,"upstream_addr":"","upstream_status":"","upstream_response_time":""}',
    );
    // escape=json prints an unset variable as "" where the default escaping prints "-"
    expect(e.http).toMatchObject({ status: 503, upstreamStatus: null });
    expect(e.http?.upstream).toBeUndefined();
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.keys.user).toBe('agent-8');
  });

  it('unescapes JSON-escaped values', () => {
    const f2 = compileNginxLogFormat(
      `log_format j escape=json '{"t":"$time_local","a":"$remote_addr","r":"$request","s":"$status","ua":"$http_user_agent"}';`,
    );
    const e = one(
      f2,
      '{"t":"24/Nov/2026:10:00:03 +0000","a":"198.51.100.23","r":"GET /ws HTTP/1.1","s":"101","ua":"Mozilla/5.0 \\"quoted\\" \\\\ end"}',
    );
    expect(e.http?.userAgent).toBe('Mozilla/5.0 "quoted" \\ end');
    expect(e.http?.status).toBe(101);
  });
});

describe('nginx-log-format: key=value directive with escape=none and unknown variables', () => {
  const f = compileNginxLogFormat(KEY_VALUE_DIRECTIVE);

  it('captures and ignores variables it does not know ($request_body, $http_x_forwarded_for)', () => {
    // constructed in that format
    const e = one(
      f,
      '198.51.100.23 - - [24/Nov/2026:10:00:03 +0000] "GET /ws/agent-9 HTTP/1.1" 504 160 "-" [request body: -] rt=60.001 uct="-" uht="-" urt="60.001" "JsSIP 3.13.0" "10.1.1.1, 10.2.2.2"',
    );
    expect(e.http).toMatchObject({ status: 504, durationMs: 60_001, userAgent: 'JsSIP 3.13.0' });
    expect(e.keys.user).toBe('agent-9');
    expect(e.signal).toBe('upstream-timeout');
  });
});

describe('nginx-log-format: other variables', () => {
  it('takes the time from $msec alone and the client port from $remote_port', () => {
    const f = compileNginxLogFormat('$msec $remote_addr:$remote_port "$request" $status $connection');
    const e = one(f, '1795514403.250 198.51.100.23:40123 "GET /ws?user=agent-3 HTTP/1.1" 101 42');
    expect(e.ts).toBe(1_795_514_403_250);
    expect(e.keys).toMatchObject({ peer: '198.51.100.23:40123', connId: '42', user: 'agent-3' });
  });

  it('builds the request from $request_method $uri?$args $server_protocol', () => {
    const f = compileNginxLogFormat(
      '\'[$time_local] $remote_addr "$request_method $uri?$args $server_protocol" $status\'',
    );
    const e = one(f, '[24/Nov/2026:10:00:03 +0000] 198.51.100.23 "GET /ws?user=agent-4 HTTP/1.1" 400');
    expect(e.http).toMatchObject({ method: 'GET', url: '/ws?user=agent-4', status: 400 });
    expect(e.keys.user).toBe('agent-4');
  });

  it('reads $http_upgrade and $http_sec_websocket_protocol: a 400 to a handshake without sip', () => {
    const f = compileNginxLogFormat(`${COMBINED} "$http_upgrade" "$http_sec_websocket_protocol"`);
    const refused = one(
      f,
      '198.51.100.23 - - [24/Nov/2026:10:00:03 +0000] "GET /ws?user=agent-5 HTTP/1.1" 400 0 "-" "ws-loadgen/1.0" "websocket" "-"',
    );
    expect(refused.signal).toBe('missing-subprotocol');
    expect(refused.http?.upgrade).toBe(true);
    const open = one(
      f,
      '198.51.100.23 - - [24/Nov/2026:10:00:04 +0000] "GET /ws?user=agent-5 HTTP/1.1" 101 0 "-" "JsSIP 3.13.0" "websocket" "sip"',
    );
    expect(open.signal).toBe('ws-open');
    expect(open.ws).toEqual({ subprotocol: 'sip' });
  });

  it('reads an unquoted X-Forwarded-For hop list like the upstream lists', () => {
    const f = compileNginxLogFormat(`${COMBINED} $http_x_forwarded_for rt=$request_time`);
    const e = one(
      f,
      '10.0.0.2 - - [24/Nov/2026:10:00:03 +0000] "GET /ws?user=agent-6 HTTP/1.1" 101 0 "-" "JsSIP 3.13.0" 198.51.100.23, 10.0.0.1 rt=61.250',
    );
    expect(e.http?.durationMs).toBe(61_250);
    expect(e.keys.user).toBe('agent-6');
  });

  it('lets the first of two adjacent variables take the run ($host$request_uri)', () => {
    const f = compileNginxLogFormat('[$time_local] $status "$request" $host$request_uri');
    const e = one(f, '[24/Nov/2026:10:00:03 +0000] 101 "GET /ws HTTP/1.1" sbc.example.com/ws');
    expect(e.http?.status).toBe(101);
  });
});

describe('nginx-log-format: specs it cannot use', () => {
  it('names what is missing', () => {
    expect(() => compileNginxLogFormat('$remote_addr "$request" $status')).toThrow(/time variable/);
    expect(() => compileNginxLogFormat('[$time_local] "$request"')).toThrow(/\$status/);
    expect(() => compileNginxLogFormat('[$time_local] $status')).toThrow(/\$request/);
    expect(() => compileNginxLogFormat('')).toThrow(/time variable.*\$status.*\$request/);
  });
});

describe('nginx-log-format: the compiled regex stays linear', () => {
  const specs = [COMBINED, UPSTREAMINFO, BRIEF, JSON_DIRECTIVE, KEY_VALUE_DIRECTIVE];
  const attacks = [
    ' '.repeat(65_000),
    'a'.repeat(65_000),
    '"'.repeat(65_000),
    '- '.repeat(32_000),
    '1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "' + 'GET /'.repeat(13_000),
    '1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 101 0 "-" "x" 1 0.1 [a] [] ' +
      '10.0.0.1:80, '.repeat(5_000),
    '1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 101 0 "-" "x" 1 0.1 [a] [] ' +
      '1 : '.repeat(16_000),
    '{"time":"2026-11-24T10:00:03+01:00","request_id":"' + '\\"'.repeat(32_000),
    '[24/Nov/2026:10:00:00 +0000] '.repeat(2_200),
  ];

  it('reads each 64 KB adversarial line within 500 ms', () => {
    for (const spec of specs) {
      const f = compileNginxLogFormat(spec);
      for (const line of attacks) {
        const t0 = performance.now();
        f.sniff(line);
        f.createParser(utcContext(2026)).push(line, 1, () => undefined);
        expect(performance.now() - t0, `${spec.slice(0, 40)} on ${line.slice(0, 30)}`).toBeLessThan(500);
      }
    }
  });
});
