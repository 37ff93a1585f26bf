/**
 * logdiag's report against a scenario's truth: each finding is mapped to users through
 * finding.keys.user (the user's verdict is its most confident finding, or healthy when none names
 * it), then per-cause precision and recall, session accuracy, and false failures (healthy users
 * logdiag reported as failed, the worst error).
 */

export const CAUSES = [
  'sbc-throttling',
  'edge-rate-limit',
  'idle-timeout',
  'client-misconfig',
  'upstream-timeout',
  'auth-failure',
  'unclassified',
];

// "agent 17", "agent-17" and "agent17" name the same softphone
const norm = (s) =>
  String(s)
    .toLowerCase()
    .replace(/[\s._-]+/g, '');

export function score(truthUsers, report) {
  const findings = report?.findings ?? [];
  const byNorm = new Map(Object.keys(truthUsers).map((u) => [norm(u), u]));
  const perUser = new Map();
  const unattributed = [];
  for (const f of findings) {
    const named = new Set((f.keys?.user ?? []).map((v) => byNorm.get(norm(v))).filter(Boolean));
    if (named.size === 0) unattributed.push(f);
    for (const u of named) perUser.set(u, [...(perUser.get(u) ?? []), f]);
  }

  const verdicts = {};
  const misses = [];
  let correct = 0;
  for (const [user, want] of Object.entries(truthUsers)) {
    const list = (perUser.get(user) ?? []).slice().sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
    const got = list.length ? list[0].cause : 'healthy';
    verdicts[user] = got;
    if (got === want) correct++;
    else misses.push({ user, truth: want, got, finding: list[0] });
  }

  const perCause = {};
  for (const cause of [...CAUSES, 'healthy']) {
    const truthN = Object.values(truthUsers).filter((c) => c === cause).length;
    const predicted = Object.values(verdicts).filter((c) => c === cause).length;
    const tp = Object.entries(truthUsers).filter(([u, c]) => c === cause && verdicts[u] === cause).length;
    if (truthN === 0 && predicted === 0) continue;
    perCause[cause] = {
      truth: truthN,
      predicted,
      tp,
      precision: predicted ? tp / predicted : null,
      recall: truthN ? tp / truthN : null,
    };
  }
  const total = Object.keys(truthUsers).length;
  const falseFailures = Object.entries(truthUsers)
    .filter(([u, c]) => c === 'healthy' && verdicts[u] !== 'healthy')
    .map(([u]) => u);
  return {
    total,
    correct,
    accuracy: total ? correct / total : 1,
    falseFailures,
    perCause,
    verdicts,
    misses,
    unattributed: unattributed.map((f) => ({ cause: f.cause, keys: f.keys })),
  };
}

const pct = (x) => (x === null ? '   -  ' : `${(x * 100).toFixed(1).padStart(5)}%`);

/** The printed check: one row per cause, then accuracy, false failures and the misses. */
export function formatScore(name, s) {
  const lines = [];
  lines.push(`  ${'cause'.padEnd(17)} truth  logdiag  right  precision  recall`);
  for (const [cause, c] of Object.entries(s.perCause)) {
    lines.push(
      `  ${cause.padEnd(17)} ${String(c.truth).padStart(5)}  ${String(c.predicted).padStart(7)}  ${String(c.tp).padStart(5)}     ${pct(c.precision)}  ${pct(c.recall)}`,
    );
  }
  lines.push(
    `  ${name}: ${s.correct}/${s.total} users right (session accuracy ${(s.accuracy * 100).toFixed(1)}%), ` +
      `false failures: ${s.falseFailures.length ? s.falseFailures.join(', ') : 'none'}`,
  );
  for (const m of s.misses.slice(0, 12)) {
    lines.push(`    MISS ${m.user}: truth ${m.truth}, logdiag ${m.got}`);
    const e = m.finding?.evidence?.[0];
    if (e) lines.push(`         ${e.path?.split('/').pop()}:${e.line} ${String(e.text ?? '').slice(0, 160)}`);
  }
  if (s.misses.length > 12) lines.push(`    … ${s.misses.length - 12} more`);
  if (s.unattributed.length) lines.push(`  findings naming no user: ${s.unattributed.length}`);
  return lines.join('\n');
}
