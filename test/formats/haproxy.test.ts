import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { haproxy } from '../../src/formats/haproxy.js';
import { nginxAccess } from '../../src/formats/nginx-access.js';
import { nginxError } from '../../src/formats/nginx-error.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome, ParseContext } from '../../src/formats/types.js';

const CORPUS = '/work/shared/peer-corpus';

function parse(
  lines: string[],
  ctx: ParseContext = utcContext(2026),
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = haproxy.createParser(ctx);
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function one(line: string, ctx?: ParseContext): LogEvent {
  const { events, outcomes } = parse([line], ctx);
  expect(outcomes).toEqual(['event']);
  expect(events).toHaveLength(1);
  return events[0];
}

/** A line in the `option httplog` layout (lb-formats.md §4.1) with the fields a test varies. */
function httplog(fields: {
  server?: string;
  timers: string;
  status: number;
  tsc: string;
  request?: string;
}): string {
  const {
    server = 'sbc/kamailio1',
    timers,
    status,
    tsc,
    request = 'GET /ws?user=agent-042 HTTP/1.1',
  } = fields;
  return `Nov 24 00:45:04 lb1 haproxy[2149]: 203.0.113.7:40123 [24/Nov/2026:00:44:54.012] wss~ ${server} ${timers} ${status} 0 - - ${tsc} 1/1/0/0/0 0/0 "${request}"`;
}

const START = Date.UTC(2026, 10, 24, 0, 44, 54, 12);

describe('haproxy: HTTP log', () => {
  it('reads the manual example: start from [%tr], ts = start + Ta, server status, captures', () => {
    // haproxy/haproxy doc/configuration.txt §8.2.3 (lb-formats.md §4.1)
    const e = one(
      'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"',
    );
    const start = Date.UTC(2009, 1, 6, 12, 14, 14, 655);
    expect(e.ts).toBe(start + 109);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.keys).toEqual({ ip: '10.0.1.2', peer: '10.0.1.2:33317' });
    expect(e.http).toEqual({
      status: 200,
      upstreamStatus: 200,
      upstream: 'static/srv1',
      flags: '----',
      upgrade: false,
      startTs: start,
      durationMs: 109,
      method: 'GET',
      url: '/index.html',
    });
    expect(e.signal).toBeUndefined();
  });

  it('reads a stick-table refusal: <NOSRV>, 429, PR-- → edge-rate-limit, upstream null', () => {
    // HAProxy blog "Four Examples of HAProxy Rate Limiting" (lb-formats.md §4.5); note "Feb 8" with one space
    const e = one(
      'Feb 8 17:15:07 localhost hapee-lb[19738]: 192.168.1.2:49528 [08/Feb/2018:17:15:07.182] fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 429 188 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
    );
    expect(e.ts).toBe(Date.UTC(2018, 1, 8, 17, 15, 7, 182));
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.http).toMatchObject({
      status: 429,
      upstreamStatus: null,
      upstream: 'fe_main/<NOSRV>',
      flags: 'PR--',
      durationMs: 0,
    });
  });

  it('tells the refused request from the served one next to it', () => {
    // karantan/haproxy-sandbox README.md (lb-formats.md §4.5)
    const { events } = parse([
      'Sep 23 10:05:05 karantan haproxy[2149]: 93.103.124.110:52096 [23/Sep/2022:10:05:05.544] web web/<NOSRV> 0/-1/-1/-1/0 429 225 - - PR-- 3/3/0/0/0 0/0 {70.34.213.|hey/0.0.1} "GET / HTTP/1.1"',
      'Sep 23 10:05:05 karantan haproxy[2149]: 93.103.124.110:52097 [23/Sep/2022:10:05:05.544] web api/server1 0/0/0/1/1 200 151 - - ---- 3/3/0/0/0 0/0 {70.34.213.|hey/0.0.1} "GET / HTTP/1.1"',
    ]);
    expect(events.map((e) => [e.keys.peer, e.http?.upstreamStatus, e.signal])).toEqual([
      ['93.103.124.110:52096', null, 'edge-rate-limit'],
      ['93.103.124.110:52097', 200, undefined],
    ]);
    expect(events[1].ts).toBe(Date.UTC(2022, 8, 23, 10, 5, 5, 545));
  });

  it('reads IPv6 and IPv4-mapped clients; 401 PR-- is an auth challenge', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/haproxy-http-auth
    const v6 = one(
      'Nov 14 22:45:11 test haproxy[760]: 2001:db8::1234:58430 [14/Nov/2015:22:45:11.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
    );
    expect(v6.keys).toEqual({ ip: '2001:db8::1234', peer: '[2001:db8::1234]:58430' });
    expect(v6.signal).toBe('auth-challenge');
    const mapped = one(
      'Nov 14 22:45:11 test haproxy[760]: ::ffff:192.168.33.1:58430 [14/Nov/2015:22:45:11.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
    );
    expect(mapped.keys).toEqual({ ip: '192.168.33.1', peer: '192.168.33.1:58430' });
  });

  it('a 403 from a real server with ---- is passed through, not an edge refusal', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/haproxy-http-auth
    const e = one(
      'Nov 14 22:45:27 test haproxy[760]: 192.168.33.1:58444 [14/Nov/2015:22:45:25.439] main app/app1 1939/0/1/0/1940 403 5168 - - ---- 3/3/0/0/0 0/0 "GET / HTTP/1.1"',
    );
    expect(e.ts).toBe(Date.UTC(2015, 10, 14, 22, 45, 25, 439) + 1940);
    expect(e.http?.upstreamStatus).toBe(403);
    expect(e.signal).toBe('ws-handshake-failed');
  });

  it('reads the whole lnav file: access lines are events, start-up and SSL lines are skipped', () => {
    // tstack/lnav test/logfile_haproxy.0 (peer-corpus/lnav-haproxy.log)
    const lines = readFileSync(`${CORPUS}/lnav-haproxy.log`, 'utf8').split('\n').filter(Boolean);
    const { events, outcomes } = parse(lines);
    expect(outcomes.filter((o) => o === 'event')).toHaveLength(13);
    expect(outcomes.filter((o) => o === 'skip')).toHaveLength(4);
    expect(outcomes).not.toContain('unparsed');
    const first = events[0];
    expect(first.ts).toBe(Date.UTC(2019, 1, 25, 16, 19, 48, 143) + 1487);
    expect(first.http).toMatchObject({ status: 200, upstream: 'bk_admin/nginx_sonst', durationMs: 1487 });
    expect(first.keys.peer).toBe('141.35.244.171:53332');
    for (const line of lines) expect(haproxy.sniff(line), line).toBeGreaterThanOrEqual(0.8);
    // the access lines sniff on their own shape, not only on the program name
    expect(haproxy.sniff(lines[3])).toBeGreaterThanOrEqual(0.95);
  });

  it('reads a line without syslog header (log stdout format raw) and one behind docker-compose', () => {
    // constructed: the manual's example body without the header
    const body =
      '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"';
    expect(one(body).ts).toBe(Date.UTC(2009, 1, 6, 12, 14, 14, 764));
    expect(one(`haproxy_1  | ${body}`).ts).toBe(Date.UTC(2009, 1, 6, 12, 14, 14, 764));
    expect(haproxy.sniff(body)).toBeGreaterThanOrEqual(0.8);
  });

  it('reads [%tr] as local time through the context', () => {
    // karantan/haproxy-sandbox README.md (lb-formats.md §4.5)
    const utcMinus5: ParseContext = { ...utcContext(2026), localToEpoch: (wall) => wall + 5 * 3_600_000 };
    const e = one(
      'Sep 23 10:05:05 karantan haproxy[2149]: 93.103.124.110:52097 [23/Sep/2022:10:05:05.544] web api/server1 0/0/0/1/1 200 151 - - ---- 3/3/0/0/0 0/0 {70.34.213.|hey/0.0.1} "GET / HTTP/1.1"',
      utcMinus5,
    );
    expect(e.http?.startTs).toBe(Date.UTC(2022, 8, 23, 15, 5, 5, 544));
  });
});

describe('haproxy: WebSocket handshakes and tunnels', () => {
  it('observed: a malformed header → <NOSRV> 400 PR-- "<BADREQ>" → bad-header', () => {
    // constructed from observed-on-real-servers.md (`fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- ... "<BADREQ>"`)
    const e = one(
      httplog({
        server: 'wss/<NOSRV>',
        timers: '-1/-1/-1/-1/0',
        status: 400,
        tsc: 'PR--',
        request: '<BADREQ>',
      }),
    );
    expect(e.signal).toBe('bad-header');
    expect(e.http?.upstreamStatus).toBeNull();
    expect(e.http?.method).toBeUndefined();
    expect(e.keys.user).toBeUndefined();
  });

  it('observed: the SBC refusing a handshake without the sip subprotocol → 400 ---- from a real server', () => {
    // constructed from observed-on-real-servers.md (Kamailio "required headers not present", 400 passes with ----)
    const e = one(httplog({ timers: '0/0/0/1/1', status: 400, tsc: '----' }));
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http).toMatchObject({
      status: 400,
      upstreamStatus: 400,
      upstream: 'sbc/kamailio1',
      upgrade: true,
    });
    expect(e.kind).toBe('ws-handshake');
    expect(e.keys.user).toBe('agent-042');
  });

  it('observed: timeout tunnel cut a silent socket → 101 cD-- with Ta ≈ the timeout → idle-close', () => {
    // constructed from observed-on-real-servers.md (all tunnel cuts were cD--, Ta ≈ 10 0xx ms for 10 s)
    const e = one(httplog({ timers: '0/0/0/1/10023', status: 101, tsc: 'cD--' }));
    expect(e.signal).toBe('idle-close');
    expect(e.ts).toBe(START + 10_023);
    expect(e.http).toMatchObject({
      status: 101,
      upstreamStatus: 101,
      durationMs: 10_023,
      startTs: START,
      flags: 'cD--',
      upgrade: true,
    });
    expect(one(httplog({ timers: '0/0/0/1/10023', status: 101, tsc: 'sD--' })).signal).toBe('idle-close');
  });

  it.each([
    ['----', 'ws-open'],
    ['CD--', 'ws-close'],
    ['SD--', 'conn-reset'],
  ] as const)('101 %s → %s', (tsc, signal) => {
    expect(one(httplog({ timers: '0/0/0/1/5000', status: 101, tsc })).signal).toBe(signal);
  });

  it.each([
    // [server, timers, status, tsc, signal, upstreamStatus]
    ['sbc/kamailio1', '0/0/0/2/2', 503, '----', 'ws-handshake-failed', 503], // SBC throttling on the handshake (§11.1)
    ['sbc/kamailio1', '0/10000/-1/-1/10000', 503, 'sQ--', 'edge-rate-limit', null], // queue shedding (§4.5)
    ['sbc/kamailio1', '0/0/0/-1/30001', 504, 'sH--', 'upstream-timeout', 504], // timeout server before headers
    ['sbc/kamailio1', '0/0/-1/-1/5001', 503, 'sC--', 'upstream-timeout', 503], // timeout connect
    ['sbc/kamailio1', '0/0/0/-1/3', 502, 'SH--', 'conn-reset', 502], // server closed before headers
    ['sbc/kamailio1', '0/0/-1/-1/1', 503, 'SC--', 'conn-reset', 503], // server refused the TCP connection
    ['wss/<NOSRV>', '0/-1/-1/-1/0', 503, 'SC--', 'ws-handshake-failed', null], // no server available
    ['wss/<NOSRV>', '0/-1/-1/-1/0', 403, 'PR--', 'edge-rate-limit', null], // deny (default status 403)
    ['sbc/kamailio1', '0/0/0/-1/4000', -1, 'CH--', 'client-timeout', undefined], // client gave up waiting (like 499)
    ['wss/<NOSRV>', '-1/-1/-1/-1/10001', 408, 'cR--', undefined, null], // timeout http-request: pre-connection
    ['wss/<NOSRV>', '-1/-1/-1/-1/2', 400, 'CR--', undefined, null], // client closed before a request
  ] as const)('%s %s %i %s → %s', (server, timers, status, tsc, signal, upstreamStatus) => {
    const e = one(httplog({ server, timers, status, tsc }));
    expect(e.signal).toBe(signal);
    expect(e.http?.upstreamStatus).toBe(upstreamStatus);
  });

  it('reads status -1 (nothing sent to the client) as 0', () => {
    const e = one(httplog({ timers: '0/0/0/-1/4000', status: -1, tsc: 'CH--' }));
    expect(e.http?.status).toBe(0);
  });
});

describe('haproxy: TCP log and other messages', () => {
  it('reads a tcplog client timeout: Tt as duration, cD → idle-close', () => {
    // constructed around the manual's tcplog example `px-tcp/srv1 0/0/5007 0 cD 0/0/0/0/0 0/0` (lb-formats.md §4.4)
    const e = one(
      'Nov 24 00:45:04 lb1 haproxy[2149]: 203.0.113.7:40123 [24/Nov/2026:00:44:54.012] px-tcp px-tcp/srv1 0/0/5007 0 cD 0/0/0/0/0 0/0',
    );
    expect(e.signal).toBe('idle-close');
    expect(e.ts).toBe(START + 5007);
    expect(e.http).toEqual({ upstream: 'px-tcp/srv1', flags: 'cD', startTs: START, durationMs: 5007 });
    expect(e.keys.peer).toBe('203.0.113.7:40123');
  });

  it('reads a frontend at maxconn as edge-connection-limit', () => {
    // the alert text from haproxy/haproxy #3295 (lb-formats.md §4.5) behind a syslog header
    const e = one(
      "Nov 24 00:45:04 lb1 haproxy[2149]: Proxy tls reached the configured maximum connection limit. Please check the global 'maxconn' value.",
    );
    expect(e.signal).toBe('edge-connection-limit');
    expect(e.ts).toBe(Date.UTC(2026, 10, 24, 0, 45, 4));
  });

  it('skips start-up and SSL connection errors, with or without a syslog date', () => {
    const { outcomes } = parse([
      // tstack/lnav test/logfile_haproxy.0
      'Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.',
      // haproxy/haproxy doc/configuration.txt (lb-formats.md §4.1)
      'haproxy[6103]: 127.0.0.1:56059 [03/Dec/2012:17:35:10.380] frt/f1: Connection error during SSL handshake',
      // constructed: HAProxy 2.x start-up line on stderr
      '[NOTICE]   (1) : haproxy version is 2.6.12',
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
  });

  it('leaves other programs unparsed', () => {
    const { outcomes } = parse([
      'Mar 12 03:30:31 dev1 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      'Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed',
    ]);
    expect(outcomes).toEqual(['unparsed', 'unparsed']);
  });
});

describe('haproxy: detection', () => {
  it('claims its own samples and refuses other formats', () => {
    expect(haproxy.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of haproxy.samples) expect(haproxy.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    const others = [
      ...readFileSync(`${CORPUS}/lnav-access.log`, 'utf8').split('\n').filter(Boolean),
      ...readFileSync(`${CORPUS}/lnav-syslog.log`, 'utf8').split('\n').filter(Boolean),
      ...nginxError.samples.map((s) => s.line),
      ...nginxAccess.samples.map((s) => s.line),
      'Mar 12 03:30:31 dev1 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
    ];
    for (const line of others) expect(haproxy.sniff(line), line).toBeLessThan(0.3);
    for (const s of haproxy.samples) {
      expect(nginxAccess.sniff(s.line)).toBeLessThan(0.3);
      expect(nginxError.sniff(s.line)).toBeLessThan(0.3);
    }
  });

  it('every sample parses into an event', () => {
    const { outcomes } = parse(haproxy.samples.map((s) => s.line));
    expect(outcomes.every((o) => o === 'event')).toBe(true);
  });

  it('stays linear on hostile 64 KB lines', () => {
    const head =
      'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 ';
    const hostile = [
      head + '{a '.repeat(21_000),
      head + '"a '.repeat(21_000),
      'Feb  6 '.repeat(9_000),
      ':1 '.repeat(21_000),
      'a['.repeat(32_000),
    ];
    const started = performance.now();
    for (const line of hostile) {
      parse([line]);
      haproxy.sniff(line);
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('haproxy: lines a real HAProxy 2.6.12 printed in the lab (lab/, `log stdout format rfc3164`)', () => {
  // captured by `npm run lab` (docs/LAB.md): the PRI stays in front of the RFC 3164 header on stdout
  it('reads the PRI-prefixed header and the idle cut, the malformed-header refusal and the 504', () => {
    const { events, outcomes } = parse([
      '<134>Nov 24 03:36:50 localhost haproxy[24589]: 127.0.0.1:47400 [24/Nov/2026:03:36:45.693] fe_ws be_sbc/kam1 0/0/0/61/5085 101 1172 - - cD-- 24/24/23/23/0 0/0 "GET /ws?user=agent-006 HTTP/1.1"',
      '<134>Nov 24 03:33:34 localhost haproxy[22774]: 127.0.0.1:55234 [24/Nov/2026:03:33:34.267] fe_ws fe_ws/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"',
      '<134>Nov 24 03:33:51 localhost haproxy[22988]: 127.0.0.1:57868 [24/Nov/2026:03:33:49.470] fe_ws be_sbc/kam1 0/0/1/-1/2004 504 198 - - sH-- 23/23/22/22/0 0/0 "GET /ws?user=agent-002 HTTP/1.1"',
    ]);
    expect(outcomes).toEqual(['event', 'event', 'event']);
    expect(events.map((e) => e.signal)).toEqual(['idle-close', 'bad-header', 'upstream-timeout']);
    expect(events[0]).toMatchObject({ keys: { user: 'agent-006', peer: '127.0.0.1:47400' } });
    expect(events[0].http).toMatchObject({ status: 101, durationMs: 5085, flags: 'cD--' });
    expect(events[0].ts).toBe(Date.UTC(2026, 10, 24, 3, 36, 45, 693) + 5085);
    expect(events[1].keys.user).toBeUndefined();
    expect(events[1].http).toMatchObject({ status: 400, upstreamStatus: null });
    expect(events[2]).toMatchObject({ keys: { user: 'agent-002' }, http: { status: 504 } });
  });
});
