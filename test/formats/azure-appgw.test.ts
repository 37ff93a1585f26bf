/**
 * Azure Application Gateway v2 access log (lb-formats.md §7, §11, §12). The record is the example
 * of MicrosoftDocs/azure-docs articles/application-gateway/application-gateway-diagnostics.md
 * (pretty-printed there; one line in src/formats/azure-appgw.ts samples); other cases change its
 * status, serverStatus, error_info (codes from the same page's table), timeTaken and URI.
 */
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/model.js';
import { azureAppGw } from '../../src/formats/azure-appgw.js';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { oneEvent, parseLines } from './run-parser.js';

const parse = (lines: readonly string[]) => parseLines(azureAppGw, lines);

const one = (line: string): LogEvent => oneEvent(azureAppGw, line);

const [DOC_EXAMPLE, WS_101] = azureAppGw.samples.map((s) => s.line);
const DOC_TIME = Date.UTC(2021, 9, 14, 22, 17, 11);

/** The documentation's record with `properties` fields replaced. */
function variant(props: Record<string, unknown>): string {
  const o = JSON.parse(DOC_EXAMPLE) as { properties: Record<string, unknown> };
  o.properties = { ...o.properties, ...props };
  return JSON.stringify(o);
}

describe('azure-appgw: the documented record', () => {
  it('reads time (end), duration, client, backend, status and transaction id', () => {
    const e = one(DOC_EXAMPLE);
    expect(e.role).toBe('lb');
    expect(e.kind).toBe('http-request');
    expect(e.ts).toBe(DOC_TIME);
    expect(e.signal).toBeUndefined();
    expect(e.http).toMatchObject({
      status: 200,
      upstreamStatus: 200,
      upstream: '52.239.221.65:443',
      durationMs: 34,
      startTs: DOC_TIME - 34,
      method: 'GET',
      url: '/',
      upgrade: false,
    });
    expect(e.http?.userAgent).toMatch(/^Mozilla\/5\.0 \(Windows NT 6\.1/);
    expect(e.http?.flags).toBeUndefined(); // ERRORINFO_NO_ERROR
    expect(e.keys).toEqual({
      ip: '185.42.129.24',
      peer: '185.42.129.24:45057',
      requestId: '592d1649f75a8d480a3c4dc6a975309d',
    });
  });

  it('reads a WebSocket tunnel: 101 from the backend, duration = timeTaken', () => {
    const e = one(WS_101);
    expect(e.kind).toBe('ws-handshake');
    expect(e.signal).toBe('ws-open');
    expect(e.http).toMatchObject({ status: 101, upstreamStatus: 101, durationMs: 60_002, upgrade: true });
    expect(e.http?.startTs).toBe(Date.UTC(2021, 9, 14, 22, 18, 11) - 60_002);
  });

  it('takes the user from originalRequestUriWithArgs, else requestUri + requestQuery', () => {
    expect(one(variant({ originalRequestUriWithArgs: '/ws?user=agent-042' })).keys.user).toBe('agent-042');
    const e = one(
      variant({ originalRequestUriWithArgs: undefined, requestUri: '/ws', requestQuery: 'user=agent-043' }),
    );
    expect(e.keys.user).toBe('agent-043');
    expect(e.http?.url).toBe('/ws?user=agent-043');
  });

  it('reads a pretty-printed record over several lines (as the documentation shows it)', () => {
    const lines = JSON.stringify(JSON.parse(DOC_EXAMPLE), null, 4).split('\n');
    const { events, outcomes } = parse(lines);
    expect(events).toHaveLength(1);
    expect(events[0].line).toBe(1);
    expect(events[0].keys.requestId).toBe('592d1649f75a8d480a3c4dc6a975309d');
    expect(outcomes.at(-1)).toBe('event');
    expect(outcomes.slice(0, -1).every((o) => o === 'part')).toBe(true);
  });

  it('reads a {"records": [...]} batch on one line: one event per record, same line', () => {
    const batch = `{"records": [${DOC_EXAMPLE}, ${WS_101}]}`;
    const { events, outcomes } = parse([batch]);
    expect(outcomes).toEqual(['event']);
    expect(events.map((e) => e.http?.status)).toEqual([200, 101]);
    expect(events.every((e) => e.line === 1)).toBe(true);
    expect(azureAppGw.sniff(batch)).toBe(0.95);
  });

  it('reads the fields at the top level when there is no properties object', () => {
    const o = JSON.parse(DOC_EXAMPLE) as Record<string, unknown>;
    const flat = JSON.stringify({ ...o, ...(o.properties as object), properties: undefined });
    expect(one(flat).http?.status).toBe(200);
  });
});

describe('azure-appgw: Log Analytics rows', () => {
  it('reads an AzureDiagnostics row (typed column suffixes, TimeGenerated)', () => {
    // constructed: the documented fields as Log Analytics names its columns
    const e = one(
      JSON.stringify({
        TimeGenerated: '2026-11-24T10:00:03.512Z',
        Category: 'ApplicationGatewayAccessLog',
        OperationName: 'ApplicationGatewayAccess',
        clientIP_s: '198.51.100.23',
        clientPort_d: 50123,
        httpMethod_s: 'GET',
        requestUri_s: '/ws',
        requestQuery_s: 'user=agent-042',
        httpStatus_d: 503,
        timeTaken_d: 0.004,
        serverRouted_s: '10.0.5.10:8080',
        serverStatus_s: '503',
        transactionId_g: '8d1e6a40-1f53-4d3c-9a8e-6f1b2c3d4e5f',
        error_info_s: 'ERRORINFO_NO_ERROR',
      }),
    );
    expect(e.ts).toBe(Date.UTC(2026, 10, 24, 10, 0, 3, 512));
    expect(e.keys).toEqual({
      ip: '198.51.100.23',
      peer: '198.51.100.23:50123',
      requestId: '8d1e6a40-1f53-4d3c-9a8e-6f1b2c3d4e5f',
      user: 'agent-042',
    });
    expect(e.http).toMatchObject({ status: 503, upstreamStatus: 503, durationMs: 4 });
    expect(e.signal).toBe('ws-handshake-failed');
  });
});

describe('azure-appgw: error_info and who answered', () => {
  const ws = { originalRequestUriWithArgs: '/ws?user=agent-042', requestUri: '/ws' };

  it.each([
    ['ERRORINFO_UPSTREAM_TIMED_OUT', 'idle-close'],
    ['ERRORINFO_CLIENT_TIMED_OUT', 'idle-close'],
    ['ERRORINFO_UPSTREAM_CLOSED_CONNECTION', 'conn-reset'],
    ['ERRORINFO_CLIENT_CLOSED_REQUEST', 'ws-close'],
    ['ERRORINFO_NO_ERROR', 'ws-open'],
  ])('101 with %s → %s', (info, signal) => {
    const e = one(variant({ ...ws, httpStatus: 101, serverStatus: '101', error_info: info }));
    expect(e.signal).toBe(signal);
  });

  it('the SBC refused the upgrade: serverStatus 503 → ws-handshake-failed from the upstream', () => {
    const e = one(variant({ ...ws, httpStatus: 503, serverStatus: '503' }));
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.upstreamStatus).toBe(503);
  });

  it('a 504 ERRORINFO_UPSTREAM_TIMED_OUT at the backend request timeout → upstream-timeout', () => {
    // the reference's field report: timeTaken ≈ 180.0xx s = the backend setting's requestTimeout
    const e = one(
      variant({
        ...ws,
        httpStatus: 504,
        serverStatus: '-',
        serverRouted: '10.0.5.10:8080',
        timeTaken: 180.012,
        error_info: 'ERRORINFO_UPSTREAM_TIMED_OUT',
      }),
    );
    expect(e.signal).toBe('upstream-timeout');
    expect(e.http).toMatchObject({ durationMs: 180_012, flags: 'ERRORINFO_UPSTREAM_TIMED_OUT' });
  });

  it('malformed requests → bad-header; a wrong URI or HTTP on the HTTPS port → bad-url', () => {
    const bad = one(
      variant({
        ...ws,
        httpStatus: 400,
        serverStatus: '-',
        serverRouted: '-',
        error_info: 'ERRORINFO_INVALID_REQUEST',
      }),
    );
    expect(bad.signal).toBe('bad-header');
    expect(bad.http?.upstreamStatus).toBeNull();
    expect(one(variant({ ...ws, httpStatus: 400, error_info: 'ERRORINFO_HTTP_TO_HTTPS_PORT' })).signal).toBe(
      'bad-url',
    );
  });

  it('the client closed first (499 ERRORINFO_CLIENT_CLOSED_REQUEST) → client-timeout', () => {
    const e = one(
      variant({ ...ws, httpStatus: 499, serverStatus: '-', error_info: 'ERRORINFO_CLIENT_CLOSED_REQUEST' }),
    );
    expect(e.signal).toBe('client-timeout');
  });

  it('a 429 or a WAF (Prevention) 403 the gateway made → edge-rate-limit; a backend 403 is not', () => {
    expect(one(variant({ ...ws, httpStatus: 429, serverStatus: '-', serverRouted: '-' })).signal).toBe(
      'edge-rate-limit',
    );
    expect(
      one(variant({ ...ws, httpStatus: 403, serverStatus: '', serverRouted: '', WAFMode: 'Prevention' }))
        .signal,
    ).toBe('edge-rate-limit');
    const backend = one(variant({ ...ws, httpStatus: 403, serverStatus: '403' }));
    expect(backend.signal).toBe('ws-handshake-failed');
    expect(backend.http?.upstreamStatus).toBe(403);
  });

  it('no live backend (502 ERRORINFO_UPSTREAM_NO_LIVE) is no edge refusal', () => {
    const e = one(
      variant({
        ...ws,
        httpStatus: 502,
        serverStatus: '-',
        serverRouted: '-',
        error_info: 'ERRORINFO_UPSTREAM_NO_LIVE',
      }),
    );
    expect(e.signal).toBe('ws-handshake-failed');
    expect(e.http?.upstreamStatus).toBeUndefined();
  });
});

describe('azure-appgw: lines and detection', () => {
  it('skips the other Application Gateway categories and leaves foreign lines unparsed', () => {
    const firewall =
      '{"timeStamp": "2021-10-14T22:17:11+00:00", "operationName": "ApplicationGatewayFirewall", "category": "ApplicationGatewayFirewallLog", "properties": {"instanceId": "appgw_2", "clientIp": "185.42.129.24", "action": "Blocked"}}';
    expect(parse([firewall, 'hello', '{"a":1}']).outcomes).toEqual(['skip', 'unparsed', 'unparsed']);
  });

  it('is detected as azure-appgw, and claims no other JSON', () => {
    expect(detectFormat([DOC_EXAMPLE, WS_101], FORMATS).format?.name).toBe('azure-appgw');
    expect(azureAppGw.sniff('{"level":"error","msg":"WebSocket connection failed. Code: 1006"}')).toBe(0);
    expect(azureAppGw.sniff('{"ClientAddr":"x.x.x.x:34834","DownstreamStatus":200}')).toBe(0);
  });
});
