import { describe, it, expect } from 'vitest';
import { jssip } from '../../src/formats/jssip.js';
import { sipjs } from '../../src/formats/sipjs.js';
import { browserConsole } from '../../src/formats/browser-console.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

function parse(
  lines: readonly string[],
  path = 'client.log',
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = jssip.createParser(utcContext(2026, 2, path));
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

/** Lines of other families that no client format may claim. */
const OTHER_FAMILIES = [
  // sbc-formats.md §1 (Kamailio over syslog)
  'Mar 12 03:30:31 dev1-sbcaio-01 /usr/sbin/kamailio[6785]: WARNING: websocket [ws_frame.c:813]: ws_keepalive(): forcibly closing connection',
  'Nov  6 10:23:55 proxy1 kamailio[58634]: INFO: {1 1 REGISTER E3fNnAyni0_xvXIr3YHXrQ..} <script>: SIP request REGISTER received from 95.90.235.37:33534 via tcp - from sip:103@proxy1.omid.blog;transport=TCP to sip:103@proxy1.omid.blog;transport=TCP',
  // sbc-formats.md §1 (Kamailio on stderr, no timestamp)
  '23(24) ERROR: <core> [core/parser/parse_fline.c:271]: parse_first_line(): parse_first_line: bad message (offset: 22)',
  // lb-formats.md §2 (nginx error log)
  '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests, excess: 1.852 by zone "one", client: 1.2.3.4, server: example.com, request: "POST /index.htm HTTP/1.0", host: "exmaple.com"',
  '2017/10/04 16:42:10 [error] 7624#7624: *1 upstream timed out (110: Connection timed out) while connecting to upstream, client: 192.168.134.2, server: testnovnc.ai, request: "GET /vncws/vnc.html HTTP/1.1", upstream: "http://193.18.135.200:6080/vnc.html", host: "192.168.135.192"',
  // lb-formats.md §3 (HAProxy)
  'Feb 8 17:15:07 localhost hapee-lb[19738]: 192.168.1.2:49528 [08/Feb/2018:17:15:07.182] fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 429 188 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
  // peer-corpus/lnav-access.log (tstack/lnav test/logfile_access_log.0)
  '192.168.202.254 - - [20/Jul/2009:22:59:26 +0000] "GET /vmw/cgi/tramp HTTP/1.0" 200 134 "-" "gPXE/0.9.7"',
  // peer-corpus/wireshark-sipmsg.log (wireshark/wireshark test/captures/sipmsg.log)
  'Mar  6 13:34:49.416 On [6:0]10.102.130.185:5060 received from 10.102.130.150:5060',
  'REGISTER sip:csp.noklab.net SIP/2.0',
];

describe('jssip sniff', () => {
  it('scores every sample high, above the other client formats', () => {
    expect(jssip.samples.length).toBeGreaterThanOrEqual(6);
    for (const sample of jssip.samples) {
      expect(sample.source).not.toBe('');
      const score = jssip.sniff(sample.line);
      expect(score, sample.line).toBeGreaterThanOrEqual(0.8);
      expect(score, sample.line).toBeGreaterThan(sipjs.sniff(sample.line));
      expect(score, sample.line).toBeGreaterThan(browserConsole.sniff(sample.line));
    }
  });

  it('parses every sample', () => {
    for (const sample of jssip.samples) {
      expect(parse([sample.line]).outcomes[0], sample.line).not.toBe('unparsed');
    }
  });

  it('recognises the RFC 1123 and jssip-node-websocket variants', () => {
    // observed-on-real-servers.md: jssip-node-websocket's debug prints RFC 1123 dates
    expect(jssip.sniff('Tue, 24 Nov 2026 00:44:12 GMT JsSIP:Transport connect()')).toBeGreaterThanOrEqual(
      0.8,
    );
    expect(
      jssip.sniff(
        'Tue, 24 Nov 2026 00:44:12 GMT jssip-node-websocket WebSocket open [url:"wss://sbc.example.com/ws"]',
      ),
    ).toBeGreaterThanOrEqual(0.8);
  });

  it('does not claim SBC, load-balancer or harness lines', () => {
    for (const line of OTHER_FAMILIES) expect(jssip.sniff(line), line).toBe(0);
    expect(jssip.sniff('2026-11-24T00:44:12.001Z [agent-042] registered')).toBe(0);
    // a SIP User-Agent header naming JsSIP is not a JsSIP log line
    expect(jssip.sniff('User-Agent: JsSIP 3.10.0')).toBe(0);
  });
});

describe('jssip timestamps', () => {
  it('reads the Node ISO prefix as epoch ms', () => {
    // client-formats.md §1.1 (debug-js/debug src/node.js, non-TTY)
    const { events, outcomes } = parse([
      '2024-05-01T10:00:00.123Z JsSIP:Transport connect()',
      '2024-05-01T10:00:00.125Z JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws?user=agent-042',
    ]);
    expect(outcomes).toEqual(['skip', 'event']);
    expect(events[0].ts).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 125));
  });

  it('reads the RFC 1123 prefix at 1 s resolution', () => {
    // observed-on-real-servers.md (jssip-node-websocket's bundled debug)
    const event = parseOne(
      'Tue, 24 Nov 2026 00:44:12 GMT jssip-node-websocket WebSocket open [url:"wss://sbc.example.com/ws"]',
    );
    expect(event.ts).toBe(Date.UTC(2026, 10, 24, 0, 44, 12));
    expect(event.signal).toBe('ws-open');
  });

  it('leaves browser lines without a time at NaN, and carries a time seen earlier forward', () => {
    // versatica/JsSIP#396
    const alone = parseOne(
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket abrupt disconnection +0ms',
    );
    expect(alone.ts).toBeNaN();
    const { events } = parse([
      '2026-11-24T00:44:12.001Z [agent-042] starting',
      'JsSIP:Transport reconnection attempt: 1. next connection attempt in 2 seconds +5s',
    ]);
    expect(events[1].ts).toBe(Date.UTC(2026, 10, 24, 0, 44, 12, 1));
  });
});

describe('jssip library messages', () => {
  it('reads the versatica/JsSIP#396 close as one unclean ws-close', () => {
    // versatica/JsSIP#396 (JsSIP 2.0.2, Chrome console)
    const { events, outcomes } = parse([
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface send() +0ms',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket wss://sipserver:wssport closed +7s',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:WebSocketInterface WebSocket abrupt disconnection +0ms',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:UA stop() +16ms',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:Transport send() +0ms',
      'jssip-2.0.2.min.js?v=1470648823940:15 JsSIP:ERROR:Transport unable to send message, transport is not connected +0ms',
    ]);
    expect(outcomes).toEqual(['skip', 'event', 'part', 'skip', 'skip', 'event']);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      kind: 'ws-close',
      signal: 'ws-close',
      line: 2,
      ws: { url: 'wss://sipserver:wssport', closeCode: 1006, wasClean: false },
    });
    expect(events[1]).toMatchObject({ kind: 'error', line: 6 });
  });

  it('reads a close without "abrupt disconnection" as clean', () => {
    const { events } = parse([
      '2026-11-24T00:44:40.000Z JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws closed',
      '2026-11-24T00:44:40.001Z JsSIP:UA stop()',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].ws).toEqual({ url: 'wss://sbc.example.com/ws', wasClean: true });
  });

  it('maps the template table of client-formats.md §1.1', () => {
    const ts = '2026-11-24T00:44:12.000Z ';
    const connecting = parseOne(
      `${ts}JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws?user=agent-042`,
    );
    expect(connecting).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-connecting',
      keys: { user: 'agent-042' },
    });
    expect(connecting.ws?.url).toBe('wss://sbc.example.com/ws?user=agent-042');
    expect(
      parseOne(`${ts}JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws connected`).signal,
    ).toBe('ws-open');
    const reconnect = parseOne(
      `${ts}JsSIP:Transport reconnection attempt: 3. next connection attempt in 7 seconds`,
    );
    expect(reconnect).toMatchObject({ signal: 'reconnect', retryDelayMs: 7000 });
    expect(parseOne(`${ts}JsSIP:Transport received message with double-CRLF Keep Alive request`).signal).toBe(
      'keepalive',
    );
    expect(parseOne(`${ts}JsSIP:Transport received message with CRLF Keep Alive response`).signal).toBe(
      'keepalive',
    );
    const timerF = parseOne(
      `${ts}JsSIP:NonInviteClientTransaction Timer F expired for transaction z9hG4bK7412258`,
    );
    expect(timerF).toMatchObject({ kind: 'timeout', signal: 'transaction-timeout' });
    const badUrl = parseOne(`${ts}JsSIP:WARN:WebSocketInterface invalid WebSocket URI: sbc.example.com/ws`);
    expect(badUrl).toMatchObject({ kind: 'config', signal: 'bad-url' });
    // versatica/JsSIP#313 (JsSIP 2.x)
    expect(
      parseOne('JsSIP:Transport trying to reconnect to WebSocket xxxxxxxxx (reconnection attempt 1)').signal,
    ).toBe('reconnect');
    // the UA configuration dump names the AOR
    expect(parseOne(`${ts}JsSIP:UA - uri: sip:agent-042@example.com`)).toMatchObject({
      kind: 'config',
      keys: { user: 'agent-042' },
    });
  });

  it('skips library lines that only look like a signal', () => {
    // versatica/JsSIP src/WebSocketInterface.js and src/Transport.js templates
    const { events, outcomes } = parse([
      '2026-11-24T00:44:12.000Z JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws is already connected',
      '2026-11-24T00:44:12.000Z JsSIP:Transport Transport is already connected',
      '2026-11-24T00:44:12.000Z JsSIP:WebSocketInterface received WebSocket message',
    ]);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
    expect(events).toHaveLength(0);
  });

  it('reads the legacy "JsSIP | TRANSPORT |" form of versatica/JsSIP#194', () => {
    const { events, outcomes } = parse([
      'JsSIP | TRANSPORT | connecting to WebSocket ws://ws1.versatica.com:10080 jssip-devel.js:568',
      "WebSocket connection to 'ws://ws1.versatica.com:10080/' failed: Error during WebSocket handshake: Unexpected response code: 403 jssip-devel.js:571",
      'JsSIP | TRANSPORT | WebSocket connection error: [object Event] jssip-devel.js:732',
      'JsSIP | TRANSPORT | WebSocket disconnected (code: 1006) jssip-devel.js:628',
      'JsSIP | TRANSPORT | WebSocket abrupt disconnection jssip-devel.js:631',
      'JsSIP | UA | transport ws://ws1.versatica.com:10080 failed | connection state set to 2 jssip-devel.js:5320',
    ]);
    expect(outcomes).toEqual(['event', 'event', 'event', 'event', 'part', 'skip']);
    expect(events.map((e) => e.signal)).toEqual([
      'ws-connecting',
      'ws-handshake-failed',
      undefined,
      'ws-close',
    ]);
    expect(events[0].ws?.url).toBe('ws://ws1.versatica.com:10080');
    expect(events[1].http?.status).toBe(403);
    expect(events[3].ws).toMatchObject({ closeCode: 1006, wasClean: false });
  });

  it('reads jssip-node-websocket lines', () => {
    // templates from versatica/jssip-node-websocket index.js; reason from observed-on-real-servers.md
    const { events } = parse([
      'Tue, 24 Nov 2026 00:44:12 GMT jssip-node-websocket WebSocket connecting [url:"wss://sbc.example.com/ws/agent-042"]',
      'Tue, 24 Nov 2026 00:44:12 GMT jssip-node-websocket WebSocket error [url:"wss://sbc.example.com/ws/agent-042"]',
      'Tue, 24 Nov 2026 00:44:13 GMT jssip-node-websocket WebSocket closed [url:"wss://sbc.example.com/ws/agent-042", code:1006, reason:"Connection dropped by remote peer.", wasClean:false]',
    ]);
    expect(events[0]).toMatchObject({ signal: 'ws-connecting', keys: { user: 'agent-042' } });
    expect(events[1].kind).toBe('error');
    expect(events[2]).toMatchObject({
      kind: 'ws-close',
      signal: 'ws-close',
      ts: Date.UTC(2026, 10, 24, 0, 44, 13),
      ws: { closeCode: 1006, closeReason: 'Connection dropped by remote peer.', wasClean: false },
    });
  });
});

describe('jssip message dumps', () => {
  const received503 = [
    '2026-11-24T00:44:12.300Z JsSIP:Transport received text message:',
    '',
    'SIP/2.0 503 Service Unavailable',
    'Via: SIP/2.0/WSS 8kc2hmr5sc4l.invalid;branch=z9hG4bK5838302;received=203.0.113.7;rport=40123',
    'From: <sip:agent-042@example.com>;tag=ma8ipcbnb6',
    'To: <sip:agent-042@example.com>;tag=b27e1a1d33761e85846fc98f5f3a7e58.4d7b',
    'Call-ID: 4vqt8eq1gkd0n2m0s4o1hq',
    'CSeq: 3 REGISTER',
    'Retry-After: 5',
    'Server: kamailio (5.6.3 (x86_64/linux))',
    'Content-Length: 0',
    '',
    '',
    '2026-11-24T00:44:12.301Z [agent-042] registrationFailed SIP Failure Code',
  ];

  it('reads a received SBC 503 with Retry-After as one sip-response', () => {
    const { events, outcomes } = parse(received503);
    expect(outcomes).toEqual(['event', ...Array(12).fill('part'), 'event']);
    expect(events).toHaveLength(2);
    const [response] = events;
    expect(response).toMatchObject({
      kind: 'sip-response',
      line: 1,
      ts: Date.UTC(2026, 10, 24, 0, 44, 12, 300),
      keys: { callId: '4vqt8eq1gkd0n2m0s4o1hq', user: 'agent-042', peer: '203.0.113.7:40123' },
      sip: {
        status: 503,
        reason: 'Service Unavailable',
        method: 'REGISTER',
        cseq: 3,
        retryAfter: 5,
        direction: 'received',
        agent: 'kamailio (5.6.3 (x86_64/linux))',
        toUser: 'agent-042',
      },
    });
    expect(response.sip?.headers).toContain('retry-after');
    expect(events[1].signal).toBe('registration-failed');
  });

  it('reads the versatica/JsSIP#391 dumps: compact i: Call-ID, block ends at the next JsSIP line', () => {
    const { events, outcomes } = parse([
      'JsSIP:WebSocketInterface received WebSocket message +27s',
      'jssip-2.0.2.min.js?1467915647:15 JsSIP:Transport received text message:',
      '',
      'BYE sip:webrtc@webrtc.nfinite.com;gr=6375089e-8969 SIP/2.0',
      '...',
      'i: juqunfnhqt9i65cmovt3',
      'CSeq: 1 BYE',
      '...',
      'jssip-2.0.2.min.js?1467915647:15 JsSIP:Transport sending message:',
      '',
      'SIP/2.0 200 OK',
      '...',
      'Call-ID: juqunfnhqt9i65cmovt3',
      ' +1ms',
    ]);
    expect(outcomes).toEqual([
      'skip',
      'event',
      'part',
      'part',
      'part',
      'part',
      'part',
      'part',
      'event',
      'part',
      'part',
      'part',
      'part',
      'part',
    ]);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      kind: 'sip-request',
      line: 2,
      keys: { callId: 'juqunfnhqt9i65cmovt3' },
      sip: { method: 'BYE', cseq: 1, direction: 'received' },
    });
    expect(events[1]).toMatchObject({
      kind: 'sip-response',
      line: 9,
      keys: { callId: 'juqunfnhqt9i65cmovt3' },
      sip: { status: 200, direction: 'sent' },
    });
  });

  it('takes the UA user from From for its own requests and To for requests it receives', () => {
    const { events } = parse([
      '2026-11-24T00:45:00.000Z JsSIP:Transport sending message:',
      '',
      'INVITE sip:1000@example.com SIP/2.0',
      'From: "Agent" <sip:agent-042@example.com>;tag=1',
      't: <sip:1000@example.com>',
      'Call-ID: inv-1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '2026-11-24T00:45:00.100Z JsSIP:Transport received text message:',
      '',
      'SIP/2.0 180 Ringing',
      'From: "Agent" <sip:agent-042@example.com>;tag=1',
      'To: <sip:1000@example.com>;tag=2',
      'Call-ID: inv-1',
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-042', 'agent-042']);
    expect(events[1].sip).toMatchObject({
      status: 180,
      method: 'INVITE',
      fromUser: 'agent-042',
      toUser: '1000',
    });
  });

  it('counts a body by Content-Length and ends the dump after it', () => {
    const { events, outcomes } = parse([
      '2026-11-24T00:45:00.000Z JsSIP:Transport sending message:',
      '',
      'MESSAGE sip:1000@example.com SIP/2.0',
      'From: <sip:agent-042@example.com>;tag=1',
      'Call-ID: msg-1',
      'CSeq: 1 MESSAGE',
      'Content-Length: 7',
      '',
      'hello',
      '',
      '[agent-042] sent a message',
    ]);
    expect(outcomes.slice(-3)).toEqual(['part', 'part', 'event']);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ kind: 'info', keys: { user: 'agent-042' } });
  });

  it('reads a Node TTY dump whose lines all repeat the namespace', () => {
    const prefix = '  \x1b[36;1mJsSIP:Transport \x1b[0m';
    const { events, outcomes } = parse([
      `${prefix}sending message:`,
      prefix,
      `${prefix}REGISTER sip:example.com SIP/2.0`,
      `${prefix}From: <sip:agent-9@example.com>;tag=1`,
      `${prefix}Call-ID: tty-1`,
      `${prefix}Content-Length: 0`,
      prefix,
      `${prefix} \x1b[36m+0ms\x1b[0m`,
      `${prefix}send() \x1b[36m+2ms\x1b[0m`,
    ]);
    expect(outcomes).toEqual(['event', 'part', 'part', 'part', 'part', 'part', 'part', 'part', 'skip']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'sip-request', keys: { callId: 'tty-1', user: 'agent-9' } });
  });

  it('flushes a dump still open at the end of the input', () => {
    const { events } = parse([
      '2026-11-24T00:44:12.101Z JsSIP:Transport sending message:',
      '',
      'REGISTER sip:example.com SIP/2.0',
      'Call-ID: last-1',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0].keys.callId).toBe('last-1');
  });
});

describe('jssip harness lines', () => {
  it('reads the harness lines interleaved on stdout with the shared client reader', () => {
    // observed-on-real-servers.md: JsSIP debug goes to stdout and interleaves with the harness's lines
    const { events, outcomes } = parse([
      '2026-11-24T00:44:12.001Z [agent-042] registered',
      '[agent-007] Error: WebSocket connection failed. Code: 1006 Connection closed abnormally',
      'Error: Unexpected server response: 400',
      '    at ClientRequest.<anonymous> (/app/node_modules/ws/lib/websocket.js:913:7)',
      'Error: read ECONNRESET',
      '    at TLSWrap.onStreamRead (node:internal/stream_base_commons:217:20) {',
      '  errno: -104,',
      "  code: 'ECONNRESET',",
      "  syscall: 'read'",
      '}',
      'TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
    ]);
    expect(outcomes).toEqual([
      'event',
      'event',
      'event',
      'part',
      'event',
      'part',
      'part',
      'part',
      'part',
      'part',
      'event',
    ]);
    expect(events[0]).toMatchObject({
      signal: 'registered',
      keys: { user: 'agent-042' },
      ts: Date.UTC(2026, 10, 24, 0, 44, 12, 1),
    });
    expect(events[1]).toMatchObject({
      signal: 'app-ws-failed',
      keys: { user: 'agent-007' },
      ws: { closeCode: 1006 },
    });
    expect(events[2]).toMatchObject({
      kind: 'ws-handshake',
      signal: 'ws-handshake-failed',
      http: { status: 400 },
    });
    expect(events[3].signal).toBe('conn-reset');
    expect(events[4].signal).toBe('bad-header');
  });
});

describe('jssip user carrying', () => {
  const oneUa = [
    '2026-11-24T00:44:12.000Z JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws',
    '2026-11-24T00:44:12.001Z JsSIP:UA - uri: sip:agent-042@example.com',
    '2026-11-24T00:44:40.000Z JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws closed',
    '2026-11-24T00:44:40.000Z JsSIP:WebSocketInterface WebSocket abrupt disconnection',
  ];

  it('carries the one user of a one-UA file to the lines that name none', () => {
    const { events } = parse(oneUa);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-042', 'agent-042', 'agent-042']);
  });

  it('carries the most recent user when the path names one UA', () => {
    const { events } = parse(
      [
        '2026-11-24T00:44:11.000Z JsSIP:Transport reconnection attempt: 1. next connection attempt in 2 seconds',
        ...oneUa,
      ],
      'logs/agent-042/jssip.log',
    );
    expect(events.every((e) => e.keys.user === 'agent-042')).toBe(true);
  });

  it('carries nothing once a file names two users', () => {
    const { events } = parse([
      '2026-11-24T00:44:12.000Z [agent-001] starting',
      '2026-11-24T00:44:12.000Z [agent-002] starting',
      '2026-11-24T00:44:12.001Z JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws',
      '2026-11-24T00:44:40.000Z JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws closed',
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-001', 'agent-002', undefined, undefined]);
  });

  it('keeps the users a [tag] gives to each library line of a multi-UA file', () => {
    const { events } = parse([
      '2026-11-24T00:44:12.001Z [agent-001] JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws',
      '2026-11-24T00:44:12.002Z [agent-002] JsSIP:WebSocketInterface connecting to WebSocket wss://sbc.example.com/ws',
    ]);
    expect(events.map((e) => e.keys.user)).toEqual(['agent-001', 'agent-002']);
  });
});

describe('jssip robustness', () => {
  it('stays linear on 64 KB lines', () => {
    const parser = jssip.createParser(utcContext());
    const shapes = ['a', ' ', ':', '[', '.js:1 ', 'JsSIP:Transport ', '+0ms ', "WebSocket connection to '"];
    const started = performance.now();
    let n = 0;
    for (const shape of shapes) {
      const line = shape.repeat(Math.ceil(65536 / shape.length)).slice(0, 65536);
      jssip.sniff(line);
      parser.push(line, ++n, () => {});
      parser.push(`JsSIP:Transport ${line}`, ++n, () => {});
    }
    parser.end(() => {});
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe('jssip: the error after "WebSocket <url> error:"', () => {
  it('reads a local ERR_INVALID_CHAR as a malformed handshake header', () => {
    // JsSIP's WebSocketInterface template `WebSocket ${url} error: ` (client-formats.md §1.1) carrying
    // Node's header validation error (client-formats.md §3.3)
    const events: LogEvent[] = [];
    const parser = jssip.createParser(utcContext(2026));
    parser.push(
      '2025-11-24T10:00:04.485Z JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=agent-036 error:  TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
      1,
      (e) => events.push(e),
    );
    parser.end((e) => events.push(e));
    expect(events[0].signal).toBe('bad-header');
    expect(events[0].keys.user).toBe('agent-036');
  });
});

describe('JsSIP on Node: the handshake status inside an ErrorEvent dump', () => {
  // captured in the lab (docs/LAB.md): JsSIP 3.13.8 with ws 8.18.3 through HAProxy 2.6.12 refusing a
  // malformed header; the status appears only as the dump's kMessage
  const lines = [
    '2026-11-24T04:14:36.362Z JsSIP:WARN:WebSocketInterface WebSocket ws://127.0.0.1:43484/ws?user=agent-001 error:  ErrorEvent {',
    '  [Symbol(kTarget)]: LabWebSocket {',
    '    _events: [Object: null prototype] {',
    '      [Symbol(kError)]: undefined',
    '    },',
    '    [Symbol(shapeMode)]: false,',
    '  },',
    "  [Symbol(kType)]: 'error',",
    '  [Symbol(kError)]: Error: Unexpected server response: 400',
    '      at IncomingMessage.finish (file:///work/main/lab/clients/recording-ws.mjs:167:23)',
    '      at process.processTicksAndRejections (node:internal/process/task_queues:82:21),',
    "  [Symbol(kMessage)]: 'Unexpected server response: 400'",
    '}',
    '2026-11-24T04:14:36.364Z JsSIP:WebSocketInterface WebSocket ws://127.0.0.1:43484/ws?user=agent-001 closed',
  ];

  it('reads the 400 as a failed handshake of that user and counts the dump as part of its record', () => {
    const { events, outcomes } = parse(lines);
    const failed = events.filter((e) => e.signal === 'ws-handshake-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ line: 1, keys: { user: 'agent-001' }, http: { status: 400 } });
    expect(failed[0].ts).toBe(Date.parse('2026-11-24T04:14:36.362Z'));
    expect(outcomes.slice(1, 13).every((o) => o === 'part')).toBe(true);
    expect(outcomes).not.toContain('unparsed');
  });
});
