/**
 * k6 `--out json=file` (client-formats.md §5.1): NDJSON, one `Metric` definition the first time a
 * metric is seen and one `Point` per sample. The `k6/ws` module pushes `ws_sessions` and
 * `ws_connecting` for every connection attempt, even when the dial fails, tagged with `url`,
 * `status` (the HTTP status of the handshake answer, absent when none came) and `subproto`. The
 * handshake timeout is hard-coded at 60 s, so `ws_connecting` ≈ 60000 ms means k6 gave up first.
 *
 * The two points of one attempt are written together (ws_sessions, then ws_connecting, same time
 * and tags) and make ONE handshake event. Other metrics carry nothing about why a softphone
 * failed and are skipped.
 */
import type { EventKeys, LogEvent } from '../model.js';
import { parseIso } from './time.js';
import { wsUrlUser } from './text-signals.js';
import type { LineOutcome, LineParser, LogFormat, ParseContext } from './types.js';

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** k6's handshake timeout (`HandshakeTimeout: time.Second * 60`). */
export const K6_HANDSHAKE_TIMEOUT_MS = 60_000;
/** ws_connecting at or above this is k6's own timeout firing. */
const TIMEOUT_FLOOR_MS = 59_000;

const WS_METRICS = new Set(['ws_sessions', 'ws_connecting']);
const USER_TAGS = ['user', 'username', 'agent', 'aor', 'extension', 'ext'];

/** Both orders of the envelope: `{"type":"Point",…,"metric":…}` (docs) and `{"metric":…,"type":"Point",…}` (source). */
const ENVELOPE =
  /^\{\s*(?:"type"\s*:\s*"(?:Point|Metric)"\s*,\s*"(?:data|metric)"\s*:|"metric"\s*:\s*"[^"\\]{1,200}"\s*,\s*"type"\s*:\s*"(?:Point|Metric)"\s*,)/;

interface Attempt {
  event: LogEvent;
  /** time + tags: the ws_connecting point of the same attempt carries the same */
  key: string;
  metric: string;
}

function keysFrom(tags: JsonObject, metadata: JsonObject): EventKeys {
  const keys: EventKeys = {};
  for (const name of USER_TAGS) {
    const v = asString(tags[name]) ?? asString(metadata[name]);
    if (v && v.trim() !== '') {
      keys.user = v.trim();
      break;
    }
  }
  const url = asString(tags.url) ?? asString(tags.name);
  if (!keys.user && url) {
    const u = wsUrlUser(url);
    if (u) keys.user = u;
  }
  const vu = asString(metadata.vu) ?? asString(tags.vu);
  if (!keys.user && vu && /^\d{1,9}$/.test(vu)) keys.user = `vu-${vu}`;
  const requestId = asString(tags.request_id) ?? asString(metadata.request_id);
  if (requestId) keys.requestId = requestId;
  return keys;
}

function handshakeEvent(
  point: { metric: string; ts: number; value: number | undefined; tags: JsonObject; metadata: JsonObject },
  raw: string,
  lineNo: number,
  ctx: ParseContext,
): LogEvent {
  const { tags, metadata } = point;
  const url = asString(tags.url) ?? asString(tags.name);
  const statusText = asString(tags.status);
  const status = statusText && /^\d{1,3}$/.test(statusText) ? Number(statusText) : undefined;
  const event: LogEvent = {
    ts: point.ts,
    input: ctx.input,
    line: lineNo,
    raw,
    role: 'client',
    kind: 'ws-handshake',
    keys: keysFrom(tags, metadata),
    http: { upgrade: true, method: 'GET' },
  };
  if (url) {
    event.http!.url = url;
    event.ws = { url };
  }
  const subproto = asString(tags.subproto);
  if (subproto) event.ws = { ...event.ws, subprotocol: subproto };
  if (status) event.http!.status = status;
  if (!Number.isNaN(point.ts)) event.http!.startTs = point.ts;
  event.signal = status === 101 ? 'ws-open' : 'ws-handshake-failed';
  event.text = `k6 ${url ?? 'WebSocket'} handshake ${status ? `status ${status}` : 'without an answer'}`;
  if (point.metric === 'ws_connecting' && point.value !== undefined) applyDuration(event, point.value);
  return event;
}

function applyDuration(event: LogEvent, ms: number): void {
  event.http = { ...event.http, durationMs: ms };
  if (ms >= TIMEOUT_FLOOR_MS && event.http.status !== 101) {
    event.kind = 'timeout';
    event.signal = 'client-timeout';
    event.timeoutMs = K6_HANDSHAKE_TIMEOUT_MS;
    event.text = `${event.text}: k6 gave up after ${Math.round(ms)} ms (60 s handshake timeout)`;
  }
}

function attemptKey(time: string, tags: JsonObject, metadata: JsonObject): string {
  return `${time}|${asString(tags.url) ?? ''}|${asString(tags.status) ?? ''}|${asString(metadata.vu) ?? ''}|${
    asString(metadata.iter) ?? ''
  }`;
}

export const k6: LogFormat = {
  name: 'k6',
  role: 'client',
  description:
    'k6 --out json NDJSON: ws_sessions / ws_connecting points per WebSocket attempt (status tag = handshake ' +
    'HTTP status, ws_connecting ≈ 60000 ms = k6 handshake timeout), user from tags or vu metadata',
  samples: [
    {
      line: '{"type":"Metric","data":{"type":"gauge","contains":"default","tainted":null,"thresholds":[],"submetrics":null},"metric":"vus"}',
      source: 'grafana.com/docs/k6/latest/results-output/real-time/json (client-formats.md §5.1)',
    },
    {
      line: '{"type":"Point","data":{"time":"2017-05-09T14:34:45.625742514+02:00","value":5,"tags":null},"metric":"vus"}',
      source: 'grafana.com/docs/k6/latest/results-output/real-time/json (client-formats.md §5.1)',
    },
    {
      line: '{"type":"Point","data":{"time":"2017-05-09T14:34:45.239531499+02:00","value":459.865729,"tags":{"group":"::my group::json","method":"GET","status":"200","url":"https://httpbin.test.k6.io/get"}},"metric":"http_req_duration"}',
      source: 'grafana.com/docs/k6/latest/results-output/real-time/json (client-formats.md §5.1)',
    },
    {
      line: '{"type":"Metric","data":{"type":"trend","contains":"time","tainted":null,"thresholds":["avg<1000"],"submetrics":null},"metric":"http_req_duration"}',
      source: 'grafana.com/docs/k6/latest/results-output/real-time/json (same page)',
    },
    {
      line: '{"type":"Point","data":{"time":"2021-02-24T13:37:10Z","value":1,"tags":{"tag1":"val1"}},"metric":"my_metric1"}',
      source: 'grafana/k6 output/json/json_test.go (expected output)',
    },
  ],
  sniff(line: string): number {
    const t = line.length > 4096 ? line.slice(0, 4096) : line;
    return ENVELOPE.test(t.trimStart()) ? 0.9 : 0;
  },
  createParser(ctx: ParseContext): LineParser {
    let pending: Attempt | undefined;

    function flush(emit: (event: LogEvent) => void): void {
      if (pending) emit(pending.event);
      pending = undefined;
    }

    return {
      push(line, lineNo, emit): LineOutcome {
        const text = line.trim();
        if (text === '') return 'skip';
        let parsed: unknown;
        try {
          parsed = text.startsWith('{') ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        const envelope = asObject(parsed);
        const type = asString(envelope?.type);
        const metric = asString(envelope?.metric);
        if (!envelope || (type !== 'Point' && type !== 'Metric') || metric === undefined) {
          flush(emit);
          return 'unparsed';
        }
        if (type === 'Metric' || !WS_METRICS.has(metric)) return 'skip';
        const data = asObject(envelope.data) ?? {};
        const tags = asObject(data.tags) ?? {};
        const metadata = { ...(asObject(envelope.metadata) ?? {}), ...(asObject(data.metadata) ?? {}) };
        const time = asString(data.time) ?? '';
        const value = typeof data.value === 'number' && Number.isFinite(data.value) ? data.value : undefined;
        const key = attemptKey(time, tags, metadata);
        // the second point of an attempt: completes the first
        if (pending && pending.key === key && pending.metric !== metric) {
          if (metric === 'ws_connecting' && value !== undefined) applyDuration(pending.event, value);
          flush(emit);
          return 'part';
        }
        flush(emit);
        const event = handshakeEvent(
          { metric, ts: parseIso(time, ctx), value, tags, metadata },
          line,
          lineNo,
          ctx,
        );
        pending = { event, key, metric };
        return 'event';
      },
      end(emit) {
        flush(emit);
      },
    };
  },
};
