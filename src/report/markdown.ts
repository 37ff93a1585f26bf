/**
 * The Markdown report, ready to paste into a ticket: the verdict first, then the causes with what
 * to do, the strongest evidence per cause (path:line and the line), the inputs with their formats
 * and clock offsets, and what was ruled out.
 */
import { CAUSE_TEXT } from '../classify/causes.js';
import type { CauseId, Finding, Report } from '../model.js';
import { CAUSES } from '../model.js';
import { neutralise } from './table.js';

export interface MarkdownOptions {
  /** evidence lines shown for the strongest finding of each cause */
  linesPerCause?: number;
  /** whether secrets were redacted; stated in the footer when known */
  redacted?: boolean;
}

const LINE_MAX = 500;

/** Prose: control characters made visible, Markdown and HTML syntax escaped, one line. */
export function md(text: string): string {
  return neutralise(text.replace(/\r?\n/g, ' ⏎ ')).replace(/[\\`*_[\]<>|~&#!]/g, '\\$&');
}

/** A code span that survives any backticks or table pipes in the text. */
function code(text: string): string {
  const t = neutralise(text.replace(/\r?\n/g, ' ⏎ ')).replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced block longer than any backtick run inside it. */
function fenced(lines: string[]): string {
  const body = lines.map((l) => neutralise(l)).join('\n');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${body}\n${fence}`;
}

function pct(n: number, of: number): string {
  return of > 0 ? `${Math.round((n / of) * 100)}%` : '–';
}

function when(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/Z$/, ' UTC') : '–';
}

function who(f: Finding): string {
  return f.keys.user?.length ? f.keys.user.join(', ') : f.session;
}

/** The finding that shows a cause best: most confident, then most evidence, then earliest. */
export function strongestByCause(report: Report): Map<CauseId, Finding> {
  const best = new Map<CauseId, Finding>();
  for (const f of report.findings) {
    const b = best.get(f.cause);
    if (
      !b ||
      f.confidence > b.confidence ||
      (f.confidence === b.confidence && f.evidence.length > b.evidence.length) ||
      (f.confidence === b.confidence && f.evidence.length === b.evidence.length && f.firstSeen < b.firstSeen)
    ) {
      best.set(f.cause, f);
    }
  }
  return best;
}

function evidenceLine(e: Finding['evidence'][number]): string {
  const text = e.text.length > LINE_MAX ? `${e.text.slice(0, LINE_MAX - 1)}…` : e.text;
  return `${e.path}:${e.line} [${e.role}]${e.time ? ` ${e.time}` : ''}\n    ${text.replace(/\r?\n/g, '\n    ')}`;
}

export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const s = report.summary;
  const perCause = opts.linesPerCause ?? 6;
  const failed = s.failedSessions;
  const healthy = s.healthySessions ?? s.sessions - failed;
  const out: string[] = [];

  // verdict first
  out.push(failed ? `# logdiag: ${failed} of ${s.sessions} sessions failed` : '# logdiag: no failure found');
  out.push('');
  out.push(
    `> **Verdict:** ${md(s.verdict ?? (failed ? `${failed} of ${s.sessions} sessions failed.` : 'No failure found.'))}`,
  );
  out.push('');
  if (s.primaryCause) {
    const n = s.byCause[s.primaryCause] ?? 0;
    out.push(
      `- **Primary cause:** ${code(s.primaryCause)}: ${md(CAUSE_TEXT[s.primaryCause].title)}. ${n} session${n === 1 ? '' : 's'}, ${pct(n, failed)} of failed sessions (${pct(n, s.sessions)} of all sessions)`,
    );
  }
  if (failed) out.push(`- **Failures began:** ${md(when(s.failuresBegan))}`);
  out.push(
    `- **Sessions:** ${s.sessions} · failed ${failed} (${pct(failed, s.sessions)}) · healthy ${healthy}${s.attempts !== undefined ? ` · connection attempts ${s.attempts}` : ''}`,
  );
  if (s.idleTimeoutMs) out.push(`- **Idle timeout found:** ${(s.idleTimeoutMs / 1000).toFixed(1)} s`);
  out.push('');

  // causes
  const causes = CAUSES.filter((c) => s.byCause[c]);
  const firstOf = new Map<CauseId, string>();
  for (const f of report.findings) {
    const t = firstOf.get(f.cause);
    if (!t || f.firstSeen < t) firstOf.set(f.cause, f.firstSeen);
  }
  if (causes.length) {
    out.push('## Causes');
    out.push('');
    out.push('| Cause | Sessions | Share of failures | First seen | What to do |');
    out.push('| --- | ---: | ---: | --- | --- |');
    for (const c of causes) {
      const n = s.byCause[c] ?? 0;
      out.push(
        `| ${code(c)} ${md(CAUSE_TEXT[c].title)} | ${n} | ${pct(n, failed)} | ${md(when(firstOf.get(c)))} | ${md(CAUSE_TEXT[c].remediation)} |`,
      );
    }
    out.push('');
    out.push(...timelineTable(report));

    // strongest evidence per cause
    out.push('## Evidence');
    out.push('');
    out.push(
      'The strongest session of each cause. The time after `path:line [role]` is clock-corrected UTC; the line keeps its own clock.',
    );
    const strongest = strongestByCause(report);
    for (const c of causes) {
      const f = strongest.get(c);
      if (!f) continue;
      out.push('');
      out.push(`### ${code(c)}: ${md(who(f))}`);
      out.push('');
      const attempts = f.attempts ? `, ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}` : '';
      out.push(
        `Session ${code(f.session)}, confidence ${f.confidence}${attempts}, ${md(when(f.firstSeen))} → ${md(when(f.lastSeen))}.`,
      );
      out.push('');
      out.push(md(f.explanation));
      out.push('');
      out.push(`**What to do:** ${md(f.remediation)}`);
      out.push('');
      const shown = f.evidence.slice(0, perCause);
      out.push(fenced(shown.map(evidenceLine)));
      const hidden = f.evidence.length - shown.length;
      if (hidden > 0)
        out.push(`_${hidden} more evidence line${hidden === 1 ? '' : 's'} in the JSON report._`);
      const others = report.findings.filter((o) => o.cause === c && o !== f);
      if (others.length) {
        const names = others.slice(0, 12).map((o) => md(who(o)));
        out.push('');
        out.push(
          `Also ${others.length} more session${others.length === 1 ? '' : 's'} with this cause: ${names.join(', ')}${others.length > names.length ? ', …' : ''}`,
        );
      }
    }
    out.push('');
  }

  // inputs
  out.push('## Inputs');
  out.push('');
  out.push('| Input | Format | Role | Lines | Events | Unparsed | Clock offset |');
  out.push('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const i of report.inputs) {
    const format = i.error ? `${md(i.format)} (${md(i.error)})` : md(i.format);
    const offset = `${i.clockOffsetMs >= 0 ? '+' : ''}${i.clockOffsetMs} ms`;
    out.push(
      `| ${code(i.path)} | ${format} | ${i.role ?? '–'} | ${i.lines} | ${i.events} | ${i.unparsed} | ${offset} |`,
    );
  }
  out.push('');

  // ruled out
  if (s.ruledOut?.length) {
    out.push('## Ruled out');
    out.push('');
    for (const r of s.ruledOut) out.push(`- **${md(r.hypothesis)}**: ${md(r.reason)}`);
    out.push('');
  }

  const redaction =
    opts.redacted === undefined
      ? ''
      : opts.redacted
        ? ' Secrets in log lines are replaced by pseudonyms (the same secret reads the same everywhere).'
        : ' **Not redacted: log lines may contain secrets.**';
  out.push('---');
  out.push(
    `_${md(`${report.tool.name} ${report.tool.version}`)}, report schema ${report.schemaVersion}._${redaction}`,
  );
  return `${out.join('\n')}\n`;
}

/** The run over time: load, outcomes and failures per interval (intervals with nothing in them left out). */
function timelineTable(report: Report): string[] {
  const line = report.summary.triage?.timeline;
  if (!line || line.intervals.length < 2) return [];
  const causes = CAUSES.filter((c) => line.intervals.some((i) => i.failures[c]));
  const out = [
    '## Timeline',
    '',
    `Per ${line.stepSec >= 60 ? `${line.stepSec / 60} min` : `${line.stepSec} s`}: connection attempts, successful registrations, sessions that began to fail (by cause) and WebSocket connections open at the end of the interval.`,
    '',
    `| Interval | Attempts | Registered | ${causes.map((c) => code(c)).join(' | ')}${causes.length ? ' | ' : ''}Open |`,
    `| --- | ---: | ---: | ${causes.map(() => '---: | ').join('')}---: |`,
  ];
  for (const i of line.intervals) {
    const failures = causes.map((c) => i.failures[c] ?? 0);
    if (i.attempts === 0 && i.successes === 0 && i.openConnections === 0 && failures.every((n) => n === 0))
      continue;
    out.push(
      `| ${md(when(i.at))} | ${i.attempts} | ${i.successes} | ${failures.join(' | ')}${causes.length ? ' | ' : ''}${i.openConnections} |`,
    );
  }
  out.push('');
  return out;
}
