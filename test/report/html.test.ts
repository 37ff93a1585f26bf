import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Evidence, Report } from '../../src/model.js';
import { CAUSES } from '../../src/model.js';
import {
  buildData,
  escapeHtml,
  jsonForScript,
  ladderStep,
  renderHtml,
  timelineBuckets,
} from '../../src/report/html.js';
import { finding, hostileReport, HOSTILE_LINES, MIX, sampleReport } from './fixture.js';

function blob(html: string): ReturnType<typeof buildData> {
  const m = /<script type="application\/json" id="logdiag-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

describe('renderHtml', () => {
  const report = sampleReport();
  const html = renderHtml(report, { redacted: true });

  it('is one self-contained page: nothing external, a CSP that allows only its own script', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<link\b|<img\b|<iframe\b|@import|url\((?!#)|\bsrc=|href="(?!#)/i);
    const page = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/g, '');
    expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp).toContain("default-src 'none'");
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0]).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
  });

  it('puts the verdict first, then the timeline, causes, sessions, inputs and what was ruled out', () => {
    const order = [
      'id="verdict"',
      'id="timeline"',
      'id="causes"',
      'id="sessions"',
      'id="inputs"',
      'id="ruled-out"',
    ].map((s) => html.indexOf(s));
    expect(order.every((p) => p > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain(escapeHtml(report.summary.verdict!));
    expect(html).toContain('secrets redacted');
    for (const [cause, n] of MIX)
      expect(html).toMatch(new RegExp(`${cause}</span><div[^>]*>[^<]*</div></td><td class="num">${n}</td>`));
    expect(html).toContain('<td class="mono">logs/client.log</td><td>jssip</td><td>client</td>');
    expect(html).toContain('+743 ms');
    expect(html).toContain('it was set on 41 sessions and 29 of them are healthy');
  });

  it('draws a timeline bar per cause and bucket, with the clickable time window', () => {
    const bars = [
      ...html.matchAll(
        /<rect class="bar" data-c="(\d)" data-a="(\d+)" data-b="(\d+)"[^>]* height="([\d.]+)"/g,
      ),
    ];
    expect(bars.length).toBeGreaterThan(10);
    expect(new Set(bars.map((b) => CAUSES[Number(b[1])]))).toEqual(new Set(MIX.map(([c]) => c)));
    for (const b of bars) {
      expect(Number(b[4])).toBeGreaterThan(0);
      expect(Number(b[3]) - Number(b[2])).toBe(timelineBuckets(report).stepMs);
    }
    expect(html).toContain('failures began');
  });

  it('embeds every session with its evidence, times relative to the first one', () => {
    const data = blob(html);
    expect(data.sessions).toHaveLength(report.findings.length);
    const first = Math.min(...report.findings.map((f) => Date.parse(f.firstSeen)));
    expect(data.t0).toBe(first);
    report.findings.forEach((f, i) => {
      const s = data.sessions[i];
      expect(s.id).toBe(f.session);
      expect(data.causes[s.c]).toBe(f.cause);
      expect(data.text[s.x]).toBe(f.explanation);
      expect(s.e).toHaveLength(f.evidence.length);
      f.evidence.forEach((e, j) => {
        const [p, line, , t, text] = s.e[j];
        expect([data.paths[p], line, text, t === null ? null : data.t0 + t]).toEqual([
          e.path,
          e.line,
          e.text,
          Date.parse(e.time!),
        ]);
      });
    });
    // strings and paths are stored once
    expect(data.paths.length).toBe(4);
    expect(data.text.length).toBeLessThan(2 * report.findings.length);
  });

  it('keeps hostile log text as text', () => {
    const out = renderHtml(hostileReport());
    expect(out.match(/<script\b/g)).toHaveLength(3); // the data blob, the colours, the page script
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<b>bold');
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const data = blob(out);
    expect(data.text).toContain('Odd text <b>bold</b> | pipe `tick` \\x1b[31m');
    expect(out).toContain('Odd text \\u003cb\\u003ebold');
    const odd = data.sessions.find((s) => s.id === 'user:agent-900')!;
    expect(odd.e.map((r) => r[4])).toEqual([
      HOSTILE_LINES[0],
      HOSTILE_LINES[1],
      HOSTILE_LINES[2].replace(/\u001b/g, '\\x1b').replace(/\u0007/g, '\\x07'),
    ]);
    expect(data.paths).toContain('logs/odd|name`.log');
  });

  it('escapes JSON for a script element', () => {
    const s = jsonForScript({ a: '</script><!-- \u2028 & >' });
    expect(s).not.toMatch(/<|>|&|\u2028/);
    expect(JSON.parse(s)).toEqual({ a: '</script><!-- \u2028 & >' });
  });

  it('says when nothing failed', () => {
    const clean: Report = {
      ...sampleReport(),
      findings: [],
      summary: { sessions: 5, failedSessions: 0, byCause: {}, primaryCause: null },
    };
    const out = renderHtml(clean);
    expect(out).toContain('No failure found.');
    expect(out).toContain('No failures to chart.');
    expect(blob(out).sessions).toEqual([]);
  });

  it('stays a few MB for 5,000 failed sessions', () => {
    const big = sampleReport();
    const causes = MIX.map(([c]) => c);
    big.findings = Array.from({ length: 5000 }, (_, n) =>
      finding(causes[n % causes.length], n + 1, (n * 97) % 600_000),
    );
    const started = performance.now();
    const out = renderHtml(big);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(out.length / 1e6).toBeLessThan(8);
    expect(blob(out).sessions).toHaveLength(5000);
  });
});

describe('timelineBuckets', () => {
  it('counts each failing session once per bucket it has evidence in, and once at its onset', () => {
    const report = sampleReport();
    const { stepMs, buckets } = timelineBuckets(report);
    expect(stepMs).toBe(5000);
    expect(buckets.reduce((a, b) => a + b.onset, 0)).toBe(report.findings.length);
    for (const b of buckets)
      for (const v of Object.values(b.byCause)) expect(v).toBeLessThanOrEqual(report.findings.length);
    for (const [cause, n] of MIX) {
      const counted = buckets.reduce((a, b) => a + (b.byCause[cause] ?? 0), 0);
      expect(counted).toBeGreaterThanOrEqual(n);
      expect(counted).toBeLessThanOrEqual(n * 4);
    }
    // a throttled session retried 5 s later is counted in the next bucket too
    expect(buckets.reduce((a, b) => a + (b.byCause['sbc-throttling'] ?? 0), 0)).toBeGreaterThan(12);
  });

  it('picks a coarser step for longer runs', () => {
    const report = sampleReport();
    const f = report.findings[0];
    f.evidence = [{ ...f.evidence[0], time: '2025-11-24T16:00:00.000Z' }, ...f.evidence];
    const { stepMs, buckets } = timelineBuckets(report);
    expect(stepMs).toBe(600_000);
    expect(buckets.length).toBeLessThanOrEqual(60);
  });
});

describe('ladderStep', () => {
  const e = (role: Evidence['role'], text: string): Evidence => ({ path: 'x.log', line: 1, role, text });
  it.each<[Evidence['role'], string, string, string, string, string]>([
    [
      'sbc',
      'Nov 24 10:00:00 sbc-01 /usr/sbin/kamailio[16659]: WARNING: {1 1 REGISTER sk} <script>: rl_check() failed for REGISTER from sip:agent-001@example.com (IP:10.0.0.2:44711), replying 503 Limiting',
      'sbc',
      'client',
      '503 Limiting',
      'bad',
    ],
    [
      'client',
      '2025-11-24T10:00:01.067Z JsSIP:Transport received text message: ⏎ SIP/2.0 503 Limiting ⏎ Retry-After: 5',
      'sbc',
      'client',
      '503 Limiting',
      'bad',
    ],
    [
      'lb',
      '198.51.100.23 - - [24/Nov/2025:09:59:59 +0000] "GET /ws?user=agent-003 HTTP/1.1" 503 197 "-" "-" 0.000 - - 72778 39f1 36809',
      'lb',
      'client',
      '/ws → 503',
      'bad',
    ],
    [
      'lb',
      '198.51.100.23 - - [24/Nov/2025:10:00:59 +0000] "GET /ws?user=agent-002 HTTP/1.1" 101 965 "-" "-" 60.034 101 10.0.0.1:8080 72777 653e 34293',
      'lb',
      'client',
      '/ws → 101, 60.0 s',
      'ok',
    ],
    [
      'lb',
      'Nov 24 10:01:01 lb-01 haproxy[16742]: 198.51.100.23:44780 [24/Nov/2025:10:00:01.482] fe_ws~ be_sbc/sbc1 0/0/0/2/60054 101 1169 - - cD-- 100/100/100/100/0 0/0 "GET /ws?user=agent-005 HTTP/1.1"',
      'lb',
      'client',
      '/ws → 101, 60.1 s cD--',
      'bad',
    ],
    [
      'lb',
      '2025/11/24 09:59:59 [error] 7723#7723: *72778 limiting requests, excess: 6.508 by zone "ws_limit", client: 198.51.100.23, request: "GET /ws?user=agent-003 HTTP/1.1"',
      'lb',
      'lb',
      'limit_req: request refused',
      'bad',
    ],
    [
      'lb',
      '2025/11/24 10:01:00 [error] 7723#7723: *72782 upstream timed out (110: Connection timed out) while reading response header from upstream, request: "GET /ws HTTP/1.1"',
      'sbc',
      'lb',
      'upstream timed out',
      'bad',
    ],
    [
      'client',
      '2025-11-24T10:00:01.340Z JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=agent-003 error:  Error: Unexpected server response: 503',
      'lb',
      'client',
      'HTTP 503',
      'bad',
    ],
    [
      'client',
      '2025-11-24T10:01:01.329Z [agent-002] Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally',
      'client',
      'client',
      'WebSocket closed 1006',
      'bad',
    ],
    [
      'client',
      'Mon Nov 24 2025 10:00:00 GMT+0000 (Coordinated Universal Time) | sip.Transport | Connecting wss://sbc.example.com/websocket?user=agent-006',
      'client',
      'lb',
      'WebSocket connect',
      'info',
    ],
    [
      'client',
      '2025-11-24T10:00:04.226Z JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=agent-017 error:  TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
      'client',
      'client',
      'invalid header: handshake not sent',
      'bad',
    ],
    [
      'client',
      '2025-11-24T10:00:14.778Z [agent-020] registrationFailed: cause="SIP Failure Code" response="504 Server Time-out"',
      'client',
      'client',
      'REGISTER failed: 504 Server Time-out',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:00:09 sbc-01 /usr/sbin/kamailio[16662]: NOTICE: {1 2 REGISTER e} <script>: auth failed for agent-049@example.com from 10.0.0.2:43852: auth_check() returned -3 (user not found), replying 403',
      'sbc',
      'client',
      '403 (user not found)',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:00:06 sbc-01 /usr/sbin/kamailio[16656]: NOTICE: {1 2 REGISTER l} <script>: auth failed for agent-030@example.com from 10.0.0.2:48346: auth_check() returned -2 (invalid password), re-challenging',
      'sbc',
      'sbc',
      'auth failed: invalid password',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:01:00 sbc-01 /usr/sbin/kamailio[16657]: ERROR: <core> [core/tcp_read.c:289]: tcp_read_data(): error reading: Connection reset by peer (104) ([10.0.0.2]:44491 ->\nNov 24 10:01:00 sbc-01 ...',
      'lb',
      'sbc',
      'connection reset',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:00:00 sbc-01 /usr/sbin/kamailio[10699]: ALERT: {1 2 REGISTER k} <script>: pl_check("register") drop',
      'sbc',
      'sbc',
      'pipelimit register: drop',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:00:15 sbc-01 /usr/sbin/kamailio[16656]: WARNING: websocket [ws_handshake.c:254]: ws_handle_handshake(): required headers not present',
      'sbc',
      'sbc',
      'handshake: required headers missing',
      'bad',
    ],
    [
      'sbc',
      'Nov 24 10:00:15 sbc-01 /usr/sbin/kamailio[1]: INFO: <script>: something happened here that is long enough to clip',
      'sbc',
      'sbc',
      'something happened here that is lon…',
      'info',
    ],
  ])('%s: %s', (role, text, from, to, label, tone) => {
    expect(ladderStep(e(role, text))).toEqual({ from, to, label, tone });
  });
});
