/**
 * Bad input never crashes logdiag, loses a line or hides a failure (issue 4). The committed
 * corpus is test/fixtures/bad/ (see its README); large cases are made here at run time.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { renderTable } from '../../src/report/table.js';
import { parseSyslog, utcContext, yearTracker } from '../../src/formats/time.js';

const BAD = join(import.meta.dirname, '..', 'fixtures', 'bad');
const KAMAILIO_LINE =
  'Nov 24 10:00:01 sbc kamailio[1]: INFO: {1 1 REGISTER c-ok} <script>: SIP request REGISTER received from 10.0.0.2:5000 via ws - from sip:agent-9@x to sip:agent-9@x';

function accountingHolds(inputs: Awaited<ReturnType<typeof analyze>>['report']['inputs']): void {
  for (const i of inputs) {
    if (i.error && i.lines === 0) continue;
    expect(i.events + (i.multiline ?? 0) + (i.skipped ?? 0) + i.unparsed, `${i.path}`).toBe(i.lines);
  }
}

describe('bad bytes and shapes', () => {
  it('reads the whole bad corpus without throwing, one clear problem per unusable file, the rest analysed', async () => {
    const { report, problems, usable } = await analyze({ paths: [BAD] });
    expect(usable).toBe(true);
    const byName = (name: string) => report.inputs.find((i) => i.path.endsWith(name))!;
    expect(byName('capture.pcap').error).toMatch(/packet capture \(pcap\).*tshark/);
    expect(byName('screenshot.png').error).toMatch(/PNG image/);
    expect(byName('random.bin').error).toMatch(/binary data/);
    expect(byName('empty.log').error).toMatch(/empty/);
    expect(byName('truncated.log.gz').error).toMatch(/gzip|unexpected end/i);
    expect(byName('corrupt.log.gz').error).toMatch(/gzip|incorrect header/i);
    expect(byName('good.log.gz').format).toBe('harness');
    expect(byName('invalid-utf8-crlf.log').format).toBe('kamailio');
    expect(byName('invalid-utf8-crlf.log').lines).toBe(2);
    expect(report.inputs.some((i) => i.path.endsWith('README.md'))).toBe(false);
    for (const p of problems) {
      expect(p.split('\n')).toHaveLength(1);
      expect(p).toMatch(/^\S.*: /);
    }
    accountingHolds(report.inputs);
  });

  it('names a missing path and goes on with the others; exit-2 material only when nothing is readable', async () => {
    const some = await analyze({ paths: ['/nonexistent/sbc.log', join(BAD, 'new-year.log')] });
    expect(some.problems[0]).toBe('/nonexistent/sbc.log: no such file or directory');
    expect(some.usable).toBe(true);
    const none = await analyze({ paths: ['/nonexistent/sbc.log', join(BAD, 'random.bin')] });
    expect(none.usable).toBe(false);
  });

  it('follows a syslog across New Year into the next year', () => {
    const ctx = { ...utcContext(2025), yearFor: yearTracker(2025) };
    expect(parseSyslog('Dec 31 23:59:58 sbc kamailio[1]:', ctx)).toBe(Date.UTC(2025, 11, 31, 23, 59, 58));
    expect(parseSyslog('Jan  1 00:00:01 sbc kamailio[1]:', ctx)).toBe(Date.UTC(2026, 0, 1, 0, 0, 1));
    // an out-of-order line from just before midnight stays in the old year
    expect(parseSyslog('Dec 31 23:59:59 sbc kamailio[1]:', ctx)).toBe(Date.UTC(2025, 11, 31, 23, 59, 59));
  });

  it('survives a 50 MB line, counts it, and keeps the lines around it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-long-'));
    const path = join(dir, 'long.log');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path);
      out.on('error', reject);
      out.write(`${KAMAILIO_LINE}\n`);
      const chunk = 'x'.repeat(1 << 20);
      for (let i = 0; i < 50; i++) out.write(chunk);
      out.write(`\n${KAMAILIO_LINE}\n`);
      out.end(resolve);
    });
    const { report, problems } = await analyze({ paths: [path] });
    expect(report.inputs[0].lines).toBe(3);
    expect(report.inputs[0].truncatedLines).toBe(1);
    expect(problems.join('\n')).toMatch(/longer than 64 KB were cut/);
    accountingHolds(report.inputs);
  }, 60_000);

  it('reports a symlink loop once and does not recurse forever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-loop-'));
    mkdirSync(join(dir, 'a'));
    writeFileSync(join(dir, 'a', 'sbc.log'), `${KAMAILIO_LINE}\n`);
    symlinkSync(dir, join(dir, 'a', 'back'));
    const { report } = await analyze({ paths: [dir] });
    expect(report.inputs.filter((i) => i.path.endsWith('sbc.log'))).toHaveLength(1);
  });

  it('caps one endless session instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-endless-'));
    const path = join(dir, 'client.log');
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      lines.push(
        `2026-11-24T10:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}:00.${String(i % 1000).padStart(3, '0')}Z [agent-7] keep-alive ping`,
      );
    }
    lines.push('2026-11-24T11:00:00.000Z [agent-7] Error: Unexpected server response: 503');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { report } = await analyze({ paths: [path] });
    expect(report.inputs[0].lines).toBe(60_001);
    // the failure at the end is not hidden by the cap
    expect(report.findings.map((f) => f.keys.user?.[0])).toEqual(['agent-7']);
  }, 60_000);
});

describe('memory under pressure', () => {
  it('caps one session that names a new Call-ID on every line (a monitor pinging for hours)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-monitor-'));
    const path = join(dir, 'sbc.log');
    const out = createWriteStream(path);
    for (let i = 0; i < 30_000; i++) {
      const s = String(i % 60).padStart(2, '0');
      const m = String(Math.floor(i / 60) % 60).padStart(2, '0');
      out.write(
        `Nov 24 10:${m}:${s} sbc-01 /usr/sbin/kamailio[16645]: INFO: {1 6 OPTIONS ${i}@10.0.0.9} <script>: SIP request OPTIONS received from 10.0.0.9:5060 via udp - from sip:monitor@10.0.0.9 to sip:10.0.0.1\n`,
      );
    }
    out.write(`${KAMAILIO_LINE}\n`);
    await new Promise((done) => out.end(done));
    const { report } = await analyze({ paths: [path] });
    expect(report.inputs[0].lines).toBe(30_001);
    expect(report.inputs[0].events).toBe(30_001);
    // the monitor is not a softphone; the one softphone is still there and healthy
    expect(report.summary.sessions).toBe(1);
    expect(report.findings).toEqual([]);
  }, 60_000);

  it('spills a run larger than its memory budget to disk and removes the files afterwards', async () => {
    const tmpDir = mkdtempSync(join(tmpdir(), 'logdiag-spill-'));
    const paths = ['sbc.log', 'lb.log', 'client.log'].map((n) =>
      join(import.meta.dirname, '..', '..', 'samples', 'mixed-causes', n),
    );
    const small = await analyze({ paths, spill: { maxEventsInMemory: 500, tmpDir } });
    expect(small.spilled).toBe(true);
    expect(readdirSync(tmpDir)).toEqual([]);
    expect(small.report.summary.failedSessions).toBeGreaterThan(0);
  }, 60_000);
});

describe('adversarial text', () => {
  it('cannot change what the reader sees in the terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-esc-'));
    const path = join(dir, 'client.log');
    writeFileSync(
      path,
      '2026-11-24T10:00:00.000Z [agent-1] \u001b[2J\u001b[31m<script>x</script> Error: Unexpected server response: 429\n',
    );
    const { report } = await analyze({ paths: [path] });
    const text = renderTable(report, { color: false, verbose: true });
    expect(text).not.toContain('\u001b');
    expect(text).toContain('\\x1b[2J');
  });
});
