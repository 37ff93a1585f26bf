/**
 * A browser load test: each user is a Chrome page (Puppeteer) running SIP.js 0.21 from
 * https://phone.example.com, and the harness saves one HAR 1.2 per page at its end
 * (`har/<user>.har`, chrome-har from the page's DevTools events, pretty-printed). What a browser
 * records (client-formats.md §4.1, §3.2, §6):
 *   - the upgrade request exactly as sent (a browser cannot add headers: `Sec-WebSocket-Protocol:
 *     sip` always), and the 101's headers;
 *   - every frame in `_webSocketMessages`, `time` in epoch seconds: SIP messages and CRLF
 *     keep-alives (SIP.js `keepAliveInterval`);
 *   - for a refused handshake, no status (0) and one `error` frame (`opcode: -1`),
 *     `Error during WebSocket handshake: Unexpected response code: N`;
 *   - nothing at all when an open socket is cut (1006 reaches the script, not the HAR), and no
 *     console lines: SIP.js's log and the app's wrapper line are not in a HAR.
 * The file is written as the page lives, one entry at a time: an entry's frames are appended while
 * its socket is open, so nothing but the last line waits in memory.
 */
import type { Agent } from './agent.js';
import { sipjsReconnect, type ClientFlavor } from './client.js';
import { BROWSER_UA } from './edge.js';
import { isoTime } from './timefmt.js';
import { TOPOLOGY } from './world.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

const PAGE = `${TOPOLOGY.webOrigin}/softphone.html`;
const SCRIPT = `${TOPOLOGY.webOrigin}/js/sip-0.21.2.min.js`;
/** indentation of an entry in `log.entries` and of a frame in its `_webSocketMessages` */
const ENTRY_INDENT = 6;
const FRAME_INDENT = 10;

interface HarState {
  /** the last line written, held back until we know whether a comma follows it */
  held?: string;
  /** the time of the latest line, so that closing lines never come before it */
  lastT: number;
  /** the upgrade request in flight */
  attempt?: { started: number; key: string; connection: number };
  /** an entry whose frames are being written */
  open: boolean;
  connections: number;
}

function block(value: Json, indent: number): string[] {
  const pad = ' '.repeat(indent);
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((line) => pad + line);
}

function headers(list: [string, string][]): Json[] {
  return list.map(([name, value]) => ({ name, value }));
}

function headersSize(list: [string, string][], firstLine: string): number {
  return list.reduce((n, [name, value]) => n + name.length + value.length + 4, firstLine.length + 4);
}

export class HarClient implements ClientFlavor {
  readonly library = 'sipjs';
  readonly handshakeHeaders = false;
  private readonly states = new WeakMap<Agent, HarState>();

  private state(a: Agent): HarState {
    let s = this.states.get(a);
    if (s === undefined) this.states.set(a, (s = { lastT: -Infinity, open: false, connections: 0 }));
    return s;
  }

  /** Writes lines at `t` (never before what was written last): the held line first, with a comma or not. */
  private write(a: Agent, t: number, lines: string[], comma: boolean, hold: boolean): void {
    const s = this.state(a);
    const at = Math.max(t, s.lastT);
    const out: string[] = [];
    if (s.held !== undefined) out.push(comma ? `${s.held},` : s.held);
    if (hold && lines.length > 0) {
      s.held = lines[lines.length - 1];
      out.push(...lines.slice(0, -1));
    } else {
      s.held = undefined;
      out.push(...lines);
    }
    s.lastT = at;
    a.emit('client', at, out);
  }

  /** a complete item of the current list (an entry, a frame) */
  private item(a: Agent, t: number, lines: string[]): void {
    this.write(a, t, lines, true, true);
  }

  private clock(a: Agent, t: number): number {
    return t + a.world.skewOf('client');
  }

  /** Chrome's `pseudoWallTime` of a frame: epoch seconds with microseconds */
  private frameTime(a: Agent, t: number): number {
    return Number(`${(this.clock(a, t) / 1000).toFixed(3)}${String(a.rng.int(0, 999)).padStart(3, '0')}`);
  }

  private request(a: Agent, key: string): Json {
    const list: [string, string][] = [
      ['Host', TOPOLOGY.wsHost],
      ['Connection', 'Upgrade'],
      ['Pragma', 'no-cache'],
      ['Cache-Control', 'no-cache'],
      ['User-Agent', BROWSER_UA],
      ['Upgrade', 'websocket'],
      ['Origin', TOPOLOGY.webOrigin],
      ['Sec-WebSocket-Version', '13'],
      ['Accept-Encoding', 'gzip, deflate, br'],
      ['Accept-Language', 'en-US,en;q=0.9'],
      ['Sec-WebSocket-Key', key],
      ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
      ['Sec-WebSocket-Protocol', 'sip'],
    ];
    const path = a.url.slice(a.url.indexOf('/', 6));
    return {
      method: 'GET',
      url: a.url,
      httpVersion: 'HTTP/1.1',
      headers: headers(list),
      queryString: [{ name: 'user', value: a.name }],
      cookies: [],
      headersSize: headersSize(list, `GET ${path} HTTP/1.1`),
      bodySize: 0,
    };
  }

  private entry(a: Agent, ended: number, response: Json): { [key: string]: Json | undefined } {
    const s = this.state(a);
    const attempt = s.attempt ?? { started: ended, key: a.rng.base64(22) + '==', connection: 0 };
    const took = Math.max(1, Math.round(ended - attempt.started));
    const connect = Math.max(1, Math.round(took * 0.4));
    return {
      startedDateTime: isoTime(this.clock(a, attempt.started)),
      time: took,
      request: this.request(a, attempt.key),
      response,
      cache: {},
      timings: {
        blocked: Math.round(a.rng.between(0.5, 3) * 1000) / 1000,
        dns: -1,
        ssl: Math.max(1, Math.round(connect * 0.6)),
        connect,
        send: 0,
        wait: Math.max(0, took - connect - 1),
        receive: 0,
        _blocked_queueing: -1,
      },
      serverIPAddress: TOPOLOGY.publicIp,
      _initiator: { type: 'script', url: SCRIPT, lineNumber: 1 },
      _resourceType: 'websocket',
      connection: String(attempt.connection),
      pageref: 'page_1',
    };
  }

  startUa(a: Agent, t: number): void {
    a.ownFile = `har/${a.name}.har`;
    const page = `${PAGE}?user=${a.name}`;
    const head = [
      '{',
      '  "log": {',
      '    "version": "1.2",',
      ...block(
        { name: 'chrome-har', version: '0.13.5', comment: 'https://github.com/sitespeedio/chrome-har' },
        4,
      ).map((line, i) => (i === 0 ? '    "creator": {' : line)),
    ];
    head[head.length - 1] += ',';
    const pages = block(
      [
        {
          id: 'page_1',
          startedDateTime: isoTime(this.clock(a, t - 1000)),
          title: page,
          pageTimings: { onContentLoad: a.rng.int(180, 420), onLoad: a.rng.int(420, 900) },
        },
      ],
      4,
    );
    pages[0] = '    "pages": [';
    pages[pages.length - 1] += ',';
    this.write(a, t, [...head, ...pages, '    "entries": ['], false, false);
    const s = this.state(a);
    for (const [url, status, type, mime, size] of [
      [page, 200, 'document', 'text/html', 2841],
      [SCRIPT, 200, 'script', 'application/javascript', 412_733],
      [`${TOPOLOGY.webOrigin}/favicon.ico`, 404, 'other', 'text/html', 153],
    ] as const) {
      const started = t - 900 + s.connections * 120;
      s.connections++;
      this.item(
        a,
        t,
        block(
          {
            startedDateTime: isoTime(this.clock(a, started)),
            time: a.rng.int(8, 140),
            request: {
              method: 'GET',
              url,
              httpVersion: 'h2',
              headers: [{ name: 'user-agent', value: BROWSER_UA }],
              queryString: [],
              cookies: [],
              headersSize: -1,
              bodySize: 0,
            },
            response: {
              status,
              statusText: status === 200 ? '' : 'Not Found',
              httpVersion: 'h2',
              headers: [{ name: 'content-type', value: mime }],
              cookies: [],
              content: { size, mimeType: mime },
              redirectURL: '',
              headersSize: -1,
              bodySize: size,
              _transferSize: size + 120,
            },
            cache: {},
            timings: { blocked: 1, dns: -1, ssl: -1, connect: -1, send: 0, wait: 20, receive: 2 },
            serverIPAddress: '192.0.2.80',
            _resourceType: type,
            connection: String(1000 + s.connections),
            pageref: 'page_1',
          },
          ENTRY_INDENT,
        ),
      );
    }
  }

  connecting(a: Agent, t: number): void {
    const s = this.state(a);
    s.connections++;
    s.attempt = { started: t, key: `${a.rng.base64(22)}==`, connection: 2000 + s.connections };
  }

  opened(a: Agent, t: number): void {
    a.failedConnects = 0;
    const s = this.state(a);
    const accept: [string, string][] = [
      ['Upgrade', 'websocket'],
      ['Connection', 'upgrade'],
      ['Sec-WebSocket-Accept', `${a.rng.base64(27)}=`],
      ['Sec-WebSocket-Protocol', 'sip'],
    ];
    if (a.world.opts.sbc === 'kamailio') accept.push(['Server', TOPOLOGY.kamailioServer]);
    const entry = this.entry(a, t, {
      status: 101,
      statusText: 'Switching Protocols',
      httpVersion: 'HTTP/1.1',
      headers: headers(accept),
      cookies: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: headersSize(accept, 'HTTP/1.1 101 Switching Protocols'),
      bodySize: 0,
      _transferSize: headersSize(accept, 'HTTP/1.1 101 Switching Protocols'),
    });
    const lines = block(entry, ENTRY_INDENT);
    lines.pop();
    lines[lines.length - 1] += ',';
    lines.push(`${' '.repeat(ENTRY_INDENT + 2)}"_webSocketMessages": [`);
    this.write(a, t, lines, true, false);
    s.attempt = undefined;
    s.open = true;
  }

  private frame(a: Agent, t: number, type: 'send' | 'receive', data: string): void {
    if (!this.state(a).open) return;
    this.item(a, t, block({ type, time: this.frameTime(a, t), opcode: 1, data }, FRAME_INDENT));
  }

  /** ends the open entry: its frames array, then the entry (held: another entry may follow) */
  private closeEntry(a: Agent, t: number): void {
    const s = this.state(a);
    if (!s.open) return;
    s.open = false;
    this.write(a, t, [`${' '.repeat(ENTRY_INDENT + 2)}]`], false, false);
    this.write(a, t, [`${' '.repeat(ENTRY_INDENT)}}`], false, true);
  }

  sent(a: Agent, t: number, message: string): void {
    this.frame(a, t, 'send', message);
  }

  received(a: Agent, t: number, message: string): void {
    this.frame(a, t, 'receive', message);
  }

  keepAliveSent(a: Agent, t: number): void {
    this.frame(a, t, 'send', '\r\n\r\n');
  }

  keepAliveAnswered(a: Agent, t: number): void {
    this.frame(a, t, 'receive', '\r\n');
  }

  handshakeRejected(a: Agent, t: number, status: number): void {
    const entry = this.entry(a, t, {
      status: 0,
      statusText: '',
      httpVersion: '',
      headers: [],
      cookies: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
      _transferSize: 0,
    });
    entry._webSocketMessages = [
      {
        type: 'error',
        time: this.frameTime(a, t),
        opcode: -1,
        data: `Error during WebSocket handshake: Unexpected response code: ${status}`,
      },
    ];
    this.state(a).attempt = undefined;
    this.item(a, t, block(entry, ENTRY_INDENT));
  }

  connectionLost(a: Agent, t: number): void {
    this.closeEntry(a, t);
  }

  closedCleanly(a: Agent, t: number): void {
    this.closeEntry(a, t);
  }

  scheduleReconnect(a: Agent): number {
    return sipjsReconnect(a).delayMs;
  }

  finished(a: Agent, t: number): void {
    this.closeEntry(a, t);
    this.write(a, t, ['    ]', '  }', '}'], false, false);
    this.states.delete(a);
  }

  localHeaderError(): void {
    throw new Error('a browser cannot put headers on the WebSocket handshake');
  }

  watchdogRestart(): void {
    throw new Error('a browser cannot put headers on the WebSocket handshake');
  }

  // what SIP.js and the app print goes to the page's console, not into the HAR
  registered(): void {}
  registrationFailed(): void {}
  transactionTimedOut(): void {}
  stopping(): void {}
  unregistered(): void {}
  note(): void {}
}
