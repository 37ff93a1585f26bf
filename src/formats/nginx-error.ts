/**
 * nginx error log (lb-formats.md §2.2–§2.3, §3):
 *
 *   YYYY/MM/DD HH:MM:SS [level] PID#TID: *CONN message, client: IP, server: NAME, request: "LINE", upstream: "…", host: "…"
 *
 * Local time without zone, second resolution. `*CONN` is nginx's connection serial, the same
 * number as `$connection` in the access log: the join key between the two. Lines may carry a
 * docker-compose prefix or ingress-nginx's `[nginx-ingress-2zbxs] ` pod prefix.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal } from '../model.js';
import {
  isWebSocketPath,
  parseRequestLine,
  splitClientAddr,
  stripContainerPrefix,
  urlUser,
} from './nginx-access.js';
import { parseSlashDate } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

const HEAD =
  /^(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}) \[(debug|info|notice|warn|error|crit|alert|emerg)\] (\d+)#(\d+): (?:\*(\d+) )?/;
/** ingress-nginx / kubernetes-ingress put the pod name in brackets before the line */
const POD_PREFIX = /^\[[\w.-]+\] /;

type Level = 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg';

interface Meaning {
  kind: EventKind;
  signal?: Signal;
}

const TIMED_OUT = /^(?:upstream|client) timed out \(\d+: /;
/** recv()/readv()/send()/writev() failed with ECONNRESET or EPIPE */
const RESET = /^[a-z_]+\(\) failed \((?:104|32): /;
const BAD_HEADER =
  /^client sent (?:invalid header line|too long header line|invalid host header|duplicate host header)/;

/**
 * What a message means. Matches on the message text, never on the level: levels and statuses of
 * limiter lines are site-configurable (lb-formats.md §2.3). The errno text varies with the libc
 * (glibc "Connection timed out", musl "Operation timed out", BSD errno 60), so timeouts match on
 * "timed out (N: ".
 *
 * Judgement calls:
 * - `limiting requests, dry run` / `limiting connections, dry run`: the limiter would have fired but
 *   let the request through, so it refused nothing: kind 'rate-limit' without a signal.
 * - `upstream prematurely closed connection`: the SBC closed its TCP connection before answering
 *   (the client gets 502). That is an EOF without a close frame: 'conn-reset'.
 * - `connect() failed (111: …)`, `no live upstreams`: the SBC is down or refusing; nothing in the
 *   signal vocabulary says that, so kind 'error' without a signal.
 * - `access forbidden by rule` (allow/deny): 'acl-rejected'.
 */
function meaningOf(message: string, level: Level): Meaning {
  if (message.startsWith('limiting requests')) {
    return message.startsWith('limiting requests, dry run')
      ? { kind: 'rate-limit' }
      : { kind: 'rate-limit', signal: 'edge-rate-limit' };
  }
  if (message.startsWith('delaying request')) return { kind: 'rate-limit' };
  if (message.startsWith('limiting connections')) {
    return message.startsWith('limiting connections, dry run')
      ? { kind: 'rate-limit' }
      : { kind: 'rate-limit', signal: 'edge-connection-limit' };
  }
  const upgraded = message.includes('while proxying upgraded connection');
  if (TIMED_OUT.test(message)) {
    if (upgraded) return { kind: 'timeout', signal: 'idle-close' };
    if (message.startsWith('upstream')) return { kind: 'timeout', signal: 'upstream-timeout' };
    return { kind: 'timeout' }; // client timed out reading its own request: idle keep-alive or pre-connect
  }
  if (RESET.test(message)) return { kind: upgraded ? 'ws-close' : 'error', signal: 'conn-reset' };
  if (message.startsWith('upstream prematurely closed connection'))
    return { kind: 'error', signal: 'conn-reset' };
  if (BAD_HEADER.test(message)) return { kind: 'config', signal: 'bad-header' };
  if (message.startsWith('access forbidden by rule')) return { kind: 'auth', signal: 'acl-rejected' };
  if (message.startsWith('connect() failed') || message.startsWith('no live upstreams'))
    return { kind: 'error' };
  return {
    kind: level === 'error' || level === 'crit' || level === 'alert' || level === 'emerg' ? 'error' : 'info',
  };
}

interface Context {
  client?: string;
  request?: string;
  upstream?: string;
}

/** The `, client: …, server: …, request: "…", upstream: "…", host: "…"` tail. */
function readContext(tail: string): Context {
  const ctx: Context = {};
  const client = /^, client: ([^,\s]+)/.exec(tail);
  if (client) ctx.client = client[1];
  const request = /, request: "([^"]*)"/.exec(tail);
  if (request) ctx.request = request[1];
  const upstream = /, upstream: "([^"]*)"/.exec(tail);
  if (upstream) ctx.upstream = upstream[1];
  return ctx;
}

/** "http://172.25.0.3:8080/item_34.ext" → "172.25.0.3:8080" (the access log's $upstream_addr shape). */
function upstreamAddr(upstream: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]+)/i.exec(upstream);
  return m ? m[1] : upstream;
}

function stripPrefixes(line: string): string {
  let body = stripContainerPrefix(line);
  const pod = POD_PREFIX.exec(body);
  if (pod) body = body.slice(pod[0].length);
  return body;
}

function readLine(line: string, lineNo: number, ctx: ParseContext): LogEvent | 'skip' | undefined {
  const body = stripPrefixes(line);
  const head = HEAD.exec(body);
  if (!head) return undefined;
  const ts = parseSlashDate(head[1], ctx);
  if (Number.isNaN(ts)) return undefined;
  const level = head[2] as Level;
  const conn = head[5];
  const message = body.slice(head[0].length);
  const cut = message.indexOf(', client: ');
  const text = cut >= 0 ? message.slice(0, cut) : message;
  const meaning = meaningOf(text, level);

  // process-level chatter (start-up, reload, worker exits) carries nothing for a connection
  if (!conn && !meaning.signal && meaning.kind === 'info') return 'skip';

  const context = cut >= 0 ? readContext(message.slice(cut)) : {};
  const keys: EventKeys = {};
  if (conn) keys.connId = conn;
  const ip = context.client ? splitClientAddr(context.client).ip : undefined;
  if (ip) keys.ip = ip;

  let http: HttpInfo | undefined;
  if (context.request !== undefined || context.upstream !== undefined) {
    const { method, url } = parseRequestLine(context.request ?? '');
    http = {};
    if (method) http.method = method;
    if (url) {
      http.url = url;
      const user = urlUser(url);
      if (user) keys.user = user;
    }
    if (context.upstream) http.upstream = upstreamAddr(context.upstream);
    http.upgrade =
      message.includes('while proxying upgraded connection') || (url !== undefined && isWebSocketPath(url));
  }

  const event: LogEvent = {
    ts,
    input: ctx.input,
    line: lineNo,
    raw: line,
    role: 'lb',
    kind: meaning.kind,
    keys,
    text: message,
  };
  if (meaning.signal) event.signal = meaning.signal;
  if (http) event.http = http;
  return event;
}

function sniff(line: string): number {
  return HEAD.test(stripPrefixes(line)) ? 0.95 : 0;
}

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      if (line.trim() === '') return 'skip';
      const result = readLine(line, lineNo, ctx);
      if (result === undefined) return 'unparsed';
      if (result === 'skip') return 'skip';
      emit(result);
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: '2015/10/29 20:01:02 [error] 256554#0: *99927 limiting requests, excess: 1.852 by zone "one", client: 1.2.3.4, server: example.com, request: "POST /index.htm HTTP/1.0", host: "exmaple.com"',
    source: 'fail2ban/fail2ban fail2ban/tests/files/logs/nginx-limit-req (lb-formats.md §2.3)',
  },
  {
    line: '2015/10/29 19:24:05 [error] 12684#12684: *22174 limiting requests, excess: 1.495 by zone "one", client: 192.0.2.0, server: example.com, request: "GET /index.php HTTP/1.1", host: "example.com", referrer: "https://example.com"',
    source: 'fail2ban/fail2ban fail2ban/tests/files/logs/nginx-limit-req (lb-formats.md §2.3)',
  },
  {
    line: 'edge_1        | 2021/12/29 11:52:45 [error] 8#8: *3 upstream timed out (110: Operation timed out) while reading response header from upstream, client: 172.25.0.1, server: , request: "GET /item_34.ext HTTP/1.1", upstream: "http://172.25.0.3:8080/item_34.ext", host: "localhost:8081"',
    source: 'leandromoreira/cdn-up-and-running README.md (lb-formats.md §2.3)',
  },
  {
    line: '2017/10/04 16:42:10 [error] 7624#7624: *1 upstream timed out (110: Connection timed out) while connecting to upstream, client: 192.168.134.2, server: testnovnc.ai, request: "GET /vncws/vnc.html HTTP/1.1", upstream: "http://193.18.135.200:6080/vnc.html", host: "192.168.135.192"',
    source: 'github.com/novnc/noVNC issue #909 (lb-formats.md §2.3)',
  },
  {
    line: '[nginx-ingress-2zbxs] 2019/10/01 02:33:15 [info] 27#27: *519 upstream timed out (110: Connection timed out) while proxying upgraded connection ...',
    source: 'github.com/nginx/kubernetes-ingress issue #715, as quoted (abridged) in lb-formats.md §2.3',
  },
  {
    line: '2018/09/14 19:03:05 [error] 2035#2035: *9134 access forbidden by rule, client: 12.34.56.78, server: www.example.net, request: "GET /wp-content/themes/evolve/js/back-end/libraries/fileuploader/upload_handler.php HTTP/1.1", host: "www.example.net", referrer: "http://example.net/foo.php"',
    source: 'fail2ban/fail2ban fail2ban/tests/files/logs/nginx-forbidden',
  },
];

export const nginxError: LogFormat = {
  name: 'nginx-error',
  role: 'lb',
  description:
    'nginx / ingress-nginx error log: limit_req / limit_conn refusals, upstream timeouts, WebSocket idle cuts ([info]), resets, invalid headers; *N joins the access log',
  samples,
  sniff,
  createParser,
};
