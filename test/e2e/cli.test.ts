/**
 * The built CLI on the bundled samples, as a user runs it: the JSON contract (schemaVersion 1),
 * exit codes, and the verdicts against each sample's truth.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CAUSES, type Report } from '../../src/model.js';
import { VERSION } from '../../src/version.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'logdiag.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function logsOf(sample: string): string[] {
  const dir = join('samples', sample);
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.log'))
    .map((f) => join(dir, f));
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'ignore' });
}, 120_000);

describe('logdiag analyze on the samples', () => {
  const samples = readdirSync(join(ROOT, 'samples')).filter((d) => !d.includes('.'));

  it('bundles the classic report among the samples', () => {
    expect(samples).toContain('classic-500');
  });

  for (const sample of samples) {
    it(`${sample}: JSON contract holds and verdicts match truth.json`, () => {
      const { code, stdout } = run(['analyze', ...logsOf(sample), '--format', 'json']);
      const report = JSON.parse(stdout) as Report;
      const truth = JSON.parse(readFileSync(join(ROOT, 'samples', sample, 'truth.json'), 'utf8'))
        .users as Record<string, string>;

      // contract (../shared/DESIGN.md "The JSON report")
      expect(report.schemaVersion).toBe(1);
      expect(report.tool).toEqual({ name: 'logdiag', version: VERSION });
      for (const input of report.inputs) {
        expect(Object.keys(input)).toEqual(
          expect.arrayContaining(['path', 'format', 'role', 'lines', 'events', 'unparsed', 'clockOffsetMs']),
        );
      }
      expect(report.summary.failedSessions).toBe(report.findings.length);
      const counted = Object.values(report.summary.byCause).reduce((a, b) => a + (b ?? 0), 0);
      expect(counted).toBe(report.findings.length);
      for (const f of report.findings) {
        expect(CAUSES).toContain(f.cause);
        expect(f.keys.user?.length, f.session).toBeGreaterThan(0);
        expect(f.evidence.length).toBeGreaterThan(0);
        expect(f.confidence).toBeGreaterThan(0);
        expect(f.confidence).toBeLessThanOrEqual(1);
        for (const e of f.evidence)
          expect(Object.keys(e)).toEqual(expect.arrayContaining(['path', 'line', 'role', 'text']));
        expect(Date.parse(f.firstSeen)).not.toBeNaN();
      }
      expect(code).toBe(report.findings.length > 0 ? 1 : 0);

      // verdicts: no healthy user reported, and ≥ 95% of users right
      const got = new Map<string, string>();
      for (const f of report.findings) for (const u of f.keys.user ?? []) got.set(u, f.cause);
      const users = Object.keys(truth);
      const falseFailures = users.filter((u) => truth[u] === 'healthy' && got.has(u));
      const right = users.filter((u) => (got.get(u) ?? 'healthy') === truth[u]).length;
      expect(falseFailures).toEqual([]);
      expect(right / users.length).toBeGreaterThanOrEqual(0.95);
    });
  }
});

describe('exit codes and usage errors', () => {
  it('reports the version package.json declares', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version).toBe(VERSION);
    expect(run(['--version']).stdout.trim()).toBe(VERSION);
  });

  it('--fail-on none exits 0, --fail-on a cause that is absent exits 0, present exits 1', () => {
    const logs = logsOf('classic-500');
    expect(run(['analyze', ...logs, '--format', 'json', '--fail-on', 'none']).code).toBe(0);
    expect(run(['analyze', ...logs, '--format', 'json', '--fail-on', 'auth-failure']).code).toBe(0);
    expect(
      run(['analyze', ...logs, '--format', 'json', '--fail-on', 'sbc-throttling,auth-failure']).code,
    ).toBe(1);
  });

  it('rules out the keep-alive header the forums suggest, by name, in the classic report', () => {
    const r = run(['analyze', ...logsOf('classic-500'), '--format', 'json']);
    const report = JSON.parse(r.stdout) as Report;
    expect((report.summary.ruledOut ?? []).map((x) => x.hypothesis)).toContain(
      'the custom header X-Genesys-KeepAlive broke the handshake',
    );
  });

  it('gives a one-line error and exit 2 for unusable arguments', () => {
    const bad = run(['analyze', 'samples/classic-500/sbc.log', '--fail-on', 'nonsense']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/unknown cause 'nonsense'/);
    expect(run(['analyze']).code).toBe(2);
    expect(run(['analyze', 'samples/classic-500/sbc.log', '--format', 'yaml']).code).toBe(2);
    const budget = run(['analyze', 'samples/classic-500/sbc.log', '--max-events-in-memory', 'lots']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/--max-events-in-memory lots: not a positive whole number/);
    const tmp = run(['analyze', 'samples/classic-500/sbc.log', '--tmp-dir', '/nonexistent/spill']);
    expect(tmp.code).toBe(2);
    expect(tmp.stderr).toMatch(/--tmp-dir \/nonexistent\/spill: not a writable directory/);
  });

  it('gives the same report when a large run spills to disk', () => {
    const logs = ['sbc.log', 'lb.log', 'client.log'].map((n) => `samples/classic-500/${n}`);
    const inMemory = run(['analyze', ...logs, '--format', 'json', '--no-redact']);
    const spilled = run([
      'analyze',
      ...logs,
      '--format',
      'json',
      '--no-redact',
      '--max-events-in-memory',
      '200',
    ]);
    expect(spilled.code).toBe(inMemory.code);
    expect(JSON.parse(spilled.stdout)).toEqual(JSON.parse(inMemory.stdout));
  });

  it('names an unreadable file (EACCES) in one line and reads the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-eacces-'));
    chmodSync(dir, 0o755);
    const locked = join(dir, 'locked.log');
    const open = join(ROOT, 'samples', 'classic-500', 'sbc.log');
    writeFileSync(locked, 'Nov 24 10:00:01 sbc kamailio[1]: INFO: hello\n');
    chmodSync(locked, 0o000);
    // root reads everything: run as an unprivileged user (whose $HOME config dir is out of reach too)
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync(process.execPath, [BIN, 'analyze', locked, open, '--format', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/locked\.log: permission denied$/)]);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.inputs.find((i) => i.path === locked)?.error).toBe('permission denied');
    expect(report.inputs.find((i) => i.path === open)?.events).toBeGreaterThan(0);
  });

  it('keeps a large run within a heap too small to hold its events, with the same verdicts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'logdiag-heap-'));
    // 3,000 short sessions, ~25 MB: about 60,000 useful events, more than a 32 MB heap can hold
    const sim = run(['simulate', '--out', dir, '--users', '3000', '--duration', '90', '--ramp', '80']);
    expect(sim.code).toBe(0);
    const logs = ['sbc.log', 'lb.log', 'lb-error.log', 'client.log'].map((f) => join(dir, f));
    const analyzeWithHeap = (mb: number | null, ...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          ...(mb ? [`--max-old-space-size=${mb}`] : []),
          BIN,
          'analyze',
          ...logs,
          '--format',
          'json',
          '--no-redact',
          '-q',
          ...extra,
        ],
        { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 },
      );
    const reference = analyzeWithHeap(null);
    const bounded = analyzeWithHeap(32, '--max-events-in-memory', '2000');
    expect(bounded.status).toBe(reference.status);
    expect(JSON.parse(bounded.stdout)).toEqual(JSON.parse(reference.stdout));
    // the limit means something: holding every event in memory does not fit in it
    const unbounded = analyzeWithHeap(32, '--max-events-in-memory', '10000000');
    expect(unbounded.status === 0 || unbounded.status === 1).toBe(false);
  }, 120_000);

  it('exits 2 when nothing is readable, naming the file', () => {
    const r = run(['analyze', 'does/not/exist.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does\/not\/exist\.log: no such file or directory/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('writes the report to --output and prints the table without colour when piped', () => {
    mkdirSync(join(ROOT, 'test', 'out'), { recursive: true });
    const out = join(ROOT, 'test', 'out', 'report.json');
    const r = run(['analyze', ...logsOf('idle-timeout-haproxy'), '--format', 'json', '--output', out]);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).summary.primaryCause).toBe('idle-timeout');
    const table = run(['analyze', ...logsOf('idle-timeout-haproxy')]);
    expect(table.stdout).toMatch(/primary cause idle-timeout/);
    expect(table.stdout).not.toMatch(/\u001b\[/);
  });
});
