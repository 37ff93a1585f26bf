import { describe, it, expect } from 'vitest';
import { sipjs } from '../../src/formats/sipjs.js';
import { jssip } from '../../src/formats/jssip.js';
import { browserConsole } from '../../src/formats/browser-console.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(
  lines: readonly string[],
  path = 'client.log',
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = sipjs.createParser(utcContext(2026, 1, path));
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

const T = 'Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00)';
/** 12:16:14 at GMT+0300 */
const T_EPOCH = Date.UTC(2020, 8, 9, 9, 16, 14);

describe('sipjs sniff', () => {
  it('scores every sample high, above the other client formats', () => {
    expect(sipjs.samples.length).toBeGreaterThanOrEqual(6);
    for (const sample of sipjs.samples) {
      expect(sample.source).not.toBe('');
      const score = sipjs.sniff(sample.line);
      expect(score, sample.line).toBeGreaterThanOrEqual(0.8);
      expect(score, sample.line).toBeGreaterThan(jssip.sniff(sample.line));
      expect(score, sample.line).toBeGreaterThan(browserConsole.sniff(sample.line));
    }
  });

  it('parses every sample', () => {
    for (const sample of sipjs.samples) {
      expect(parse([sample.line]).outcomes[0], sample.line).not.toBe('unparsed');
    }
  });

  it('does not claim SBC, load-balancer or plain browser lines', () => {
    const others = [
      // sbc-formats.md §1 (Kamailio)
      'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      // lb-formats.md §2 (nginx error log)
      '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests, excess: 1.852 by zone "one", client: 1.2.3.4, server: example.com, request: "POST /index.htm HTTP/1.0", host: "exmaple.com"',
      // lb-formats.md §3 (HAProxy)
      'Feb 8 17:15:07 localhost hapee-lb[19738]: 192.168.1.2:49528 [08/Feb/2018:17:15:07.182] fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 429 188 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
      // onsip/SIP.js#1016: Chrome's own line in a SIP.js console
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
    ];
    for (const line of others) expect(sipjs.sniff(line), line).toBe(0);
  });
});

describe('sipjs timestamps', () => {
  it('reads Date.toString() with its zone offset', () => {
    // onsip/SIP.js#860
    expect(parseOne(`${T} | sip.Transport | WebSocket error occurred. logger-factory.js:85`).ts).toBe(
      T_EPOCH,
    );
    // onsip/SIP.js#545: GMT-0700 (PDT)
    const legacy = parseOne(
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:16 GMT-0700 (PDT) | sip.transport | connecting to WebSocket wss://sip-ws.example.com',
    );
    expect(legacy.ts).toBe(Date.UTC(2018, 3, 6, 20, 18, 16));
    // client-formats.md §1.2: a localized zone name
    const localized = parseOne(
      'Wed Jul 29 2020 16:07:53 GMT+0800 (中国标准时间) | sip.Transport | WebSocket opened wss://sbc.example.com/ws',
    );
    expect(localized.ts).toBe(Date.UTC(2020, 6, 29, 8, 7, 53));
    expect(localized.signal).toBe('ws-open');
  });
});

describe('sipjs messages', () => {
  it('merges the onsip/SIP.js#860 close into one unclean ws-close with its code', () => {
    const { events, outcomes } = parse([
      `${T} | sip.Transport | WebSocket error occurred. logger-factory.js:85`,
      `${T} | sip.Transport | WebSocket closed unexpectedly logger-factory.js:89`,
      `${T} | sip.Transport | WebSocket closed wss://1xx.7x.7x.12:7443/wss (code: 1006) logger-factory.js:93`,
    ]);
    expect(outcomes).toEqual(['event', 'event', 'part']);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ kind: 'error', ts: T_EPOCH });
    expect(events[1]).toMatchObject({
      kind: 'ws-close',
      signal: 'ws-close',
      line: 2,
      ws: { url: 'wss://1xx.7x.7x.12:7443/wss', closeCode: 1006, wasClean: false },
    });
  });

  it("reads the onsip/SIP.js#1016 start-up with DevTools prefixes and Chrome's empty failure reason", () => {
    const { events, outcomes } = parse([
      'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.UserAgent | Starting sip:anonymous.78lu1l@anonymous.invalid',
      'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.Transport | Connecting wss://localhost:8080',
      'logger-factory.js:93 Mon Nov 21 2022 13:41:44 GMT+0100 (Central European Standard Time) | sip.Transport | Transitioned from Disconnected to Connecting',
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      'logger-factory.js:85 Mon Nov 21 2022 13:41:47 GMT+0100 (Central European Standard Time) | sip.Transport | WebSocket error occurred.',
    ]);
    expect(outcomes).toEqual(['event', 'event', 'skip', 'event', 'event']);
    expect(events[0]).toMatchObject({
      kind: 'info',
      keys: { user: 'anonymous.78lu1l' },
      ts: Date.UTC(2022, 10, 21, 12, 41, 44),
    });
    expect(events[1]).toMatchObject({
      signal: 'ws-connecting',
      ws: { url: 'wss://localhost:8080' },
      keys: { user: 'anonymous.78lu1l' },
    });
    expect(events[2]).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      ts: Date.UTC(2022, 10, 21, 12, 41, 44),
    });
    expect(events[3].ts).toBe(Date.UTC(2022, 10, 21, 12, 41, 47));
  });

  it('reads the pre-0.15 lower-case categories of onsip/SIP.js#545', () => {
    const { events, outcomes } = parse([
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.transport | WebSocket disconnected (code: 1006)',
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.transport | WebSocket abrupt disconnection',
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.ua | transport wss://sip-ws.example.com failed | connection state set to 2',
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:14 GMT-0700 (PDT) | sip.ua | next connection attempt in 2 seconds',
      'sip-0.9.2.js:807 Fri Apr 06 2018 13:18:16 GMT-0700 (PDT) | sip.transport | connecting to WebSocket wss://sip-ws.example.com',
      "sip-0.9.2.js:11715 WebSocket connection to 'wss://sip-ws.example.com/' failed: Error in connection establishment: net::ERR_NAME_NOT_RESOLVED",
    ]);
    expect(outcomes).toEqual(['event', 'part', 'skip', 'event', 'event', 'event']);
    expect(events.map((e) => e.signal)).toEqual([
      'ws-close',
      'reconnect',
      'ws-connecting',
      'ws-handshake-failed',
    ]);
    expect(events[0].ws).toEqual({ closeCode: 1006, wasClean: false });
    expect(events[1].retryDelayMs).toBe(2000);
  });

  it('marks a registration failure after a generated 503 as internal', () => {
    // client-formats.md §0.4 and §1.2: SIP.js makes up the 503 when the transport fails
    const { events } = parse([
      `${T} | sip.transaction.nict | z9hG4bK3826021 | Transport error occurred in non-INVITE client transaction with id z9hG4bK3826021.`,
      `${T} | sip.user-agent-client | User agent client request transport error. Generating internal 503 Service Unavailable.`,
      `${T} | sip.Registerer | Failed to register, status code 503`,
    ]);
    expect(events).toHaveLength(3);
    expect(events[0].kind).toBe('error');
    expect(events[1]).toMatchObject({
      kind: 'sip-response',
      signal: 'internal-status',
      sip: { status: 503, reason: 'Service Unavailable', direction: 'internal' },
    });
    expect(events[2]).toMatchObject({
      signal: 'registration-failed',
      sip: { status: 503, method: 'REGISTER', direction: 'internal' },
    });
  });

  it('reads a generated 408 as internal too', () => {
    const event = parseOne(
      `${T} | sip.user-agent-client | User agent client request timed out. Generating internal 408 Request Timeout.`,
    );
    expect(event).toMatchObject({ signal: 'internal-status', sip: { status: 408, direction: 'internal' } });
  });

  it('keeps a registration failure after a received 503 as received', () => {
    const { events, outcomes } = parse([
      `${T} | sip.Transport | Received WebSocket text message:`,
      '',
      'SIP/2.0 503 Service Unavailable',
      'Via: SIP/2.0/WSS 3h0kq7ubtr1c.invalid;branch=z9hG4bK5551216;received=198.51.100.20;rport=51744',
      'From: <sip:agent-042@example.com>;tag=37ba1hvd1o',
      'To: <sip:agent-042@example.com>;tag=ad1a7c6bd3fc',
      'i: 2f7e3bc4-9d0a-4a1e-b8a2-7f8d1c0e5a11',
      'CSeq: 4 REGISTER',
      'Retry-After: 5',
      'Server: kamailio (5.6.3 (x86_64/linux))',
      'Content-Length: 0',
      '',
      `${T} | sip.Registerer | Failed to register, status code 503`,
    ]);
    expect(outcomes).toEqual(['event', ...Array(11).fill('part'), 'event']);
    expect(events[0]).toMatchObject({
      kind: 'sip-response',
      keys: {
        callId: '2f7e3bc4-9d0a-4a1e-b8a2-7f8d1c0e5a11',
        user: 'agent-042',
        peer: '198.51.100.20:51744',
      },
      sip: { status: 503, retryAfter: 5, direction: 'received', method: 'REGISTER', cseq: 4 },
    });
    expect(events[1]).toMatchObject({
      signal: 'registration-failed',
      sip: { status: 503, direction: 'received' },
      keys: { user: 'agent-042' },
    });
  });

  it('reads a sent REGISTER dump and a sent CRLF keep-alive', () => {
    const { events } = parse([
      `${T} | sip.Transport | Sending WebSocket message:`,
      '',
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/WSS 3h0kq7ubtr1c.invalid;branch=z9hG4bK5551216',
      'From: <sip:agent-042@example.com>;tag=37ba1hvd1o',
      'To: <sip:agent-042@example.com>',
      'Call-ID: reg-042',
      'CSeq: 4 REGISTER',
      'Content-Length: 0',
      '',
      '',
      `${T} | sip.Transport | Sending WebSocket message:`,
      '',
      '',
      '',
      '',
      `${T} | sip.Transport | Received WebSocket message with CRLF Keep Alive response`,
    ]);
    expect(events.map((e) => e.kind)).toEqual(['sip-request', 'info', 'info']);
    expect(events[0]).toMatchObject({
      keys: { callId: 'reg-042', user: 'agent-042' },
      sip: { method: 'REGISTER', direction: 'sent' },
    });
    expect(events[1].signal).toBe('keepalive');
    expect(events[2].signal).toBe('keepalive');
  });

  it('maps the transport, user agent and registerer messages of client-formats.md §1.2', () => {
    const timeout = parseOne(
      `${T} | sip.Transport | Connect timed out. Exceeded time set in configuration.connectionTimeout: 5s.`,
    );
    expect(timeout).toMatchObject({ kind: 'timeout', signal: 'client-timeout', timeoutMs: 5000 });
    const reconnect = parseOne(
      `${T} | sip.SessionManager | Reconnection attempt 2 of 3 - trying in 4 seconds`,
    );
    expect(reconnect).toMatchObject({ signal: 'reconnect', retryDelayMs: 4000 });
    const immediate = parseOne(`${T} | sip.UserAgent | Reconnection attempt 1 of 3 - trying`);
    expect(immediate.signal).toBe('reconnect');
    expect(immediate.retryDelayMs).toBeUndefined();
    expect(parseOne(`${T} | sip.Registerer | Registration transitioned to state Registered`).signal).toBe(
      'registered',
    );
    expect(
      parse([`${T} | sip.Registerer | Registration transitioned to state Unregistered`]).events,
    ).toHaveLength(0);
    const deprecated = parseOne(
      `${T} | sip.Transport | The transport option "maxReconnectionAttempts" as has apparently been specified and has been deprecated. It will no longer be available starting with SIP.js release 0.16.0. Please update accordingly.`,
    );
    expect(deprecated.kind).toBe('config');
    expect(deprecated.signal).toBeUndefined();
    expect(parseOne(`${T} | sip.Transport | Invalid WebSocket Server URL "sbc.example.com/ws"`).signal).toBe(
      'bad-url',
    );
  });

  it('skips state transitions and attempt outcomes that only look like signals', () => {
    // onsip/SIP.js src/platform/web/transport/transport.ts and src/api/user-agent.ts templates
    const { events, outcomes } = parse([
      `${T} | sip.Transport | Transitioned from Connecting to Connected`,
      `${T} | sip.Transport | Transitioned from Connected to Disconnecting`,
      `${T} | sip.UserAgent | Reconnection attempt 1 of 3 - failed`,
      `${T} | sip.UserAgent | Reconnection attempt 2 of 3 - succeeded`,
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip', 'skip']);
    expect(events).toHaveLength(0);
  });

  it('reads the app lines around SIP.js with the shared console reader', () => {
    // InnovateAsterisk/Browser-Phone#499
    const { events, outcomes } = parse([
      'Failed to reconnect Error: WebSocket closed wss://192.168.39.90:8088/ws (code: 1006)',
      '    at at.onWebSocketClose (sip-0.20.0.min.js:2:226066)',
    ]);
    expect(outcomes).toEqual(['event', 'part']);
    expect(events[0].ws?.url).toBe('wss://192.168.39.90:8088/ws');
  });

  it('carries the AoR of "Starting" in a one-UA console', () => {
    const { events } = parse([
      `${T} | sip.UserAgent | Starting sip:agent-042@example.com`,
      `${T} | sip.Transport | Connecting wss://sbc.example.com/ws`,
      `${T} | sip.Transport | WebSocket closed unexpectedly`,
      `${T} | sip.Transport | WebSocket closed wss://sbc.example.com/ws (code: 1006)`,
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-042', 'agent-042', 'agent-042']);
  });
});

describe('sipjs robustness', () => {
  it('stays linear on 64 KB lines', () => {
    const parser = sipjs.createParser(utcContext());
    const shapes = ['a', ' ', '|', ' | ', 'sip.', ' | sip.Transport | ', '.js:1 '];
    const started = performance.now();
    let n = 0;
    for (const shape of shapes) {
      const line = shape.repeat(Math.ceil(65536 / shape.length)).slice(0, 65536);
      sipjs.sniff(line);
      parser.push(line, ++n, () => {});
      parser.push(`${T} | sip.Transport | ${line}`, ++n, () => {});
    }
    parser.end(() => {});
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('SIP.js configuration dump', () => {
  // captured in the lab (docs/LAB.md): SIP.js 0.21 prints its default sessionDescriptionHandlerFactory's source
  it('counts the source lines of a function-valued option as part of that record, not as unparsed', () => {
    const lines = [
      'Tue Nov 24 2026 04:03:13 GMT+0000 (Coordinated Universal Time) | sip.UserAgent | · sendInitialProvisionalResponse: true',
      'Tue Nov 24 2026 04:03:13 GMT+0000 (Coordinated Universal Time) | sip.UserAgent | · sessionDescriptionHandlerFactory: (session, options) => {',
      '        // provide a default media stream factory if need be',
      '        if (mediaStreamFactory === undefined) {',
      '            mediaStreamFactory = defaultMediaStreamFactory();',
      '        }',
      '        return new SessionDescriptionHandler(logger, mediaStreamFactory, sessionDescriptionHandlerConfiguration);',
      '    }',
      'Tue Nov 24 2026 04:03:13 GMT+0000 (Coordinated Universal Time) | sip.UserAgent | · sessionDescriptionHandlerFactoryOptions: {}',
    ];
    const parser = sipjs.createParser(utcContext(2026));
    const outcomes = lines.map((l, i) => parser.push(l, i + 1, () => {}));
    expect(outcomes.slice(2, 8)).toEqual(Array(6).fill('part'));
    expect(outcomes).not.toContain('unparsed');
  });
});
