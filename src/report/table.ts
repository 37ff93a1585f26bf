/**
 * The terminal report: the verdict first, then causes, inputs and the strongest evidence.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { CAUSE_TEXT } from '../classify/causes.js';
import type { CauseId, Finding, Report, TimelineInterval } from '../model.js';
import { CAUSES } from '../model.js';

export interface TableOptions {
  color: boolean;
  /** findings shown per cause (all with verbose) */
  perCause?: number;
  verbose?: boolean;
}

/** Terminal control sequences from logs must not reach the reader's terminal. */
export function neutralise(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function causeColour(c: ChalkInstance, cause: CauseId): ChalkInstance {
  switch (cause) {
    case 'sbc-throttling':
      return c.red;
    case 'edge-rate-limit':
      return c.magenta;
    case 'idle-timeout':
      return c.yellow;
    case 'client-misconfig':
      return c.cyan;
    case 'upstream-timeout':
      return c.blue;
    case 'auth-failure':
      return c.green;
    default:
      return c.gray;
  }
}

export function renderTable(report: Report, opts: TableOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const out: string[] = [];
  const s = report.summary;
  const plainTable = (head: string[]) =>
    new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] }, wordWrap: true });

  out.push(c.bold('logdiag verdict'));
  out.push(
    s.failedSessions
      ? c.bold(neutralise(s.verdict ?? ''))
      : c.green(neutralise(s.verdict ?? 'No failure found.')),
  );
  out.push(
    `sessions ${s.sessions} · failed ${s.failedSessions} · healthy ${s.healthySessions ?? s.sessions - s.failedSessions} · connection attempts ${s.attempts ?? '?'}`,
  );
  out.push('');

  if (s.failedSessions) {
    const t = plainTable(['cause', 'sessions', 'share', 'what to do']);
    (t.options as { colWidths?: number[] }).colWidths = [18, 10, 7, 58];
    for (const cause of CAUSES) {
      const n = s.byCause[cause];
      if (!n) continue;
      t.push([
        causeColour(c, cause)(cause),
        String(n),
        `${Math.round((n / s.failedSessions) * 100)}%`,
        CAUSE_TEXT[cause].remediation,
      ]);
    }
    out.push(t.toString());
    out.push('');
  }

  const inputs = plainTable(['input', 'format', 'role', 'lines', 'events', 'unparsed', 'clock offset']);
  for (const i of report.inputs) {
    inputs.push([
      neutralise(i.path),
      i.error ? c.red(`${i.format} (${neutralise(i.error)})`) : i.format,
      i.role ?? '-',
      String(i.lines),
      String(i.events),
      i.unparsed ? c.yellow(String(i.unparsed)) : '0',
      `${i.clockOffsetMs >= 0 ? '+' : ''}${i.clockOffsetMs} ms`,
    ]);
  }
  out.push(inputs.toString());

  const t = s.triage;
  if (t && s.failedSessions) {
    const parts = [`${t.attemptsPerUser} connection attempts per user`];
    if (t.onset)
      parts.push(
        `${t.onset.openSessions} sessions open and ${t.onset.arrivalsPerMinute} arrivals in the minute before failures began (${t.onset.at})`,
      );
    const top = t.failedBySource?.[0];
    if (top && top.share >= 0.5)
      parts.push(`${Math.round(top.share * 100)}% of failed sessions came from ${neutralise(top.ip)}`);
    if (t.retryWaves?.length)
      parts.push(`retry waves: ${t.retryWaves.map((w) => `${w.connects} connects at ${w.at}`).join(', ')}`);
    const line = t.timeline;
    if (line && line.intervals.length > 1) {
      const peak = line.intervals.reduce((a, b) => (b.openConnections > a.openConnections ? b : a));
      const worst = line.intervals.reduce((a, b) => (failuresIn(b) > failuresIn(a) ? b : a));
      parts.push(
        `peak ${peak.openConnections} open connections at ${peak.at}; most failures (${failuresIn(worst)}) began in the ${line.stepSec} s from ${worst.at}`,
      );
    }
    out.push(`Load: ${parts.join('; ')}`);
    out.push('');
  }

  const unattributed = Object.entries(s.unattributed ?? {});
  if (unattributed.length) {
    out.push('');
    out.push(
      c.yellow(
        `Not tied to any user: ${unattributed.map(([cause, n]) => `${n} ${cause}`).join(', ')} (LB/SBC lines that name no user and match no client session; add the client log or a user in the WebSocket URL to attribute them)`,
      ),
    );
  }

  if (s.ruledOut?.length) {
    out.push('');
    out.push(c.bold('Ruled out'));
    for (const r of s.ruledOut) out.push(`  - ${neutralise(r.hypothesis)}: ${neutralise(r.reason)}`);
  }

  if (report.findings.length) {
    out.push('');
    out.push(c.bold('Evidence'));
    const perCause = opts.verbose ? Infinity : (opts.perCause ?? 2);
    const shown = new Map<CauseId, number>();
    for (const f of report.findings) {
      const k = shown.get(f.cause) ?? 0;
      if (k >= perCause) continue;
      shown.set(f.cause, k + 1);
      out.push(renderFinding(f, c));
    }
    const hidden = report.findings.length - [...shown.values()].reduce((a, b) => a + b, 0);
    if (hidden > 0)
      out.push(c.gray(`  … ${hidden} more findings (--verbose shows all, --format json has every one)`));
  }
  return `${out.join('\n')}\n`;
}

function renderFinding(f: Finding, c: ChalkInstance): string {
  const who = f.keys.user?.join(', ') ?? f.session;
  const lines = [
    `${causeColour(c, f.cause).bold(f.cause)} ${c.bold(neutralise(who))} (confidence ${f.confidence}${f.attempts && f.attempts > 1 ? `, ${f.attempts} attempts` : ''}) ${c.gray(`${f.firstSeen} → ${f.lastSeen}`)}`,
    `  ${neutralise(f.explanation)}`,
  ];
  for (const e of f.evidence) {
    lines.push(
      c.gray(`    ${neutralise(e.path)}:${e.line} [${e.role}] `) +
        neutralise(e.text.length > 220 ? `${e.text.slice(0, 217)}...` : e.text),
    );
  }
  return lines.join('\n');
}

function failuresIn(i: TimelineInterval): number {
  return Object.values(i.failures).reduce((a, b) => a + (b ?? 0), 0);
}
