/**
 * A bare `ws` softphone: the kind of minimal SIP-over-WebSocket client load testers write
 * themselves. It registers with digest authentication (RFC 7118 framing, RFC 2617/7616 MD5 with
 * qop=auth), optionally sends CRLF keep-alives, and reconnects after a failure. Its handshake
 * can go without the `sip` sub-protocol (custom and malformed headers are added by the lab's
 * WebSocket class, for every client family alike).
 */
import { createHash, randomBytes } from 'node:crypto';

const md5 = (s) => createHash('md5').update(s).digest('hex');
const token = (n) => randomBytes(n).toString('hex');

function digestParams(header) {
  const params = {};
  for (const m of header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) params[m[1]] = m[2] ?? m[3];
  return params;
}

function authorization({ user, password, method, uri, challenge }) {
  const p = digestParams(challenge);
  const ha1 = md5(`${user}:${p.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const qop = p.qop
    ?.split(',')
    .map((s) => s.trim())
    .includes('auth')
    ? 'auth'
    : undefined;
  const cnonce = token(8);
  const nc = '00000001';
  const response = qop
    ? md5(`${ha1}:${p.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : md5(`${ha1}:${p.nonce}:${ha2}`);
  let value = `Digest username="${user}", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
  if (p.opaque !== undefined) value += `, opaque="${p.opaque}"`;
  if (qop) value += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
  return value;
}

const header = (text, name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im').exec(text)?.[1]?.trim();

export async function runUser({
  user,
  url,
  plan,
  password,
  keepaliveS = 0,
  omitProtocol = false,
  retries = 2,
  retryDelayMs = 3_000,
  log,
}) {
  const WebSocketClass = globalThis.WebSocket;
  const domain = plan.domain;
  const callId = `${token(10)}@lab-harness`;
  const fromTag = token(5);
  const contactUser = token(4);
  let cseq = 0;
  let ws;
  let keepalive;
  let stopped = false;
  let attempts = 0;
  let reconnectTimer;
  /** the last REGISTER carried credentials */
  let answered = false;

  const register = (expires, challenge) => {
    cseq++;
    const ruri = `sip:${domain}`;
    const lines = [
      `REGISTER ${ruri} SIP/2.0`,
      `Via: SIP/2.0/WS ${contactUser}.invalid;branch=z9hG4bK${token(6)}`,
      'Max-Forwards: 70',
      `To: <sip:${user}@${domain}>`,
      `From: <sip:${user}@${domain}>;tag=${fromTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${contactUser}@${contactUser}.invalid;transport=ws>;expires=${expires}`,
      `Expires: ${expires}`,
      'User-Agent: lab-ws-harness/1.0',
    ];
    if (challenge) {
      lines.push(
        `Authorization: ${authorization({ user, password, method: 'REGISTER', uri: ruri, challenge })}`,
      );
    }
    lines.push('Content-Length: 0', '', '');
    const text = lines.join('\r\n');
    log('sending SIP message:');
    process.stdout.write(`${text.replace(/\r\n/g, '\n')}\n`);
    ws.send(text);
  };

  const onSip = (text) => {
    log('received SIP message:');
    process.stdout.write(`${text.replace(/\r\n/g, '\n')}\n`);
    const first = /^SIP\/2\.0 (\d{3}) ?(.*)$/m.exec(text);
    if (!first) return;
    const status = Number(first[1]);
    const cseqHeader = header(text, 'CSeq') ?? '';
    if (!/REGISTER/.test(cseqHeader)) return;
    if (Number(cseqHeader.split(/\s+/)[0]) !== cseq) return; // a late answer to an older request
    if (status === 200) {
      log('registered (200 OK)');
    } else if (status === 401 || status === 407) {
      const challenge = header(text, status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate');
      if (answered || !challenge) {
        log(`registration failed: ${status} ${first[2]} (credentials rejected)`);
        return;
      }
      answered = true;
      register(300, challenge);
    } else if (status >= 300) {
      const after = header(text, 'Retry-After');
      log(`registration failed: ${status} ${first[2]}${after ? ` Retry-After: ${after}` : ''}`);
      if (status === 503 && !stopped) {
        const seconds = Number.parseInt(after ?? '2', 10) || 2;
        log(`retrying registration in ${seconds} s`);
        setTimeout(() => {
          if (!stopped && ws?.readyState === 1) {
            answered = false;
            register(300);
          }
        }, seconds * 1000);
      }
    }
  };

  const connect = () => {
    attempts++;
    const protocols = omitProtocol ? undefined : ['sip'];
    log(`connecting to ${url} (subprotocol: ${protocols ? 'sip' : 'none'})`);
    ws = new WebSocketClass(url, protocols ?? []);
    ws.on('open', () => {
      log(`WebSocket open (protocol: ${ws.protocol || 'none'})`);
      answered = false;
      register(300);
      if (keepaliveS > 0) {
        keepalive = setInterval(() => {
          if (ws.readyState === 1) {
            ws.send('\r\n\r\n');
            log('keep-alive CRLF sent');
          }
        }, keepaliveS * 1000);
      }
    });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.trim() === '') {
        log('keep-alive pong received');
        return;
      }
      onSip(text);
    });
    ws.on('error', (err) => log(`WebSocket error: ${err.message}`));
    ws.on('close', (code, reason) => {
      clearInterval(keepalive);
      log(`WebSocket closed (code: ${code}, reason: ${String(reason) || '-'})`);
      if (!stopped && attempts <= retries) {
        log(`reconnecting in ${retryDelayMs} ms`);
        reconnectTimer = setTimeout(() => {
          if (!stopped) connect();
        }, retryDelayMs);
      }
    });
  };
  connect();

  return {
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(keepalive);
      if (ws?.readyState === 1) {
        await new Promise((resolve) => {
          ws.once('close', resolve);
          ws.close(1000, 'harness done');
          setTimeout(resolve, 1_500);
        });
      }
    },
  };
}
