/**
 * `--nginx-log-format`: a site's own nginx log_format, given as in nginx.conf, reads its access
 * log like the built-in nginx reader would. The CLI runs in process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './in-process.js';
import type { Report } from '../../src/model.js';

// a pipe-separated log_format of the kind sites write for their WebSocket edge
const SPEC =
  '$time_iso8601|$remote_addr:$remote_port|$request_id|"$request"|$status|$request_time|$upstream_addr|$upstream_status|$http_sec_websocket_protocol';

function line(
  at: string,
  user: string,
  port: number,
  status: number,
  upstream: string,
  upStatus: string,
  rt: string,
) {
  return `${at}|203.0.113.9:${port}|req${port}|"GET /ws?user=${user} HTTP/1.1"|${status}|${rt}|${upstream}|${upStatus}|sip`;
}

describe('logdiag analyze --nginx-log-format', () => {
  let dir: string;
  let log: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'logdiag-nginx-custom-'));
    log = join(dir, 'edge.log');
    const lines: string[] = [];
    // five agents refused by the edge itself (no upstream), five healthy tunnels, two 504s
    for (let i = 0; i < 5; i++)
      lines.push(line(`2026-11-24T10:00:0${i}+00:00`, `agent-${i}`, 40000 + i, 503, '-', '-', '0.000'));
    // tunnels of different lifetimes closed at the end of the test (identical lifetimes would be an idle timeout)
    const lifetimes = ['95.210', '180.004', '251.730', '333.018', '410.502'];
    for (let i = 5; i < 10; i++)
      lines.push(
        line(
          `2026-11-24T10:07:0${i}+00:00`,
          `agent-${i}`,
          40000 + i,
          101,
          '10.0.0.5:8080',
          '101',
          lifetimes[i - 5],
        ),
      );
    for (let i = 10; i < 12; i++)
      lines.push(
        line(
          `2026-11-24T10:06:1${i - 10}+00:00`,
          `agent-${i}`,
          40000 + i,
          504,
          '10.0.0.5:8080',
          '504',
          '60.001',
        ),
      );
    writeFileSync(log, `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the access log with the given log_format and classifies its refusals', async () => {
    const { code, stdout } = await cli(
      'analyze',
      log,
      '--nginx-log-format',
      SPEC,
      '--format',
      'json',
      '--no-redact',
      '-q',
    );
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.inputs[0]).toMatchObject({ format: 'nginx-custom', role: 'lb', lines: 12, unparsed: 0 });
    const byUser = new Map(report.findings.flatMap((f) => (f.keys.user ?? []).map((u) => [u, f.cause])));
    for (let i = 0; i < 5; i++) expect(byUser.get(`agent-${i}`)).toBe('edge-rate-limit');
    for (let i = 5; i < 10; i++) expect(byUser.has(`agent-${i}`)).toBe(false);
    expect(byUser.get('agent-10')).toBe('upstream-timeout');
    expect(byUser.get('agent-11')).toBe('upstream-timeout');
  });

  it('says on one line what a log_format lacks, with exit code 2', async () => {
    const { code, stderr } = await cli('analyze', log, '--nginx-log-format', '$remote_addr $body_bytes_sent');
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/--nginx-log-format/);
  });
});
