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
  const parser = nginxError.createParser(ctx);
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

describe('nginx-error: rate limiting', () => {
  it('reads limit_req: local time, *N as connId, client ip, request, edge-rate-limit', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/nginx-limit-req (lb-formats.md §2.3)
    const e = one(
      '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests, excess: 1.852 by zone "one", client: 1.2.3.4, server: example.com, request: "POST /index.htm HTTP/1.0", host: "exmaple.com"',
    );
    expect(e.ts).toBe(Date.UTC(2015, 9, 29, 20, 1, 2));
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('rate-limit');
    expect(e.signal).toBe('edge-rate-limit');
    expect(e.keys).toEqual({ connId: '99927', ip: '1.2.3.4' });
    expect(e.http).toMatchObject({ method: 'POST', url: '/index.htm' });
    expect(e.text).toMatch(/^limiting requests, excess: 1\.852 by zone "one"/);
  });

  it('reads the time as local time through the context (no zone in the line)', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/nginx-limit-req
    const line =
      '2015/10/29 19:24:05 [error] 12684#12684: *22174 limiting requests, excess: 1.495 by zone "one", client: 192.0.2.0, server: example.com, request: "GET /index.php HTTP/1.1", host: "example.com", referrer: "https://example.com"';
    const utcPlus2: ParseContext = { ...utcContext(2026), localToEpoch: (wall) => wall - 2 * 3_600_000 };
    expect(one(line, utcPlus2).ts).toBe(Date.UTC(2015, 9, 29, 17, 24, 5));
    expect(one(line).keys).toEqual({ connId: '22174', ip: '192.0.2.0' });
  });

  it('a dry run refused nothing: rate-limit kind without a signal', () => {
    // constructed from the format string in lb-formats.md §2.3 (`limiting requests, dry run, excess: …`)
    const e = one(
      '2026/11/24 00:45:04 [error] 31#31: *7 limiting requests, dry run, excess: 6.400 by zone "sbc", client: 203.0.113.7, server: sbc.example.com, request: "GET /ws?user=agent-042 HTTP/1.1", host: "sbc.example.com"',
    );
    expect(e.kind).toBe('rate-limit');
    expect(e.signal).toBeUndefined();
    expect(e.keys.user).toBe('agent-042');
  });

  it('a delayed request is information only', () => {
    // constructed from the format string in lb-formats.md §2.3 (`delaying request, excess: %ui.%03ui, by zone "%V"`)
    const e = one(
      '2026/11/24 00:45:04 [warn] 31#31: *8 delaying request, excess: 0.400, by zone "sbc", client: 203.0.113.7, server: sbc.example.com, request: "GET /ws HTTP/1.1", host: "sbc.example.com"',
    );
    expect(e.kind).toBe('rate-limit');
    expect(e.signal).toBeUndefined();
  });

  it('reads limit_conn as edge-connection-limit', () => {
    // constructed from lb-formats.md §3 (ingress-nginx zone name `<ns>_<ing>_<uid>_conn`, client behind NAT)
    const e = one(
      '2026/11/24 00:45:04 [error] 31#31: *9 limiting connections by zone "default_sbc_5d2c_conn", client: 10.244.3.0, server: sbc.example.com, request: "GET /ws/agent-042 HTTP/1.1", host: "sbc.example.com"',
    );
    expect(e.signal).toBe('edge-connection-limit');
    expect(e.keys).toEqual({ connId: '9', ip: '10.244.3.0', user: 'agent-042' });
  });
});

describe('nginx-error: timeouts and resets', () => {
  it('reads a read timeout before the response header as upstream-timeout (musl errno text, compose prefix)', () => {
    // leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.3)
    const e = one(
      'edge_1        | 2021/12/29 11:52:45 [error] 8#8: *3 upstream timed out (110: Operation timed out) while reading response header from upstream, client: 172.25.0.1, server: , request: "GET /item_34.ext HTTP/1.1", upstream: "http://172.25.0.3:8080/item_34.ext", host: "localhost:8081"',
    );
    expect(e.ts).toBe(Date.UTC(2021, 11, 29, 11, 52, 45));
    expect(e.kind).toBe('timeout');
    expect(e.signal).toBe('upstream-timeout');
    expect(e.keys).toEqual({ connId: '3', ip: '172.25.0.1' });
    expect(e.http).toMatchObject({ method: 'GET', url: '/item_34.ext', upstream: '172.25.0.3:8080' });
  });

  it('reads a connect timeout as upstream-timeout', () => {
    // github.com/novnc/noVNC issue #909 (lb-formats.md §2.3)
    const e = one(
      '2017/10/04 16:42:10 [error] 7624#7624: *1 upstream timed out (110: Connection timed out) while connecting to upstream, client: 192.168.134.2, server: testnovnc.ai, request: "GET /vncws/vnc.html HTTP/1.1", upstream: "http://193.18.135.200:6080/vnc.html", host: "192.168.135.192"',
    );
    expect(e.signal).toBe('upstream-timeout');
    expect(e.keys.connId).toBe('1');
    expect(e.http?.upstream).toBe('193.18.135.200:6080');
  });

  it('reads an upgraded-connection timeout as idle-close, behind the ingress pod prefix', () => {
    // github.com/nginx/kubernetes-ingress issue #715 (lb-formats.md §2.3, abridged there with "...")
    const e = one(
      '[nginx-ingress-2zbxs] 2019/10/01 02:33:15 [info] 27#27: *519 upstream timed out (110: Connection timed out) while proxying upgraded connection ...',
    );
    expect(e.ts).toBe(Date.UTC(2019, 9, 1, 2, 33, 15));
    expect(e.signal).toBe('idle-close');
    expect(e.keys).toEqual({ connId: '519' });
  });

  it('reads a client-side upgraded timeout as idle-close too', () => {
    // constructed from the message table in lb-formats.md §2.3
    const e = one(
      '2026/11/24 00:46:04 [info] 31#31: *12 client timed out (110: Connection timed out) while proxying upgraded connection, client: 203.0.113.7, server: sbc.example.com, request: "GET /ws?user=agent-042 HTTP/1.1", upstream: "http://10.0.0.5:8080/ws?user=agent-042", host: "sbc.example.com"',
    );
    expect(e.signal).toBe('idle-close');
    expect(e.keys).toEqual({ connId: '12', ip: '203.0.113.7', user: 'agent-042' });
    expect(e.http?.upgrade).toBe(true);
  });

  it('reads a reset while proxying the tunnel as conn-reset', () => {
    // constructed from the message table in lb-formats.md §2.3
    const e = one(
      '2026/11/24 00:46:04 [error] 31#31: *13 recv() failed (104: Connection reset by peer) while proxying upgraded connection, client: 203.0.113.7, server: sbc.example.com, request: "GET /ws HTTP/1.1", upstream: "http://10.0.0.5:8080/ws", host: "sbc.example.com"',
    );
    expect(e.signal).toBe('conn-reset');
    expect(e.kind).toBe('ws-close');
  });

  it('reads upstream prematurely closed as conn-reset; connection refused and no live upstreams as plain errors', () => {
    // constructed from the message table in lb-formats.md §2.3
    const tail =
      ', client: 203.0.113.7, server: sbc.example.com, request: "GET /ws HTTP/1.1", upstream: "http://10.0.0.5:8080/ws", host: "sbc.example.com"';
    const { events } = parse([
      `2026/11/24 00:46:04 [error] 31#31: *14 upstream prematurely closed connection while reading response header from upstream${tail}`,
      `2026/11/24 00:46:04 [error] 31#31: *15 connect() failed (111: Connection refused) while connecting to upstream${tail}`,
      `2026/11/24 00:46:04 [error] 31#31: *16 no live upstreams while connecting to upstream${tail}`,
    ]);
    expect(events.map((e) => [e.kind, e.signal])).toEqual([
      ['error', 'conn-reset'],
      ['error', undefined],
      ['error', undefined],
    ]);
  });
});

describe('nginx-error: client faults and other lines', () => {
  it('reads an invalid header line as bad-header', () => {
    // constructed from the message table in lb-formats.md §2.3 (`client sent invalid header line: "…"`, [info])
    const e = one(
      '2026/11/24 00:45:04 [info] 31#31: *21 client sent invalid header line: "X-Agent Id: 42" while reading client request headers, client: 203.0.113.7, server: sbc.example.com, request: "GET /ws?user=agent-042 HTTP/1.1", host: "sbc.example.com"',
    );
    expect(e.kind).toBe('config');
    expect(e.signal).toBe('bad-header');
    expect(e.keys).toEqual({ connId: '21', ip: '203.0.113.7', user: 'agent-042' });
  });

  it('reads access forbidden by rule as acl-rejected', () => {
    // fail2ban/fail2ban fail2ban/tests/files/logs/nginx-forbidden
    const e = one(
      '2018/09/13 15:42:05 [error] 2035#2035: *287 access forbidden by rule, client: 12.34.56.78, server: www.example.com, request: "GET /wp-config.php~ HTTP/1.1", host: "www.example.com"',
    );
    expect(e.signal).toBe('acl-rejected');
    expect(e.keys).toEqual({ connId: '287', ip: '12.34.56.78' });
  });

  it('skips process chatter, keeps process-level errors, and leaves foreign lines unparsed', () => {
    const { events, outcomes } = parse([
      '2026/11/24 00:40:00 [notice] 1#1: signal process started',
      '2026/11/24 00:40:00 [emerg] 1#1: bind() to 0.0.0.0:443 failed (98: Address already in use)',
      '',
      '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
    ]);
    expect(outcomes).toEqual(['skip', 'event', 'skip', 'unparsed']);
    expect(events[0]).toMatchObject({ kind: 'error', keys: {} });
    expect(events[0].signal).toBeUndefined();
  });
});

describe('nginx-error: detection', () => {
  it('claims its own samples and refuses other formats', () => {
    expect(nginxError.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of nginxError.samples) expect(nginxError.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    const others = [
      ...readFileSync(`${CORPUS}/lnav-access.log`, 'utf8').split('\n').filter(Boolean),
      ...readFileSync(`${CORPUS}/lnav-haproxy.log`, 'utf8').split('\n').filter(Boolean),
      ...readFileSync(`${CORPUS}/lnav-syslog.log`, 'utf8').split('\n').filter(Boolean),
      'Mar 12 03:30:31 dev1 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
    ];
    for (const line of others) expect(nginxError.sniff(line), line).toBeLessThan(0.3);
    for (const s of nginxError.samples) {
      expect(nginxAccess.sniff(s.line)).toBeLessThan(0.3);
      expect(haproxy.sniff(s.line)).toBeLessThan(0.3);
    }
  });

  it('every sample parses into an event', () => {
    const { outcomes } = parse(nginxError.samples.map((s) => s.line));
    expect(outcomes.every((o) => o === 'event')).toBe(true);
  });

  it('stays linear on hostile 64 KB lines', () => {
    const head = '2026/11/24 00:45:04 [error] 31#31: *7 ';
    const hostile = [
      head + ', client: '.repeat(6_000),
      head + ', request: "'.repeat(5_000),
      head + 'a'.repeat(65_000),
    ];
    const started = performance.now();
    for (const line of hostile) {
      parse([line]);
      nginxError.sniff(line);
    }
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
