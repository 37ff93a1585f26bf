/**
 * The load harness's stdout+stderr (client-formats.md §1.1, §1.2, §3.3, §8; observed-on-real-servers.md).
 *
 * The harness is a Node 20 process that runs one JsSIP (or SIP.js) UA per user and tags its own
 * lines `[agent-042]` with an ISO timestamp. JsSIP's `debug` output (namespace `JsSIP:*`) has the ISO
 * prefix `debug` prints when stdout is not a TTY; the JsSIP socket is a copy of JsSIP's
 * WebSocketInterface on top of the `ws` package (so it keeps its log strings and can add handshake
 * headers). SIP.js prints `Date.toString() | category | text`. SIP dumps are multi-line; the
 * harness strips CRs, so every dump line ends in LF only.
 */
import type { Agent } from './agent.js';
import type { Prng } from './prng.js';
import { isoTime, jsDateString } from './timefmt.js';
import type { World } from './world.js';

export interface RegistrationFailure {
  /** the final response, or undefined when the transaction timed out */
  status?: number;
  reason?: string;
  retryAfterSec?: number;
}

export interface ClientFlavor {
  /** the SIP library whose messages the user sends */
  readonly library: 'jssip' | 'sipjs';
  /** whether this library can put custom headers on the WebSocket handshake (JsSIP via our `ws` socket) */
  readonly handshakeHeaders: boolean;
  startUa(a: Agent, t: number): void;
  connecting(a: Agent, t: number): void;
  opened(a: Agent, t: number): void;
  sent(a: Agent, t: number, message: string): void;
  received(a: Agent, t: number, message: string): void;
  keepAliveSent(a: Agent, t: number): void;
  keepAliveAnswered(a: Agent, t: number): void;
  registered(a: Agent, t: number, expiresSec: number): void;
  registrationFailed(a: Agent, t: number, failure: RegistrationFailure): void;
  /** the non-INVITE transaction timer fired (no answer at all) */
  transactionTimedOut(a: Agent, t: number, branch: string): void;
  /** the handshake got a non-101 HTTP status */
  handshakeRejected(a: Agent, t: number, status: number): void;
  /** an open WebSocket closed without a close frame (code 1006) */
  connectionLost(a: Agent, t: number): void;
  /** `new WebSocket()` threw before anything went on the wire (malformed header) */
  localHeaderError(a: Agent, t: number): void;
  /** the harness's watchdog restarts a UA that never got a socket */
  watchdogRestart(a: Agent, t: number, afterMs: number): void;
  /** logs the library's (or the harness's) reconnect decision and returns the delay in ms */
  scheduleReconnect(a: Agent, t: number): number;
  stopping(a: Agent, t: number): void;
  unregistered(a: Agent, t: number): void;
  closedCleanly(a: Agent, t: number): void;
  /** a harness line about this user */
  note(a: Agent, t: number, text: string): void;
  /** the user's story is over: nothing of this user comes after */
  finished(a: Agent, t: number): void;
  /**
   * Unrelated lines this client writes into client.log (progress reports, …); without it the
   * noise source writes the text harness's own chatter.
   */
  noise?(world: World, rng: Prng, t: number): string[];
}

/** the wrapper line of the test application (not from any library: client-formats.md §0.1) */
export const APP_WS_FAILED =
  'Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally';

/** `${header}\n\n${payload}\n` printed with console.info, CRs stripped: one array entry per output line */
function dumpLines(header: string, payload: string): string[] {
  return `${header}\n\n${payload}\n`.replace(/\r/g, '').split('\n');
}

const WS_LIB = '/opt/loadtest/node_modules/ws/lib/websocket.js';

/** stack of the Error `ws` builds in abortHandshake() for a non-101 answer */
const UNEXPECTED_RESPONSE_STACK = [
  `    at ClientRequest.<anonymous> (${WS_LIB}:913:7)`,
  '    at ClientRequest.emit (node:events:517:28)',
  '    at HTTPParser.parserOnIncomingClient [as onIncoming] (node:_http_client:700:27)',
  '    at HTTPParser.parserOnHeadersComplete (node:_http_common:119:17)',
  '    at TLSSocket.socketOnData (node:_http_client:541:22)',
  '    at TLSSocket.emit (node:events:517:28)',
  '    at addChunk (node:internal/streams/readable:368:12)',
  '    at readableAddChunk (node:internal/streams/readable:341:9)',
  '    at Readable.push (node:internal/streams/readable:278:10)',
  '    at TLSWrap.onStreamRead (node:internal/stream_base_commons:190:23)',
];

/** Node's header validation error, thrown synchronously by `new WebSocket(url, 'sip', { headers })` */
export const INVALID_CHAR_ERROR = [
  'TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
  '    at ClientRequest.setHeader (node:_http_outgoing:651:3)',
  '    at new ClientRequest (node:_http_client:289:14)',
  '    at request (node:https:360:10)',
  `    at initAsClient (${WS_LIB}:849:11)`,
  `    at new WebSocket (${WS_LIB}:86:7)`,
  '    at NodeWebSocketInterface.connect (/opt/loadtest/lib/node-websocket-interface.js:57:18)',
  '    at Transport._connect (/opt/loadtest/node_modules/jssip/lib/Transport.js:258:19)',
  '    at Transport.connect (/opt/loadtest/node_modules/jssip/lib/Transport.js:126:10)',
  '    at UA.start (/opt/loadtest/node_modules/jssip/lib/UA.js:208:23)',
  '    at Agent.start (/opt/loadtest/lib/agent.js:88:13) {',
  "  code: 'ERR_INVALID_CHAR'",
  '}',
];

abstract class HarnessOutput {
  protected harnessLine(a: Agent, t: number, text: string): string {
    return `${isoTime(t + a.world.skewOf('client'))} [${a.name}] ${text}`;
  }

  note(a: Agent, t: number, text: string): void {
    a.emit('client', t, [this.harnessLine(a, t, text)]);
  }

  finished(): void {
    // one shared log: nothing to close
  }

  protected headerNote(a: Agent): string | null {
    if (a.header === 'valid') return 'handshake header X-Genesys-KeepAlive: true';
    if (a.header === 'malformed') return 'handshake header X-Genesys-KeepAlive: "true\\r\\n"';
    return null;
  }
}

/** JsSIP 3.10 strings (src/WebSocketInterface.js, Transport.js, Transactions.js, Utils.sipErrorCause) */
export class JsSipClient extends HarnessOutput implements ClientFlavor {
  readonly library = 'jssip';
  readonly handshakeHeaders = true;

  private debug(a: Agent, t: number, namespace: string, text: string): string {
    return `${isoTime(t + a.world.skewOf('client'))} ${namespace} ${text}`;
  }

  startUa(a: Agent, t: number): void {
    const lines = [
      this.harnessLine(
        a,
        t,
        `starting UA ${a.sip.aor} ws=${a.url} register_expires=${a.world.registerExpiresSec}` +
          (a.omitSubprotocol ? ' protocols=[]' : ''),
      ),
    ];
    const header = this.headerNote(a);
    if (header) lines.push(this.harnessLine(a, t, header));
    lines.push(this.debug(a, t, 'JsSIP:UA', 'start()'));
    a.emit('client', t, lines);
  }

  connecting(a: Agent, t: number): void {
    a.emit('client', t, [
      this.debug(a, t, 'JsSIP:Transport', 'connect()'),
      this.debug(a, t, 'JsSIP:WebSocketInterface', `connecting to WebSocket ${a.url}`),
    ]);
  }

  opened(a: Agent, t: number): void {
    a.failedConnects = 0;
    a.emit('client', t, [this.debug(a, t, 'JsSIP:WebSocketInterface', `WebSocket ${a.url} connected`)]);
  }

  sent(a: Agent, t: number, message: string): void {
    a.emit('client', t, dumpLines(this.debug(a, t, 'JsSIP:Transport', 'sending message:'), message));
  }

  received(a: Agent, t: number, message: string): void {
    a.emit('client', t, dumpLines(this.debug(a, t, 'JsSIP:Transport', 'received text message:'), message));
  }

  keepAliveSent(): void {
    // the harness writes "\r\n\r\n" on the socket itself; JsSIP logs only the answer
  }

  keepAliveAnswered(a: Agent, t: number): void {
    a.emit('client', t, [
      this.debug(a, t, 'JsSIP:Transport', 'received message with CRLF Keep Alive response'),
    ]);
  }

  registered(a: Agent, t: number, expiresSec: number): void {
    this.note(a, t, `registered (expires=${expiresSec})`);
  }

  registrationFailed(a: Agent, t: number, failure: RegistrationFailure): void {
    const response = failure.status === undefined ? 'null' : `"${failure.status} ${failure.reason ?? ''}"`;
    this.note(a, t, `registrationFailed: cause="${jssipCause(failure.status)}" response=${response}`);
  }

  transactionTimedOut(a: Agent, t: number, branch: string): void {
    a.emit('client', t, [
      this.debug(a, t, 'JsSIP:NonInviteClientTransaction', `Timer F expired for transaction ${branch}`),
    ]);
  }

  private closeLines(a: Agent, t: number): string[] {
    return [
      this.debug(a, t, 'JsSIP:WebSocketInterface', `WebSocket ${a.url} closed`),
      this.debug(a, t, 'JsSIP:WebSocketInterface', 'WebSocket abrupt disconnection'),
      this.harnessLine(a, t, APP_WS_FAILED),
    ];
  }

  handshakeRejected(a: Agent, t: number, status: number): void {
    a.emit('client', t, [
      // debug's util.format joins the text and the Error with a space: hence two spaces
      this.debug(
        a,
        t,
        'JsSIP:WARN:WebSocketInterface',
        `WebSocket ${a.url} error:  Error: Unexpected server response: ${status}`,
      ),
      ...UNEXPECTED_RESPONSE_STACK,
      ...this.closeLines(a, t),
    ]);
  }

  connectionLost(a: Agent, t: number): void {
    a.emit('client', t, this.closeLines(a, t));
  }

  localHeaderError(a: Agent, t: number): void {
    const [first, ...rest] = INVALID_CHAR_ERROR;
    a.emit('client', t, [
      this.debug(a, t, 'JsSIP:WARN:WebSocketInterface', `WebSocket ${a.url} error:  ${first}`),
      ...rest,
    ]);
  }

  watchdogRestart(a: Agent, t: number, afterMs: number): void {
    a.emit('client', t, [
      this.harnessLine(a, t, `no WebSocket after ${afterMs / 1000} s, restarting UA`),
      this.debug(a, t, 'JsSIP:UA', 'stop()'),
      this.debug(a, t, 'JsSIP:UA', 'start()'),
    ]);
  }

  scheduleReconnect(a: Agent, t: number): number {
    const next = jssipReconnect(a);
    if (next.storm) {
      this.note(a, t, `ws closed, reconnecting in ${next.delayMs} ms (attempt ${a.failedConnects + 1})`);
      return next.delayMs;
    }
    const k = next.delayMs / 1000;
    a.emit('client', t, [
      this.debug(
        a,
        t,
        'JsSIP:Transport',
        `reconnection attempt: ${a.failedConnects}. next connection attempt in ${k} seconds`,
      ),
    ]);
    return k * 1000;
  }

  stopping(a: Agent, t: number): void {
    a.emit('client', t, [
      this.harnessLine(a, t, 'stopping UA (end of test)'),
      this.debug(a, t, 'JsSIP:UA', 'stop()'),
    ]);
  }

  unregistered(a: Agent, t: number): void {
    this.note(a, t, 'unregistered');
  }

  closedCleanly(a: Agent, t: number): void {
    a.emit('client', t, [this.debug(a, t, 'JsSIP:WebSocketInterface', `WebSocket ${a.url} closed`)]);
  }
}

/**
 * The next reconnect of a JsSIP UA: the harness's no-backoff loop (storm), or JsSIP's
 * Transport._reconnect: k = floor(random × 2^attempt + 1) seconds, clamped to [2, 30].
 */
export function jssipReconnect(a: Agent): { delayMs: number; storm: boolean } {
  a.failedConnects++;
  if (a.reconnect === 'storm') return { delayMs: a.rng.int(100, 300), storm: true };
  const k = Math.min(30, Math.max(2, Math.floor(a.rng.next() * 2 ** a.failedConnects + 1)));
  return { delayMs: k * 1000, storm: false };
}

/** JsSIP's Utils.sipErrorCause(): what `registrationFailed` reports as cause */
export function jssipCause(status: number | undefined): string {
  if (status === undefined) return 'Request Timeout';
  if (status === 401 || status === 407) return 'Authentication Error';
  if (status === 403 || status === 603) return 'Rejected';
  if (status === 408 || status === 410 || status === 430 || status === 480) return 'Unavailable';
  return 'SIP Failure Code';
}

export const SIPJS_RECONNECT = {
  library: { attempts: 3, delaySec: 4 },
  storm: { attempts: 100, delaySec: 0.2 },
};
/** after SIP.js gives up, the harness restarts the UserAgent after this long */
export const SIPJS_RESTART_MS = 30_000;

/**
 * The next reconnect of a SIP.js UserAgent: `reconnectionAttempts` tries `reconnectionDelay` apart
 * (the first at once), then the harness restarts the UserAgent after SIPJS_RESTART_MS.
 */
export function sipjsReconnect(a: Agent): { delayMs: number; gaveUp: boolean } {
  const { attempts, delaySec } = SIPJS_RECONNECT[a.reconnect];
  a.failedConnects++;
  if (a.failedConnects > attempts) {
    a.failedConnects = 0;
    return { delayMs: SIPJS_RESTART_MS, gaveUp: true };
  }
  // setTimeout(…, 0) still lands on a later tick
  return { delayMs: Math.max(a.failedConnects === 1 ? 0 : Math.round(delaySec * 1000), 1), gaveUp: false };
}

/** SIP.js 0.21 strings (src/platform/web/transport/transport.ts, api/user-agent.ts, api/registerer.ts) */
export class SipJsClient extends HarnessOutput implements ClientFlavor {
  readonly library = 'sipjs';
  readonly handshakeHeaders = false;

  private log(a: Agent, t: number, category: string, text: string): string {
    return `${jsDateString(t + a.world.skewOf('client'))} | ${category} | ${text}`;
  }

  startUa(a: Agent, t: number): void {
    const reconnect = SIPJS_RECONNECT[a.reconnect];
    const lines = [
      this.harnessLine(
        a,
        t,
        `starting UserAgent ${a.sip.aor} server=${a.url} keepAliveInterval=${a.keepAlive ? 25 : 0} ` +
          `reconnectionAttempts=${reconnect.attempts} reconnectionDelay=${reconnect.delaySec}`,
      ),
    ];
    // SIP.js spreads unknown transport options into its configuration and ignores them
    if (a.header === 'valid')
      lines.push(this.harnessLine(a, t, 'transportOptions.headers = {"X-Genesys-KeepAlive":"true"}'));
    lines.push(this.log(a, t, 'sip.UserAgent', `Starting ${a.sip.aor}`));
    a.emit('client', t, lines);
  }

  connecting(a: Agent, t: number): void {
    a.emit('client', t, [
      this.log(a, t, 'sip.Transport', `Connecting ${a.url}`),
      this.log(a, t, 'sip.Transport', 'Transitioned from Disconnected to Connecting'),
    ]);
  }

  opened(a: Agent, t: number): void {
    const lines = [
      this.log(a, t, 'sip.Transport', `WebSocket opened ${a.url}`),
      this.log(a, t, 'sip.Transport', 'Transitioned from Connecting to Connected'),
    ];
    if (a.failedConnects > 0) {
      const max = SIPJS_RECONNECT[a.reconnect].attempts;
      lines.push(
        this.log(a, t, 'sip.UserAgent', `Reconnection attempt ${a.failedConnects} of ${max} - succeeded`),
      );
    }
    a.failedConnects = 0;
    a.emit('client', t, lines);
  }

  sent(a: Agent, t: number, message: string): void {
    a.emit('client', t, dumpLines(this.log(a, t, 'sip.Transport', 'Sending WebSocket message:'), message));
  }

  received(a: Agent, t: number, message: string): void {
    a.emit(
      'client',
      t,
      dumpLines(this.log(a, t, 'sip.Transport', 'Received WebSocket text message:'), message),
    );
  }

  keepAliveSent(a: Agent, t: number): void {
    this.sent(a, t, '\r\n\r\n');
  }

  keepAliveAnswered(a: Agent, t: number): void {
    a.emit('client', t, [
      this.log(a, t, 'sip.Transport', 'Received WebSocket message with CRLF Keep Alive response'),
    ]);
  }

  registered(a: Agent, t: number, expiresSec: number): void {
    a.emit('client', t, [
      this.log(a, t, 'sip.Registerer', 'Registration transitioned to state Registered'),
      this.harnessLine(a, t, `registered (expires=${expiresSec})`),
    ]);
  }

  registrationFailed(a: Agent, t: number, failure: RegistrationFailure): void {
    const status = failure.status ?? 408;
    const reason = failure.status === undefined ? 'Request Timeout' : (failure.reason ?? '');
    a.emit('client', t, [
      this.log(a, t, 'sip.Registerer', `Failed to register, status code ${status}`),
      this.harnessLine(a, t, `registration failed: ${status} ${reason}`),
    ]);
  }

  transactionTimedOut(a: Agent, t: number): void {
    a.emit('client', t, [
      this.log(
        a,
        t,
        'sip.user-agent-client',
        'User agent client request timed out. Generating internal 408 Request Timeout.',
      ),
    ]);
  }

  private closeLines(a: Agent, t: number, from: 'Connecting' | 'Connected'): string[] {
    return [
      this.log(a, t, 'sip.Transport', `WebSocket closed ${a.url} (code: 1006)`),
      this.log(a, t, 'sip.Transport', 'WebSocket closed unexpectedly'),
      this.log(a, t, 'sip.Transport', `Transitioned from ${from} to Disconnected`),
      this.harnessLine(a, t, APP_WS_FAILED),
    ];
  }

  handshakeRejected(a: Agent, t: number): void {
    // the status never reaches SIP.js: the `ws` error event carries it, SIP.js logs only this
    a.emit('client', t, [
      this.log(a, t, 'sip.Transport', 'WebSocket error occurred.'),
      ...this.closeLines(a, t, 'Connecting'),
    ]);
  }

  connectionLost(a: Agent, t: number): void {
    a.emit('client', t, this.closeLines(a, t, 'Connected'));
  }

  localHeaderError(): void {
    throw new Error('SIP.js cannot put headers on the WebSocket handshake');
  }

  watchdogRestart(): void {
    throw new Error('SIP.js cannot put headers on the WebSocket handshake');
  }

  scheduleReconnect(a: Agent, t: number): number {
    const { attempts } = SIPJS_RECONNECT[a.reconnect];
    const lines: string[] = [];
    if (a.failedConnects > 0) {
      lines.push(this.log(a, t, 'sip.UserAgent', `WebSocket closed ${a.url} (code: 1006)`));
      lines.push(
        this.log(a, t, 'sip.UserAgent', `Reconnection attempt ${a.failedConnects} of ${attempts} - failed`),
      );
    }
    const next = sipjsReconnect(a);
    if (next.gaveUp) {
      lines.push(this.log(a, t, 'sip.UserAgent', 'Maximum reconnection attempts reached'));
      lines.push(
        this.harnessLine(a, t, `transport gave up; restarting UserAgent in ${SIPJS_RESTART_MS / 1000} s`),
      );
    } else {
      lines.push(
        this.log(a, t, 'sip.UserAgent', `Reconnection attempt ${a.failedConnects} of ${attempts} - trying`),
      );
    }
    a.emit('client', t, lines);
    return next.delayMs;
  }

  stopping(a: Agent, t: number): void {
    a.emit('client', t, [
      this.harnessLine(a, t, 'stopping UserAgent (end of test)'),
      this.log(a, t, 'sip.UserAgent', `Stopping ${a.sip.aor}`),
    ]);
  }

  unregistered(a: Agent, t: number): void {
    a.emit('client', t, [
      this.log(a, t, 'sip.Registerer', 'Registration transitioned to state Unregistered'),
    ]);
  }

  closedCleanly(a: Agent, t: number): void {
    a.emit('client', t, [
      this.log(a, t, 'sip.Transport', `WebSocket closed ${a.url} (code: 1000)`),
      this.log(a, t, 'sip.Transport', 'Transitioned from Connected to Disconnected'),
    ]);
  }
}
