/**
 * A Node load harness that runs one JsSIP 3.10 UA per user on a `ws`-based socket (so that a
 * profile can add handshake headers) and logs with pino: one JSON object per line,
 * `{"level":30,"time":<epoch ms>,"pid":…,"hostname":…,"user":…,…,"msg":…}` (numeric levels:
 * 30 info, 40 warn, 50 error; the child logger's `user` binding; the event's fields; `msg` last).
 *
 * What it logs is what JsSIP tells the application (client-formats.md §1.1, §3.3): the UA's
 * `connecting` / `connected` / `disconnected` events (close code and reason), `registered` /
 * `registrationFailed` with the response's status, reason and Call-ID, the socket's errors (the
 * `ws` error text carries the handshake status), and local exceptions (pino's `err` object). It
 * does not see SIP messages one by one, challenges or keep-alives (debug level, not written).
 */
import type { Agent } from './agent.js';
import {
  APP_WS_FAILED,
  INVALID_CHAR_ERROR,
  jssipCause,
  jssipReconnect,
  type ClientFlavor,
  type RegistrationFailure,
} from './client.js';
import type { Prng } from './prng.js';
import type { World } from './world.js';

type Fields = Record<string, string | number | boolean | object>;

const INFO = 30;
const WARN = 40;
const ERROR = 50;
const HOSTNAME = 'loadgen-01';

export class JsonClient implements ClientFlavor {
  readonly library = 'jssip';
  readonly handshakeHeaders = true;

  private line(
    world: World,
    t: number,
    level: number,
    user: string | undefined,
    fields: Fields,
    msg: string,
  ): string {
    const record: Fields = {
      level,
      time: Math.round(t + world.skewOf('client')),
      pid: world.harnessPid,
      hostname: HOSTNAME,
    };
    if (user !== undefined) record.user = user;
    return JSON.stringify({ ...record, ...fields, msg });
  }

  private log(a: Agent, t: number, level: number, msg: string, fields: Fields = {}): void {
    a.emit('client', t, [this.line(a.world, t, level, a.name, fields, msg)]);
  }

  startUa(a: Agent, t: number): void {
    const fields: Fields = { aor: a.sip.aor, url: a.url, registerExpires: a.world.registerExpiresSec };
    if (a.omitSubprotocol) fields.protocols = [];
    if (a.header !== 'none')
      fields.headers = { 'X-Genesys-KeepAlive': a.header === 'valid' ? 'true' : 'true\r\n' };
    this.log(a, t, INFO, 'starting UA', fields);
  }

  connecting(a: Agent, t: number): void {
    this.log(a, t, INFO, `connecting to ${a.url}`, { attempt: a.failedConnects + 1 });
  }

  opened(a: Agent, t: number): void {
    a.failedConnects = 0;
    this.log(a, t, INFO, `connected to ${a.url}`);
  }

  sent(): void {
    // JsSIP does not hand the application the messages it sends
  }

  received(): void {
    // nor the ones it receives: only the outcome of a registration
  }

  keepAliveSent(): void {}

  keepAliveAnswered(): void {}

  registered(a: Agent, t: number, expiresSec: number): void {
    this.log(a, t, INFO, 'registered', {
      method: 'REGISTER',
      status: 200,
      callId: a.sip.callId,
      expires: expiresSec,
    });
  }

  registrationFailed(a: Agent, t: number, failure: RegistrationFailure): void {
    const cause = jssipCause(failure.status);
    const fields: Fields = { cause, callId: a.sip.callId };
    if (failure.status !== undefined) {
      fields.method = 'REGISTER';
      fields.status = failure.status;
      fields.reason = failure.reason ?? '';
    }
    if (failure.retryAfterSec !== undefined) fields.retryAfter = failure.retryAfterSec;
    this.log(a, t, WARN, `registrationFailed: ${cause}`, fields);
  }

  transactionTimedOut(): void {
    // the timeout reaches the application as registrationFailed "Request Timeout"
  }

  private disconnected(a: Agent, t: number): void {
    this.log(a, t, WARN, 'disconnected', { code: 1006, reason: 'Connection closed abnormally', error: true });
    this.log(a, t, ERROR, APP_WS_FAILED.replace(/^Error: /, ''), { url: a.url });
  }

  handshakeRejected(a: Agent, t: number, status: number): void {
    this.log(a, t, ERROR, `WebSocket error: Unexpected server response: ${status}`, { url: a.url });
    this.disconnected(a, t);
  }

  connectionLost(a: Agent, t: number): void {
    this.disconnected(a, t);
  }

  localHeaderError(a: Agent, t: number): void {
    // Node's console form of the error: the stack, then ` {` and the extra properties
    const frames = INVALID_CHAR_ERROR.slice(0, INVALID_CHAR_ERROR.findIndex((l) => l.endsWith(' {')) + 1);
    const stack = frames.join('\n').replace(/ \{$/, '');
    const message = frames[0].replace(/^TypeError \[ERR_INVALID_CHAR\]: /, '');
    this.log(a, t, ERROR, message, {
      err: { type: 'TypeError', message, stack, code: 'ERR_INVALID_CHAR' },
    });
  }

  watchdogRestart(a: Agent, t: number, afterMs: number): void {
    this.log(a, t, WARN, `no WebSocket after ${afterMs / 1000} s, restarting UA`);
  }

  scheduleReconnect(a: Agent, t: number): number {
    const next = jssipReconnect(a);
    // JsSIP's own backoff is not reported to the application; the harness's loop is
    if (next.storm)
      this.log(a, t, WARN, `ws closed, reconnecting in ${next.delayMs} ms (attempt ${a.failedConnects + 1})`);
    return next.delayMs;
  }

  stopping(a: Agent, t: number): void {
    this.log(a, t, INFO, 'stopping UA (end of test)');
  }

  unregistered(a: Agent, t: number): void {
    this.log(a, t, INFO, 'unregistered');
  }

  closedCleanly(a: Agent, t: number): void {
    this.log(a, t, INFO, 'disconnected', { code: 1000, reason: '', error: false });
  }

  note(a: Agent, t: number, text: string): void {
    this.log(a, t, INFO, text);
  }

  finished(): void {}

  /** the harness's own progress reports and event-loop lag, once a second at most */
  private lastProgressAt = -Infinity;

  noise(world: World, rng: Prng, t: number): string[] {
    const stats = world.stats;
    if (t - this.lastProgressAt >= 1000) {
      this.lastProgressAt = t;
      return [
        this.line(
          world,
          t,
          INFO,
          undefined,
          {
            started: stats.started,
            users: world.opts.users,
            wsOpen: stats.wsOpen,
            registered: stats.registered,
            registrationFailures: stats.registrationFailures,
            handshakeFailures: stats.handshakeFailures,
          },
          'progress',
        ),
      ];
    }
    return [
      this.line(
        world,
        t,
        INFO,
        undefined,
        { p99: rng.int(2, 60), heapUsedMb: rng.int(180, 900) },
        'event loop delay',
      ),
    ];
  }
}
