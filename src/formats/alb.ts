/**
 * AWS Application Load Balancer access log (lb-formats.md §1, §11, §12). One line per request,
 * space-separated, quote-aware; fields in the documented order, newer fields appended at the end
 * ("ignore any fields at the end of the log entry that you were not expecting") and older files
 * with fewer trailing fields (no request_creation_time, unquoted domain / cert: tstack/lnav's
 * samples) are both read.
 *
 * Times: `time` is when the ALB answered — for ws/wss, when the connection CLOSED — so it is the
 * event's `ts`; `request_creation_time` is when the request arrived, so `http.startTs` and the
 * lifetime `durationMs = time − request_creation_time` (the WebSocket's whole life on ws/wss lines).
 * Without request_creation_time, a plain request's duration is the sum of the three processing
 * times; a WebSocket's lifetime is then unknown.
 *
 * Who answered: `target_status_code` "-" → upstreamStatus null (the ALB answered itself: WAF,
 * fixed-response, 460, 5xx without a target response); a number → the target's status.
 */
import type { EventKeys, HttpInfo, LogEvent, Signal } from '../model.js';
import {
  isStaticAsset,
  isWebSocketPath,
  parseRequestLine,
  splitClientAddr,
  urlUser,
} from './nginx-access.js';
import { parseIso } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

// ---------------------------------------------------------------------------------------------
// Quote-aware tokens (shared with envoy.ts)
// ---------------------------------------------------------------------------------------------

export interface SpaceToken {
  value: string;
  quoted: boolean;
}

/**
 * Splits a line on spaces, keeping `"…"` as one token. A quoted token ends at a `"` followed by a
 * space or the end of the line, so a stray quote inside a User-Agent does not split it; an
 * unterminated quote runs to the end of the line. One linear pass, no regex.
 */
export function spaceTokens(line: string, max = 64): SpaceToken[] {
  const out: SpaceToken[] = [];
  const n = line.length;
  let i = 0;
  while (i < n && out.length < max) {
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    if (line.charCodeAt(i) === 34) {
      let k = i + 1;
      let end = -1;
      while (k < n) {
        const q = line.indexOf('"', k);
        if (q < 0) break;
        const next = line.charCodeAt(q + 1);
        if (q + 1 >= n || next === 32 || next === 9) {
          end = q;
          break;
        }
        k = q + 1;
      }
      if (end < 0) {
        out.push({ value: line.slice(i + 1), quoted: true });
        break;
      }
      out.push({ value: line.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++;
      out.push({ value: line.slice(i, j), quoted: false });
      i = j;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------

const TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const SECONDS = /^-?\d{1,9}(?:\.\d{1,6})?$/;
const STATUS = /^\d{3}$/;
const CONN_TRACE = /^TID_[0-9A-Fa-f]{8,64}$/;

/** Positions in the documented field order (lb-formats.md §1.2), 0-based. */
const F = {
  type: 0,
  time: 1,
  client: 3,
  target: 4,
  requestProcessing: 5,
  targetProcessing: 6,
  responseProcessing: 7,
  elbStatus: 8,
  targetStatus: 9,
  request: 12,
  userAgent: 13,
  traceId: 17,
  requestCreation: 21,
  actions: 22,
  errorReason: 24,
  classification: 27,
  classificationReason: 28,
  connTraceId: 29,
} as const;

function field(tokens: readonly SpaceToken[], at: number): string | undefined {
  const t = tokens[at];
  if (!t) return undefined;
  return t.value === '-' || t.value === '' ? undefined : t.value;
}

interface AlbLine {
  type: string;
  end: number;
  start?: number;
  durationMs?: number;
  ip?: string;
  port?: string;
  target?: string;
  status: number;
  /** null: target_status_code "-" */
  targetStatus: number | null;
  method?: string;
  url?: string;
  request: string;
  userAgent?: string;
  traceId?: string;
  connTraceId?: string;
  actions?: string;
  errorReason?: string;
  classification?: string;
  classificationReason?: string;
}

function readLine(line: string): AlbLine | undefined {
  const space = line.indexOf(' ');
  if (space < 2 || space > 5 || !TYPES.has(line.slice(0, space))) return undefined;
  const tokens = spaceTokens(line);
  if (tokens.length <= F.request) return undefined;
  for (let i = 0; i < F.request; i++) if (tokens[i].quoted) return undefined;
  if (!tokens[F.request].quoted) return undefined;
  const timeText = tokens[F.time].value;
  if (!ISO_Z.test(timeText)) return undefined;
  const end = parseIso(timeText);
  if (Number.isNaN(end)) return undefined;
  const elb = tokens[F.elbStatus].value;
  const target = tokens[F.targetStatus].value;
  if ((elb !== '-' && !STATUS.test(elb)) || (target !== '-' && !STATUS.test(target))) return undefined;
  const times = [F.requestProcessing, F.targetProcessing, F.responseProcessing].map((i) => tokens[i].value);
  if (!times.every((t) => SECONDS.test(t))) return undefined;

  const client = splitClientAddr(tokens[F.client].value);
  const request = tokens[F.request].value;
  const a: AlbLine = {
    type: tokens[F.type].value,
    end,
    ip: client.ip,
    port: client.port,
    target: field(tokens, F.target),
    status: elb === '-' ? 0 : Number(elb),
    targetStatus: target === '-' ? null : Number(target),
    request,
    ...parseRequestLine(request),
  };
  const ua = tokens[F.userAgent];
  if (ua?.quoted && ua.value !== '-' && ua.value !== '') a.userAgent = ua.value;
  const trace = tokens[F.traceId];
  if (trace?.quoted && trace.value !== '-' && trace.value !== '') a.traceId = trace.value;

  const creation = field(tokens, F.requestCreation);
  if (creation && ISO_Z.test(creation)) {
    const start = parseIso(creation);
    if (!Number.isNaN(start) && start <= end) {
      a.start = start;
      a.durationMs = Math.round(end - start);
    }
  }
  if (a.durationMs === undefined && a.type !== 'ws' && a.type !== 'wss') {
    const seconds = times.map(Number);
    if (seconds.every((s) => s >= 0)) {
      a.durationMs = Math.round((seconds[0] + seconds[1] + seconds[2]) * 1000);
      a.start = end - a.durationMs;
    }
  }
  a.actions = field(tokens, F.actions);
  a.errorReason = field(tokens, F.errorReason);
  a.classification = field(tokens, F.classification);
  a.classificationReason = field(tokens, F.classificationReason);
  const tid = field(tokens, F.connTraceId);
  if (tid && CONN_TRACE.test(tid)) a.connTraceId = tid;
  return a;
}

/** `actions_executed` names the WAF (not `waf-failed`, where the WAF failed open and forwarded). */
/**
 * With AWS WAF attached every request lists `waf` first ("waf,forward", "waf,fixed-response"); the
 * WAF itself answered only when `waf` is the last action taken.
 */
function wafActed(actions: string | undefined): boolean {
  if (actions === undefined) return false;
  const list = actions.split(',').map((a) => a.trim());
  return list[list.length - 1] === 'waf';
}

/** Desync-mitigation classes that block (Severe) or close the connection after routing (Ambiguous). */
function badRequestClass(classification: string | undefined): boolean {
  return classification === 'Severe' || classification === 'Ambiguous';
}

/**
 * The meaning of a line (lb-formats.md §1.5–§1.9, §11). Judgement calls:
 * - A 101 says nothing about how the tunnel ended (ALB has no termination flags): 'ws-open'; the
 *   classifier reads the lifetime against the idle timeout.
 * - Severe / Ambiguous classification → 'bad-header' whatever the status: Severe is answered 400,
 *   Ambiguous is routed and then the connections are closed (an instant 1006 for the client).
 * - WAF: actions contain `waf`, no target status, status ≥400 (403 by default, or the WAF's
 *   custom code) → 'edge-rate-limit'. A 429 the ALB made (target "-") is the same; a 429 the
 *   target sent is the SBC's own refusal ('ws-handshake-failed' on the socket).
 * - 408 the ALB made (client sent nothing before the idle timeout) is a browser pre-connection,
 *   not a failed handshake: no signal.
 */
function albSignal(a: AlbLine, socketLike: boolean): Signal | undefined {
  const edgeMade = a.targetStatus === null;
  if (badRequestClass(a.classification)) return 'bad-header';
  if (a.status === 101) return 'ws-open';
  if (wafActed(a.actions) && edgeMade && a.status >= 400) return 'edge-rate-limit';
  if (a.status === 429 && edgeMade) return 'edge-rate-limit';
  if (a.status === 460 || a.status === 499) return 'client-timeout';
  if (a.status === 504) return 'upstream-timeout';
  if (a.status === 408 && edgeMade) return undefined;
  if (a.status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

/** classification, error_reason and non-trivial actions, when present. */
function flagsOf(a: AlbLine): string | undefined {
  const parts: string[] = [];
  if (a.classification) parts.push(`classification=${a.classification}/${a.classificationReason ?? '-'}`);
  if (a.errorReason) parts.push(`error_reason=${a.errorReason}`);
  if (a.actions && a.actions !== 'forward') parts.push(`actions=${a.actions}`);
  return parts.length ? parts.join(' ') : undefined;
}

function toEvent(a: AlbLine, raw: string, lineNo: number, ctx: ParseContext): LogEvent {
  const upgrade =
    a.type === 'ws' ||
    a.type === 'wss' ||
    a.status === 101 ||
    (a.url !== undefined && isWebSocketPath(a.url));
  const socketLike = upgrade || (a.url !== undefined && !isStaticAsset(a.url));

  const keys: EventKeys = {};
  if (a.ip) keys.ip = a.ip;
  if (a.ip && a.port) keys.peer = a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
  if (a.traceId) keys.requestId = a.traceId;
  if (a.connTraceId) keys.connId = a.connTraceId;
  const user = a.url ? urlUser(a.url) : undefined;
  if (user) keys.user = user;

  const http: HttpInfo = { status: a.status, upstreamStatus: a.targetStatus, upgrade };
  if (a.target) http.upstream = a.target;
  if (a.durationMs !== undefined) http.durationMs = a.durationMs;
  if (a.start !== undefined) http.startTs = a.start;
  const flags = flagsOf(a);
  if (flags) http.flags = flags;
  if (a.method) http.method = a.method;
  if (a.url) http.url = a.url;
  if (a.userAgent) http.userAgent = a.userAgent;

  const event: LogEvent = {
    ts: a.end,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: upgrade ? 'ws-handshake' : 'http-request',
    keys,
    http,
    text: `${a.type} "${a.request}" ${a.status} target ${a.targetStatus ?? '-'}${flags ? ` ${flags}` : ''}`,
  };
  const signal = albSignal(a, socketLike);
  if (signal) event.signal = signal;
  return event;
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

/** `type time elb client:port target:port -1|0.000 ` */
const SNIFF =
  /^(?:https?|h2|grpcs|wss?) \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z \S{1,256} \S{1,64}:\d{1,5} \S{1,64} -?\d{1,9}(?:\.\d{1,6})? /;

function sniff(line: string): number {
  if (line.length < 40) return 0;
  if (!SNIFF.test(line)) return 0;
  return readLine(line) ? 0.95 : 0.5;
}

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      if (line.trim() === '') return 'skip';
      const a = readLine(line);
      if (!a) return 'unparsed';
      emit(toEvent(a, line, lineNo, ctx));
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: 'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"',
    source:
      'awsdocs/elb-application-load-balancers-user-guide load-balancer-access-logs.md, HTTP example (AWS wraps it for readability; joined) (lb-formats.md §1.3)',
  },
  {
    line: 'ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-"',
    source:
      'awsdocs/elb-application-load-balancers-user-guide load-balancer-access-logs.md, WebSockets example (joined) (lb-formats.md §1.3)',
  },
  {
    line: 'wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.171:8010" "101" "-" "-"',
    source:
      'awsdocs/elb-application-load-balancers-user-guide load-balancer-access-logs.md, Secured WebSockets example (joined) (lb-formats.md §1.3)',
  },
  {
    line: 'http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"',
    source:
      'awsdocs/elb-application-load-balancers-user-guide load-balancer-access-logs.md, failed Lambda request example (joined) (lb-formats.md §1.3)',
  },
  {
    line: 'https 2017-01-30T22:46:27.451363Z app/LOAD-BALANCER/bbab458ad0b80d X.X.X.X:55999 10.5.X.X:80 0.000 -1 -1 460 - 132 0 "GET https://www.website.com:443/app/page HTTP/1.1" "-" ECDHE-RSA-AES128-SHA TLSv1 arn:aws:elasticloadbalancing:us-west-2:743462462234:targetgroup/TARGET-GROUP/e6120e5adr245b79107e "Root=1-588fc23e-77aea5adf4534af3de09659d13a08"',
    source:
      'StackOverflow q/43736680 (ALB 460), mirrored at coderapp.vercel.app/answer/43736680 (lb-formats.md §1.3)',
  },
  {
    line: 'http 2024-05-28T13:34:14.804475Z app/**/7bba4eaafdb3bbc6 18.180.78.**:42088 172.31.11.**:80 0.006 0.000 0.000 200 200 115 124 "GET http://alb-**.ap-northeast-1.elb.amazonaws.com:80/ HTTP/1.1" "curl/8.5.0" - - arn:aws:elasticloadbalancing:ap-northeast-1:**:targetgroup/**/f8e61ed9c1a9**** "Root=1-6655dd56-7bd889385aff85131b10****" "-" "-" 0 2024-05-28T13:34:14.797000Z "waf,forward" "-" "-" "172.31.11.**:80" "200" "-" "-" TID_dc57cebed65b444ebc8177bb698fe166',
    source:
      'dev.classmethod.jp/articles/alb-accesslog-traceabilityid, 2024-05-28 (conn_trace_id) (lb-formats.md §1.3)',
  },
  {
    line: 'ws 2016-08-10T00:32:08.923954Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" - -',
    source: 'tstack/lnav src/formats/alb_log.json sample (peer-corpus/lnav-alb-samples.log)',
  },
  {
    line: 'https 2016-08-10T23:39:43.065466Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" www.example.com arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012',
    source: 'tstack/lnav src/formats/alb_log.json sample (peer-corpus/lnav-alb-samples.log)',
  },
];

export const alb: LogFormat = {
  name: 'alb',
  role: 'lb',
  description:
    'AWS Application Load Balancer access log (http/https/h2/grpcs/ws/wss): time = end (WebSocket close), request_creation_time = start, target_status_code "-" = answered by the ALB; classification, WAF and error_reason',
  samples,
  sniff,
  createParser,
};
