/**
 * The lab's integration test (docs/LAB.md): real Kamailio, nginx and HAProxy on 127.0.0.1, real
 * JsSIP, SIP.js and `ws` clients, a reduced run (24 users per scenario, about three minutes in
 * all). The truth of each scenario comes from what the clients saw; logdiag (this source tree,
 * in-process) must get ≥ 95% of the users right and report no healthy user as failed.
 *
 * Skipped, with the reason, when the servers are not installed (`.ci/run` installs them; so does
 * `npm run lab`). Everything the lab starts is stopped by PID by lab/run.mjs itself, which also
 * bounds every loop in count and time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { formatScore, score, type LabScore } from '../../lab/lib/score.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const RUN = join(ROOT, 'lab', 'run.mjs');
const MIN_ACCURACY = 0.95;
const USERS = 24;
/** the whole reduced run; the lab's own watchdogs stop it well before */
const LAB_TIMEOUT_MS = 12 * 60_000;

interface Summary {
  results: { name: string; dir: string; truth: Record<string, string>; knownGap?: string }[];
}

function check(): { missing: string[]; scenarios: string[] } {
  const r = spawnSync(process.execPath, [RUN, '--check'], { cwd: ROOT, encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout) as { missing: string[]; scenarios: string[] };
  } catch {
    return { missing: [`lab/run.mjs --check failed: ${r.stderr.trim()}`], scenarios: [] };
  }
}

const status = check();
const skip = status.missing.length > 0;
if (skip) {
  console.warn(
    `lab integration test skipped: ${status.missing.join(', ')} not installed ` +
      '(apt-get install -y kamailio kamailio-websocket-modules nginx haproxy, or npm run lab)',
  );
}

function runLab(out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [RUN, '--ci', '--users', String(USERS), '--no-install', '--no-analyze', '--out', out];
    const child = spawn(process.execPath, [...args, '--json', join(out, 'summary.json')], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), LAB_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`lab/run.mjs exited ${code}`));
    });
  });
}

describe.skipIf(skip)(`lab: real servers, ${USERS} users per scenario`, () => {
  let out = '';
  let summary: Summary;
  const scores = new Map<string, LabScore>();

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'logdiag-lab-'));
    await runLab(out);
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    for (const r of summary.results) {
      const { report } = await analyze({ paths: [join(r.dir, 'logs')] });
      const s = score(r.truth, report);
      scores.set(r.name, s);
      console.log(`lab scenario ${r.name}${r.knownGap ? ' (known gap)' : ''}\n${formatScore(r.name, s)}`);
    }
  }, LAB_TIMEOUT_MS + 120_000);

  afterAll(() => {
    if (out && !process.env.LAB_KEEP) rmSync(out, { recursive: true, force: true });
  });

  it('ran every scenario; each but the healthy one produced real failures', () => {
    expect(summary.results.map((r) => r.name)).toEqual(status.scenarios);
    let healthy = 0;
    for (const r of summary.results) {
      const causes = Object.values(r.truth);
      expect(causes.length, r.name).toBeGreaterThanOrEqual(USERS - 2);
      healthy += causes.filter((c) => c === 'healthy').length;
      if (r.name !== 'healthy')
        expect(causes.filter((c) => c !== 'healthy').length, r.name).toBeGreaterThan(0);
    }
    expect(healthy).toBeGreaterThan(USERS);
  });

  for (const name of status.scenarios) {
    it(`${name}: no healthy user reported as failed, ≥ ${MIN_ACCURACY * 100}% of users right`, () => {
      const r = summary.results.find((x) => x.name === name);
      const s = scores.get(name);
      expect(r && s, `${name} did not run`).toBeTruthy();
      if (!r || !s) return;
      const text = formatScore(name, s);
      expect(s.falseFailures, text).toEqual([]);
      // a known gap (lab/lib/scenarios.mjs) is held to "no false failures" only, until logdiag can tell
      if (!r.knownGap) expect(s.accuracy, text).toBeGreaterThanOrEqual(MIN_ACCURACY);
    });
  }
});
