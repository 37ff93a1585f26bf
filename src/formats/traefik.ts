/**
 * Traefik (v2/v3) access log in JSON (`accessLog.format: json`; lb-formats.md §8, §11, §12). One
 * object per line; a container runtime timestamp or a `pod container ` prefix before the `{` is
 * skipped.
 *
 * Times: `StartUTC` (or `StartLocal`, which carries its offset) is when the request STARTED;
 * `Duration` is in nanoseconds; the line is written at the end, so `ts` = start + Duration and
 * `http.startTs` = start. Without a start, the logrus `time` (whole seconds, the end) is used.
 *
 * Who answered: `OriginStatus` 0 means the request was never proxied (a middleware or the router
 * answered: rate limit, allow list, no route) → upstreamStatus null; a number is the server's
 * status (the proxy's own 502/504 for an unreachable server count as the origin's, PR #13609).
 *
 * WebSockets: a hijacked connection is logged `DownstreamStatus 0, OriginStatus 0` with Duration =
 * the tunnel's life (traefik #10064, #10504). A request that looks like an upgrade (WebSocket path
 * or `request_Upgrade: websocket`) logged 0/0 is read as an opened tunnel: status 101, upstream
 * status 101 — the server did answer the upgrade, Traefik just records no status for it. 0/0 on
 * other requests (SSE aborted by the client in v3, #10807) stays status 0 without a signal.
 */
import type { EventKeys, HttpInfo, LogEvent, Signal } from '../model.js';
import {
  isStaticAsset,
  isWebSocketPath,
  splitClientAddr,
  stripContainerPrefix,
  urlUser,
} from './nginx-access.js';
import { parseIso } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';

type JsonObject = Record<string, unknown>;

/** Keys only Traefik's access log has (the first three are the mark of the format). */
const MARK_KEYS = ['DownstreamStatus', 'RouterName', 'StartUTC'];
const SHAPE_KEYS = [
  'OriginStatus',
  'ClientAddr',
  'RequestPath',
  'RequestMethod',
  'ServiceName',
  'ServiceURL',
  'OriginDuration',
  'entryPointName',
  'StartLocal',
  'Overhead',
];

/** `pod container {…}` (kubectl/stern) or nothing: at most this much text before the object. */
const MAX_PREFIX = 256;

function objectText(line: string): string | undefined {
  let body = stripContainerPrefix(line);
  if (body.charCodeAt(0) !== 123) {
    const at = body.indexOf('{"');
    if (at <= 0 || at > MAX_PREFIX || body.slice(0, at).includes('"')) return undefined;
    body = body.slice(at);
  }
  body = body.trimEnd();
  return body.endsWith('}') ? body : undefined;
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

function str(o: JsonObject, key: string): string | undefined {
  const v = o[key];
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' || t === '-' ? undefined : t;
}

function num(o: JsonObject, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d{1,19}$/.test(v)) return Number(v);
  return undefined;
}

/** A header logged as `request_<Name>` (case as sent; Go canonicalises it). */
function requestHeader(o: JsonObject, name: string): string | undefined {
  return str(o, `request_${name}`) ?? str(o, `request_${name.toLowerCase()}`);
}

function isTraefikObject(o: JsonObject): number {
  const marks = MARK_KEYS.filter((k) => o[k] !== undefined).length;
  if (marks === 0) return 0;
  const shape = SHAPE_KEYS.filter((k) => o[k] !== undefined).length;
  if (marks >= 2 && shape >= 1) return 0.95;
  if (marks + shape >= 3) return 0.85;
  return 0.4;
}

/**
 * The meaning of a line (lb-formats.md §8, §11):
 * - 101 (or an upgrade logged 0/0) → 'ws-open'.
 * - 429 Traefik made (OriginStatus 0: rateLimit, inFlightReq) → 'edge-rate-limit'; a 429 from the
 *   server is the SBC's refusal ('ws-handshake-failed' on the socket).
 * - 504 → 'upstream-timeout'; 499 (the client went away first) → 'client-timeout'.
 * - other ≥400 on the socket → 'ws-handshake-failed'.
 */
function traefikSignal(
  status: number,
  origin: number | null | undefined,
  socketLike: boolean,
): Signal | undefined {
  if (status === 101) return 'ws-open';
  if (status === 429 && origin === null) return 'edge-rate-limit';
  if (status === 504) return 'upstream-timeout';
  if (status === 499) return 'client-timeout';
  if (status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

function toEvent(o: JsonObject, raw: string, lineNo: number, ctx: ParseContext): LogEvent | undefined {
  const durationNs = num(o, 'Duration');
  const durationMs = durationNs !== undefined ? Math.round(durationNs / 1e6) : undefined;
  const startText = str(o, 'StartUTC') ?? str(o, 'StartLocal');
  let start = startText ? parseIso(startText, ctx) : NaN;
  let end: number;
  if (!Number.isNaN(start)) {
    end = start + (durationNs !== undefined ? durationNs / 1e6 : 0);
  } else {
    const time = str(o, 'time');
    end = time ? parseIso(time, ctx) : NaN;
    if (Number.isNaN(end)) return undefined;
    start = durationMs !== undefined ? end - durationMs : NaN;
  }

  const method = str(o, 'RequestMethod');
  const url = str(o, 'RequestPath');
  const downstream = num(o, 'DownstreamStatus');
  const originRaw = num(o, 'OriginStatus');
  const upgradeHeader = /^websocket$/i.test(requestHeader(o, 'Upgrade') ?? '');
  const upgradeLike = upgradeHeader || (url !== undefined && isWebSocketPath(url));
  let status = downstream ?? 0;
  let origin: number | null | undefined =
    originRaw === undefined ? undefined : originRaw === 0 ? null : originRaw;
  let flags: string | undefined;
  if (status === 0 && (originRaw === 0 || originRaw === undefined) && upgradeLike && method === 'GET') {
    // a hijacked (upgraded) connection: Traefik records no status for it
    status = 101;
    origin = 101;
    flags = 'status 0/0 (upgraded connection)';
  }
  const upgrade = status === 101 || upgradeLike;
  const socketLike = upgrade || (url !== undefined && !isStaticAsset(url));

  const keys: EventKeys = {};
  const clientAddr = str(o, 'ClientAddr');
  const client = clientAddr ? splitClientAddr(clientAddr) : {};
  const ip = client.ip ?? str(o, 'ClientHost');
  if (ip && splitClientAddr(ip).ip) keys.ip = ip;
  if (client.ip && client.port)
    keys.peer = client.ip.includes(':') ? `[${client.ip}]:${client.port}` : `${client.ip}:${client.port}`;
  const traceId = str(o, 'TraceId');
  const requestId =
    requestHeader(o, 'X-Request-Id') ??
    requestHeader(o, 'X-Request-ID') ??
    (traceId && !/^0+$/.test(traceId) ? traceId : undefined);
  if (requestId) keys.requestId = requestId;
  const user = url ? urlUser(url) : undefined;
  if (user) keys.user = user;

  const http: HttpInfo = { status, upgrade };
  if (origin !== undefined) http.upstreamStatus = origin;
  const upstream = str(o, 'ServiceURL') ?? str(o, 'ServiceAddr');
  if (upstream) http.upstream = upstream;
  if (durationMs !== undefined) http.durationMs = durationMs;
  if (!Number.isNaN(start)) http.startTs = start;
  if (flags) http.flags = flags;
  if (method) http.method = method;
  if (url) http.url = url;
  const ua = requestHeader(o, 'User-Agent');
  if (ua) http.userAgent = ua;

  const router = str(o, 'RouterName');
  const event: LogEvent = {
    ts: end,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'lb',
    kind: upgrade ? 'ws-handshake' : 'http-request',
    keys,
    http,
    text: `"${method ?? '-'} ${url ?? '-'}" ${downstream ?? '-'} origin ${originRaw ?? '-'}${router ? ` router ${router}` : ''}`,
  };
  const signal = traefikSignal(status, origin, socketLike);
  if (signal) event.signal = signal;
  return event;
}

function sniff(line: string): number {
  if (!line.includes('"DownstreamStatus"') && !line.includes('"RouterName"') && !line.includes('"StartUTC"'))
    return 0;
  const text = objectText(line);
  if (!text) return 0;
  const o = parseObject(text);
  return o ? isTraefikObject(o) : 0;
}

function createParser(ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      if (line.trim() === '') return 'skip';
      const text = objectText(line);
      const o = text ? parseObject(text) : undefined;
      if (!o) return 'unparsed';
      if (isTraefikObject(o) === 0) {
        // Traefik's own JSON log lines ({"level":…,"msg":…}) in the same stream
        return typeof o.level === 'string' && (o.msg !== undefined || o.message !== undefined)
          ? 'skip'
          : 'unparsed';
      }
      const event = toEvent(o, line, lineNo, ctx);
      if (!event) return 'unparsed';
      emit(event);
      return 'event';
    },
    end() {},
  };
}

const samples: FormatSample[] = [
  {
    line: '{"ClientAddr":"x.x.x.x:34834","ClientHost":"x.x.x.x","ClientPort":"34834","ClientUsername":"-","DownstreamContentSize":61,"DownstreamStatus":200,"Duration":4369274,"OriginContentSize":61,"OriginDuration":1497998,"OriginStatus":200,"Overhead":2871276,"RequestAddr":"netbird.example.com:443","RequestContentSize":5,"RequestCount":378,"RequestHost":"netbird.example.com","RequestMethod":"POST","RequestPath":"/management.ManagementService/GetServerKey","RequestPort":"443","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"websecure-netbird-management@docker","ServiceAddr":"172.20.0.7:443","ServiceName":"netbird-management@docker","ServiceURL":"h2c://172.20.0.7:443","StartLocal":"2026-04-30T21:58:47.720064751+10:00","StartUTC":"2026-04-30T11:58:47.720064751Z","TLSCipher":"TLS_CHACHA20_POLY1305_SHA256","TLSVersion":"1.3","downstream_Alt-Svc":"h3=\\":443\\"; ma=2592000","downstream_Content-Type":"application/grpc","downstream_Grpc-Status":"0","downstream_Trailer":"Grpc-Message, Grpc-Status-Details-Bin, Grpc-Status","entryPointName":"websecure","level":"info","msg":"","origin_Alt-Svc":"h3=\\":443\\"; ma=2592000","origin_Content-Type":"application/grpc","origin_Grpc-Status":"0","origin_Trailer":"Grpc-Message, Grpc-Status-Details-Bin, Grpc-Status","request_Content-Type":"application/grpc","request_Grpc-Timeout":"4999939u","request_Te":"trailers","request_User-Agent":"grpc-go/1.79.3","request_X-Forwarded-Host":"netbird.example.com:443","request_X-Forwarded-Port":"443","request_X-Forwarded-Proto":"https","request_X-Forwarded-Server":"REDACTED","request_X-Is-Trusted":"no","request_X-Real-Ip":"x.x.x.x","time":"2026-04-30T21:58:47+10:00"}',
    source:
      'github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin issue #323 (Traefik 3.6.14 JSON access log)',
  },
  {
    line: '{"ClientAddr":"x.x.x.x:34834","ClientHost":"x.x.x.x","ClientPort":"34834","ClientUsername":"-","DownstreamContentSize":419,"DownstreamStatus":200,"Duration":112920433,"OriginContentSize":419,"OriginDuration":109881237,"OriginStatus":200,"Overhead":3039196,"RequestAddr":"netbird.example.com:443","RequestContentSize":296,"RequestCount":379,"RequestHost":"netbird.example.com","RequestMethod":"POST","RequestPath":"/management.ManagementService/Login","RequestPort":"443","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"websecure-netbird-management@docker","ServiceAddr":"172.20.0.7:443","ServiceName":"netbird-management@docker","ServiceURL":"h2c://172.20.0.7:443","StartLocal":"2026-04-30T21:58:47.745063554+10:00","StartUTC":"2026-04-30T11:58:47.745063554Z","TLSCipher":"TLS_CHACHA20_POLY1305_SHA256","TLSVersion":"1.3","downstream_Alt-Svc":"h3=\\":443\\"; ma=2592000","downstream_Content-Type":"application/grpc","downstream_Grpc-Status":"0","downstream_Trailer":"Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin","entryPointName":"websecure","level":"info","msg":"","origin_Alt-Svc":"h3=\\":443\\"; ma=2592000","origin_Content-Type":"application/grpc","origin_Grpc-Status":"0","origin_Trailer":"Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin","request_Content-Type":"application/grpc","request_Grpc-Timeout":"9999563u","request_Te":"trailers","request_User-Agent":"grpc-go/1.79.3","request_X-Forwarded-Host":"netbird.example.com:443","request_X-Forwarded-Port":"443","request_X-Forwarded-Proto":"https","request_X-Forwarded-Server":"REDACTED","request_X-Is-Trusted":"no","request_X-Real-Ip":"x.x.x.x","time":"2026-04-30T21:58:47+10:00"}',
    source:
      'github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin issue #323 (Traefik 3.6.14 JSON access log)',
  },
  {
    line: '{"ClientAddr":"x.x.x.x:34779","ClientHost":"x.x.x.x","ClientPort":"34779","ClientUsername":"-","DownstreamContentSize":0,"DownstreamStatus":403,"Duration":19808199303,"OriginContentSize":0,"OriginDuration":0,"OriginStatus":0,"Overhead":19808199303,"RequestAddr":"netbird.example.com:443","RequestContentSize":0,"RequestCount":131,"RequestHost":"netbird.example.com","RequestMethod":"POST","RequestPath":"/signalexchange.SignalExchange/ConnectStream","RequestPort":"443","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"websecure-netbird-signal@docker","StartLocal":"2026-04-30T21:33:11.203370405+10:00","StartUTC":"2026-04-30T11:33:11.203370405Z","TLSCipher":"TLS_CHACHA20_POLY1305_SHA256","TLSVersion":"1.3","downstream_Alt-Svc":"h3=\\":443\\"; ma=2592000","downstream_Content-Type":"","entryPointName":"websecure","level":"info","msg":"","request_Content-Type":"application/grpc","request_Te":"trailers","request_User-Agent":"grpc-go/1.79.3","request_X-Forwarded-Host":"netbird.example.com:443","request_X-Forwarded-Port":"443","request_X-Forwarded-Proto":"https","request_X-Forwarded-Server":"REDACTED","request_X-Is-Trusted":"no","request_X-Real-Ip":"x.x.x.x","request_X-Wiretrustee-Peer-Id":"REDACTED","time":"2026-04-30T21:33:31+10:00"}',
    source:
      'github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin issue #323 (a middleware 403: OriginStatus 0)',
  },
  {
    line: '{"ClientAddr":"x.x.x.x:36722","ClientHost":"x.x.x.x","ClientPort":"36722","ClientUsername":"-","DownstreamContentSize":0,"DownstreamStatus":200,"Duration":60002434127,"OriginContentSize":0,"OriginDuration":0,"OriginStatus":0,"Overhead":60002434127,"RequestAddr":"netbird.example.com:443","RequestContentSize":0,"RequestCount":505,"RequestHost":"netbird.example.com","RequestMethod":"POST","RequestPath":"/signalexchange.SignalExchange/ConnectStream","RequestPort":"443","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"websecure-netbird-signal@docker","ServiceAddr":"172.20.0.3:10000","ServiceName":"netbird-signal@docker","ServiceURL":"h2c://172.20.0.3:10000","StartLocal":"2026-04-30T23:03:54.803698489+10:00","StartUTC":"2026-04-30T13:03:54.803698489Z","TLSCipher":"TLS_CHACHA20_POLY1305_SHA256","TLSVersion":"1.3","downstream_Alt-Svc":"h3=\\":443\\"; ma=2592000","downstream_Content-Type":"application/grpc","downstream_X-Wiretrustee-Peer-Registered":"1","entryPointName":"websecure","level":"info","msg":"","request_Content-Type":"application/grpc","request_Te":"trailers","request_User-Agent":"grpc-go/1.80.0","request_X-Forwarded-Host":"netbird.example.com:443","request_X-Forwarded-Port":"443","request_X-Forwarded-Proto":"https","request_X-Forwarded-Server":"REDACTED","request_X-Is-Trusted":"no","request_X-Real-Ip":"y.y.y.y","request_X-Wiretrustee-Peer-Id":"REDACTED","time":"2026-04-30T23:04:54+10:00"}',
    source:
      'github.com/maxlerebourg/crowdsec-bouncer-traefik-plugin issue #323 (Traefik 3.6.15, 60 s stream)',
  },
  {
    line: '2025-12-03T12:49:05.151049118Z {"ClientAddr":"172.30.72.140:55702","ClientHost":"172.30.72.140","ClientPort":"55702","ClientUsername":"-","DownstreamContentSize":3,"DownstreamStatus":200,"Duration":9657565,"OriginContentSize":3,"OriginDuration":9352353,"OriginStatus":200,"Overhead":305212,"RequestAddr":"site.name.com","RequestContentSize":0,"RequestCount":123227,"RequestHost":"site.name.com","RequestMethod":"GET","RequestPath":"/_blazor?id=KUNdQzmVKPgC6C7dWab3iw\\u0026_=1764766146914","RequestPort":"-","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"cdpsvt-ui-test@swarm","ServiceAddr":"10.0.1.80:443","ServiceName":"cdpsvt-svc-ui-test@swarm","ServiceURL":"https://10.0.1.80:443","SpanId":"0000000000000000","StartLocal":"2025-12-03T12:49:05.139137383Z","StartUTC":"2025-12-03T12:49:05.139137383Z","TLSCipher":"TLS_CHACHA20_POLY1305_SHA256","TLSVersion":"1.3","TraceId":"00000000000000000000000000000000","entryPointName":"websecure","level":"info","msg":"","time":"2025-12-03T12:49:05Z"}',
    source:
      'github.com/traefik/traefik issue #12354 (docker logs -t prefix; the issue breaks the line before "time", joined)',
  },
  {
    line: '{"ClientAddr":"XXX.XXX.XXX.XXX:63261","ClientHost":"XXX.XXX.XXX.XXX","ClientPort":"63261","ClientUsername":"-","DownstreamContentSize":287,"DownstreamStatus":207,"Duration":8184335,"OriginContentSize":287,"OriginDuration":7349966,"OriginStatus":207,"Overhead":834369,"RequestAddr":"sub.example.com","RequestContentSize":366,"RequestCount":17348,"RequestHost":"sub.example.com","RequestMethod":"REPORT","RequestPath":"/dav.php/calendars/","RequestPort":"-","RequestProtocol":"HTTP/2.0","RequestScheme":"https","RetryAttempts":0,"RouterName":"https-bk@docker","ServiceAddr":"172.29.0.2:8111","ServiceName":"bk-bk@docker","ServiceURL":"http://172.29.0.2:8111","StartLocal":"2024-12-29T12:42:47.503803974+01:00","StartUTC":"2024-12-29T11:42:47.503803974Z","TLSCipher":"TLS_AES_128_GCM_SHA256","TLSVersion":"1.3","entryPointName":"https","level":"info","msg":"","request_User-Agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Cal/3.6.3 Chrome/120.0.6099.291 Electron/28.3.3 Safari/537.36 CalendarAgent","time":"2024-12-29T12:42:47+01:00"}',
    source:
      'github.com/xavier-hernandez/goaccess-for-nginxproxymanager issue #108 (the issue wraps the User-Agent after "Electron"; joined)',
  },
];

export const traefik: LogFormat = {
  name: 'traefik',
  role: 'lb',
  description:
    'Traefik JSON access log: StartUTC = start, Duration in ns, OriginStatus 0 = answered by Traefik itself; WebSocket tunnels logged 0/0',
  samples,
  sniff,
  createParser,
};
