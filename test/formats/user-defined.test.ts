/**
 * User-defined formats (docs/FORMATS.md): validation names the bad field in one line, and a
 * format described in JSON reads lines into the same events a built-in format would emit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { compileTimePattern } from '../../src/formats/time-pattern.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome, LogFormat } from '../../src/formats/types.js';
import {
  parseUserFormats,
  unsafeRegexReason,
  UserFormatError,
  type UserLogFormat,
} from '../../src/formats/user-defined.js';
import type { LogEvent } from '../../src/model.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'user-formats');

function voxgateJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURE, 'formats.json'), 'utf8')) as Record<string, unknown>;
}

function only(formats: UserLogFormat[]): UserLogFormat {
  expect(formats).toHaveLength(1);
  return formats[0];
}

function parse(format: LogFormat, lines: readonly string[], ctx = utcContext(2026, 0)) {
  const parser = format.createParser(ctx);
  const events: LogEvent[] = [];
  const outcomes: LineOutcome[] = lines.map((l, i) => parser.push(l, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

/** The smallest valid description; tests break one field at a time. */
function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme-gw',
    role: 'sbc',
    regex: '(?<time>\\S+ \\S+) (?<msg>.*)',
    timestamp: { group: 'time', format: 'yyyy-MM-dd HH:mm:ss.SSS' },
    fields: { message: 'msg' },
    ...extra,
  };
}

function errorOf(json: unknown, origin = 'my.json'): string {
  try {
    parseUserFormats(json, origin);
  } catch (err) {
    expect(err).toBeInstanceOf(UserFormatError);
    const message = (err as Error).message;
    expect(message, 'one line').not.toMatch(/\n/);
    return message;
  }
  throw new Error('no error');
}

describe('user-defined formats: validation names the bad field', () => {
  it('accepts the minimal description, alone or in a list', () => {
    expect(only(parseUserFormats(minimal(), 'a.json')).name).toBe('acme-gw');
    const two = parseUserFormats(
      { formats: [minimal(), minimal({ name: 'other-gw', role: 'lb' })] },
      'b.json',
    );
    expect(two.map((f) => [f.name, f.role, f.origin])).toEqual([
      ['acme-gw', 'sbc', 'b.json'],
      ['other-gw', 'lb', 'b.json'],
    ]);
  });

  it.each([
    ['a list', [], 'my.json: expected an object, got a list'],
    ['a missing name', { ...minimal(), name: undefined }, 'my.json: name: required'],
    [
      'an unknown role',
      { formats: [minimal(), minimal({ name: 'x2', role: 'proxy' })] },
      "my.json: formats[1].role: unknown role 'proxy' (expected sbc, lb, client)",
    ],
    [
      'a built-in name',
      minimal({ name: 'kamailio' }),
      "my.json: name: 'kamailio' is a built-in format; choose another name",
    ],
    [
      'a name used twice',
      { formats: [minimal(), minimal()] },
      "my.json: formats[1].name: 'acme-gw' is already defined in my.json",
    ],
    [
      'a misspelt field',
      minimal({ timestmap: {} }),
      'my.json: timestmap: unknown field (expected one of: name, role, description, regex',
    ],
    [
      'a regex that does not compile',
      minimal({ regex: '(?<time>\\S+' }),
      'my.json: regex: Invalid regular expression',
    ],
    [
      'a nested quantifier',
      minimal({ regex: '(?<time>\\S+ \\S+) (?<msg>(?:\\w+\\s?)+)' }),
      'my.json: regex: a repeated group contains a repetition',
    ],
    [
      'a regex without named groups',
      minimal({ regex: '\\S+ .*' }),
      'my.json: regex: the regex has no named groups',
    ],
    [
      'a wrong timestamp group',
      minimal({ timestamp: { group: 'ts', format: 'iso8601' } }),
      "my.json: timestamp.group: no group 'ts' in the regex (named groups: time, msg)",
    ],
    [
      'minutes where the month should be',
      {
        formats: [
          minimal(),
          minimal({ name: 'x2' }),
          minimal({ name: 'x3', timestamp: { group: 'time', format: 'yyyy-mm-dd' } }),
        ],
      },
      "my.json: formats[2].timestamp.format: unknown format 'yyyy-mm-dd' (expected iso8601, epoch-s, epoch-ms, syslog, nginx or a date pattern such as 'yyyy-MM-dd HH:mm:ss.SSS': the pattern has no month (MM or MMM; mm is minutes))",
    ],
    [
      'an unknown pattern letter',
      minimal({ timestamp: { group: 'time', format: 'yyyy-MM-ddTHH:mm' } }),
      "my.json: timestamp.format: unknown format 'yyyy-MM-ddTHH:mm' (expected",
    ],
    [
      'an unknown zone',
      minimal({ timestamp: { group: 'time', format: 'iso8601', zone: 'Mars/Olympus' } }),
      "my.json: timestamp.zone: unknown time zone 'Mars/Olympus'",
    ],
    [
      'an unknown key name',
      minimal({ keys: { connection: 'msg' } }),
      'my.json: keys.connection: unknown key (expected one of: callId, user, peer, ip, connId, requestId, wsKey)',
    ],
    [
      'a key naming no group',
      minimal({ keys: { user: 'who' } }),
      "my.json: keys.user: no group 'who' in the regex",
    ],
    [
      'an unknown field',
      minimal({ fields: { status: 'msg' } }),
      'my.json: fields.status: unknown field (expected one of: message, sipMethod',
    ],
    [
      'an unknown signal',
      minimal({
        signals: [
          { match: 'x', signal: 'sbc-rate-limit' },
          { match: 'slow down', signal: 'rate-limited' },
        ],
      }),
      "my.json: signals[1].signal: unknown signal 'rate-limited' (expected ws-connecting, ws-open",
    ],
    [
      'a signal rule that backtracks',
      minimal({ signals: [{ match: '(a*)*b', signal: 'sbc-rate-limit' }] }),
      'my.json: signals[0].match: a repeated group contains a repetition',
    ],
    ['a stateful flag', minimal({ flags: 'gi' }), "my.json: flags: unknown flag 'g' (allowed: i, m, s, u)"],
    [
      'a sample that does not match',
      minimal({ sample: ['2026-11-24 10:00:00.000 ok', 'garbage'] }),
      "my.json: sample[1]: does not match the regex: 'garbage'",
    ],
    [
      'a sample whose time does not read',
      minimal({ sample: ['2026-13-24 10:00:00.000 ok'] }),
      "my.json: sample[0]: timestamp '2026-13-24 10:00:00.000' does not read as 'yyyy-MM-dd HH:mm:ss.SSS'",
    ],
    ['a wrong type', minimal({ keys: ['user'] }), 'my.json: keys: expected an object, got a list'],
  ])('reports %s', (_what, json, expected) => {
    expect(errorOf(json)).toContain(expected);
  });

  it('accepts the fixture format and checks its samples at load time', () => {
    const f = only(parseUserFormats(voxgateJson(), 'formats.json'));
    expect(f.name).toBe('voxgate');
    expect(f.samples.length).toBeGreaterThan(0);
    for (const s of f.samples) expect(f.sniff(s.line), s.line).toBe(1);
  });
});

describe('user-defined formats: the regex guard', () => {
  it.each([
    ['(a+)+', true],
    ['(?:\\w+\\s?)*x', true],
    ['(a|b*){2,}', true],
    ['(?<x>[^)]+){1,5}', true],
    ['(\\w+)\\1', true],
    ['(?<x>a)\\k<x>', true],
    ['(?:.*?CallId:(?<callId>\\S+))?', false],
    ['(?<a>\\d+) (?<b>[a-z]+)(?: x=(?<x>\\S+))?', false],
    ['[(+]+(?:ab){3}', false],
    ['\\(+\\)+', false],
    ['(?<=a)b+', false],
  ])('%s → refused: %s', (source, refused) => {
    expect(unsafeRegexReason(source) !== undefined).toBe(refused);
  });

  it('refuses, at load time, a regex that backtracks quadratically on long lines', () => {
    const slow = minimal({
      regex: '(?<time>\\S+ \\S+) (?<a>.*)x(?<b>.*)y',
      fields: { message: 'a' },
      sample: ['2026-11-24 10:00:00.000 axby'],
    });
    expect(errorOf(slow)).toMatch(
      /^my\.json: regex: too slow on long lines \(\d+ ms on a \d+ KB line of 'x'\)/,
    );
    const slowRule = minimal({ signals: [{ match: 'rate.*limit.*exceeded', signal: 'sbc-rate-limit' }] });
    expect(errorOf(slowRule)).toMatch(/^my\.json: signals\[0\]\.match: too slow on long lines/);
  });

  it('matches at most the 64 KB line cap, fast, however long the line', () => {
    const f = only(
      parseUserFormats(
        minimal({
          regex: '(?<time>\\S+ \\S+) (?<level>[A-Z]+) (?<msg>.*)$',
          sample: ['2026-11-24 10:00:00.000 INFO ok'],
        }),
        'a.json',
      ),
    );
    const long = `2026-11-24 10:00:00.000 INFO ${'x '.repeat(100_000)}`;
    const odd = `2026-11-24 10:00:00.000 ${'I'.repeat(200_000)}`;
    const start = performance.now();
    const { outcomes, events } = parse(f, [long, odd]);
    expect(outcomes).toEqual(['skip', 'unparsed']);
    expect(events).toEqual([]);
    expect(f.sniff(long)).toBe(1);
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

describe('date patterns', () => {
  const read = (pattern: string, text: string, year = 2026) => {
    const p = compileTimePattern(pattern);
    if (typeof p === 'string') throw new Error(p);
    return p.parse(
      text,
      (w) => w,
      () => year,
    );
  };

  it.each([
    ['yyyy-MM-dd HH:mm:ss.SSS', '2026-11-24 10:00:01.250', '2026-11-24T10:00:01.250Z'],
    ['dd.MM.yyyy HH:mm:ss,SSS', '24.11.2026 10:00:01,250', '2026-11-24T10:00:01.250Z'],
    ['dd/MMM/yyyy:HH:mm:ss xx', '10/Oct/2000:13:55:36 -0700', '2000-10-10T20:55:36.000Z'],
    ['MMM d HH:mm:ss', 'Mar  6 13:34:22', '2026-03-06T13:34:22.000Z'],
    ['MMddyyyy HHmmss.SSSSSS', '12162016 083615.736943', '2016-12-16T08:36:15.736Z'],
    ["yyyy-MM-dd'T'HH:mm:ssXXX", '2026-11-24T11:00:01+01:00', '2026-11-24T10:00:01.000Z'],
    ['EEE MMM dd yyyy hh:mm:ss a', 'Tue Nov 24 2026 01:05:00 PM', '2026-11-24T13:05:00.000Z'],
    ['yy/M/d H:mm', '26/1/5 7:04', '2026-01-05T07:04:00.000Z'],
  ])('%s reads %s', (pattern, text, iso) => {
    expect(new Date(read(pattern, text)).toISOString()).toBe(iso);
  });

  it('gives NaN for text that does not fit, and refuses patterns without a date', () => {
    expect(read('yyyy-MM-dd HH:mm:ss', '2026-11-24T10:00:00')).toBeNaN();
    expect(read('yyyy-MM-dd HH:mm:ss', '2026-02-30 25:00:00')).toBeNaN();
    expect(compileTimePattern('HH:mm:ss.SSS')).toMatch(/no month/);
    expect(compileTimePattern("yyyy-MM-dd 'T")).toMatch(/unclosed quote/);
    expect(compileTimePattern('yyyy-MM-dd HH:mm yyyy')).toMatch(/twice/);
  });
});

describe('user-defined SBC format: the Voxgate gateway of the end-to-end fixture', () => {
  // lines of test/fixtures/user-formats/sbc-voxgate.log (an invented proprietary WebRTC gateway;
  // times are Europe/Berlin wall clock, the format says so with timestamp.zone); the 403 line is
  // in the same shape (that run's auth failures were all wrong passwords, answered with 401)
  const voxgate = only(parseUserFormats(voxgateJson(), 'formats.json'));
  const lines = [
    '24.11.2026 10:59:59,026 sbc-01 SIG  INFO   REGISTER rx cid=vngejjoua4l6do9 cseq=1 src=10.0.0.2:55120 tp=ws aor=sip:agent-001@example.com',
    '24.11.2026 11:00:21,286 sbc-01 SIG  WARN   REGISTER tx 503 cid=m03hhi7qs135jjv cseq=1 src=10.0.0.2:53309 aor=sip:agent-016@example.com reason="Limiting" msg="register rate limit exceeded"',
    '24.11.2026 11:00:09,361 sbc-01 SIG  NOTICE REGISTER tx 403 cid=j8b9v6gpksc33b3 cseq=2 src=10.0.0.2:37586 aor=sip:agent-011@example.com reason="Forbidden" msg="authentication failed: user not found"',
    '24.11.2026 11:00:12,901 sbc-01 SEC  WARN   - block ip=10.0.0.2 msg="flood detected from 10.0.0.2, blocking (node 0x7fd2f171d0e4)"',
    '24.11.2026 11:01:07,858 sbc-01 TCP  ERROR  - reset src=10.0.0.2:42134 msg="read error: connection reset by peer"',
    '24.11.2026 11:00:20,970 sbc-01 SEC  WARN   - unblock msg="flood guard released node 0x7fd2f171d0e4"',
    '24.11.2026 11:00:02,552 sbc-01 SIG  NOTICE REGISTER tx 401 cid=1us0mi5hpfbpbr1 cseq=2 src=10.0.0.2:42134 aor=sip:agent-003@example.com reason="Unauthorized" msg="authentication failed: invalid password, challenging again"',
    'not a gateway line',
  ];
  const { events, outcomes } = parse(voxgate, lines);

  it('reads every gateway line; unrelated text is unparsed, an unblock note skipped', () => {
    expect(outcomes).toEqual(['event', 'event', 'event', 'event', 'event', 'skip', 'event', 'unparsed']);
  });

  it('converts the Berlin wall clock to UTC and keeps the milliseconds', () => {
    expect(new Date(events[0].ts).toISOString()).toBe('2026-11-24T09:59:59.026Z');
    expect(events.every((e) => e.role === 'sbc' && e.input === 0)).toBe(true);
  });

  it('takes Call-ID, user (from the AOR), peer and IP from the named groups', () => {
    expect(events[0].keys).toEqual({
      callId: 'vngejjoua4l6do9',
      user: 'agent-001',
      peer: '10.0.0.2:55120',
      ip: '10.0.0.2',
    });
    expect(events[0]).toMatchObject({
      kind: 'sip-request',
      sip: { method: 'REGISTER', cseq: 1, direction: 'received' },
    });
  });

  it('reads SIP statuses sent by the gateway, and what the signal rules say', () => {
    expect(events[1]).toMatchObject({
      kind: 'rate-limit',
      signal: 'sbc-rate-limit',
      sip: { method: 'REGISTER', status: 503, reason: 'Limiting', cseq: 1, direction: 'sent' },
      text: 'register rate limit exceeded',
    });
    expect(events[2]).toMatchObject({
      kind: 'auth',
      signal: 'auth-failed',
      sip: { status: 403, reason: 'Forbidden', direction: 'sent' },
    });
    expect(events[3]).toMatchObject({
      kind: 'rate-limit',
      signal: 'sbc-flood-block',
      keys: { ip: '10.0.0.2' },
    });
  });

  it('reads the message through the shared text reader (connection reset)', () => {
    expect(events[4]).toMatchObject({
      kind: 'error',
      signal: 'conn-reset',
      keys: { peer: '10.0.0.2:42134' },
    });
    expect(events[5]).toMatchObject({
      kind: 'auth',
      signal: 'auth-failed',
      sip: { method: 'REGISTER', status: 401, cseq: 2, direction: 'sent' },
      keys: { user: 'agent-003' },
    });
  });

  it('is detected before the built-in formats, and claims none of their samples', () => {
    expect(detectFormat(lines.slice(0, 7), [voxgate, ...FORMATS]).format?.name).toBe('voxgate');
    for (const f of FORMATS) for (const s of f.samples) expect(voxgate.sniff(s.line), s.line).toBe(0);
  });
});

describe('user-defined LB format: an nginx log_format with pipes', () => {
  // log_format diag '$time_iso8601|$remote_addr:$remote_port|$request_id|$status|$upstream_status|$request_time|$request';
  const lb = only(
    parseUserFormats(
      {
        name: 'nginx-pipes',
        role: 'lb',
        regex:
          '(?<time>[^|]+)\\|(?<client>[^|]+)\\|(?<rid>[^|]+)\\|(?<status>\\d{3})\\|(?<up>[^|]*)\\|(?<rt>[\\d.]+)\\|(?<method>[A-Z]+) (?<url>\\S+) HTTP/[\\d.]+',
        timestamp: { group: 'time', format: 'iso8601' },
        keys: { peer: 'client', requestId: 'rid' },
        fields: {
          httpStatus: 'status',
          upstreamStatus: 'up',
          durationS: 'rt',
          httpMethod: 'method',
          url: 'url',
        },
      },
      'lb.json',
    ),
  );
  const { events } = parse(lb, [
    '2026-11-24T10:00:20+00:00|198.51.100.23:43901|7c0e9a1b|503|-|0.000|GET /ws?user=agent-014 HTTP/1.1',
    '2026-11-24T10:01:21+00:00|198.51.100.23:43950|7c0e9a1c|101|101|60.004|GET /ws?user=agent-015 HTTP/1.1',
    '2026-11-24T10:01:22+00:00|198.51.100.23:43951|7c0e9a1d|504|504|60.001|GET /ws?user=agent-016 HTTP/1.1',
    '2026-11-24T10:01:23+00:00|198.51.100.23:43952|7c0e9a1e|404|404|0.001|GET /favicon.ico HTTP/1.1',
  ]);

  it('reads a 503 the edge made itself (upstream "-") as an edge limit on the handshake', () => {
    expect(events[0]).toMatchObject({
      kind: 'ws-handshake',
      signal: 'edge-rate-limit',
      keys: { peer: '198.51.100.23:43901', ip: '198.51.100.23', requestId: '7c0e9a1b', user: 'agent-014' },
      http: { status: 503, upstreamStatus: null, upgrade: true, method: 'GET', url: '/ws?user=agent-014' },
    });
  });

  it('reads a 101 tunnel with its lifetime, and a gateway timeout', () => {
    expect(events[1]).toMatchObject({
      signal: 'ws-open',
      http: {
        status: 101,
        upstreamStatus: 101,
        durationMs: 60_004,
        startTs: Date.UTC(2026, 10, 24, 10, 0, 20, 996),
      },
    });
    expect(events[2]).toMatchObject({ signal: 'upstream-timeout', http: { status: 504 } });
    expect(events[3]).toMatchObject({ kind: 'http-request', http: { status: 404, upgrade: false } });
    expect(events[3].signal).toBeUndefined();
  });
});

describe('user-defined client format: a softphone app log', () => {
  const client = only(
    parseUserFormats(
      {
        name: 'phone-app',
        role: 'client',
        regex: '\\[(?<time>[^\\]]+)\\] \\[(?<user>[\\w.-]+)\\] (?<level>[A-Z]+) (?<msg>.*)',
        timestamp: { group: 'time', format: 'epoch-ms' },
        keys: { user: 'user' },
        fields: { message: 'msg' },
        signals: [{ match: 'too many attempts', flags: 'i', signal: 'edge-rate-limit' }],
      },
      'app.json',
    ),
  );
  const { events } = parse(client, [
    '[1795514400308] [agent-042] ERROR Phone: WebSocket connection failed. Code: 1006',
    '[1795514401308] [agent-042] WARN Unexpected server response: 429',
    '[1795514402308] [agent-042] WARN Too many attempts, slow down',
    '[1795514403308] [agent-042] INFO Registered',
  ]);

  it('understands close codes, handshake statuses and user rules in the message', () => {
    expect(events.map((e) => [e.kind, e.signal, e.ws?.closeCode, e.http?.status, e.keys.user])).toEqual([
      ['ws-close', 'app-ws-failed', 1006, undefined, 'agent-042'],
      ['ws-handshake', 'ws-handshake-failed', undefined, 429, 'agent-042'],
      ['rate-limit', 'edge-rate-limit', undefined, undefined, 'agent-042'],
      ['info', 'registered', undefined, undefined, 'agent-042'],
    ]);
    expect(events[0].ts).toBe(1795514400308);
  });
});
