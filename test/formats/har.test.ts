import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { har, frameTimeMs } from '../../src/formats/har.js';
import { k6 } from '../../src/formats/k6.js';
import { acmeSipmsg } from '../../src/formats/acme-sipmsg.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

const ALL = FORMATS;
const OTHERS = FORMATS.filter((f) => f !== har && f !== k6 && f !== acmeSipmsg);
const CALL_ID = '3c26700b4d2a-8f1q9w@agent-042.invalid';

function register(cseq: number, auth = false): string {
  return [
    'REGISTER sip:sbc.example.com SIP/2.0',
    'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK123' + cseq,
    'Max-Forwards: 69',
    'To: <sip:agent-042@sbc.example.com>',
    'From: "Agent 42" <sip:agent-042@sbc.example.com>;tag=xyz',
    `Call-ID: ${CALL_ID}`,
    `CSeq: ${cseq} REGISTER`,
    ...(auth ? ['Authorization: Digest username="agent-042", realm="sbc"'] : []),
    'Contact: <sip:abc@abc.invalid;transport=ws>',
    'Expires: 600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function response(status: string, cseq: number): string {
  return [
    `SIP/2.0 ${status}`,
    `Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK123${cseq};received=198.51.100.7;rport=53122`,
    'To: <sip:agent-042@sbc.example.com>;tag=srv',
    'From: "Agent 42" <sip:agent-042@sbc.example.com>;tag=xyz',
    `Call-ID: ${CALL_ID}`,
    `CSeq: ${cseq} REGISTER`,
    ...(status.startsWith('401') ? ['WWW-Authenticate: Digest realm="sbc", nonce="n"'] : []),
    'Server: Kamailio (5.7.4 (x86_64/linux))',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A HAR as Chrome (epoch-second frame times) or Playwright (ms) writes it. */
function makeHar(unit: 'seconds' | 'ms', userInUrl: boolean): unknown {
  const t = (s: number) => (unit === 'seconds' ? s : Math.round(s * 1000));
  const base = 1705312200; // 2024-01-15T09:50:00Z
  const url = userInUrl ? 'wss://sbc.example.com/ws?user=agent-042' : 'wss://sbc.example.com/ws';
  return {
    log: {
      version: '1.2',
      creator:
        unit === 'seconds'
          ? { name: 'WebInspector', version: '537.36' }
          : { name: 'Playwright', version: '1.57.0' },
      pages: [
        { startedDateTime: '2024-01-15T09:49:59.000Z', id: 'page_1', title: 'Softphone', pageTimings: {} },
      ],
      entries: [
        {
          _initiator: { type: 'script', stack: { callFrames: [{ functionName: 'connect', url: 'app.js' }] } },
          _resourceType: 'script',
          startedDateTime: '2024-01-15T09:49:59.500Z',
          time: 12,
          request: { method: 'GET', url: 'https://app.example.com/app.js', headers: [] },
          response: {
            status: 200,
            statusText: 'OK',
            headers: [],
            content: { size: 5000, mimeType: 'text/javascript', text: 'x'.repeat(5000) },
          },
        },
        {
          _resourceType: 'websocket',
          startedDateTime: '2024-01-15T09:50:00.000Z',
          time: 5000,
          connection: '4711',
          request: {
            method: 'GET',
            url,
            httpVersion: 'HTTP/1.1',
            headers: [
              { name: 'Upgrade', value: 'websocket' },
              { name: 'Connection', value: 'Upgrade' },
              { name: 'Sec-WebSocket-Key', value: 'dGhlIHNhbXBsZSBub25jZQ==' },
              { name: 'Sec-WebSocket-Version', value: '13' },
              { name: 'Sec-WebSocket-Protocol', value: 'sip' },
              { name: 'X-Genesys-KeepAlive', value: 'true' },
            ],
          },
          response: {
            status: 101,
            statusText: 'Switching Protocols',
            headers: [
              { name: 'Upgrade', value: 'websocket' },
              { name: 'Sec-WebSocket-Protocol', value: 'sip' },
            ],
            content: { size: 0, mimeType: 'x-unknown' },
          },
          _webSocketMessages: [
            { type: 'send', time: t(base + 0.123), opcode: 1, data: register(1) },
            { type: 'receive', time: t(base + 0.456), opcode: 1, data: response('401 Unauthorized', 1) },
            { type: 'send', time: t(base + 0.5), opcode: 1, data: register(2, true) },
            { type: 'receive', time: t(base + 0.61), opcode: 1, data: response('200 OK', 2) },
          ],
        },
        {
          _resourceType: 'websocket',
          startedDateTime: '2024-01-15T09:51:00.000Z',
          time: 30012,
          request: { method: 'GET', url: 'wss://sbc.example.com/ws?user=agent-043', headers: [] },
          response: { status: 0, statusText: '', headers: [], _error: 'net::ERR_FAILED' },
          _webSocketMessages: [
            {
              type: 'error',
              time: t(base + 90.5),
              opcode: -1,
              data: 'Error during WebSocket handshake: Unexpected response code: 503',
            },
          ],
        },
      ],
    },
  };
}

function parse(lines: readonly string[]): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = har.createParser(utcContext(2024, 2));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

function checkEvents(events: LogEvent[], userInUrl: boolean): void {
  const handshakes = events.filter((e) => e.kind === 'ws-handshake');
  expect(handshakes).toHaveLength(2);
  const [open, failed] = handshakes;
  expect(open.signal).toBe('ws-open');
  expect(open.http?.status).toBe(101);
  expect(open.ts).toBe(Date.parse('2024-01-15T09:50:00.000Z'));
  expect(open.keys.user).toBe('agent-042');
  expect(open.keys.wsKey).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  expect(open.ws?.subprotocol).toBe('sip');
  expect(failed.signal).toBe('ws-handshake-failed');
  expect(failed.http?.status).toBe(503);
  expect(failed.keys.user).toBe('agent-043');
  expect(failed.text).toContain('Unexpected response code: 503');

  const custom = events.filter((e) => e.signal === 'unknown-header');
  expect(custom).toHaveLength(1);
  expect(custom[0].text).toContain('X-Genesys-KeepAlive: true');

  const sip = events.filter((e) => e.kind === 'sip-request' || e.kind === 'sip-response');
  expect(sip.map((e) => `${e.sip?.direction} ${e.sip?.method} ${e.sip?.status ?? ''}`.trim())).toEqual([
    'sent REGISTER',
    'received REGISTER 401',
    'sent REGISTER',
    'received REGISTER 200',
  ]);
  expect(sip.every((e) => e.keys.callId === CALL_ID)).toBe(true);
  expect(sip.every((e) => e.keys.user === 'agent-042')).toBe(true);
  expect(sip.every((e) => e.role === 'client')).toBe(true);
  // frame times: epoch seconds (Chrome) and ms (Playwright) give the same instant
  expect(sip[0].ts).toBe(1705312200123);
  expect(sip[1].ts).toBe(1705312200456);
  expect(sip[1].keys.peer).toBe('198.51.100.7:53122');
  expect(sip[1].sip?.agent).toContain('Kamailio');
  // the error frame explained the handshake: no second event for it
  expect(events.filter((e) => e.kind === 'error')).toHaveLength(0);
  void userInUrl;
}

describe('har: Chrome and Playwright HARs', () => {
  for (const unit of ['seconds', 'ms'] as const) {
    for (const userInUrl of [true, false]) {
      const name = `${unit === 'seconds' ? 'Chrome' : 'Playwright'} HAR${userInUrl ? '' : ' (user only in the frames)'}`;

      it(`${name}, pretty-printed: one entry at a time`, () => {
        const lines = JSON.stringify(makeHar(unit, userInUrl), null, 2).split('\n');
        const { events, outcomes } = parse(lines);
        checkEvents(events, userInUrl);
        // the lines that closed the two WebSocket entries carry their events; the script entry is skipped
        expect(outcomes.filter((o) => o === 'event')).toHaveLength(2);
        expect(outcomes.filter((o) => o === 'skip')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'unparsed')).toHaveLength(0);
        // events carry the line where their entry or frame started
        const firstSip = events.find((e) => e.kind === 'sip-request')!;
        expect(lines[firstSip.line - 1]).toMatch(/^\s*\{$/);
        expect(lines[firstSip.line]).toContain('"type": "send"');
        expect(detectFormat(lines, ALL).format?.name).toBe('har');
      });

      it(`${name}, on one line`, () => {
        const line = JSON.stringify(makeHar(unit, userInUrl));
        const { events, outcomes } = parse([line]);
        checkEvents(events, userInUrl);
        expect(outcomes).toEqual(['event']);
        expect(detectFormat([line], ALL).format?.name).toBe('har');
      });
    }
  }

  it('a one-line HAR cut at the 64 KB line cap: reports what it read, never throws', () => {
    const doc = makeHar('seconds', true) as { log: { entries: unknown[] } };
    // a big body in a later entry pushes the end of the document past 64 KB
    doc.log.entries.push({
      _resourceType: 'xhr',
      startedDateTime: '2024-01-15T09:52:00.000Z',
      request: { method: 'GET', url: 'https://app.example.com/big', headers: [] },
      response: { status: 200, headers: [], content: { text: 'y'.repeat(200_000) } },
    });
    doc.log.entries.push(doc.log.entries[2]);
    const line = JSON.stringify(doc).slice(0, 64 * 1024);
    const { events } = parse([line]);
    checkEvents(events, true);
    // cut at every point of the document: never throws
    const full = JSON.stringify(makeHar('ms', true));
    for (let n = 0; n < full.length; n += 97) {
      expect(() => parse([full.slice(0, n)])).not.toThrow();
    }
  });

  it('reads a lone entry (the documented example) as an entry', () => {
    const lines = [
      '{ "_resourceType": "websocket", "startedDateTime": "2024-01-15T10:30:00.000Z", "time": 5000,',
      '  "request": { "method": "GET", "url": "wss://sbc.example.com/ws", "httpVersion": "HTTP/1.1",',
      '    "headers": [ {"name":"Upgrade","value":"websocket"}, {"name":"Connection","value":"Upgrade"},',
      '                 {"name":"Sec-WebSocket-Protocol","value":"sip"} ] },',
      '  "response": { "status": 101, "statusText": "Switching Protocols",',
      '    "headers": [ {"name":"Sec-WebSocket-Protocol","value":"sip"} ] },',
      '  "_webSocketMessages": [ {"type":"send","time":1705312200.123,"opcode":1,"data":"REGISTER sip:sbc.example.com SIP/2.0\\r\\nFrom: <sip:agent-7@sbc.example.com>;tag=1\\r\\nTo: <sip:agent-7@sbc.example.com>\\r\\nCall-ID: abc123@x\\r\\nCSeq: 1 REGISTER\\r\\n\\r\\n"},',
      '                          {"type":"receive","time":1705312200.456,"opcode":1,"data":"SIP/2.0 401 Unauthorized\\r\\nFrom: <sip:agent-7@sbc.example.com>;tag=1\\r\\nTo: <sip:agent-7@sbc.example.com>;tag=2\\r\\nCall-ID: abc123@x\\r\\nCSeq: 1 REGISTER\\r\\n\\r\\n"} ] }',
    ];
    const { events, outcomes } = parse(lines);
    expect(outcomes.at(-1)).toBe('event');
    expect(events.map((e) => e.kind)).toEqual(['ws-handshake', 'sip-request', 'sip-response']);
    expect(events[0].keys.user).toBe('agent-7');
    expect(events[2].sip?.status).toBe(401);
    expect(detectFormat(lines, ALL).format?.name).toBe('har');
  });

  it('reads error frames after an open socket, connection failures without a status, and skips other entries', () => {
    const doc = {
      log: {
        entries: [
          {
            _resourceType: 'websocket',
            startedDateTime: '2024-01-15T10:00:00.000Z',
            request: { url: 'wss://sbc.example.com/ws/agent-9', headers: [] },
            response: { status: 101, headers: [] },
            _webSocketMessages: [
              { type: 'receive', time: 1705312800.5, opcode: 1, data: '\r\n\r\n' },
              {
                type: 'error',
                time: 1705312801,
                opcode: -1,
                data: 'Could not decode a text frame as UTF-8.',
              },
            ],
          },
          {
            startedDateTime: '2024-01-15T10:00:05.000Z',
            request: { url: 'wss://sbc.example.com/ws/agent-9', headers: [] },
            response: { status: 0, headers: [], _error: 'net::ERR_CONNECTION_REFUSED' },
          },
          {
            startedDateTime: '2024-01-15T10:00:06.000Z',
            request: { url: 'wss://sbc.example.com/ws/agent-9', headers: [] },
            response: { status: 0, headers: [] },
            _webSocketMessages: [
              {
                type: 'error',
                time: 1705312806.2,
                opcode: -1,
                data: "WebSocket connection to 'wss://sbc.example.com/ws/agent-9' failed: Insufficient resources",
              },
            ],
          },
          {
            startedDateTime: '2024-01-15T10:00:07.000Z',
            request: { url: 'https://x.example.com/' },
            response: { status: 200 },
          },
        ],
      },
    };
    const { events } = parse(JSON.stringify(doc, null, 1).split('\n'));
    expect(events.map((e) => `${e.kind}/${e.signal ?? ''}`)).toEqual([
      'ws-handshake/ws-open',
      'info/keepalive',
      'error/',
      'ws-handshake/ws-handshake-failed',
      'error/resource-exhausted',
    ]);
    expect(events.every((e) => e.keys.user === 'agent-9')).toBe(true);
    expect(events[2].ts).toBe(1705312801000);
  });

  it('tells frame time units apart by magnitude', () => {
    expect(frameTimeMs(1705312200.123)).toBe(1705312200123);
    expect(frameTimeMs(1705312200123)).toBe(1705312200123);
    expect(frameTimeMs(undefined)).toBeNaN();
  });

  it('streams a large HAR without keeping it: many entries, big bodies', () => {
    const parser = har.createParser(utcContext(2024));
    let events = 0;
    let n = 0;
    const push = (line: string) => parser.push(line, ++n, () => events++);
    push('{"log":{"version":"1.2","entries":[');
    const body = 'z'.repeat(60_000);
    for (let i = 0; i < 2_000; i++) {
      push(`{"startedDateTime":"2024-01-15T10:00:00.000Z","request":{"url":"https://a/${i}"},`);
      push(`"response":{"status":200,"content":{"text":"${body}"}}},`);
      push(
        `{"_resourceType":"websocket","startedDateTime":"2024-01-15T10:00:00.000Z","request":{"url":"wss://s/ws?user=u${i}"},"response":{"status":101}}${i < 1999 ? ',' : ''}`,
      );
    }
    push(']}}');
    parser.end(() => events++);
    expect(events).toBe(2_000);
  });

  it('is not taken for the existing formats, nor the existing formats for it', () => {
    for (const f of OTHERS) {
      const d = detectFormat(
        f.samples.map((s) => s.line),
        ALL,
      );
      expect(d.format?.name, f.name).toBe(f.name);
      for (const s of f.samples) expect(har.sniff(s.line), `${f.name}: ${s.line}`).toBeLessThan(0.5);
    }
    expect(
      detectFormat(
        har.samples.map((s) => s.line),
        ALL,
      ).format?.name,
    ).toBe('har');
    for (const s of har.samples) expect(har.sniff(s.line), s.line).toBeGreaterThan(0);
  });

  it('never throws on adversarial input', () => {
    const attacks = [
      '['.repeat(30_000),
      '{"'.repeat(20_000),
      '{"log":{"entries":[' + '{"a":['.repeat(10_000),
      'not json at all',
      '}}}]]]',
    ];
    for (const line of attacks) {
      const t0 = performance.now();
      expect(() => parse([line, line])).not.toThrow();
      expect(performance.now() - t0).toBeLessThan(250);
    }
    expect(parse(['not json at all']).outcomes).toEqual(['unparsed']);
  });
});

describe('har: a request the page sent and never got an answer to', () => {
  /** One WebSocket entry whose REGISTER went unanswered; keep-alives follow for `quietSec`. */
  function silentHar(quietSec: number): string {
    const base = 1705312200;
    const frames: unknown[] = [{ type: 'send', time: base + 0.1, opcode: 1, data: register(1) }];
    for (let s = 10; s <= quietSec; s += 10)
      frames.push({ type: 'send', time: base + s, opcode: 1, data: '\r\n\r\n' });
    return JSON.stringify({
      log: {
        version: '1.2',
        creator: { name: 'WebInspector', version: '537.36' },
        entries: [
          {
            _resourceType: 'websocket',
            startedDateTime: '2024-01-15T09:50:00.000Z',
            time: 40,
            request: { method: 'GET', url: 'wss://sbc.example.com/ws?user=agent-042', headers: [] },
            response: { status: 101, statusText: 'Switching Protocols', headers: [] },
            _webSocketMessages: frames,
          },
        ],
      },
    });
  }

  it('is a transaction timeout once the socket stayed open for Timer F (an SBC flood guard drops silently)', () => {
    const { events } = parse([silentHar(40)]);
    const timeouts = events.filter((e) => e.signal === 'transaction-timeout');
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0].keys).toMatchObject({ user: 'agent-042', callId: CALL_ID });
    expect(timeouts[0].ts).toBe(Math.round((1705312200.1 + 32) * 1000));
  });

  it('is nothing yet when the socket closed sooner', () => {
    const { events } = parse([silentHar(20)]);
    expect(events.some((e) => e.signal === 'transaction-timeout')).toBe(false);
  });
});
