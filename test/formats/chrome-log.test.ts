import { describe, it, expect } from 'vitest';
import { chromeLog } from '../../src/formats/chrome-log.js';
import { browserConsole } from '../../src/formats/browser-console.js';
import { genesys } from '../../src/formats/genesys.js';
import { harness } from '../../src/formats/harness.js';
import { jssip } from '../../src/formats/jssip.js';
import { sipjs } from '../../src/formats/sipjs.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { utcContext, yearTracker } from '../../src/formats/time.js';
import type { LineOutcome, ParseContext } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(
  lines: readonly string[],
  ctx: ParseContext = utcContext(2026, 3, 'loadgen/chrome_debug.log'),
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = chromeLog.createParser(ctx);
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  events.sort((a, b) => a.line - b.line);
  return { events, outcomes };
}

function parseOne(line: string): LogEvent {
  const { events } = parse([line]);
  expect(events).toHaveLength(1);
  return events[0];
}

const PAGE = 'https://loadgen.example.net/softphone/phone.html';
const JSSIP_JS = 'https://loadgen.example.net/softphone/jssip-3.10.1.min.js';
/** 24 Nov 2026 10:00:02.118 (the test context is UTC) */
const T = Date.UTC(2026, 10, 24, 10, 0, 2, 118);

describe('chrome-log sniff', () => {
  it('scores every sample high, above every other client format', () => {
    expect(chromeLog.samples.length).toBeGreaterThanOrEqual(4);
    for (const sample of chromeLog.samples) {
      expect(sample.source).not.toBe('');
      const score = chromeLog.sniff(sample.line);
      expect(score, sample.line).toBeGreaterThanOrEqual(0.9);
      for (const other of [browserConsole, jssip, sipjs, genesys, harness])
        expect(score, `${other.name}: ${sample.line}`).toBeGreaterThan(other.sniff(sample.line));
    }
  });

  it('knows the prefix variants of client-formats.md §4.3 and of recent builds', () => {
    const lines = [
      // reference §4.3 (pid:tid, microseconds) and the tid-less form
      '[9217:0724/193431.383913:INFO:CONSOLE(170)] "x", source: /app/a.js (170)',
      '[1013/173835.913:INFO:CONSOLE(9)] "x", source: https://mint.fun/a.js (9)',
      // rogerwang/node-webkit wiki and a Linux build: pid only, whole seconds
      '[8732:1110/155118:INFO:CONSOLE(343)] "Uncaught Error: Cannot find module \'serialport\'", source: module.js (343)',
      '[5551:5551:0407/091640:INFO:CONSOLE(226)] "Retrieved call media stats: {  ',
      // recent builds: `file.cc:line` and `CONSOLE:N`
      '[24848:0810/115247.071:ERROR:net\\socket\\ssl_client_socket_impl.cc:963] handshake failed; returned -1, SSL error code 1, net_error -101',
      '[29128:0823/165430.829:INFO:CONSOLE:2] "Amazon IVS Player SDK 1.54.1", source: https://kick.com/ivs/1.54.1/amazon-ivs-wasmworker.min.js (2)',
    ];
    for (const line of lines) expect(chromeLog.sniff(line), line).toBeGreaterThanOrEqual(0.9);
  });

  it('does not claim SBC, load-balancer or other client lines', () => {
    const others = [
      'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
      '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests, excess: 1.852 by zone "one", client: 1.2.3.4, server: example.com, request: "POST /index.htm HTTP/1.0", host: "exmaple.com"',
      '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
      "transport.js:197 WebSocket connection to 'wss://localhost:8080/' failed: ",
      '[2024-01-31 12:00:00,123] loadgen-1/INFO/locust.runners: [agent-042] registered, 12 users running',
      '[webrtc-sdk] GenesysCloud streaming client connected {reconnect: false}',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface send() +0ms',
    ];
    for (const line of others) expect(chromeLog.sniff(line), line).toBe(0);
  });

  it('is detected for a log whose JsSIP dumps span many lines', () => {
    const d = detectFormat([...REGISTER_503, ...CLOSE_1006], FORMATS);
    expect(d.format?.name).toBe('chrome-log');
  });
});

describe('chrome-log line prefix', () => {
  it('reads MMDD/HHMMSS.ffffff in the input zone, with the context year', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(197)] "WebSocket connection to 'wss://sbc.example.com/ws?user=vu-017' failed: Error during WebSocket handshake: Unexpected response code: 504", source: ${JSSIP_JS} (1)`,
    );
    expect(e.ts).toBe(T);
    const plus2: ParseContext = {
      ...utcContext(2026),
      localToEpoch: (w) => w - 2 * 3_600_000,
    };
    const { events } = parse(
      [`[4242:4242:1124/120002.118000:INFO:CONSOLE(1)] "[vu-017] registered", source: ${PAGE} (1)`],
      plus2,
    );
    expect(events[0].ts).toBe(T);
  });

  it('takes the year from yearFor across New Year', () => {
    const ctx: ParseContext = { ...utcContext(2026), yearFor: yearTracker(2026) };
    const { events } = parse(
      [
        `[77:77:1231/235959.500000:INFO:CONSOLE(1)] "[vu-001] registered", source: ${PAGE} (1)`,
        `[77:77:0101/000001.000000:INFO:CONSOLE(1)] "[vu-001] registered", source: ${PAGE} (1)`,
      ],
      ctx,
    );
    expect(new Date(events[0].ts).toISOString()).toBe('2026-12-31T23:59:59.500Z');
    expect(new Date(events[1].ts).toISOString()).toBe('2027-01-01T00:00:01.000Z');
  });

  it('accepts whole seconds and the colon file form', () => {
    const e = parseOne(
      `[5551:1124/100002:INFO:CONSOLE:12] "WebSocket connection to 'wss://sbc.example.com/ws?user=vu-3' failed: Insufficient resources", source: ${JSSIP_JS} (12)`,
    );
    expect(e.ts).toBe(Date.UTC(2026, 10, 24, 10, 0, 2));
    expect(e.signal).toBe('resource-exhausted');
  });
});

describe('chrome-log console records', () => {
  it("reads Chrome's handshake failure of client-formats.md §6 with the user of the URL", () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(197)] "WebSocket connection to 'wss://sbc.example.com/ws?user=vu-017' failed: Error during WebSocket handshake: Unexpected response code: 504", source: ${JSSIP_JS} (1)`,
    );
    expect(e).toMatchObject({
      role: 'client',
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      keys: { user: 'vu-017' },
      http: { status: 504, upgrade: true },
      ws: { url: 'wss://sbc.example.com/ws?user=vu-017' },
    });
    expect(e.raw).toContain('INFO:CONSOLE(197)');
    expect(e.line).toBe(1);
  });

  it('reads the empty-reason failure (onsip/SIP.js#1016) as a failed handshake', () => {
    const e = parseOne(chromeLog.samples[3].line);
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.status).toBeUndefined();
  });

  it('gives lines without a user the user the page URL names', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(88)] "Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally", source: ${PAGE}?user=vu-021&run=7 (88)`,
    );
    expect(e).toMatchObject({ signal: 'app-ws-failed', keys: { user: 'vu-021' }, ws: { closeCode: 1006 } });
  });

  it('reads app lines tagged with the user', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(40)] "[vu-009] registrationFailed: SIP Failure Code (503 Service Unavailable)", source: ${PAGE} (40)`,
    );
    expect(e).toMatchObject({ signal: 'registration-failed', keys: { user: 'vu-009' } });
  });

  it('reads a JsSIP received-message dump spread over many lines (with debug %c markers)', () => {
    const { events, outcomes } = parse(REGISTER_503);
    expect(outcomes[0]).toBe('event');
    expect(outcomes.slice(1)).toEqual(REGISTER_503.slice(1).map(() => 'part'));
    const sip = events.find((e) => e.kind === 'sip-response');
    expect(sip).toMatchObject({
      ts: T,
      line: 1,
      keys: { callId: 'hd3ko3tgi9hb3z0wr2lqs1', user: 'vu-005' },
      sip: {
        status: 503,
        reason: 'Service Unavailable',
        direction: 'received',
        retryAfter: 30,
        method: 'REGISTER',
      },
    });
    expect(sip?.raw).toContain('INFO:CONSOLE(1)');
  });

  it('merges JsSIP\'s "closed" and "abrupt disconnection" into one abnormal close of the page user', () => {
    const { events } = parse(CLOSE_1006);
    const closes = events.filter((e) => e.signal === 'ws-close');
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({
      keys: { user: 'vu-005' },
      ws: { closeCode: 1006, wasClean: false, url: 'wss://sbc.example.com/ws?user=vu-005' },
    });
    const reconnect = events.find((e) => e.signal === 'reconnect');
    expect(reconnect).toMatchObject({ retryDelayMs: 2000, keys: { user: 'vu-005' } });
  });

  it('reads a custom header in an app line as harmless, not as keep-alive traffic', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(33)] "[vu-012] UA extraHeaders: ["X-Genesys-KeepAlive: true"]", source: ${PAGE}?user=vu-012 (33)`,
    );
    expect(e).toMatchObject({ signal: 'unknown-header', keys: { user: 'vu-012' } });
  });

  it('reads SIP.js records with their own time', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(93)] "Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00) | sip.Transport | WebSocket closed wss://1xx.7x.7x.12:7443/wss (code: 1006)", source: https://loadgen.example.net/logger-factory.js (93)`,
    );
    expect(e).toMatchObject({ signal: 'ws-close', ws: { closeCode: 1006 } });
    expect(e.ts).toBe(Date.UTC(2020, 8, 9, 9, 16, 14));
  });

  it('reads Genesys SDK console messages (only their first argument reaches the log)', () => {
    const e = parseOne(
      `[4242:4242:1124/100002.118000:INFO:CONSOLE(2)] "[streaming-client] Failed streaming client connection attempt, respecting retry-after header and will retry afterwards.", source: https://apps.mypurecloud.com/webrtc-sdk.bundle.js (2)`,
    );
    expect(e).toMatchObject({
      ts: T,
      signal: 'edge-rate-limit',
      text: expect.stringContaining('[streaming-client]'),
    });
  });

  it('ends an unterminated record at the next Chrome line', () => {
    const { events, outcomes } = parse([
      `[5551:5551:0407/091640:INFO:CONSOLE(226)] "Retrieved call media stats: {  `,
      '   "direction":"inbound",',
      `[5551:5551:0407/091641:INFO:CONSOLE(226)] "[vu-002] registered", source: ${PAGE} (226)`,
    ]);
    expect(outcomes).toEqual(['event', 'part', 'event']);
    expect(events.map((e) => e.signal)).toContain('registered');
  });
});

describe("chrome-log's own lines", () => {
  it('reads a TLS handshake error as an error that names nobody', () => {
    const e = parseOne(chromeLog.samples[2].line);
    expect(e).toMatchObject({ kind: 'error', keys: {} });
    expect(e.signal).toBeUndefined();
  });

  it('skips noise and leaves foreign lines unparsed', () => {
    const { outcomes } = parse([
      '[9217:0724/193431.380161:ERROR:bus.cc(396)] Failed to connect to the bus: Failed to connect to socket /var/run/dbus/system_bus_socket: No such file or directory',
      '[9217:0724/193431.380208:WARNING:wifi_data_provider_linux.cc(185)] Failed to get the device list',
      'DevTools listening on ws://127.0.0.1:61306/devtools/browser/3da6171b-a2e7-40ec-88a5-55c69b3d4dfa',
      '',
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'unparsed', 'skip']);
  });

  it('never throws on junk', () => {
    const { outcomes } = parse(['[', '[1:2:3]', '"', `[1:1:1399/999999:INFO:CONSOLE(1)] "x`, '\u0000\uffff']);
    expect(outcomes.length).toBe(5);
  });
});

/** A page's JsSIP debug output as Chrome logs it: the first console argument, `%c` markers kept. */
const REGISTER_503 = [
  `[4242:4242:1124/100002.118000:INFO:CONSOLE(1)] "%cJsSIP:Transport %creceived text message:`,
  '',
  'SIP/2.0 503 Service Unavailable',
  'Via: SIP/2.0/WSS 2fc5gxpaqu5g.invalid;branch=z9hG4bK9414634;received=198.51.100.40;rport=51448',
  'To: <sip:vu-005@sbc.example.com>;tag=a6d4f7e1c2b3',
  'From: <sip:vu-005@sbc.example.com>;tag=o2vw9b44vq',
  'Call-ID: hd3ko3tgi9hb3z0wr2lqs1',
  'CSeq: 1 REGISTER',
  'Retry-After: 30',
  'Server: kamailio (5.7.4 (x86_64/linux))',
  'Content-Length: 0',
  '',
  '',
  `%c +2ms", source: ${JSSIP_JS} (1)`,
];

const CLOSE_1006 = [
  `[4242:4242:1124/100102.120000:INFO:CONSOLE(1)] "%cJsSIP:WebSocketInterface %cWebSocket wss://sbc.example.com/ws?user=vu-005 closed%c +60s", source: ${JSSIP_JS} (1)`,
  `[4242:4242:1124/100102.120000:INFO:CONSOLE(1)] "%cJsSIP:WebSocketInterface %cWebSocket abrupt disconnection%c +0ms", source: ${JSSIP_JS} (1)`,
  `[4242:4242:1124/100102.121000:INFO:CONSOLE(1)] "%cJsSIP:Transport %creconnection attempt: 1. next connection attempt in 2 seconds%c +1ms", source: ${JSSIP_JS} (1)`,
];
