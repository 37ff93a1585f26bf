/**
 * Asterisk: lines are verbatim from the issue threads and pastes quoted in sbc-formats.md §4 (source
 * beside each); lines built from a source format string (§4.2) say so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { asterisk } from '../../src/formats/asterisk.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';
import { parseLines } from './run-parser.js';

const ALL = FORMATS;
const MINE = new Set(['opensips', 'freeswitch', 'asterisk']);

const parse = (lines: readonly string[]) => parseLines(asterisk, lines, utcContext(2026, 5));

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

// InnovateAsterisk/Browser-Phone issue #335
const NO_ENDPOINT = `[Oct 10 16:29:51] NOTICE[21261]: res_pjsip/pjsip_distributor.c:649 log_failed_request: Request 'REGISTER' from '"User1" <sip:User1@bp.erss.in>' failed for '192.168.2.8:45524' (callid: cgo2ao1ceguimrqft85b) - No matching endpoint found`;
const NOT_AUTHENTICATED = `[Oct 10 16:29:51] NOTICE[21261]: res_pjsip/pjsip_distributor.c:649 log_failed_request: Request 'REGISTER' from '"User1" <sip:User1@bp.erss.in>' failed for '192.168.2.8:45524' (callid: cgo2ao1ceguimrqft85b) - Failed to authenticate`;
// TECH7Fox/asterisk-hass-addons issue #195
const NO_ENDPOINT_8001 =
  "[Dec 15 18:42:01] NOTICE[567]: res_pjsip/pjsip_distributor.c:676 log_failed_request: Request 'REGISTER' from '<sip:8001@192.168.1.250>' failed for '192.168.1.110:5060' (callid: 156578329@192.168.1.110) - No matching endpoint found";
// flutter-webrtc/dockers issue #3
const FATAL_WRITE =
  "[2025-02-01 18:00:38] VERBOSE[27266] res_http_websocket.c: WebSocket connection from '80.171.120.98:65097' forcefully closed due to fatal write error";
const READ_RESET =
  '[2025-02-01 18:00:40] ERROR[29178] res_http_websocket.c: Error reading from web socket: Connection reset by peer';
// asterisk/node-ari-client issue #149
const CLOSED = "  == WebSocket connection from '127.0.0.1:52492' closed";
const ABRUPT =
  '[May  6 18:49:40] WARNING[4069]: res_http_websocket.c:518 ws_safe_read: Web socket closed abruptly';
// pastebin.com/zNtTaaw2 (Asterisk 13 over WS, sbc-formats.md §4.2)
const ACCEPTED =
  "== WebSocket connection from '192.168.0.105:53643' for protocol 'sip' accepted using version '13'";

describe('asterisk sniff', () => {
  it('scores every sample high, each with a source', () => {
    expect(asterisk.samples.length).toBeGreaterThanOrEqual(6);
    for (const s of asterisk.samples) {
      expect(s.source.length).toBeGreaterThan(5);
      expect(asterisk.sniff(s.line), s.line).toBeGreaterThanOrEqual(0.8);
    }
    expect(
      asterisk.sniff('<--- Received SIP request (568 bytes) from WS:192.168.0.105:53643 --->'),
    ).toBeGreaterThanOrEqual(0.8);
    // pastebin.com/GNZETtQb (legacy chan_sip)
    expect(asterisk.sniff('<--- SIP read from WS:148.X.X.X:46841 --->')).toBeGreaterThanOrEqual(0.8);
  });

  it('scores Kamailio, nginx, HAProxy, JsSIP and plain syslog low', () => {
    for (const f of FORMATS.filter((x) => x !== asterisk))
      for (const s of f.samples) expect(asterisk.sniff(s.line), `${f.name}: ${s.line}`).toBeLessThan(0.3);
    const syslog = readFileSync(
      new URL('../../../shared/peer-corpus/lnav-syslog.log', import.meta.url),
      'utf8',
    );
    for (const line of syslog.split('\n')) expect(asterisk.sniff(line), line).toBeLessThan(0.3);
  });

  it('never throws', () => {
    for (const line of [
      '',
      '[',
      '[]',
      '<--- ',
      '  == ',
      'x'.repeat(70_000),
      `[Oct 10 16:29:51] NOTICE[1]: ${"Request '".repeat(8000)}`,
    ])
      expect(() => asterisk.sniff(line)).not.toThrow();
  });

  it('detection: its samples are Asterisk, nobody else’s samples are ours (confusion matrix)', () => {
    for (const f of ALL) {
      const d = detectFormat(
        f.samples.map((s) => s.line),
        ALL,
      );
      if (MINE.has(f.name)) expect(d.format?.name, f.name).toBe(f.name);
      else expect(MINE.has(d.format?.name ?? ''), f.name).toBe(false);
    }
    const sipmsg = readFileSync(
      new URL('../../../shared/peer-corpus/wireshark-sipmsg.log', import.meta.url),
      'utf8',
    );
    expect(MINE.has(detectFormat(sipmsg.split('\n'), ALL).format?.name ?? '')).toBe(false);
  });
});

describe('asterisk timestamps', () => {
  it('reads `%b %e %T` with the context year and `%F %T` with its own', () => {
    expect(parseOne(NO_ENDPOINT).ts).toBe(Date.UTC(2026, 9, 10, 16, 29, 51));
    expect(parseOne(ABRUPT).ts).toBe(Date.UTC(2026, 4, 6, 18, 49, 40));
    expect(parseOne(FATAL_WRITE).ts).toBe(Date.UTC(2025, 1, 1, 18, 0, 38));
  });

  it('undated console lines take the time of the last dated line', () => {
    const { events } = parse([READ_RESET, CLOSED]);
    expect(events[1].ts).toBe(Date.UTC(2025, 1, 1, 18, 0, 40));
    expect(parseOne(CLOSED).ts).toBeNaN();
  });
});

describe('asterisk signals and keys', () => {
  it('No matching endpoint found / Failed to authenticate → auth-failed with user, peer, Call-ID, method', () => {
    for (const line of [NO_ENDPOINT, NOT_AUTHENTICATED]) {
      expect(parseOne(line)).toMatchObject({
        role: 'sbc',
        kind: 'auth',
        signal: 'auth-failed',
        keys: { user: 'User1', peer: '192.168.2.8:45524', ip: '192.168.2.8', callId: 'cgo2ao1ceguimrqft85b' },
        sip: { method: 'REGISTER', direction: 'received' },
        input: 5,
      });
    }
    expect(parseOne(NO_ENDPOINT_8001)).toMatchObject({
      signal: 'auth-failed',
      keys: { user: '8001', peer: '192.168.1.110:5060', callId: '156578329@192.168.1.110' },
    });
  });

  it('endpoint ACL refusals → acl-rejected', () => {
    // pjsip_distributor.c reason "Not match Endpoint ACL" on the #335 line
    expect(parseOne(NO_ENDPOINT.replace('No matching endpoint found', 'Not match Endpoint ACL')).signal).toBe(
      'acl-rejected',
    );
  });

  it('WebSocket closes: fatal write error, read reset, closed abruptly → conn-reset; closed → ws-close', () => {
    expect(parseOne(FATAL_WRITE)).toMatchObject({
      kind: 'ws-close',
      signal: 'conn-reset',
      keys: { peer: '80.171.120.98:65097', ip: '80.171.120.98' },
    });
    expect(parseOne(READ_RESET)).toMatchObject({ kind: 'error', signal: 'conn-reset' });
    expect(parseOne(ABRUPT)).toMatchObject({ kind: 'ws-close', signal: 'conn-reset' });
    expect(parseOne(CLOSED)).toMatchObject({
      kind: 'ws-close',
      signal: 'ws-close',
      keys: { peer: '127.0.0.1:52492' },
    });
  });

  it('accepted handshake → ws-open with the subprotocol', () => {
    expect(parseOne(ACCEPTED)).toMatchObject({
      kind: 'ws-open',
      signal: 'ws-open',
      ws: { subprotocol: 'sip' },
      keys: { peer: '192.168.0.105:53643' },
    });
  });

  it('handshake refusals, unresponsive sockets, overload, registrar (built from res_http_websocket.c, taskprocessor.c, res_pjsip_registrar.c format strings)', () => {
    const head = '[2025-02-01 18:00:38] VERBOSE[27266] res_http_websocket.c: ';
    expect(
      parseOne(
        `${head}WebSocket connection from '203.0.113.5:40000' could not be accepted - no protocols requested`,
      ),
    ).toMatchObject({
      kind: 'ws-handshake',
      signal: 'missing-subprotocol',
      http: { status: 400 },
      keys: { peer: '203.0.113.5:40000' },
    });
    expect(
      parseOne(
        `${head}WebSocket connection from '203.0.113.5:40000' could not be accepted - no protocols out of 'sip' supported`,
      ).signal,
    ).toBe('missing-subprotocol');
    expect(
      parseOne(
        `${head}WebSocket connection from '203.0.113.5:40000' could not be accepted - did not request WebSocket`,
      ).signal,
    ).toBe('bad-header');
    expect(
      parseOne(
        `${head}WebSocket connection from '203.0.113.5:40000' could not be accepted - unsupported version '8' chosen`,
      ),
    ).toMatchObject({
      signal: 'bad-header',
      http: { status: 426 },
    });
    expect(
      parseOne(
        '[2025-02-01 18:00:38] WARNING[27266] res_http_websocket.c: Websocket seems unresponsive, disconnecting ...',
      ),
    ).toMatchObject({
      kind: 'ws-close',
      signal: 'idle-close',
    });
    expect(
      parseOne(
        "[2025-02-01 18:00:38] WARNING[1234] taskprocessor.c: The 'stasis/m:manager:core' task processor queue reached 500 scheduled tasks again.",
      ).signal,
    ).toBe('sbc-overload');
    expect(
      parseOne(
        "[2025-02-01 18:00:38] VERBOSE[1234] res_pjsip_registrar.c: Removed contact 'sip:1001@203.0.113.5:40000;transport=ws' from AOR '1001' due to shutdown",
      ),
    ).toMatchObject({ kind: 'ws-close', signal: 'ws-close', keys: { user: '1001' } });
    expect(
      parseOne(
        "  -- Added contact 'sip:1001@203.0.113.5:40000;transport=ws' to AOR '1001' with expiration of 600 seconds",
      ),
    ).toMatchObject({ signal: 'registered', keys: { user: '1001' } });
  });

  it('keeps the Asterisk call tag as a connection id and channel names as the user', () => {
    // the `[C-…]` tag per logger.c "[%s] %s[%d]%s %s: %s"; channel name shape PJSIP/<endpoint>-<8 hex>
    const e = parseOne(
      '[2025-02-01 18:00:38] WARNING[27266][C-0000001a] chan_pjsip.c: PJSIP/1001-0000000b hung up: Request Timeout',
    );
    expect(e.keys).toMatchObject({ connId: 'C-0000001a', user: '1001' });
  });
});

describe('PJSIP logger blocks', () => {
  it('reads a received request and a transmitted 401 end to end', () => {
    // pastebin.com/zNtTaaw2: the two headers, the start lines and the Via as quoted; the other
    // headers ("...") filled in with the shape of that REGISTER
    const { events, outcomes } = parse([
      READ_RESET,
      ACCEPTED,
      '<--- Received SIP request (568 bytes) from WS:192.168.0.105:53643 --->',
      'REGISTER sip:192.168.0.106 SIP/2.0',
      'Via: SIP/2.0/WS k5v7qdhee21i.invalid;branch=z9hG4bK211693',
      'From: "1001" <sip:1001@192.168.0.106>;tag=c4ejhg8pai',
      'To: <sip:1001@192.168.0.106>',
      'Call-ID: 7l6rjnbj1dkjbq1nvtrqa8',
      'CSeq: 1 REGISTER',
      'Content-Length: 0',
      '',
      '<--- Transmitting SIP response (484 bytes) to WS:192.168.0.105:53643 --->',
      'SIP/2.0 401 Unauthorized',
      'Via: SIP/2.0/WS k5v7qdhee21i.invalid;branch=z9hG4bK211693',
      'From: "1001" <sip:1001@192.168.0.106>;tag=c4ejhg8pai',
      'To: <sip:1001@192.168.0.106>;tag=z9hG4bK211693',
      'Call-ID: 7l6rjnbj1dkjbq1nvtrqa8',
      'CSeq: 1 REGISTER',
      'WWW-Authenticate: Digest realm="asterisk",nonce="1",algorithm=md5,qop="auth"',
      'Content-Length: 0',
      '',
      ABRUPT,
    ]);
    expect(outcomes).toEqual([
      'event',
      'event',
      'event',
      ...Array(8).fill('part'),
      'event',
      ...Array(9).fill('part'),
      'event',
    ]);
    const [request, response] = events.filter((e) => e.kind === 'sip-request' || e.kind === 'sip-response');
    expect(request).toMatchObject({
      line: 3,
      role: 'sbc',
      kind: 'sip-request',
      keys: {
        callId: '7l6rjnbj1dkjbq1nvtrqa8',
        user: '1001',
        peer: '192.168.0.105:53643',
        ip: '192.168.0.105',
      },
      sip: { method: 'REGISTER', direction: 'received', cseq: 1 },
    });
    expect(request.ts).toBe(Date.UTC(2025, 1, 1, 18, 0, 40));
    expect(response).toMatchObject({
      line: 12,
      kind: 'sip-response',
      signal: 'auth-challenge',
      keys: { callId: '7l6rjnbj1dkjbq1nvtrqa8', user: '1001', peer: '192.168.0.105:53643' },
      sip: { status: 401, reason: 'Unauthorized', method: 'REGISTER', direction: 'sent' },
    });
  });

  it('reads a transmitted 503 with Retry-After as throttling, and the legacy chan_sip shape', () => {
    // res_pjsip_logger.c header format; the 503 is the distributor's overload reply (§4.2); addresses are documentation ones
    const { events } = parse([
      '<--- Transmitting SIP response (320 bytes) to WSS:203.0.113.5:40000 --->',
      'SIP/2.0 503 Service Unavailable',
      'From: <sip:1002@example.com>;tag=a',
      'To: <sip:1002@example.com>;tag=b',
      'Call-ID: x-503',
      'CSeq: 7 REGISTER',
      'Retry-After: 30',
      '',
      // pastebin.com/GNZETtQb header shapes
      '<--- SIP read from WS:148.X.X.X:46841 --->',
      'OPTIONS sip:asterisk SIP/2.0',
      'From: <sip:1003@example.com>;tag=c',
      'Call-ID: y-1',
      '<------------->',
    ]);
    expect(events[0]).toMatchObject({
      signal: 'sbc-rate-limit',
      keys: { user: '1002', peer: '203.0.113.5:40000' },
      sip: { status: 503, retryAfter: 30, direction: 'sent' },
    });
    expect(events[1]).toMatchObject({
      kind: 'sip-request',
      keys: { user: '1003', callId: 'y-1' },
      sip: { method: 'OPTIONS', direction: 'received' },
    });
    expect(events[1].keys.peer).toBeUndefined();
  });

  it('reads a trace header behind a file-channel prefix', () => {
    const { events, outcomes } = parse([
      '[2025-02-01 18:00:38] VERBOSE[27266] res_pjsip_logger.c: <--- Received SIP request (568 bytes) from WS:192.168.0.105:53643 --->',
      'REGISTER sip:192.168.0.106 SIP/2.0',
      'Call-ID: z-1',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part']);
    expect(events[0]).toMatchObject({ ts: Date.UTC(2025, 1, 1, 18, 0, 38), keys: { callId: 'z-1' } });
  });
});
