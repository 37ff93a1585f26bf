/**
 * Azure Application Gateway (v2) access log, category `ApplicationGatewayAccessLog`, as diagnostic
 * settings write it: one JSON record per line `{timeStamp|time, resourceId, operationName,
 * category, properties: {…}}` (lb-formats.md §7, §11, §12), or a `{"records": […]}` batch of them
 * on one line. A record pretty-printed over several lines, as the documentation shows it, is read
 * too (with --format-of). A record whose fields sit at the top level instead of under
 * `properties` is read the same way, including Log Analytics' `AzureDiagnostics` rows
 * (`clientIP_s`, `httpStatus_d`, `TimeGenerated`: not in the reference, read on the same field
 * names). Records of the other Application Gateway categories (firewall, performance, health
 * probe) are skipped.
 *
 * Times: `timeStamp` is when the record was written, at the end of the request (for a WebSocket,
 * when the tunnel closed; the v2 gateway logs like nginx); `timeTaken` is the request's (tunnel's)
 * duration in seconds, so `http.startTs` = ts − timeTaken.
 *
 * Who answered: `serverStatus` is the backend's status ("-" or absent when the gateway answered
 * itself); `error_info` (ERRORINFO_…) says why the gateway failed a request. Keys: `clientIP` +
 * `clientPort` (peer), `transactionId` (request id).
 */
import type { LogEvent, Signal } from '../model.js';
import {
  asJsonObject,
  jsonField,
  jsonNumber,
  jsonString,
  JsonRecords,
  lbRequestEvent,
  parseJsonObject,
  type JsonObject,
  type LbRequest,
} from './gcp-lb.js';
import { splitClientAddr } from './nginx-access.js';
import { parseIso } from './time.js';
import type { FormatSample, LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

const ACCESS_CATEGORY = 'ApplicationGatewayAccessLog';
const ACCESS_OPERATION = 'ApplicationGatewayAccess';

/** The access fields: under `properties` (a JSON object, or its text), else at the top level. */
function propertiesOf(o: JsonObject): JsonObject {
  const p = jsonField(o, 'properties');
  if (typeof p === 'string') return parseJsonObject(p) ?? o;
  return asJsonObject(p) ?? o;
}

/** `{"records": [ … ]}` (Event Hubs, storage blobs written before JSON lines): its records. */
function recordsOf(o: JsonObject): JsonObject[] {
  const records = jsonField(o, 'records');
  if (!Array.isArray(records)) return [o];
  return records.map(asJsonObject).filter((r): r is JsonObject => r !== undefined);
}

function isAppGwRecord(o: JsonObject): 'access' | 'other' | undefined {
  const category = jsonString(o, 'category') ?? '';
  const operation = jsonString(o, 'operationName') ?? '';
  if (category === ACCESS_CATEGORY || operation === ACCESS_OPERATION) return 'access';
  if (category.startsWith('ApplicationGateway') || operation.startsWith('ApplicationGateway')) return 'other';
  const p = propertiesOf(o);
  const shaped =
    jsonField(p, 'clientIP') !== undefined &&
    jsonField(p, 'httpStatus') !== undefined &&
    jsonField(p, 'requestUri') !== undefined;
  return shaped ? 'access' : undefined;
}

/** error_info codes of a request the client got wrong (400-class, lb-formats.md §7). */
const BAD_REQUEST_INFO = new Set([
  'ERRORINFO_INVALID_METHOD',
  'ERRORINFO_INVALID_REQUEST',
  'ERRORINFO_INVALID_VERSION',
  'ERRORINFO_INVALID_09_METHOD',
  'ERRORINFO_INVALID_HOST',
  'ERRORINFO_INVALID_CONTENT_LENGTH',
  'ERRORINFO_INVALID_METHOD_TRACE',
  'ERRORINFO_HTTP_NO_HOST_HEADER',
]);
/** The client used the wrong URL or scheme (plain HTTP on the HTTPS port). */
const BAD_URL_INFO = new Set(['ERRORINFO_REQUEST_URI_INVALID', 'ERRORINFO_HTTP_TO_HTTPS_PORT']);
const NO_ERROR = 'ERRORINFO_NO_ERROR';

interface AccessRecord {
  end: number;
  durationMs?: number;
  status: number;
  serverStatus?: number;
  routed?: string;
  errorInfo?: string;
  wafMode?: string;
  method?: string;
  url?: string;
  ip?: string;
  port?: string;
  userAgent?: string;
  transactionId?: string;
}

function readRecord(o: JsonObject, ctx: ParseContext): AccessRecord | undefined {
  const p = propertiesOf(o);
  const time =
    jsonString(o, 'timeStamp') ??
    jsonString(o, 'time') ??
    jsonString(p, 'timeStamp') ??
    jsonString(o, 'TimeGenerated');
  const end = time ? parseIso(time, ctx) : NaN;
  const status = jsonNumber(p, 'httpStatus');
  if (Number.isNaN(end) || status === undefined) return undefined;
  const seconds = jsonNumber(p, 'timeTaken');
  const serverStatus = jsonString(p, 'serverStatus');
  // the path with its query: originalRequestUriWithArgs, else requestUri + requestQuery
  const query = jsonString(p, 'requestQuery');
  const uri = jsonString(p, 'requestUri');
  const url =
    jsonString(p, 'originalRequestUriWithArgs') ??
    (uri && query && !uri.includes('?') ? `${uri}?${query}` : uri);
  const client = splitClientAddr(jsonString(p, 'clientIP') ?? '');
  const port = jsonString(p, 'clientPort');
  return {
    end,
    durationMs: seconds !== undefined ? Math.round(seconds * 1000) : undefined,
    status,
    serverStatus: serverStatus && /^\d{3}$/.test(serverStatus) ? Number(serverStatus) : undefined,
    routed: jsonString(p, 'serverRouted'),
    errorInfo: jsonString(p, 'error_info'),
    wafMode: jsonString(p, 'WAFMode'),
    method: jsonString(p, 'httpMethod'),
    url,
    ip: client.ip,
    port: port && /^\d{1,5}$/.test(port) ? port : client.port,
    userAgent: jsonString(p, 'userAgent'),
    transactionId: jsonString(p, 'transactionId'),
  };
}

/** The backend's status; null when the gateway answered itself; undefined when unknown. */
function upstreamStatusOf(r: AccessRecord): number | null | undefined {
  if (r.serverStatus !== undefined) return r.serverStatus;
  // no live backend / backend unreachable: the gateway answered, but it is no edge refusal
  if (r.errorInfo === 'ERRORINFO_UPSTREAM_NO_LIVE' || r.errorInfo === 'ERRORINFO_UPSTREAM_CLOSED_CONNECTION')
    return undefined;
  return r.status >= 400 && r.routed === undefined ? null : undefined;
}

/**
 * The meaning of a record (lb-formats.md §7, §11). Judgement calls:
 * - 101: ERRORINFO_UPSTREAM_TIMED_OUT / _CLIENT_TIMED_OUT end a tunnel on a timer → 'idle-close';
 *   ERRORINFO_UPSTREAM_CLOSED_CONNECTION → 'conn-reset'; _CLIENT_CLOSED_REQUEST → 'ws-close';
 *   otherwise 'ws-open'.
 * - malformed request codes → 'bad-header'; a wrong URI or HTTP on the HTTPS port → 'bad-url'.
 * - ERRORINFO_CLIENT_CLOSED_REQUEST (499) → 'client-timeout'; ERRORINFO_UPSTREAM_TIMED_OUT or
 *   504 → 'upstream-timeout'; ERRORINFO_UPSTREAM_CLOSED_CONNECTION on the socket → 'conn-reset'.
 * - 429 the gateway made (no serverStatus) → 'edge-rate-limit'; so is a 403 it made with its WAF
 *   in Prevention mode (a WAF refusal, DESIGN.md).
 * - ERRORINFO_CLIENT_TIMED_OUT before an upgrade (the client sent no complete request) → none.
 */
function azureSignal(
  r: AccessRecord,
  upstreamStatus: number | null | undefined,
  socketLike: boolean,
): Signal | undefined {
  const info = r.errorInfo ?? NO_ERROR;
  if (r.status === 101) {
    if (info === 'ERRORINFO_UPSTREAM_TIMED_OUT' || info === 'ERRORINFO_CLIENT_TIMED_OUT') return 'idle-close';
    if (info === 'ERRORINFO_UPSTREAM_CLOSED_CONNECTION') return 'conn-reset';
    if (info === 'ERRORINFO_CLIENT_CLOSED_REQUEST') return 'ws-close';
    return 'ws-open';
  }
  if (BAD_REQUEST_INFO.has(info)) return 'bad-header';
  if (BAD_URL_INFO.has(info)) return 'bad-url';
  if (info === 'ERRORINFO_CLIENT_CLOSED_REQUEST' || r.status === 499)
    return socketLike ? 'client-timeout' : undefined;
  if (info === 'ERRORINFO_UPSTREAM_TIMED_OUT' || r.status === 504) return 'upstream-timeout';
  if (info === 'ERRORINFO_CLIENT_TIMED_OUT') return undefined;
  if (info === 'ERRORINFO_UPSTREAM_CLOSED_CONNECTION') return socketLike ? 'conn-reset' : undefined;
  if (upstreamStatus === null && r.status === 429) return 'edge-rate-limit';
  if (upstreamStatus === null && r.status === 403 && /^prevention$/i.test(r.wafMode ?? ''))
    return 'edge-rate-limit';
  if (r.status >= 400 && socketLike) return 'ws-handshake-failed';
  return undefined;
}

function toEvent(r: AccessRecord, raw: string, lineNo: number, ctx: ParseContext): LogEvent {
  const upstreamStatus = upstreamStatusOf(r);
  const request: LbRequest = {
    end: r.end,
    durationMs: r.durationMs,
    status: r.status,
    upstreamStatus,
    upstream: r.routed,
    flags: r.errorInfo && r.errorInfo !== NO_ERROR ? r.errorInfo : undefined,
    method: r.method,
    url: r.url,
    ip: r.ip,
    port: r.port,
    requestId: r.transactionId,
    userAgent: r.userAgent,
  };
  return lbRequestEvent(
    request,
    (socketLike) => azureSignal(r, upstreamStatus, socketLike),
    raw,
    lineNo,
    ctx,
  );
}

// ---------------------------------------------------------------------------------------------
// The format
// ---------------------------------------------------------------------------------------------

function sniff(line: string): number {
  const t = line.trim();
  if (t.charCodeAt(0) !== 123) return 0;
  if (!t.includes('ApplicationGateway') && !(t.includes('"clientIP"') && t.includes('"httpStatus"')))
    return 0;
  const outer = parseJsonObject(t.endsWith(',') ? t.slice(0, -1) : t);
  const o = outer ? recordsOf(outer)[0] : undefined;
  if (!o) return 0;
  const kind = isAppGwRecord(o);
  if (kind === 'other') return 0.9;
  if (kind !== 'access') return 0;
  return jsonField(o, 'category') !== undefined || jsonField(o, 'operationName') !== undefined ? 0.95 : 0.85;
}

function createParser(ctx: ParseContext): LineParser {
  const records = new JsonRecords();
  return {
    push(line, lineNo, emit): LineOutcome {
      const r = records.push(line, lineNo);
      if (r.kind === 'part') return 'part';
      if (r.kind === 'frame') return 'skip';
      if (r.kind !== 'object') return 'unparsed';
      let outcome: LineOutcome = 'unparsed';
      for (const o of recordsOf(r.obj)) {
        const kind = isAppGwRecord(o);
        const record = kind === 'access' ? readRecord(o, ctx) : undefined;
        if (record) {
          emit(toEvent(record, r.raw, r.line, ctx));
          outcome = 'event';
        } else if (kind === 'other' && outcome === 'unparsed') outcome = 'skip';
      }
      return outcome;
    },
    end() {},
  };
}

/**
 * The documentation's example record (pretty-printed there) on one line, as diagnostic settings
 * write it; the second keeps its layout and changes the request to a WebSocket upgrade.
 */
const samples: FormatSample[] = [
  {
    line: '{"timeStamp": "2021-10-14T22:17:11+00:00", "resourceId": "/SUBSCRIPTIONS/{subscriptionId}/RESOURCEGROUPS/{resourceGroupName}/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/{applicationGatewayName}", "listenerName": "HTTP-Listener", "ruleName": "Storage-Static-Rule", "backendPoolName": "StaticStorageAccount", "backendSettingName": "StorageStatic-HTTPS-Setting", "operationName": "ApplicationGatewayAccess", "category": "ApplicationGatewayAccessLog", "properties": {"instanceId": "appgw_2", "clientIP": "185.42.129.24", "clientPort": 45057, "httpMethod": "GET", "originalRequestUriWithArgs": "\\/", "requestUri": "\\/", "requestQuery": "", "userAgent": "Mozilla\\/5.0 (Windows NT 6.1; WOW64) AppleWebKit\\/537.36 (KHTML, like Gecko) Chrome\\/52.0.2743.116 Safari\\/537.36", "httpStatus": 200, "httpVersion": "HTTP\\/1.1", "receivedBytes": 184, "sentBytes": 466, "clientResponseTime": 0, "timeTaken": 0.034, "WAFEvaluationTime": "0.000", "WAFMode": "Detection", "transactionId": "592d1649f75a8d480a3c4dc6a975309d", "sslEnabled": "on", "sslCipher": "ECDHE-RSA-AES256-GCM-SHA384", "sslProtocol": "TLSv1.2", "sslClientVerify": "NONE", "sslClientCertificateFingerprint": "", "sslClientCertificateIssuerName": "", "serverRouted": "52.239.221.65:443", "serverStatus": "200", "serverResponseLatency": "0.028", "upstreamSourcePort": "21564", "originalHost": "20.110.30.194", "host": "20.110.30.194", "error_info":"ERRORINFO_NO_ERROR", "contentType":"application/json"}}',
    source:
      'MicrosoftDocs/azure-docs articles/application-gateway/application-gateway-diagnostics.md, access log example (one line) (lb-formats.md §7)',
  },
  {
    line: '{"timeStamp": "2021-10-14T22:18:11+00:00", "resourceId": "/SUBSCRIPTIONS/{subscriptionId}/RESOURCEGROUPS/{resourceGroupName}/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/{applicationGatewayName}", "listenerName": "HTTP-Listener", "ruleName": "Storage-Static-Rule", "backendPoolName": "StaticStorageAccount", "backendSettingName": "StorageStatic-HTTPS-Setting", "operationName": "ApplicationGatewayAccess", "category": "ApplicationGatewayAccessLog", "properties": {"instanceId": "appgw_2", "clientIP": "185.42.129.24", "clientPort": 45058, "httpMethod": "GET", "originalRequestUriWithArgs": "\\/ws", "requestUri": "\\/ws", "requestQuery": "", "userAgent": "Mozilla\\/5.0 (Windows NT 6.1; WOW64) AppleWebKit\\/537.36 (KHTML, like Gecko) Chrome\\/52.0.2743.116 Safari\\/537.36", "httpStatus": 101, "httpVersion": "HTTP\\/1.1", "receivedBytes": 1184, "sentBytes": 2466, "clientResponseTime": 0, "timeTaken": 60.002, "WAFEvaluationTime": "0.000", "WAFMode": "Detection", "transactionId": "692d1649f75a8d480a3c4dc6a975309e", "sslEnabled": "on", "sslCipher": "ECDHE-RSA-AES256-GCM-SHA384", "sslProtocol": "TLSv1.2", "sslClientVerify": "NONE", "sslClientCertificateFingerprint": "", "sslClientCertificateIssuerName": "", "serverRouted": "52.239.221.65:443", "serverStatus": "101", "serverResponseLatency": "0.028", "upstreamSourcePort": "21565", "originalHost": "20.110.30.194", "host": "20.110.30.194", "error_info":"ERRORINFO_NO_ERROR", "contentType":"application/json"}}',
    source:
      'MicrosoftDocs/azure-docs application-gateway-diagnostics.md access log example, request changed to a WebSocket upgrade (101, /ws, 60 s) (lb-formats.md §7)',
  },
];

export const azureAppGw: LogFormat = {
  name: 'azure-appgw',
  role: 'lb',
  description:
    'Azure Application Gateway v2 access log (ApplicationGatewayAccessLog JSON): timeStamp = end, timeTaken = duration; serverStatus and error_info say who answered and why',
  samples,
  sniff,
  createParser,
};
