/**
 * FreeSWITCH: lines are verbatim from the issue threads quoted in sbc-formats.md §3 (source beside
 * each); lines built from a source format string (§3.2, §3.3) say so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { freeswitch } from '../../src/formats/freeswitch.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';
import { parseLines } from './run-parser.js';

const ALL = FORMATS;
const MINE = new Set(['opensips', 'freeswitch', 'asterisk']);

const parse = (lines: readonly string[]) => parseLines(freeswitch, lines, utcContext(2026, 4));

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

// signalwire/freeswitch issue #2747
const CHALLENGE =
  "2025-01-22 12:01:13.083037 [WARNING] sofia_reg.c:1795 SIP auth challenge (REGISTER) on sofia profile 'internal' for [985@freeswich] from ip 76.70.29.174";
const PING_FAILED =
  '2025-01-22 12:01:58.522687 [WARNING] sofia.c:6417 Ping failed test with code 408 - count 1/0/1, state DOWN';
// fail2ban/fail2ban issue #2161
const CANT_FIND =
  "2018-06-21 11:38:27.051799 [WARNING] sofia_reg.c:2906 Can't find user [1111111@172.31.30.163] from 37.49.231.10";
const AUTH_FAILURE =
  "2018-06-21 11:38:27.051799 [WARNING] sofia_reg.c:1737 SIP auth failure (REGISTER) on sofia profile 'internal' for [1111111@XX.XX.XXX.XXX] from ip 37.49.231.10";
// signalwire/freeswitch issues #1944, #1833 (idle-CPU column)
const FAILED_REG =
  '2023-01-30 10:07:10.270909 99.03% [WARNING] sofia_reg.c:520 fonial Failed Registration [904], setting retry to 30 seconds.';
const NEW_CHANNEL =
  '2022-10-19 07:34:13.561124 99.07% [NOTICE] switch_channel.c:1123 New Channel sofia/internal/79739980@172.16.154.33:56580 [42a396e6-4d2a-4b62-bde3-a75df666d926]';
// signalwire/freeswitch issues #1448, #3088 (UUID prefix)
const HANGING_UP =
  '885d4ed6-a20e-424e-91d0-e0467d592e32 2023-10-13 08:37:55.200263 94.73% [DEBUG] mod_sofia.c:469 Channel sofia/internal/703@mydomain.pbx.mydomaintech.net hanging up, cause: NORMAL_CLEARING';
const HANGUP =
  'af780402-a8a3-406b-89c5-5efbcc2ab0d7 2026-07-23 16:03:21.333372 100.00% [NOTICE] switch_ivr_bridge.c:1029 Hangup sofia/external/11111@10.10.10.10 [CS_EXCHANGE_MEDIA] [NORMAL_CLEARING]';

describe('freeswitch sniff', () => {
  it('scores every sample high, each with a source', () => {
    expect(freeswitch.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of freeswitch.samples) {
      expect(s.source.length).toBeGreaterThan(5);
      expect(freeswitch.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    }
    // signalwire/freeswitch issue #979
    expect(
      freeswitch.sniff('recv 436 bytes from udp/[myVoiceSwitchIP]:5060 at 16:49:33.907291:'),
    ).toBeGreaterThanOrEqual(0.8);
  });

  it('scores Kamailio, nginx, HAProxy, JsSIP and plain syslog low', () => {
    for (const f of FORMATS.filter((x) => x !== freeswitch))
      for (const s of f.samples) expect(freeswitch.sniff(s.line), `${f.name}: ${s.line}`).toBeLessThan(0.3);
    const syslog = readFileSync(
      new URL('../../../shared/peer-corpus/lnav-syslog.log', import.meta.url),
      'utf8',
    );
    for (const line of syslog.split('\n')) expect(freeswitch.sniff(line), line).toBeLessThan(0.3);
  });

  it('never throws', () => {
    for (const line of [
      '',
      '2025-01-22',
      'recv 1 bytes',
      'x'.repeat(70_000),
      `${'a '.repeat(30_000)}2025-01-22 12:01:13.083037 [x]`,
    ])
      expect(() => freeswitch.sniff(line)).not.toThrow();
  });

  it('detection: its samples are FreeSWITCH, nobody else’s samples are ours (confusion matrix)', () => {
    for (const f of ALL) {
      const d = detectFormat(
        f.samples.map((s) => s.line),
        ALL,
      );
      if (MINE.has(f.name)) expect(d.format?.name, f.name).toBe(f.name);
      else expect(MINE.has(d.format?.name ?? ''), f.name).toBe(false);
    }
  });
});

describe('freeswitch timestamps and prefixes', () => {
  it('reads local time with year and µs', () => {
    expect(parseOne(CHALLENGE).ts).toBe(Date.UTC(2025, 0, 22, 12, 1, 13) + 83.037);
  });

  it('reads past the idle-CPU column and the UUID prefix (a connection id)', () => {
    const e = parseOne(HANGUP);
    expect(e.ts).toBe(Date.UTC(2026, 6, 23, 16, 3, 21) + 333.372);
    expect(e.keys).toMatchObject({ connId: 'af780402-a8a3-406b-89c5-5efbcc2ab0d7', user: '11111' });
    expect(parseOne(FAILED_REG).ts).toBe(Date.UTC(2023, 0, 30, 10, 7, 10) + 270.909);
  });

  it('a prefix that is not a UUID is the Call-ID (inbound-use-callid-as-uuid, signalwire/freeswitch issue #577)', () => {
    // #577's prefix `1-28014@79.170.68.212` on the #3088 line
    const e = parseOne(HANGUP.replace('af780402-a8a3-406b-89c5-5efbcc2ab0d7', '1-28014@79.170.68.212'));
    expect(e.keys.callId).toBe('1-28014@79.170.68.212');
    expect(e.keys.connId).toBeUndefined();
  });

  it('skips debug lines without meaning', () => {
    expect(parse([HANGING_UP]).outcomes).toEqual(['skip']);
  });
});

describe('freeswitch signals and keys', () => {
  it('SIP auth challenge → auth-challenge, user, ip, method', () => {
    expect(parseOne(CHALLENGE)).toMatchObject({
      role: 'sbc',
      kind: 'auth',
      signal: 'auth-challenge',
      keys: { user: '985', ip: '76.70.29.174' },
      sip: { method: 'REGISTER', direction: 'received' },
      input: 4,
    });
  });

  it('SIP auth failure and Can’t find user → auth-failed; the continuation line is part of the record', () => {
    expect(parseOne(AUTH_FAILURE)).toMatchObject({
      signal: 'auth-failed',
      keys: { user: '1111111', ip: '37.49.231.10' },
    });
    // the continuation text is sofia_reg.c's "You must define a domain called '%s' in your directory …"
    const { events, outcomes } = parse([
      CANT_FIND,
      'You must define a domain called \'172.31.30.163\' in your directory and add a user with the id="1111111" attribute',
      "and you must configure your device to use the proper domain in it's authentication credentials.",
      AUTH_FAILURE,
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part', 'event']);
    expect(events[0]).toMatchObject({
      kind: 'auth',
      signal: 'auth-failed',
      keys: { user: '1111111', ip: '37.49.231.10' },
    });
  });

  it('Ping failed … 408 → transaction-timeout (a locally made 408)', () => {
    expect(parseOne(PING_FAILED)).toMatchObject({
      kind: 'timeout',
      signal: 'transaction-timeout',
      sip: { method: 'OPTIONS', status: 408, direction: 'internal' },
    });
  });

  it('New Channel names the user and the channel UUID', () => {
    expect(parseOne(NEW_CHANNEL)).toMatchObject({
      kind: 'info',
      keys: { user: '79739980', connId: '42a396e6-4d2a-4b62-bde3-a75df666d926' },
    });
  });

  it('session limits → sbc-rate-limit / sbc-capacity; ACL → acl-rejected', () => {
    // built from switch_core_session.c / sofia_reg.c format strings (sbc-formats.md §3.2); file:line invented
    const head = '2025-01-22 12:01:13.083037 [CRIT] switch_core_session.c:2590 ';
    expect(parseOne(`${head}Throttle Error! 31`).signal).toBe('sbc-rate-limit');
    expect(parseOne(`${head}Over Session Rate of 30!`).signal).toBe('sbc-rate-limit');
    expect(parseOne(`${head}Over Session Limit! 1000`).signal).toBe('sbc-capacity');
    expect(parseOne(`${head}The system cannot create any sessions at this time.`).signal).toBe(
      'sbc-capacity',
    );
    expect(parseOne('2025-01-22 12:01:13.083037 [CRIT] sofia.c:10123 Error Creating Session').signal).toBe(
      'sbc-capacity',
    );
    expect(
      parseOne(
        '2025-01-22 12:01:13.083037 [WARNING] sofia_reg.c:1820 SIP auth failure (REGISTER) due to reaching max allowed registrations.  Count: 1',
      ).signal,
    ).toBe('sbc-capacity');
    expect(
      parseOne(
        '2025-01-22 12:01:13.083037 [DEBUG] sofia.c:10245 IP 203.0.113.9 Rejected by register acl "domains"',
      ),
    ).toMatchObject({
      signal: 'acl-rejected',
      keys: { ip: '203.0.113.9' },
    });
  });
});

describe('sofia SIP trace blocks', () => {
  it('reads a received block end to end, dated by the line before it', () => {
    // signalwire/freeswitch issue #979 (the block as quoted), after the #2747 line
    const { events, outcomes } = parse([
      PING_FAILED,
      'recv 436 bytes from udp/[myVoiceSwitchIP]:5060 at 16:49:33.907291:',
      '------------------------------------------------------------------------',
      'UPDATE sip:mod_sofia@myPayloadFreeswitchIP:5060 SIP/2.0',
      'Via: SIP/2.0/UDP myVoiceSwitchIP:5060;branch=z9hG4bKgjci6jiyigo76pc8l6r7jglql',
      'Call-ID: 0c733c3b-991d-1239-89b2-fa163eb24921',
      CHALLENGE,
    ]);
    expect(outcomes).toEqual(['event', 'event', 'part', 'part', 'part', 'part', 'event']);
    expect(events).toHaveLength(3);
    const trace = events[1];
    expect(trace).toMatchObject({
      line: 2,
      role: 'sbc',
      kind: 'sip-request',
      keys: { callId: '0c733c3b-991d-1239-89b2-fa163eb24921' },
      sip: { method: 'UPDATE', direction: 'received' },
    });
    expect(trace.ts).toBe(Date.UTC(2025, 0, 22, 16, 49, 33) + 907.291);
    expect(trace.keys.peer).toBeUndefined(); // the author redacted the address
  });

  it('a sent 503 Maximum Calls In Progress with Retry-After → sbc-rate-limit, To user, peer', () => {
    // stamp and separator per tport_logging.c; reply per sofia.c nua_respond(nh, 503, "Maximum Calls In
    // Progress", SIPTAG_RETRY_AFTER_STR("300")) (sbc-formats.md §3.2); addresses are documentation ones
    const { events, outcomes } = parse([
      CHALLENGE,
      'send 598 bytes to wss/[203.0.113.7]:52144 at 12:01:14.000100:',
      '------------------------------------------------------------------------',
      'SIP/2.0 503 Maximum Calls In Progress',
      'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK6155283',
      'From: <sip:985@freeswich>;tag=k6rvbn2ojj',
      'To: <sip:985@freeswich>;tag=Xg2Ze1K2j8Hva',
      'Call-ID: 3gmk6sa7lkvqo6e0vct4ob',
      'CSeq: 2 REGISTER',
      'Retry-After: 300',
      'Content-Length: 0',
      '',
    ]);
    expect(outcomes).toEqual(['event', 'event', ...Array(10).fill('part')]);
    expect(events[1]).toMatchObject({
      line: 2,
      kind: 'sip-response',
      signal: 'sbc-rate-limit',
      keys: { callId: '3gmk6sa7lkvqo6e0vct4ob', user: '985', peer: '203.0.113.7:52144', ip: '203.0.113.7' },
      sip: {
        status: 503,
        reason: 'Maximum Calls In Progress',
        retryAfter: 300,
        method: 'REGISTER',
        direction: 'sent',
        cseq: 2,
      },
    });
    expect(events[1].ts).toBe(Date.UTC(2025, 0, 22, 12, 1, 14) + 0.1);
  });

  it('reads the older indented shape closed by a second separator', () => {
    // older sofia-sip indents separator and body by three spaces and closes with a separator (§3.3)
    const { events, outcomes } = parse([
      '   recv 436 bytes from tcp/[198.51.100.4]:5060 at 23:59:59.999000:',
      '   ------------------------------------------------------------------------',
      '   REGISTER sip:example.com SIP/2.0',
      '   From: <sip:1001@example.com>;tag=1',
      '   To: <sip:1001@example.com>',
      '   Call-ID: abc-123',
      '   CSeq: 1 REGISTER',
      '   ------------------------------------------------------------------------',
      '2025-01-23 00:00:00.100000 [NOTICE] switch_channel.c:1123 New Channel sofia/internal/1001@example.com [42a396e6-4d2a-4b62-bde3-a75df666d926]',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part', 'part', 'part', 'part', 'part', 'part', 'event']);
    expect(events[0]).toMatchObject({
      kind: 'sip-request',
      keys: { user: '1001', callId: 'abc-123', peer: '198.51.100.4:5060' },
    });
    // dated by the next line, just after midnight: the trace belongs to the day before
    expect(events[0].ts).toBe(Date.UTC(2025, 0, 22, 23, 59, 59, 999));
  });
});
