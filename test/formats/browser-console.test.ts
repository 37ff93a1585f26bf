import { describe, it, expect } from 'vitest';
import {
  browserConsole,
  pathNamesOneUserAgent,
  splitConsoleLine,
} from '../../src/formats/browser-console.js';
import { jssip } from '../../src/formats/jssip.js';
import { sipjs } from '../../src/formats/sipjs.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(
  lines: readonly string[],
  path = 'console.log',
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = browserConsole.createParser(utcContext(2026, 4, path));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

describe('browser-console sniff', () => {
  it('scores every sample at 0.7 or more, above the SIP stack formats', () => {
    expect(browserConsole.samples.length).toBeGreaterThanOrEqual(6);
    for (const sample of browserConsole.samples) {
      expect(sample.source).not.toBe('');
      const score = browserConsole.sniff(sample.line);
      expect(score, sample.line).toBeGreaterThanOrEqual(0.7);
      expect(score, sample.line).toBeGreaterThan(jssip.sniff(sample.line));
      expect(score, sample.line).toBeGreaterThan(sipjs.sniff(sample.line));
    }
  });

  it('parses every sample into an event', () => {
    for (const sample of browserConsole.samples) {
      expect(parse([sample.line]).outcomes[0], sample.line).toBe('event');
    }
  });

  it('scores the failure phrases of client-formats.md §3 and §6 high', () => {
    const phrases = [
      "WebSocket connection to 'wss://sbc.example.com/ws' failed: Error during WebSocket handshake: Unexpected response code: 504",
      "WebSocket connection to 'wss://sbc.example.com/ws' failed: Insufficient resources",
      "WebSocket connection to 'wss://sbc.example.com/ws' failed: WebSocket is closed before the connection is established.",
      'Error: Unexpected server response: 400',
      'Error: socket hang up',
      'Error: read ECONNRESET',
      'Error: connect ECONNREFUSED 10.0.0.5:443',
      'Error: Opening handshake has timed out',
      'Server responded with a non-101 status: 504 Gateway Timeout',
      '2026-11-24T00:44:12.001Z [agent-007] Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally',
    ];
    for (const line of phrases) expect(browserConsole.sniff(line), line).toBeGreaterThanOrEqual(0.7);
  });

  it('scores generic lines low and SBC / load-balancer / SIP stack lines lower still', () => {
    expect(browserConsole.sniff('2026-11-24T00:44:12.001Z [agent-042] starting UA')).toBeLessThan(0.3);
    expect(browserConsole.sniff('main.js:12 app ready')).toBeLessThan(0.3);
    const notOurs = [
      // sbc-formats.md §1 (Kamailio)
      'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      '23(24) ERROR: <core> [core/parser/parse_fline.c:271]: parse_first_line(): parse_first_line: bad message (offset: 22)',
      // lb-formats.md §2 (nginx error log)
      '2017/10/04 16:42:10 [error] 7624#7624: *1 upstream timed out (110: Connection timed out) while connecting to upstream, client: 192.168.134.2, server: testnovnc.ai, request: "GET /vncws/vnc.html HTTP/1.1", upstream: "http://193.18.135.200:6080/vnc.html", host: "192.168.135.192"',
      // lb-formats.md §3 (HAProxy)
      'Feb 8 17:15:07 localhost hapee-lb[19738]: 192.168.1.2:49528 [08/Feb/2018:17:15:07.182] fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 429 188 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
      // peer-corpus/lnav-access.log (tstack/lnav test/logfile_access_log.0)
      '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
    ];
    for (const line of notOurs) expect(browserConsole.sniff(line), line).toBe(0);
    // onsip/SIP.js#860 and versatica/JsSIP#396: the SIP stacks' own lines belong to their formats
    expect(
      browserConsole.sniff(
        'Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket closed wss://1xx.7x.7x.12:7443/wss (code: 1006) logger-factory.js:93',
      ),
    ).toBeLessThan(0.1);
    expect(
      browserConsole.sniff(
        'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket abrupt disconnection +0ms',
      ),
    ).toBeLessThan(0.1);
  });
});

describe('browser-console readings', () => {
  it('reads a handshake answered 504 into http.status', () => {
    // client-formats.md §6 (Chromium websocket_basic_handshake_stream.cc)
    const event = parseOne(
      "WebSocket connection to 'wss://sbc.example.com/ws?user=agent-042' failed: Error during WebSocket handshake: Unexpected response code: 504",
    );
    expect(event).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: 504 },
      keys: { user: 'agent-042' },
      ws: { url: 'wss://sbc.example.com/ws?user=agent-042' },
    });
  });

  it('reads Chrome failures without a status as failed handshakes', () => {
    // onsip/SIP.js#1016 (empty reason) and onsip/SIP.js#545 (net error)
    for (const line of [
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      "sip-0.9.2.js:11715 WebSocket connection to 'wss://sip-ws.example.com/' failed: Error in connection establishment: net::ERR_NAME_NOT_RESOLVED",
      "WebSocket connection to 'wss://sbc.example.com/ws' failed: WebSocket is closed before the connection is established.",
    ]) {
      const event = parseOne(line);
      expect(event.signal, line).toBe('ws-handshake-failed');
      expect(event.http?.status, line).toBeUndefined();
    }
  });

  it('reads the load generator and constructor faults', () => {
    // client-formats.md §0.7 (websocket_channel_impl.cc kMaxWebSocketsPerRenderProcess)
    expect(
      parseOne("WebSocket connection to 'wss://sbc.example.com/ws' failed: Insufficient resources").signal,
    ).toBe('resource-exhausted');
    // dirkbonhomme/pusher-client-node#4
    const subprotocol = parseOne(
      "Uncaught SyntaxError: Failed to construct 'WebSocket': The subprotocol '[object Object]' is invalid.",
    );
    expect(subprotocol).toMatchObject({ kind: 'config', signal: 'bad-header' });
  });

  it('reads Node ws and WebSocket-Node errors', () => {
    // client-formats.md §3.3 (websockets/ws lib/websocket.js, Node net errors)
    expect(parseOne('Error: Unexpected server response: 400')).toMatchObject({
      signal: 'ws-handshake-failed',
      http: { status: 400 },
    });
    expect(
      parseOne('TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]')
        .signal,
    ).toBe('bad-header');
    expect(parseOne('Error: socket hang up').signal).toBe('conn-reset');
    expect(parseOne('Error: read ECONNRESET').signal).toBe('conn-reset');
    expect(parseOne('Error: Opening handshake has timed out').signal).toBe('client-timeout');
    const refused = parseOne('Error: connect ECONNREFUSED 10.0.0.5:443');
    expect(refused.signal).toBe('ws-handshake-failed');
    // the address is the server's: no client peer key
    expect(refused.keys.peer).toBeUndefined();
    // theturtle32/WebSocket-Node: the headers that follow belong to the error
    const { events, outcomes } = parse([
      'Server responded with a non-101 status: 504 Gateway Timeout',
      'Response Headers Follow:',
      'server: nginx/1.22.1',
      'content-type: text/html',
      '2026-11-24T00:44:13.000Z [agent-042] giving up',
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part', 'part', 'event']);
    expect(events[0]).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: 504 },
    });
  });

  it('reads the app wrapper line with its timestamp and user tag', () => {
    // client-formats.md §0.1
    const event = parseOne(
      '2026-11-24T00:44:12.001Z [agent-042] Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally',
    );
    expect(event).toMatchObject({
      ts: Date.UTC(2026, 10, 24, 0, 44, 12, 1),
      kind: 'ws-close',
      signal: 'app-ws-failed',
      keys: { user: 'agent-042' },
      ws: { closeCode: 1006 },
    });
  });

  it('takes stack frames as parts of the record above them', () => {
    // InnovateAsterisk/Browser-Phone#499
    const { events, outcomes } = parse([
      'Failed to reconnect Error: WebSocket closed wss://192.168.39.90:8088/ws (code: 1006)',
      '    at at.onWebSocketClose (sip-0.20.0.min.js:2:226066)',
    ]);
    expect(outcomes).toEqual(['event', 'part']);
    expect(events).toHaveLength(1);
  });

  it('skips framed lines that say nothing and leaves bare prose unparsed', () => {
    const { events, outcomes } = parse([
      '2026-11-24T00:44:12.001Z app ready',
      'main.js:12 app ready',
      'hello world',
      '',
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'unparsed', 'skip']);
    expect(events).toHaveLength(0);
  });
});

describe('browser-console frames', () => {
  const ctx = utcContext();

  it('cuts DevTools sources, timestamps, tags and suffixes', () => {
    const prefixed = splitConsoleLine(
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      ctx,
    );
    expect(prefixed).toMatchObject({
      text: "WebSocket connection to 'wss://localhost:8080/' failed: ",
      framed: true,
    });
    expect(prefixed.ts).toBeNaN();
    const suffixed = splitConsoleLine(
      "WebSocket connection to 'ws://ws1.versatica.com:10080/' failed: Error during WebSocket handshake: Unexpected response code: 403 jssip-devel.js:571",
      ctx,
    );
    expect(suffixed.text.endsWith('403')).toBe(true);
    const bracketed = splitConsoleLine('[2024-01-31 12:00:00,123] [agent-042] Error: socket hang up', ctx);
    expect(bracketed).toMatchObject({
      ts: Date.UTC(2024, 0, 31, 12, 0, 0, 123),
      tagUser: 'agent-042',
      text: 'Error: socket hang up',
    });
    const toString = splitConsoleLine(
      'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.Transport | Connecting wss://localhost:8080',
      ctx,
    );
    expect(toString).toMatchObject({
      ts: Date.UTC(2022, 10, 21, 12, 41, 44),
      text: '| sip.Transport | Connecting wss://localhost:8080',
    });
    expect(
      splitConsoleLine(
        '12:16:14.123 transport.js:197 WebSocket is closed before the connection is established.',
        ctx,
      ).text,
    ).toBe('WebSocket is closed before the connection is established.');
  });

  it('knows a path that names one user agent', () => {
    expect(pathNamesOneUserAgent('logs/agent-042.log')).toBe(true);
    expect(pathNamesOneUserAgent('run/ua-17/console.txt')).toBe(true);
    expect(pathNamesOneUserAgent('run/vu1-vu500.log')).toBe(false);
    expect(pathNamesOneUserAgent('harness.log')).toBe(false);
  });

  it('stays linear on 64 KB lines', () => {
    const parser = browserConsole.createParser(ctx);
    const shapes = ['a', ' ', "WebSocket connection to '", '[', '.js:1 ', '    at ', 'Error: ', ':1'];
    const started = performance.now();
    let n = 0;
    for (const shape of shapes) {
      const line = shape.repeat(Math.ceil(65536 / shape.length)).slice(0, 65536);
      browserConsole.sniff(line);
      parser.push(line, ++n, () => {});
      parser.push(`Error: ${line}`, ++n, () => {});
    }
    parser.end(() => {});
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
