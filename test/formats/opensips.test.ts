/**
 * OpenSIPS: lines are verbatim from the issue threads quoted in sbc-formats.md §2.2 (source beside
 * each); lines built from a source format string (§2.3) say so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { opensips } from '../../src/formats/opensips.js';
import { kamailio } from '../../src/formats/kamailio.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';
import { parseLines } from './run-parser.js';

const ALL = FORMATS;
const MINE = new Set(['opensips', 'freeswitch', 'asterisk']);

const parse = (lines: readonly string[], year = 2026) => parseLines(opensips, lines, utcContext(year, 2));

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

// OpenSIPS/opensips issue #875
const NO_PROTOCOL =
  ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Sec-WebSocket-Protocol header not present!';
const NO_ORIGIN =
  ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Origin header not present!';
const NO_UPGRADE =
  ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_parse_req_handshake: Upgrade header not present!';
const NOT_COMPLETED =
  ' /usr/sbin/opensips[27201]: ERROR:proto_ws:ws_read_req: cannot complete WebSocket handshake';
// OpenSIPS/opensips issue #987
const BAD_CONNECTION = 'ERROR:proto_wss:ws_parse_req_handshake: Invalid Connection header <keep-alive>';
const WSS_NOT_COMPLETED =
  'Sep 23 11:13:48 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:proto_wss:wss_read_req: cannot complete WebSocket handshake';
const SO_ERROR =
  'Sep 23 11:14:50 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:core:tcp_connect_blocking_timeout: failed to retrieve SO_ERROR [server=111.92.8.58:61509] (111) Connection refused';
const SEND_FAILED =
  'Sep 23 11:14:50 ip-172-31-34-24 /usr/sbin/opensips[172700]: ERROR:tm:msg_send: send() to 111.92.8.58:61509 for proto wss/6 failed';
// OpenSIPS/opensips issue #3525
const BAD_VIA = 'Nov 15 23:08:00 [58] ERROR:core:parse_via: bad char <1> on state 100';
const CANNOT_PARSE = 'Nov 15 23:08:00 [58] ERROR:proto_wss:ws_parse_req_handshake: cannot parse headers';
// OpenSIPS/opensips issues #1434, #4240, #3198 (sbc-formats.md §2.2)
const FIX_READ =
  'Aug  1 15:10:12 localhost /usr/local/sbin/opensips[21544]: ERROR:proto_wss:wss_read_req: cannot fix read connection';
const TLS_FAILED =
  'Aug  1 15:10:15 localhost /usr/local/sbin/opensips[21544]: ERROR:proto_wss:tls_accept: New TLS connection from 17.47.91.162:59554 failed to accept';
const TLS_ACCEPTED =
  'Sep 03 11:35:27 slim.mylan /usr/local/sbin/opensips[772875]: INFO:tls_openssl:openssl_tls_accept: New TLS connection from 3.131.220.121:60966 accepted';
const JOURNALD_DBG =
  'sep 20 00:00:05 callchecker_server opensips[7424]: Sep 20 00:00:05 [7435] DBG:tls_openssl:openssl_tls_write: write was successful (2 bytes)';

describe('opensips sniff', () => {
  it('scores every sample high, each with a source', () => {
    expect(opensips.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of opensips.samples) {
      expect(s.source.length).toBeGreaterThan(5);
      expect(opensips.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    }
    for (const line of [NO_UPGRADE, NOT_COMPLETED, SO_ERROR, BAD_VIA, FIX_READ, JOURNALD_DBG])
      expect(opensips.sniff(line), line).toBeGreaterThanOrEqual(0.8);
  });

  it('scores Kamailio, nginx, HAProxy, JsSIP and plain syslog low', () => {
    for (const f of FORMATS.filter((x) => x !== opensips))
      for (const s of f.samples) expect(opensips.sniff(s.line), `${f.name}: ${s.line}`).toBeLessThan(0.3);
    const syslog = readFileSync(
      new URL('../../../shared/peer-corpus/lnav-syslog.log', import.meta.url),
      'utf8',
    );
    for (const line of syslog.split('\n')) expect(opensips.sniff(line), line).toBeLessThan(0.3);
  });

  it('is not claimed by Kamailio, and never throws', () => {
    for (const s of opensips.samples) expect(kamailio.sniff(s.line), s.line).toBeLessThan(0.3);
    for (const line of [
      '',
      'ERROR:',
      'ERROR:a:',
      '[1] ',
      'x'.repeat(70_000),
      `ERROR:a:b: ${'1.2.3.4:'.repeat(9000)}`,
    ])
      expect(() => opensips.sniff(line)).not.toThrow();
  });

  it('detection: its samples are OpenSIPS, nobody else’s samples are ours (confusion matrix)', () => {
    for (const f of ALL) {
      const d = detectFormat(
        f.samples.map((s) => s.line),
        ALL,
      );
      if (MINE.has(f.name)) expect(d.format?.name, f.name).toBe(f.name);
      else expect(MINE.has(d.format?.name ?? ''), f.name).toBe(false);
    }
    const syslog = readFileSync(
      new URL('../../../shared/peer-corpus/lnav-syslog.log', import.meta.url),
      'utf8',
    );
    expect(detectFormat(syslog.split('\n'), ALL).format?.role).not.toBe('sbc');
  });
});

describe('opensips timestamps', () => {
  it('reads syslog without a year with the context year', () => {
    expect(parseOne(WSS_NOT_COMPLETED).ts).toBe(Date.UTC(2026, 8, 23, 11, 13, 48));
    expect(parse([WSS_NOT_COMPLETED], 2024).events[0].ts).toBe(Date.UTC(2024, 8, 23, 11, 13, 48));
  });

  it('reads the stderr stamp and leaves lines without one undated', () => {
    expect(parseOne(CANNOT_PARSE).ts).toBe(Date.UTC(2026, 10, 15, 23, 8, 0));
    expect(parseOne(NO_PROTOCOL).ts).toBeNaN();
    expect(parseOne(BAD_CONNECTION).ts).toBeNaN();
  });

  it('recognises the journald-wrapped stderr line and skips debug noise', () => {
    expect(parse([JOURNALD_DBG]).outcomes).toEqual(['skip']);
  });
});

describe('opensips signals', () => {
  it('handshake without Sec-WebSocket-Protocol → missing-subprotocol, 400', () => {
    const e = parseOne(NO_PROTOCOL);
    expect(e).toMatchObject({
      role: 'sbc',
      kind: 'ws-handshake',
      signal: 'missing-subprotocol',
      http: { status: 400, upgrade: true },
      line: 1,
      input: 2,
    });
  });

  it('missing Origin / Upgrade, bad Connection, unparsable headers → bad-header', () => {
    for (const line of [NO_ORIGIN, NO_UPGRADE, BAD_CONNECTION, CANNOT_PARSE]) {
      const e = parseOne(line);
      expect(e.signal, line).toBe('bad-header');
      expect(e.http?.status, line).toBe(400);
    }
  });

  it('cannot complete WebSocket handshake → ws-handshake-failed without a status', () => {
    const e = parseOne(NOT_COMPLETED);
    expect(e).toMatchObject({ kind: 'ws-handshake', signal: 'ws-handshake-failed' });
    expect(e.http?.status).toBeUndefined();
  });

  it('a failed send over wss → conn-reset with the peer; connect refused → error with the peer', () => {
    expect(parseOne(SEND_FAILED)).toMatchObject({
      kind: 'error',
      signal: 'conn-reset',
      keys: { peer: '111.92.8.58:61509', ip: '111.92.8.58' },
    });
    const refused = parseOne(SO_ERROR);
    expect(refused).toMatchObject({ kind: 'error', keys: { peer: '111.92.8.58:61509' } });
    expect(refused.signal).toBeUndefined();
  });

  it('TLS accepts name the peer', () => {
    expect(parseOne(TLS_ACCEPTED)).toMatchObject({
      kind: 'info',
      keys: { peer: '3.131.220.121:60966', ip: '3.131.220.121' },
    });
    expect(parseOne(TLS_FAILED)).toMatchObject({ kind: 'error', keys: { peer: '17.47.91.162:59554' } });
    expect(parseOne(FIX_READ)).toMatchObject({ kind: 'error' });
  });

  it('PIKE - BLOCKing ip → sbc-flood-block with the IP', () => {
    // built from modules/pike/pike_funcs.c "PIKE - BLOCKing ip %s, node=%p\n" (sbc-formats.md §2.3)
    const e = parseOne(
      'Mar 12 03:30:31 sbc /usr/sbin/opensips[4242]: WARNING:pike:pike_check_req: PIKE - BLOCKing ip 203.0.113.9, node=0x7f7e073f7dd0',
    );
    expect(e).toMatchObject({ kind: 'rate-limit', signal: 'sbc-flood-block', keys: { ip: '203.0.113.9' } });
    expect(e.keys.peer).toBeUndefined();
    // pike_mi.c "PIKE - UNBLOCKing ip %s, node=%p\n"
    expect(
      parseOne('WARNING:pike:pike_mi: PIKE - UNBLOCKing ip 203.0.113.9, node=0x7f7e073f7dd0').signal,
    ).toBeUndefined();
  });
});

describe('opensips multi-line records and process memory', () => {
  it('the request dumped after `cannot parse headers` counts as part of it', () => {
    // #3525: the parse_via error precedes it; the dump follows (`cannot parse headers\n%.*s`,
    // ws_handshake_common.h) — the request lines here show its shape
    const { events, outcomes } = parse([
      BAD_VIA,
      CANNOT_PARSE,
      'GET / HTTP/1.1',
      'Host: sbc.example.com',
      'Via: 1.1 default.fqdn',
      '',
      TLS_ACCEPTED,
    ]);
    expect(outcomes).toEqual(['event', 'event', 'part', 'part', 'part', 'part', 'event']);
    expect(events.map((e) => e.signal)).toEqual([undefined, 'bad-header', undefined]);
  });

  it('a line of another program is unparsed', () => {
    // /work/shared/peer-corpus/lnav-syslog.log
    expect(
      parse(['Nov  3 09:23:38 veridian automount[7998]: lookup(file): lookup for foobar failed']).outcomes,
    ).toEqual(['unparsed']);
  });

  it('a proto_wss handshake error borrows the peer of the TLS accept of the same process (issue #4240)', () => {
    // assembled: the #1434 accept line, then the #987 handshake error re-headed with the same pid
    const { events } = parse([
      TLS_FAILED.replace('failed to accept', 'accepted'),
      'Aug  1 15:10:15 localhost /usr/local/sbin/opensips[21544]: ERROR:proto_wss:ws_parse_req_handshake: Invalid Connection header <keep-alive>',
      'Aug  1 15:10:15 localhost /usr/local/sbin/opensips[9999]: ERROR:proto_wss:ws_parse_req_handshake: Invalid Connection header <keep-alive>',
    ]);
    expect(events[1]).toMatchObject({
      signal: 'bad-header',
      keys: { peer: '17.47.91.162:59554', ip: '17.47.91.162' },
    });
    expect(events[2].keys.peer).toBeUndefined();
  });
});
