/**
 * Envoy access log, text format (lb-formats.md §5, §11, §12): the default format, the default
 * format with %RESPONSE_CODE_DETAILS% after the flags, and Istio's format (details, connection
 * termination details and upstream transport failure reason after the flags; upstream cluster,
 * addresses, SNI and route name at the end). The three are told apart by where the
 * `BYTES_RECEIVED BYTES_SENT DURATION` run of integers starts.
 *
 * Times: %START_TIME% is when the request STARTED (UTC, ms); the line is written when the stream
 * ends, so `ts` = start + %DURATION% and `http.startTs` = start. For a WebSocket the duration is
 * the tunnel's life.
 *
 * Who answered: a response Envoy made itself (flags UH, UF, UO, NR, RL, DPE, IH, LR, UT, SI, …,
 * or details other than `via_upstream`) has upstreamStatus null; a 101, `via_upstream`, or a
 * status without flags is the upstream's. A status of 0 (nothing sent) has no upstream status.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Signal } from '../model.js';
import { spaceTokens, type SpaceToken } from './alb.js';
import {
  isStaticAsset,
  isWebSocketPath,
  parseRequestLine,
  splitClientAddr,
  stripContainerPrefix,
  urlUser,
} from './nginx-access.js';
import { parseIso } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

const START_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?$/;
const CODE = /^\d{1,3}$/;
const FLAGS = /^(?:-|[A-Za-z]{2,40}(?:,[A-Za-z]{2,40}){0,20})$/;
const INTEGER = /^\d{1,19}$/;

/** Long flag names (gRPC / OTel loggers, `%RESPONSE_FLAGS_LONG%`) → short ones (utility.h). */
const LONG_FLAGS: Record<string, string> = {
  NoHealthyUpstream: 'UH',
  UpstreamConnectionFailure: 'UF',
  UpstreamOverflow: 'UO',
  NoRouteFound: 'NR',
  UpstreamRetryLimitExceeded: 'URX',
  NoClusterFound: 'NC',
  DurationTimeout: 'DT',
  DownstreamConnectionTermination: 'DC',
  FailedLocalHealthCheck: 'LH',
  UpstreamRequestTimeout: 'UT',
  LocalReset: 'LR',
  UpstreamRemoteReset: 'UR',
  UpstreamConnectionTermination: 'UC',
  DelayInjected: 'DI',
  FaultInjected: 'FI',
  RateLimited: 'RL',
  UnauthorizedExternalService: 'UAEX',
  RateLimitServiceError: 'RLSE',
  InvalidEnvoyRequestHeaders: 'IH',
  StreamIdleTimeout: 'SI',
  DownstreamProtocolError: 'DPE',
  UpstreamProtocolError: 'UPE',
  UpstreamMaxStreamDurationReached: 'UMSDR',
  OverloadManagerTerminated: 'OM',
  DnsResolutionFailed: 'DF',
  DropOverload: 'DO',
  NoFilterConfigFound: 'NFCF',
  ResponseFromCacheFilter: 'RFCF',
};

/** Flags that mean Envoy wrote the response itself (the rest, DC / DI / RFCF, do not). */
const LOCAL_FLAGS = new Set([
  'UH',
  'UF',
  'UO',
  'NR',
  'URX',
  'NC',
  'DT',
  'LH',
  'UT',
  'LR',
  'UR',
  'UC',
  'FI',
  'RL',
  'UAEX',
  'RLSE',
  'IH',
  'SI',
  'DPE',
  'UPE',
  'UMSDR',
  'OM',
  'DF',
  'DO',
  'NFCF',
]);

/** Codec / header details that name a malformed request (§5.3, §11.4). */
const BAD_HEADER_DETAILS =
  /^(?:http1\.(?:invalid_characters|unexpected_underscore|headers_too_large|too_many_headers|connection_header_rejected)|http2\.(?:invalid\.header\.field|violation\.of\.messaging\.rule)|missing_host_header|request_headers_failed_strict_check)/;
const TIMEOUT_DETAILS = /^(?:upstream_response_timeout|response_timeout|upstream_per_try_timeout)/;
const DURATION_DETAILS = /^(?:duration_timeout|max_duration_timeout)/;

interface EnvoyLine {
  start: number;
  request: string;
  method?: string;
  url?: string;
  status: number;
  flags: Set<string>;
  flagsText: string;
  details?: string;
  termination?: string;
  transportFailure?: string;
  durationMs?: number;
  xff?: string;
  userAgent?: string;
  requestId?: string;
  authority?: string;
  upstreamHost?: string;
  downstreamRemote?: string;
}

function dash(value: string | undefined): string | undefined {
  return value === undefined || value === '-' || value === '' ? undefined : value;
}

/** The first index ≥ from where BYTES_RECEIVED BYTES_SENT DURATION stand (at most 4 tokens in). */
function bytesRun(tokens: readonly SpaceToken[], from: number): number {
  for (let j = from; j <= from + 4 && j + 2 < tokens.length; j++) {
    const [a, b, c] = [tokens[j], tokens[j + 1], tokens[j + 2]];
    if (a.quoted || b.quoted || c.quoted) continue;
    if (INTEGER.test(a.value) && INTEGER.test(b.value) && (INTEGER.test(c.value) || c.value === '-'))
      return j;
  }
  return -1;
}

function readLine(body: string, ctx: ParseContext): EnvoyLine | undefined {
  if (body.charCodeAt(0) !== 91) return undefined; // [
  const close = body.indexOf(']');
  if (close < 20 || close > 48) return undefined;
  const timeText = body.slice(1, close);
  if (!START_TIME.test(timeText)) return undefined;
  const start = parseIso(timeText, ctx);
  if (Number.isNaN(start)) return undefined;

  const tokens = spaceTokens(body.slice(close + 1), 40);
  if (tokens.length < 6 || !tokens[0].quoted) return undefined;
  if (tokens[1].quoted || !CODE.test(tokens[1].value)) return undefined;
  if (tokens[2].quoted || !FLAGS.test(tokens[2].value)) return undefined;
  const run = bytesRun(tokens, 3);
  if (run < 0) return undefined;

  const flagsText = tokens[2].value;
  const flags = new Set(flagsText === '-' ? [] : flagsText.split(',').map((f) => LONG_FLAGS[f] ?? f));
  const line: EnvoyLine = {
    start,
    request: tokens[0].value,
    ...parseRequestLine(tokens[0].value),
    status: Number(tokens[1].value),
    flags,
    flagsText,
  };
  // between the flags and the byte counts: details, termination details, "transport failure"
  let bare = 0;
  for (let i = 3; i < run; i++) {
    const t = tokens[i];
    if (t.quoted) line.transportFailure ??= dash(t.value);
    else if (bare++ === 0) line.details = dash(t.value);
    else line.termination ??= dash(t.value);
  }
  const duration = tokens[run + 2].value;
  if (INTEGER.test(duration)) line.durationMs = Number(duration);

  // after DURATION: X-ENVOY-UPSTREAM-SERVICE-TIME, then the quoted request fields
  let k = run + 3;
  if (tokens[k] && !tokens[k].quoted) k++;
  const quoted: (keyof EnvoyLine)[] = ['xff', 'userAgent', 'requestId', 'authority', 'upstreamHost'];
  for (const name of quoted) {
    const t = tokens[k];
    if (!t?.quoted) break;
    const v = dash(t.value);
    if (v !== undefined) (line as unknown as Record<string, string>)[name] = v;
    k++;
  }
  // Istio: UPSTREAM_CLUSTER UPSTREAM_LOCAL_ADDRESS DOWNSTREAM_LOCAL_ADDRESS DOWNSTREAM_REMOTE_ADDRESS …;
  // a single address appended to the default format is the downstream remote address
  const trailing = tokens.slice(k).filter((t) => !t.quoted);
  if (trailing.length >= 4 && splitClientAddr(trailing[3].value).ip)
    line.downstreamRemote = trailing[3].value;
  else if (trailing.length === 1 && splitClientAddr(trailing[0].value).port)
    line.downstreamRemote = trailing[0].value;
  return line;
}

function upstreamStatusOf(e: EnvoyLine): number | null | undefined {
  if (e.status === 0) return undefined;
  if (e.status === 101 || e.details === 'via_upstream') return e.status;
  for (const f of e.flags) if (LOCAL_FLAGS.has(f)) return null;
  if (e.details && !e.details.startsWith('downstream_')) return null;
  return e.status;
}

/**
 * The meaning of a line (lb-formats.md §5.2–§5.6, §11). Judgement calls:
 * - On a 101 the flags say how the tunnel ended: SI / stream_idle_timeout → 'idle-close'; UT or
 *   DT (route timeout or max duration cutting the socket, envoy #20062) → 'idle-close' too: an
 *   intermediary's timer ended a working socket; UC / UR / LR / upstream_reset… → 'conn-reset'
 *   (the SBC side reset); DC → 'ws-close' (the client went away); no flag → 'ws-open'.
 * - UO (circuit breaker overflow) → 'edge-connection-limit'.
 * - SI before any response (408) on the socket: the SBC never answered the Upgrade until the
 *   stream idle timeout → 'upstream-timeout'.
 * - UF / UC / UR / LR before a response (503) on the socket → 'conn-reset' (SBC unreachable or
 *   resetting), like HAProxy's SC/SH; UH (no healthy upstream) stays 'ws-handshake-failed'.
 * - Status 0 with DC: the client left before any answer → 'client-timeout' (nginx's 499).
 */
function envoySignal(
  e: EnvoyLine,
  upstreamStatus: number | null | undefined,
  socketLike: boolean,
): Signal | undefined {
  const has = (f: string) => e.flags.has(f);
  const d = e.details ?? '';
  const reset = has('UC') || has('UR') || has('LR') || d.startsWith('upstream_reset');
  if (e.status === 101) {
    if (has('SI') || d === 'stream_idle_timeout') return 'idle-close';
    if (has('UT') || has('DT') || TIMEOUT_DETAILS.test(d) || DURATION_DETAILS.test(d)) return 'idle-close';
    if (reset) return 'conn-reset';
    if (has('DC') || d.startsWith('downstream_remote_disconnect')) return 'ws-close';
    return 'ws-open';
  }
  if (has('RL') || has('RLSE') || d === 'local_rate_limited' || d.startsWith('request_rate_limited'))
    return 'edge-rate-limit';
  if (e.status === 429 && upstreamStatus === null) return 'edge-rate-limit';
  if (has('UO')) return 'edge-connection-limit';
  if (has('DPE') || has('IH') || BAD_HEADER_DETAILS.test(d)) return 'bad-header';
  if (has('UT') || e.status === 504 || TIMEOUT_DETAILS.test(d)) return 'upstream-timeout';
  if (has('SI') || d === 'stream_idle_timeout') return socketLike ? 'upstream-timeout' : undefined;
  if (e.status === 499) return 'client-timeout';
  if (e.status === 0 && (has('DC') || d.startsWith('downstream_remote_disconnect')))
    return socketLike ? 'client-timeout' : undefined;
  if ((has('UF') || reset) && socketLike) return 'conn-reset';
  if (e.status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

/** TCP proxy lines ("- - -"): no HTTP, only how the connection ended. */
function tcpMeaning(e: EnvoyLine): { kind: EventKind; signal?: Signal } {
  const has = (f: string) => e.flags.has(f);
  if (has('SI') || has('DT')) return { kind: 'timeout', signal: 'idle-close' };
  if (has('UT')) return { kind: 'timeout', signal: 'upstream-timeout' };
  if (has('UF') || has('UC') || has('UR') || has('LR')) return { kind: 'error', signal: 'conn-reset' };
  return { kind: 'info' };
}

function flagsOf(e: EnvoyLine): string | undefined {
  const parts = [e.flagsText === '-' ? undefined : e.flagsText, e.details, e.termination, e.transportFailure];
  const text = parts.filter((p) => p !== undefined).join(' ');
  return text === '' ? undefined : text;
}

function firstForwarded(xff: string | undefined): string | undefined {
  if (!xff) return undefined;
  const first = xff.split(',')[0].trim();
  const ip = splitClientAddr(first).ip;
  return ip;
}

function toEvent(e: EnvoyLine, raw: string, lineNo: number, ctx: ParseContext): LogEvent {
  const tcp = e.method === undefined && e.url === undefined;
  const upgrade = e.status === 101 || (e.url !== undefined && isWebSocketPath(e.url));
  const socketLike = upgrade || (e.url !== undefined && !isStaticAsset(e.url));
  const upstreamStatus = tcp ? undefined : upstreamStatusOf(e);

  const keys: EventKeys = {};
  const remote = e.downstreamRemote ? splitClientAddr(e.downstreamRemote) : {};
  const ip = remote.ip ?? firstForwarded(e.xff);
  if (ip) keys.ip = ip;
  if (remote.ip && remote.port && remote.port !== '0')
    keys.peer = remote.ip.includes(':') ? `[${remote.ip}]:${remote.port}` : `${remote.ip}:${remote.port}`;
  if (e.requestId) keys.requestId = e.requestId;
  const user = e.url ? urlUser(e.url) : undefined;
  if (user) keys.user = user;

  const http: HttpInfo = { status: e.status, startTs: e.start };
  if (!tcp) http.upgrade = upgrade;
  if (upstreamStatus !== undefined) http.upstreamStatus = upstreamStatus;
  if (e.upstreamHost) http.upstream = e.upstreamHost;
  if (e.durationMs !== undefined) http.durationMs = e.durationMs;
  const flags = flagsOf(e);
  if (flags) http.flags = flags;
  if (e.method) http.method = e.method;
  if (e.url) http.url = e.url;
  if (e.userAgent) http.userAgent = e.userAgent;

  let kind: EventKind = upgrade ? 'ws-handshake' : 'http-request';
  let signal: Signal | undefined;
  if (tcp) ({ kind, signal } = tcpMeaning(e));
  else signal = envoySignal(e, upstreamStatus, socketLike);

  const event: LogEvent = {
    ts: e.start + (e.durationMs ?? 0),
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind,
    keys,
    http,
    text: `"${e.request}" ${e.status}${flags ? ` ${flags}` : ''}`,
  };
  if (signal) event.signal = signal;
  return event;
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

/** `[START_TIME] "REQUEST" CODE FLAGS ` */
const SNIFF =
  /^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?\] "[^"]{0,16384}" \d{1,3} [A-Za-z,-]{1,200} /;

function sniff(line: string): number {
  const body = stripContainerPrefix(line);
  if (body.charCodeAt(0) !== 91 || !SNIFF.test(body)) return 0;
  return readLine(body, SNIFF_CONTEXT) ? 0.95 : 0.6;
}

const SNIFF_CONTEXT: ParseContext = {
  input: 0,
  path: '',
  year: 2000,
  localToEpoch: (ms) => ms,
};

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      const body = stripContainerPrefix(line);
      if (body.trim() === '') return 'skip';
      const e = readLine(body, ctx);
      if (!e) return 'unparsed';
      emit(toEvent(e, line, lineNo, ctx));
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"',
    source:
      'envoyproxy/envoy docs/root/configuration/observability/access_log/usage.rst, default format example (wrapped in the doc; joined) (lb-formats.md §5.1)',
  },
  {
    line: '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-07-20T07:06:24.729Z] "GET /no-healthy-upstream HTTP/1.1" 503 UH no_healthy_upstream 0 19 0 - "-" "curl/8.4.0" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "-"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-07-20T07:09:48.470Z] "GET /upstream-connection-failure HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} 0 145 0 - "-" "curl/8.4.0" "44898dba-8d8e-48f4-93f7-23e4b4c592c0" "localhost:8000" "172.28.0.2:801"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-07-20T07:32:21.519Z] "GET /upstream-service-overflow?delayMs=5000 HTTP/1.1" 503 UO upstream_reset_before_response_started{overflow} 0 81 0 - "-" "curl/8.4.0" "c414b70a-7c85-4f78-9c35-2ce2b9131aa3" "localhost:8000" "172.31.0.3:8080"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-07-21T08:32:59.547Z] "GET /ws HTTP/1.1" 101 DC downstream_remote_disconnect 61 105 13342 - "-" "-" "e5248829-b318-443a-a763-e2460530f070" "localhost:8000" "192.168.5.2:8080"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-07-21T09:11:33.481Z] "GET /ws HTTP/1.1" 101 SI stream_idle_timeout 100 154 413322 - "-" "-" "8a458ce2-bb8d-4e80-a305-f323bbab338f" "localhost:8000" "192.168.5.2:8080"',
    source: 'renuka-fernando/examples envoy/simple/README.md (lb-formats.md §5.4)',
  },
  {
    line: '[2024-09-15T16:27:47.687Z] "HEAD / HTTP/1.1" 429 RL local_rate_limited - "-" 0 0 0 - "192.168.245.106" "curl/8.5.0" "467a7648-b9ef-4e9b-b75b-f9f500a88589" "nginx.test.local" "-" inbound|80|| - 10.0.196.75:80 192.168.245.106:0 outbound_.80_._.nginx.istio-test.svc.cluster.local default',
    source: 'Istio-format local rate limit line from a public repository (lb-formats.md §5.4)',
  },
];

export const envoy: LogFormat = {
  name: 'envoy',
  role: 'lb',
  description:
    'Envoy text access log (default, default + response code details, Istio): START_TIME = start, ts = start + DURATION; response flags and details say who answered and how a tunnel ended',
  samples,
  sniff,
  createParser,
};
