/**
 * HAProxy logs (lb-formats.md §4, observed-on-real-servers.md):
 *
 * - HTTP log (`option httplog`):
 *   `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq {%hr} {%hs} %{+Q}r`
 *   (the capture braces only when captures are configured);
 * - TCP log (`option tcplog`): `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`;
 *
 * with an RFC 3164 syslog header (`Feb  6 12:14:14 localhost haproxy[14389]: `), an RFC 3339 one,
 * or none (`log stdout format raw`), optionally behind a docker-compose or container-runtime prefix.
 *
 * `[%tr]` is when the request's first byte arrived (local time, ms, no zone); the line is written
 * at the end of the stream, so `ts` = start + Ta (Tt in TCP mode) and `http.startTs` = start.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal } from '../model.js';
import {
  isStaticAsset,
  isWebSocketPath,
  normaliseIp,
  parseRequestLine,
  stripContainerPrefix,
  urlUser,
} from './nginx-access.js';
import { parseClf, parseIso, parseSyslog } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

/** `Feb  6 12:14:14 localhost haproxy[14389]: ` or `2024-05-29T02:49:15.436+00:00 lb1 haproxy[7]: ` */
const DATED_HEADER =
  /^(?:<\d{1,3}>)?([A-Z][a-z]{2} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?) (?:\S+ )?([^\s[:]+)(?:\[\d+\])?: /;
/** a header without date, as the configuration manual prints it: `haproxy[6103]: ` */
const PROGRAM_HEADER = /^(?:<\d{1,3}>)?([^\s[:]+)\[\d+\]: /;
/** HAProxy's own stderr / `log stdout` start-up lines: `[NOTICE]   (1) : haproxy version is 2.6.12` */
const STDERR_LINE = /^\[(NOTICE|WARNING|ALERT|INFO|DEBUG|EMERG)\] +\(\d+\) : /;
const ACCEPT_DATE = /^\[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\]$/;
const HTTP_TIMERS = /^[+-]?\d+\/[+-]?\d+\/[+-]?\d+\/[+-]?\d+\/[+-]?\d+$/;
const TCP_TIMERS = /^[+-]?\d+\/[+-]?\d+\/[+-]?\d+$/;
const HAPROXY_PROGRAM = /haproxy|hapee/i;

interface Header {
  /** what follows the syslog header (or the whole line when there is none) */
  body: string;
  /** the syslog timestamp text, when there is a header */
  time?: string;
  /** the syslog program name, when there is a header */
  program?: string;
}

function splitHeader(line: string): Header {
  const rest = stripContainerPrefix(line);
  const dated = DATED_HEADER.exec(rest);
  if (dated) return { body: rest.slice(dated[0].length), time: dated[1], program: dated[2] };
  const bare = PROGRAM_HEADER.exec(rest);
  if (bare) return { body: rest.slice(bare[0].length), program: bare[1] };
  return { body: rest };
}

/** The first `count` space-separated words and the rest of the line, in one linear pass. */
function words(text: string, count: number): { words: string[]; rest: string } {
  const out: string[] = [];
  let at = 0;
  while (out.length < count && at < text.length) {
    const space = text.indexOf(' ', at);
    if (space < 0) {
      out.push(text.slice(at));
      at = text.length;
      break;
    }
    out.push(text.slice(at, space));
    at = space + 1;
  }
  return { words: out, rest: text.slice(at) };
}

/** `%ci:%cp`, IPv6 included ("2001:db8::1234:58430", "::ffff:192.168.33.1:58430"). */
function splitClient(token: string): { ip: string; port: string } | undefined {
  const colon = token.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = token.slice(colon + 1);
  let ip = token.slice(0, colon);
  if (!/^\d{1,5}$/.test(port)) return undefined;
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!/^[0-9A-Fa-f:.]+$/.test(ip)) return undefined;
  return { ip: normaliseIp(ip), port };
}

function timer(text: string): number {
  return Number(text.replace(/^\+/, ''));
}

/**
 * The request line of `%{+Q}r`: the last quoted string. HAProxy encodes `"` inside captures and
 * the request as `#22`, so the last two quotes delimit it even after `option httpslog` fields.
 */
function lastQuoted(text: string): string | undefined {
  const close = text.lastIndexOf('"');
  if (close <= 0) return undefined;
  const open = text.lastIndexOf('"', close - 1);
  return open < 0 ? undefined : text.slice(open + 1, close);
}

/**
 * The meaning of an HTTP line's termination state and status (lb-formats.md §4.3–§4.6, §11;
 * observed-on-real-servers.md). `cause` is the first character of %tsc, `phase` the second.
 *
 * Judgement calls:
 * - `cR` (408, timeout http-request) and `CR` (client closed before a full request) get no signal:
 *   they are mostly browser pre-connections and idle keep-alives, not a failed handshake.
 * - `CH` / `CQ` (the client gave up waiting for the server's headers, or in the queue) →
 *   'client-timeout', HAProxy's equivalent of nginx's 499.
 * - `<NOSRV>` 503 `SC` ("no server available": every SBC down) is a refused handshake the edge
 *   answered itself, not a TCP reset: 'ws-handshake-failed'.
 * - `cD`/`sD`/`CD`/`SD` only mean something for the socket on a 101; on a plain request a data-phase
 *   timeout or abort says nothing about the softphone.
 */
function httpSignal(status: number, noServer: boolean, tsc: string, socketLike: boolean): Signal | undefined {
  const cause = tsc[0];
  const phase = tsc[1];
  if (cause === 'P' && phase === 'R') {
    if (status === 400) return 'bad-header';
    if (status === 401 || status === 407) return 'auth-challenge';
    if (status === 429 || status === 403) return 'edge-rate-limit';
    return socketLike ? 'ws-handshake-failed' : undefined;
  }
  if (status === 429 && noServer) return 'edge-rate-limit';
  if (phase === 'R' && cause !== 'L') return undefined;
  if (phase === 'Q') {
    if (cause === 's') return 'edge-rate-limit';
    if (cause === 'C') return 'client-timeout';
  }
  if (cause === 's' && (phase === 'H' || phase === 'C')) return 'upstream-timeout';
  if (cause === 'S' && phase === 'C' && noServer) return 'ws-handshake-failed';
  if (cause === 'S' && (phase === 'H' || phase === 'C')) return 'conn-reset';
  if (cause === 'C' && phase === 'H') return 'client-timeout';
  if (status === 101) {
    if (phase === 'D' && (cause === 'c' || cause === 's')) return 'idle-close';
    if (phase === 'D' && cause === 'C') return 'ws-close';
    if (phase === 'D' && cause === 'S') return 'conn-reset';
    return 'ws-open';
  }
  if (cause === 'S' && phase === 'D') return socketLike ? 'conn-reset' : undefined;
  if (status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

/**
 * Who made the status: null when the request never reached a server (`<NOSRV>`, or it ended in
 * the request or queue phase: PR, cR, sQ…), so HAProxy answered itself. Once a server was
 * chosen and contacted, the status is put down to it even when HAProxy wrote it (sC/SC 503, sH
 * 504, SH 502): a server that refuses or ignores connections is the SBC's doing, and the
 * termination-state signal says how. A status of -1 (nothing sent) gives no upstream status.
 */
function upstreamStatusOf(status: number, noServer: boolean, tsc: string): number | null | undefined {
  const phase = tsc[1];
  if (noServer || phase === 'R' || phase === 'Q') return null;
  return status > 0 ? status : undefined;
}

/** TCP mode: no HTTP status, only who ended the connection and in which phase. */
function tcpMeaning(ts: string): { kind: EventKind; signal?: Signal } {
  const cause = ts[0];
  const phase = ts[1];
  if (phase === 'D' && (cause === 'c' || cause === 's')) return { kind: 'timeout', signal: 'idle-close' };
  if (cause === 's' && phase === 'C') return { kind: 'timeout', signal: 'upstream-timeout' };
  if (cause === 'S' && (phase === 'C' || phase === 'D')) return { kind: 'error', signal: 'conn-reset' };
  return { kind: 'info' };
}

interface Common {
  start: number;
  ip: string;
  port: string;
  backendServer: string;
  server: string;
}

function readCommon(w: string[], ctx: ParseContext): Common | undefined {
  const client = splitClient(w[0]);
  const date = ACCEPT_DATE.exec(w[1]);
  if (!client || !date) return undefined;
  const slash = w[3].lastIndexOf('/');
  if (slash < 0) return undefined;
  const start = parseClf(date[1], ctx);
  if (Number.isNaN(start)) return undefined;
  return { start, ip: client.ip, port: client.port, backendServer: w[3], server: w[3].slice(slash + 1) };
}

function baseKeys(c: Common): EventKeys {
  const peer = c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`;
  return { ip: c.ip, peer };
}

function readHttp(body: string, raw: string, lineNo: number, ctx: ParseContext): LogEvent | undefined {
  const { words: w, rest } = words(body, 12);
  if (w.length < 12 || !HTTP_TIMERS.test(w[4]) || !/^-?\d{1,3}$/.test(w[5]) || !/^[A-Za-z-]{4}$/.test(w[9]))
    return undefined;
  const c = readCommon(w, ctx);
  if (!c) return undefined;
  const ta = timer(w[4].split('/')[4]);
  const rawStatus = Number(w[5]);
  const status = rawStatus < 0 ? 0 : rawStatus;
  const tsc = w[9];
  const noServer = c.server === '<NOSRV>';
  const request = lastQuoted(rest) ?? '';
  const { method, url } = parseRequestLine(request);
  const upgrade = status === 101 || (url !== undefined && isWebSocketPath(url));
  const socketLike = upgrade || (url !== undefined && !isStaticAsset(url));
  const durationMs = ta >= 0 ? ta : undefined;

  const keys = baseKeys(c);
  const user = url ? urlUser(url) : undefined;
  if (user) keys.user = user;
  const http: HttpInfo = {
    status,
    upstream: c.backendServer,
    flags: tsc,
    upgrade,
    startTs: c.start,
  };
  const upstreamStatus = upstreamStatusOf(status, noServer, tsc);
  if (upstreamStatus !== undefined) http.upstreamStatus = upstreamStatus;
  if (durationMs !== undefined) http.durationMs = durationMs;
  if (method) http.method = method;
  if (url) http.url = url;

  const event: LogEvent = {
    ts: c.start + (durationMs ?? 0),
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: upgrade ? 'ws-handshake' : 'http-request',
    keys,
    http,
    text: body,
  };
  const signal = httpSignal(status, noServer, tsc, socketLike);
  if (signal) event.signal = signal;
  return event;
}

function readTcp(body: string, raw: string, lineNo: number, ctx: ParseContext): LogEvent | undefined {
  const { words: w } = words(body, 9);
  if (w.length < 9 || !TCP_TIMERS.test(w[4]) || !/^[A-Za-z-]{2}$/.test(w[6])) return undefined;
  const c = readCommon(w, ctx);
  if (!c) return undefined;
  const tt = timer(w[4].split('/')[2]);
  const durationMs = tt >= 0 ? tt : undefined;
  const http: HttpInfo = { upstream: c.backendServer, flags: w[6], startTs: c.start };
  if (durationMs !== undefined) http.durationMs = durationMs;
  const meaning = tcpMeaning(w[6]);
  const event: LogEvent = {
    ts: c.start + (durationMs ?? 0),
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: meaning.kind,
    keys: baseKeys(c),
    http,
    text: body,
  };
  if (meaning.signal) event.signal = meaning.signal;
  return event;
}

/** `ci:cp [date] frontend/bind: SSL handshake failure` and friends. */
const CONNECTION_ERROR =
  /^[^\s[]{1,64}:\d{1,5} \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:[\d:.]{1,32}\] [^\s/]{1,128}\/[^\s:]{1,128}: /;
const MAXCONN = /reached the configured maximum connection limit/;
const SERVER_DOWN = /^(?:Server \S+ is DOWN|backend \S+ has no server available)/;

/**
 * HAProxy's other messages. Start-up, reload and SSL handshake errors are skipped. Two are worth an
 * event: a frontend or process at maxconn refuses connections ('edge-connection-limit', §4.5), and a
 * server going DOWN / a backend without servers explains the 503 `<NOSRV>` lines that follow.
 */
function readMessage(
  header: Header,
  raw: string,
  lineNo: number,
  ctx: ParseContext,
): LogEvent | 'skip' | undefined {
  const body = header.body;
  const fromHaproxy =
    (header.program !== undefined && HAPROXY_PROGRAM.test(header.program)) ||
    STDERR_LINE.test(body) ||
    CONNECTION_ERROR.test(body);
  if (!fromHaproxy) return undefined;
  const maxconn = MAXCONN.test(body);
  if (!maxconn && !SERVER_DOWN.test(body)) return 'skip';
  const event: LogEvent = {
    ts: headerTime(header, ctx),
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: maxconn ? 'rate-limit' : 'error',
    keys: {},
    text: body,
  };
  if (maxconn) event.signal = 'edge-connection-limit';
  return Number.isNaN(event.ts) ? 'skip' : event;
}

/** The syslog header's time (RFC 3164 has no year: the context's), for lines without an accept date. */
function headerTime(header: Header, ctx: ParseContext): number {
  if (!header.time) return NaN;
  return /^\d{4}-/.test(header.time) ? parseIso(header.time, ctx) : parseSyslog(header.time, ctx);
}

const ACCESS_SNIFF =
  /^\S+:\d{1,5} \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2}\.\d{3}\] \S+ \S+\/\S+ [-+\d]+(?:\/[-+\d]+){2,4} /;

function sniff(line: string): number {
  const header = splitHeader(line);
  if (ACCESS_SNIFF.test(header.body)) return 0.95;
  if (CONNECTION_ERROR.test(header.body)) return 0.9;
  if (header.program !== undefined && HAPROXY_PROGRAM.test(header.program)) return 0.85;
  if (STDERR_LINE.test(header.body)) return 0.8;
  return 0;
}

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      if (line.trim() === '') return 'skip';
      const header = splitHeader(line);
      const event = readHttp(header.body, line, lineNo, ctx) ?? readTcp(header.body, line, lineNo, ctx);
      if (event) {
        emit(event);
        return 'event';
      }
      const message = readMessage(header, line, lineNo, ctx);
      if (message === undefined) return 'unparsed';
      if (message === 'skip') return 'skip';
      emit(message);
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: 'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"',
    source: 'haproxy/haproxy doc/configuration.txt §8.2.3 HTTP log format example (lb-formats.md §4.1)',
  },
  {
    line: 'Feb 8 17:15:07 localhost hapee-lb[19738]: 192.168.1.2:49528 [08/Feb/2018:17:15:07.182] fe_main fe_main/<NOSRV> 0/-1/-1/-1/0 429 188 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
    source: 'HAProxy blog "Four Examples of HAProxy Rate Limiting" (lb-formats.md §4.5)',
  },
  {
    line: 'Sep 23 10:05:05 karantan haproxy[2149]: 93.103.124.110:52096 [23/Sep/2022:10:05:05.544] web web/<NOSRV> 0/-1/-1/-1/0 429 225 - - PR-- 3/3/0/0/0 0/0 {70.34.213.|hey/0.0.1} "GET / HTTP/1.1"',
    source: 'karantan/haproxy-sandbox README.md (lb-formats.md §4.5)',
  },
  {
    line: 'Sep 23 10:05:05 karantan haproxy[2149]: 93.103.124.110:52097 [23/Sep/2022:10:05:05.544] web api/server1 0/0/0/1/1 200 151 - - ---- 3/3/0/0/0 0/0 {70.34.213.|hey/0.0.1} "GET / HTTP/1.1"',
    source: 'karantan/haproxy-sandbox README.md (lb-formats.md §4.5)',
  },
  {
    line: 'Feb 25 16:19:49 192.168.4.2 haproxy[7]: 141.35.244.171:53332 [25/Feb/2019:16:19:48.143] prod_http_in~ bk_admin/nginx_sonst 0/0/7/1457/1487 200 11394 - - ---- 2/1/0/0/0 0/0 {Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0} {} "GET /admin/colt/administration?survey=130&input_stats=1&ajax=1&&ajax=1&refresh=1&ihandle=1 HTTP/1.1"',
    source: 'tstack/lnav test/logfile_haproxy.0 (peer-corpus/lnav-haproxy.log)',
  },
  {
    line: 'Nov 14 22:45:11 test haproxy[760]: 2001:db8::1234:58430 [14/Nov/2015:22:45:11.608] main main/<NOSRV> -1/-1/-1/-1/0 401 248 - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1"',
    source: 'fail2ban/fail2ban fail2ban/tests/files/logs/haproxy-http-auth',
  },
  {
    line: 'Feb 25 16:20:13 192.168.4.2 haproxy[7]: 87.183.41.77:50186 [25/Feb/2019:16:20:13.234] prod_http_in~ bk_ktest_sonst/nginx_sonst 0/0/1/0/1 200 16416 - - ---- 4/4/0/0/0 0/0 {Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0} {} "GET /media/core/bootstrap_3.3.7/css/bootstrap.css?1550939643 HTTP/1.1"',
    source: 'tstack/lnav test/logfile_haproxy.0 (peer-corpus/lnav-haproxy.log)',
  },
];

export const haproxy: LogFormat = {
  name: 'haproxy',
  role: 'lb',
  description:
    'HAProxy httplog / tcplog lines (syslog header optional): termination state, timers, <NOSRV>; one line per stream, written at its end',
  samples,
  sniff,
  createParser,
};
