/**
 * The lab's WebSocket: the `ws` package's client, with the browser API that JsSIP and SIP.js expect
 * (installed as `globalThis.WebSocket`), that records what really happened to each connection
 * attempt: the HTTP status of the handshake (with who wrote the answer), the sub-protocol, every SIP
 * status received, when traffic last crossed the socket, and how and when it closed.
 *
 * Those records are the lab's outcomes. They are written to a file of their own, never to the
 * logs, and the scenario's truth is derived from them (lab/lib/truth.mjs).
 */
import net from 'node:net';
import WS from 'ws';

/** `?user=agent-001` of a lab URL */
export function userOfUrl(url) {
  const m = /[?&]user=([^&#]+)/.exec(String(url));
  return m ? decodeURIComponent(m[1]) : 'unknown';
}

/** What a SIP text frame says: a request (method, credentials) or a response (status, CSeq method). */
export function readSip(text) {
  const first = text.slice(0, text.indexOf('\r\n') >>> 0).trim();
  const header = (name) => {
    const m = new RegExp(`^(?:${name})\\s*:\\s*(.*)$`, 'im').exec(text);
    return m ? m[1].trim() : undefined;
  };
  const [cseq, cseqMethod] = (header('CSeq') ?? '').split(/\s+/);
  const response = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first);
  if (response) {
    const retryAfter = header('Retry-After');
    return {
      status: Number(response[1]),
      reason: response[2],
      method: cseqMethod,
      cseq: Number(cseq),
      callId: header('Call-ID|i'),
      retryAfter: retryAfter ? Number.parseInt(retryAfter, 10) : undefined,
    };
  }
  const request = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(first);
  if (request) {
    return {
      method: request[1],
      cseq: Number(cseq),
      callId: header('Call-ID|i'),
      credentials: header('Authorization|Proxy-Authorization') !== undefined,
    };
  }
  return undefined;
}

/** Per-process record of every user's attempts; one JSON line per user at the end. */
export class Recorder {
  constructor(lib) {
    this.lib = lib;
    this.users = new Map();
  }

  user(name, facts = {}) {
    let u = this.users.get(name);
    if (!u) {
      u = { user: name, lib: this.lib, keepalive: false, attempts: [], ...facts };
      this.users.set(name, u);
    } else Object.assign(u, facts);
    return u;
  }

  startAttempt(name, url, protocols) {
    const attempt = {
      url,
      protocols: protocols === undefined ? [] : [].concat(protocols),
      startAt: Date.now(),
      handshake: null,
      protocol: null,
      openAt: null,
      lastSentAt: null,
      lastReceivedAt: null,
      sent: [],
      received: [],
      close: null,
      error: null,
    };
    this.user(name).attempts.push(attempt);
    return attempt;
  }

  /** the client itself is about to close this user's sockets (end of run) */
  stopping(name) {
    const u = this.user(name);
    u.stoppedAt ??= Date.now();
  }

  lines() {
    return [...this.users.values()].map((u) => JSON.stringify(u)).join('\n') + '\n';
  }
}

/**
 * A socket whose first write (the HTTP request head) gets `line` inserted after the request line:
 * how the lab sends a header that Node's HTTP client would refuse to build (a space before the colon).
 */
function injectingSocket(options, line) {
  const socket = net.connect(options);
  const write = socket.write.bind(socket);
  let done = false;
  socket.write = (chunk, ...rest) => {
    if (!done) {
      const text = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : String(chunk);
      const eol = text.indexOf('\r\n');
      if (eol > 0 && /^GET /.test(text)) {
        done = true;
        chunk = `${text.slice(0, eol + 2)}${line}\r\n${text.slice(eol + 2)}`;
        if (typeof rest[0] === 'string') rest[0] = 'latin1';
      }
    }
    return write(chunk, ...rest);
  };
  return socket;
}

/** each socket's attempt record, kept off the object so that a library dumping the socket never prints it */
const attempts = new WeakMap();

/**
 * The WebSocket class for one client process. `optionsFor(user)` gives that user's handshake quirks:
 * `{ headers, malformedHeader, omitProtocol }`.
 */
export function recordingWebSocket(recorder, optionsFor = () => ({})) {
  return class LabWebSocket extends WS {
    constructor(url, protocols, wsOptions = {}) {
      const user = userOfUrl(url);
      const quirks = optionsFor(user) ?? {};
      const options = { handshakeTimeout: 10_000, ...wsOptions };
      if (quirks.headers) options.headers = { ...options.headers, ...quirks.headers };
      if (quirks.malformedHeader) {
        options.createConnection = (opts) => injectingSocket(opts, quirks.malformedHeader);
      }
      const asked = quirks.omitProtocol ? undefined : protocols;
      super(url, asked, options);
      const attempt = recorder.startAttempt(user, String(url), asked);
      attempts.set(this, attempt);

      this.on('upgrade', () => {
        attempt.handshake = { status: 101, at: Date.now() };
      });
      this.on('open', () => {
        attempt.openAt = Date.now();
        attempt.protocol = this.protocol || null;
      });
      // with a listener here ws leaves the failed handshake to us: read the answer, then fail
      // the socket exactly as ws does by itself (error "Unexpected server response: N", close 1006)
      this.on('unexpected-response', (req, res) => {
        const chunks = [];
        let size = 0;
        const finish = () => {
          if (attempt.handshake) return;
          const body = Buffer.concat(chunks).toString('utf8');
          attempt.handshake = {
            status: res.statusCode,
            reason: res.statusMessage,
            at: Date.now(),
            server: res.headers.server ?? null,
            body: body.slice(0, 400),
          };
          this._readyState = WS.CLOSING;
          req.abort();
          req.socket?.destroy();
          const err = new Error(`Unexpected server response: ${res.statusCode}`);
          process.nextTick(() => {
            this.emit('error', err);
            this.emitClose();
          });
        };
        res.on('data', (c) => {
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on('end', finish);
        res.on('error', finish);
        res.on('close', finish);
      });
      this.on('message', (data) => {
        attempt.lastReceivedAt = Date.now();
        const sip = readSip(data.toString());
        if (sip?.status !== undefined) attempt.received.push({ ...sip, at: attempt.lastReceivedAt });
      });
      this.on('error', (err) => {
        attempt.error ??= err.message;
      });
      this.on('close', (code, reason) => {
        attempt.close = { code, reason: String(reason ?? ''), at: Date.now() };
      });
    }

    send(data, ...rest) {
      const attempt = attempts.get(this);
      if (attempt && this.readyState === WS.OPEN) {
        attempt.lastSentAt = Date.now();
        const sip = readSip(typeof data === 'string' ? data : Buffer.from(data).toString());
        if (sip?.method) attempt.sent.push({ ...sip, at: attempt.lastSentAt });
      }
      return super.send(data, ...rest);
    }
  };
}
