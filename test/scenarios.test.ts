// Hand-made load-test scenarios (test/fixtures/scenarios/<name>/): realistic SBC / LB / client logs
// written independently of logdiag's parsers, each with a truth.json { users: { <user>: cause } }.
// For each scenario, the whole directory goes through the pipeline in-process and the findings are
// mapped to users through finding.keys.user.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, 'fixtures', 'scenarios');
const MIN_ACCURACY = 0.9;

interface Truth {
  users: Record<string, string>;
}

interface LooseFinding {
  cause: string;
  confidence?: number;
  keys?: Record<string, unknown>;
  explanation?: string;
  evidence?: { path?: string; line?: number; text?: string }[];
}

interface LooseReport {
  inputs?: { path: string; format?: string; role?: string | null }[];
  summary?: { failedSessions?: number };
  findings?: LooseFinding[];
}

// "agent 17", "agent-17" and "agent17" name the same softphone; compare names without case,
// blanks, dashes, dots or underscores.
const norm = (s: string): string => s.toLowerCase().replace(/[\s._-]+/g, '');

const scenarios = readdirSync(ROOT)
  .filter((n) => statSync(join(ROOT, n)).isDirectory())
  .sort();

interface Scored {
  total: number;
  correct: number;
  accuracy: number;
  healthyFlagged: string[];
  misses: { user: string; truth: string; got: string; finding?: LooseFinding }[];
  unattributed: LooseFinding[];
  confusion: Map<string, Map<string, number>>;
  findingsCount: number;
  failedSessions: number | undefined;
  summary: string;
}

function userValues(f: LooseFinding): string[] {
  const u = f.keys?.user;
  if (Array.isArray(u)) return u.map(String);
  if (typeof u === 'string') return [u];
  return [];
}

function score(name: string, truth: Truth, report: LooseReport): Scored {
  const findings = report.findings ?? [];
  const byNorm = new Map<string, string>();
  for (const u of Object.keys(truth.users)) byNorm.set(norm(u), u);

  const perUser = new Map<string, LooseFinding[]>();
  const unattributed: LooseFinding[] = [];
  for (const f of findings) {
    const matched = new Set<string>();
    for (const v of userValues(f)) {
      const u = byNorm.get(norm(v));
      if (u) matched.add(u);
    }
    if (matched.size === 0) unattributed.push(f);
    for (const u of matched) {
      const list = perUser.get(u) ?? [];
      list.push(f);
      perUser.set(u, list);
    }
  }

  const confusion = new Map<string, Map<string, number>>();
  const misses: Scored['misses'] = [];
  const healthyFlagged: string[] = [];
  let correct = 0;
  for (const [user, want] of Object.entries(truth.users)) {
    const list = (perUser.get(user) ?? []).slice().sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
    const got = list.length === 0 ? 'healthy' : list[0].cause;
    const row = confusion.get(want) ?? new Map<string, number>();
    row.set(got, (row.get(got) ?? 0) + 1);
    confusion.set(want, row);
    if (got === want) correct++;
    else
      misses.push({
        user,
        truth: want,
        got: list.length > 1 ? `${got} (+${list.length - 1} more findings)` : got,
        finding: list[0],
      });
    if (want === 'healthy' && list.length > 0) healthyFlagged.push(user);
  }
  const total = Object.keys(truth.users).length;
  const accuracy = total === 0 ? 1 : correct / total;

  const lines: string[] = [];
  lines.push(
    `scenario ${name}: ${correct}/${total} users right (accuracy ${(accuracy * 100).toFixed(1)}%), ` +
      `${findings.length} findings, failedSessions=${report.summary?.failedSessions}`,
  );
  lines.push('confusion (truth -> logdiag):');
  for (const [want, row] of [...confusion.entries()].sort()) {
    lines.push(`  ${want.padEnd(17)} ${[...row.entries()].map(([g, n]) => `${g}:${n}`).join('  ')}`);
  }
  if (healthyFlagged.length) lines.push(`healthy users with a finding: ${healthyFlagged.join(', ')}`);
  for (const m of misses) {
    lines.push(`  MISS ${m.user}: truth=${m.truth} logdiag=${m.got}`);
    if (m.finding) {
      lines.push(`       ${String(m.finding.explanation ?? '').slice(0, 240)}`);
      for (const e of (m.finding.evidence ?? []).slice(0, 3)) {
        lines.push(
          `       ${basename(String(e.path ?? ''))}:${e.line} ${String(e.text ?? '').slice(0, 200)}`,
        );
      }
    }
  }
  if (unattributed.length) {
    lines.push(`findings naming no scenario user (${unattributed.length}):`);
    for (const f of unattributed.slice(0, 8)) {
      lines.push(`  ${f.cause} keys=${JSON.stringify(f.keys ?? {}).slice(0, 160)}`);
    }
  }
  return {
    total,
    correct,
    accuracy,
    healthyFlagged,
    misses,
    unattributed,
    confusion,
    findingsCount: findings.length,
    failedSessions: report.summary?.failedSessions,
    summary: lines.join('\n'),
  };
}

describe('hand-made scenarios', () => {
  for (const name of scenarios) {
    const dir = join(ROOT, name);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;

    describe(name, () => {
      let report: LooseReport;
      let scored: Scored;
      const run = async (): Promise<void> => {
        if (report) return;
        const res = (await analyze({ paths: [dir] })) as unknown as { report: LooseReport };
        report = res.report;
        scored = score(name, truth, report);
        // SCENARIO_VERBOSE=1 prints every scenario's summary, passing or not
        if (process.env.SCENARIO_VERBOSE) console.log(scored.summary);
      };

      it('reads neither README.md nor truth.json as a log', async () => {
        await run();
        const read = (report.inputs ?? [])
          .map((i) => basename(i.path))
          .filter((b) => b === 'README.md' || b === 'truth.json');
        expect(
          read,
          `inputs: ${JSON.stringify(report.inputs?.map((i) => [basename(i.path), i.format]))}`,
        ).toEqual([]);
      });

      it('gives no healthy user a finding', async () => {
        await run();
        expect(scored.healthyFlagged, scored.summary).toEqual([]);
        const allHealthy = Object.values(truth.users).every((c) => c === 'healthy');
        if (allHealthy) {
          // a healthy-only run must report no failure at all, attributed to a user or not
          expect(scored.findingsCount, scored.summary).toBe(0);
          expect(scored.failedSessions ?? 0, scored.summary).toBe(0);
        }
      });

      it(`classifies at least ${MIN_ACCURACY * 100}% of users right`, async () => {
        await run();
        expect(scored.accuracy, scored.summary).toBeGreaterThanOrEqual(MIN_ACCURACY);
      });
    });
  }
});
