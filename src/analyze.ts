/**
 * The analyze pipeline, end to end: ingest → formats → correlate → classify → report model.
 * Only ingest touches files; everything after it is pure.
 */
import type { Readable } from 'node:stream';
import { RunClassifier, type InputRef, type RunClassification } from './classify/index.js';
import { RunContextBuilder } from './classify/run-context.js';
import { AttachIndex } from './correlate/attach.js';
import { ClockPairs, type InputClock } from './correlate/clock.js';
import { SessionBuilder, type SpillOptions } from './correlate/sessions.js';
import type { CorrelatedRun } from './correlate/store.js';
import { DETECT_LINES, detectFormat, type Detection } from './formats/detect.js';
import { FORMATS } from './formats/index.js';
import type { LineOutcome, LogFormat, ParseContext } from './formats/types.js';
import { monthIndex, yearTracker } from './formats/time.js';
import { zoneResolver } from './formats/zone.js';
import { binaryMagic, expandInputs, openLines, type InputSource } from './ingest/sources.js';
import type { InputSummary, LogEvent, Report } from './model.js';
import { VERSION } from './version.js';

export interface AnalyzeOptions {
  paths: readonly string[];
  /** --format-of PATH=NAME */
  formatOf?: ReadonlyMap<string, string>;
  /** --skew PATH=MS */
  skew?: ReadonlyMap<string, number>;
  tz?: string;
  year?: number;
  stdin?: Readable;
  /** updated while inputs are read, for a progress line */
  progress?: Progress;
  /**
   * Formats given at run time (`--formats FILE`, the config directory, `--nginx-log-format`):
   * tried before the built-in ones, and usable by name in --format-of.
   */
  extraFormats?: readonly LogFormat[];
  /** when kept events go to spill files, and where (runs larger than memory) */
  spill?: SpillOptions;
}

export interface Progress {
  file: string;
  fileIndex: number;
  files: number;
  /** bytes of the inputs read so far, and in all (0 when unknown, e.g. stdin) */
  bytes: number;
  totalBytes: number;
  lines: number;
}

export interface AnalyzeResult {
  report: Report;
  /** at least one input was read and understood */
  usable: boolean;
  /** one-line problems for stderr */
  problems: string[];
  /** the run kept more events than memory holds and was read back from spill files */
  spilled: boolean;
}

/** Unparsed lines kept per input so a user can see what was not understood. */
const UNPARSED_SAMPLES = 5;

interface PreparedInput {
  source: InputSource;
  summary: InputSummary;
  format?: LogFormat;
  detection?: Detection;
  /** the lines already read for detection (stdin cannot be read twice) */
  head?: string[];
  rest?: AsyncIterator<string>;
  close?: () => void;
  yearHint?: number;
}

const YEAR_HINTS = [
  /\b(20\d{2})-\d{2}-\d{2}[T ]\d{2}:/,
  /\b(20\d{2})\/\d{2}\/\d{2} \d{2}:/,
  /\/[A-Z][a-z]{2}\/(20\d{2}):\d{2}/,
  /\b[A-Z][a-z]{2} \d{1,2} (20\d{2}) \d{2}:\d{2}/,
  /\b\d{1,2} [A-Z][a-z]{2} (20\d{2}) \d{2}:\d{2}/,
];

function yearHint(lines: readonly string[]): number | undefined {
  for (const line of lines.slice(0, 50)) {
    for (const re of YEAR_HINTS) {
      const m = re.exec(line);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}

/** Binary data is reported as such, not as thousands of unparsed lines. */
function binaryKind(head: readonly string[]): string | undefined {
  const text = head.slice(0, 50).join('\n');
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13)) odd++;
  }
  return text.length > 0 && odd > text.length * 0.1 ? 'binary data, not a text log' : undefined;
}

function isoMonth(lines: readonly string[]): number | undefined {
  for (const line of lines.slice(0, 50)) {
    const m = /\b20\d{2}-(\d{2})-\d{2}[T ]\d{2}:/.exec(line);
    if (m) return Number(m[1]) - 1;
  }
  return undefined;
}

/**
 * A yearless log that starts in December while the other logs are in January started the year
 * before (and the other way round).
 */
function yearAcrossNewYear(year: number, head: readonly string[], otherMonth: number | undefined): number {
  if (otherMonth === undefined) return year;
  for (const line of head.slice(0, 50)) {
    const m = /^(?:<\d+>)?([A-Z][a-z]{2})\s+\d{1,2} \d{2}:\d{2}:\d{2}/.exec(line);
    if (!m) continue;
    const month = monthIndex(m[1]);
    if (month >= 10 && otherMonth <= 1) return year - 1;
    if (month <= 1 && otherMonth >= 10) return year + 1;
    return year;
  }
  return year;
}

function matchesPath(
  map: ReadonlyMap<string, string | number> | undefined,
  path: string,
): string | number | undefined {
  if (!map) return undefined;
  if (map.has(path)) return map.get(path);
  for (const [k, v] of map) {
    if (path.endsWith(`/${k}`) || path.split('/').pop() === k) return v;
  }
  return undefined;
}

async function readHead(
  source: InputSource,
  stdin: Readable | undefined,
): Promise<{ head: string[]; rest: AsyncIterator<string>; close: () => void }> {
  const stream = openLines(source, stdin);
  const it = stream.lines[Symbol.asyncIterator]();
  const head: string[] = [];
  let nonEmpty = 0;
  while (nonEmpty < DETECT_LINES && head.length < DETECT_LINES * 20) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    if (r.value.trim() !== '') nonEmpty++;
  }
  return { head, rest: it, close: stream.close };
}

function emptySummary(path: string): InputSummary {
  return {
    path,
    format: 'unknown',
    role: null,
    lines: 0,
    events: 0,
    unparsed: 0,
    clockOffsetMs: 0,
    multiline: 0,
    skipped: 0,
  };
}

/** Events with nothing a rule or a reader could use are counted but not kept. */
function worthKeeping(e: LogEvent): boolean {
  return (
    e.signal !== undefined ||
    e.sip !== undefined ||
    e.http !== undefined ||
    e.ws !== undefined ||
    e.kind !== 'info'
  );
}

export async function analyze(opts: AnalyzeOptions): Promise<AnalyzeResult> {
  const problems: string[] = [];
  const formats: readonly LogFormat[] = [...(opts.extraFormats ?? []), ...FORMATS];
  const formatsByName = new Map(formats.map((f) => [f.name, f]));
  const { sources, problems: fsProblems } = await expandInputs(opts.paths);
  const prepared: PreparedInput[] = [];
  for (const p of fsProblems) {
    problems.push(`${p.path}: ${p.message}`);
    prepared.push({
      source: { path: p.path, kind: 'file' },
      summary: { ...emptySummary(p.path), error: p.message },
    });
  }

  // ---- detect every input from its first lines
  for (const source of sources) {
    const summary = emptySummary(source.path);
    const input: PreparedInput = { source, summary };
    prepared.push(input);
    try {
      const { head, rest, close } = await readHead(source, opts.stdin);
      input.head = head;
      input.rest = rest;
      input.close = close;
      if (source.kind === 'file') {
        // files are read again from the start; stdin continues where detection stopped
        close();
        input.rest = undefined;
      }
      const forced = matchesPath(opts.formatOf, source.path);
      if (forced !== undefined) {
        const format = formatsByName.get(String(forced));
        if (!format) throw new Error(`unknown format '${forced}' in --format-of (see 'logdiag formats')`);
        input.format = format;
        input.detection = { format, confidence: 1 };
      } else {
        input.detection = detectFormat(head, formats);
        input.format = input.detection.format;
      }
      input.yearHint = yearHint(head);
      const magic = source.kind === 'file' ? await binaryMagic(source.path) : undefined;
      const binary = magic ?? binaryKind(head);
      if (binary && forced === undefined) {
        input.format = undefined;
        problems.push(`${source.path}: ${binary}`);
        summary.error = binary;
      } else if (!input.format) {
        const first = input.detection.firstLine;
        const why = head.every((l) => l.trim() === '')
          ? 'empty input'
          : `format not recognised; first line: ${JSON.stringify((first ?? '').slice(0, 120))}`;
        problems.push(`${source.path}: ${why}`);
        summary.error = why;
      }
    } catch (err) {
      if (err instanceof Error && err.message.includes('--format-of')) throw err;
      const message = readError(err);
      problems.push(`${source.path}: ${message}`);
      summary.error = message;
      input.format = undefined;
    }
  }

  const years = prepared.map((p) => p.yearHint).filter((y): y is number => y !== undefined);
  const firstMonth = prepared.map((p) => isoMonth(p.head ?? [])).find((m) => m !== undefined);
  const year = opts.year ?? (years.length ? Math.min(...years) : new Date().getUTCFullYear());
  const localToEpoch = zoneResolver(opts.tz);

  // ---- parse
  if (opts.progress) {
    opts.progress.files = prepared.length;
    opts.progress.totalBytes = prepared.reduce((n, p) => n + (p.source.size ?? 0), 0);
  }
  const builder = new SessionBuilder((i) => prepared[i]?.format?.name ?? 'unknown', opts.spill);
  const inputs = prepared.map((p) => p.summary);
  for (let index = 0; index < prepared.length; index++) {
    const input = prepared[index];
    const summary = input.summary;
    if (!input.format || summary.error) {
      // still count what an unrecognised input held
      if (input.head && !summary.error?.startsWith('empty')) summary.lines = input.head.length;
      if (input.head && !input.format && !summary.error?.startsWith('empty'))
        summary.unparsed = input.head.filter((l) => l.trim() !== '').length;
      continue;
    }
    const format = input.format;
    summary.format = format.name;
    summary.role = format.role;
    const progress = opts.progress;
    const bytesBefore = progress?.bytes ?? 0;
    if (progress) {
      progress.file = input.source.path;
      progress.fileIndex = index + 1;
    }
    const inputYear = input.yearHint ?? opts.year ?? yearAcrossNewYear(year, input.head ?? [], firstMonth);
    const ctx: ParseContext = {
      input: index,
      path: input.source.path,
      year: inputYear,
      yearFor: yearTracker(inputYear),
      localToEpoch,
    };
    const parser = format.createParser(ctx);
    const samples: { line: number; text: string }[] = [];
    let lineNo = 0;
    const emit = (e: LogEvent) => {
      if (worthKeeping(e)) builder.add(e);
      else if (e.role === 'client') builder.noteUser(e.keys.user);
    };
    // accounting: every line read is an event line, part of a multi-line record, skipped or unparsed
    const count = (outcome: LineOutcome, line: string) => {
      switch (outcome) {
        case 'event':
          summary.events++;
          break;
        case 'part':
          summary.multiline!++;
          break;
        case 'skip':
          summary.skipped!++;
          break;
        case 'unparsed':
          summary.unparsed++;
          if (samples.length < UNPARSED_SAMPLES) samples.push({ line: lineNo, text: line.slice(0, 300) });
          break;
      }
    };
    const feed = (line: string) => {
      lineNo++;
      if (progress && (lineNo & 1023) === 0) {
        progress.lines += 1024;
        progress.bytes = bytesBefore + (stream?.bytesRead() ?? 0);
      }
      let outcome: LineOutcome;
      try {
        outcome = parser.push(line, lineNo, emit);
      } catch {
        outcome = 'unparsed';
      }
      count(outcome, line);
    };
    let stream: ReturnType<typeof openLines> | undefined;
    try {
      if (input.rest) {
        for (const line of input.head ?? []) feed(line);
        for (let r = await input.rest.next(); !r.done; r = await input.rest.next()) feed(r.value);
      } else {
        stream = openLines(input.source, opts.stdin);
        await stream.each(feed);
      }
      parser.end(emit);
    } catch (err) {
      const message = `read error after line ${lineNo}: ${readError(err)}`;
      problems.push(`${input.source.path}: ${message}`);
      summary.error = message;
      try {
        parser.end(emit);
      } catch {
        /* the partial record is lost with the stream */
      }
    } finally {
      stream?.close();
    }
    summary.lines = lineNo;
    if (progress) {
      progress.lines += lineNo & 1023;
      progress.bytes = bytesBefore + (input.source.size ?? stream?.bytesRead() ?? 0);
    }
    const truncated = stream?.truncated() ?? 0;
    if (truncated > 0) {
      summary.truncatedLines = truncated;
      problems.push(`${input.source.path}: ${truncated} line(s) longer than 64 KB were cut`);
    }
    if (samples.length) summary.unparsedSamples = samples;
    if (summary.unparsed > 0 && summary.unparsed === summary.lines) {
      problems.push(`${input.source.path}: no line could be read as ${format.name}`);
    }
  }

  // ---- correlate: clocks, then time matching, then the run's context; each a pass over sessions
  const correlated = builder.finish();
  let run: RunClassification;
  try {
    run = correlateAndClassify(
      correlated,
      prepared.map((p) => ({
        role: p.format ? p.format.role : null,
        format: p.format?.name,
        overrideMs: numberOrUndefined(matchesPath(opts.skew, p.source.path)),
      })),
      prepared.map((p) => ({ path: p.source.path, role: p.format?.role ?? null })),
      (offsets) => offsets.forEach((o, i) => (inputs[i].clockOffsetMs = o)),
    );
  } finally {
    correlated.close();
  }

  const report: Report = {
    schemaVersion: 1,
    tool: { name: 'logdiag', version: VERSION },
    inputs,
    summary: {
      sessions: run.sessions,
      failedSessions: run.findings.length,
      byCause: run.byCause,
      primaryCause: run.primaryCause,
      healthySessions: run.healthySessions,
      attempts: run.attempts,
      failuresBegan: run.failuresBegan,
      verdict: run.verdict,
      ruledOut: run.ruledOut,
      triage: run.triage,
      ...(Object.keys(run.unattributed).length ? { unattributed: run.unattributed } : {}),
      ...(run.run.idleTimeoutMs !== undefined ? { idleTimeoutMs: run.run.idleTimeoutMs } : {}),
    },
    findings: run.findings,
  };
  const usable = inputs.some((i) => i.role !== null && i.events > 0);
  return { report, usable, problems, spilled: correlated.spilled };
}

/**
 * The stages after parsing, as passes over the correlated sessions (in memory, or read back from
 * spill files one partition at a time): clock pairs and time-matching views; the run context;
 * the verdicts.
 */
function correlateAndClassify(
  correlated: CorrelatedRun,
  clockInputs: readonly InputClock[],
  inputRefs: readonly InputRef[],
  onOffsets: (offsets: readonly number[]) => void,
): RunClassification {
  const context = new RunContextBuilder();
  // pass 1: clock pairs and time-matching slots (both dropped once they have done their part)
  {
    const pairs = new ClockPairs();
    const attach = new AttachIndex();
    correlated.forEachSession((s, ref, order) => {
      pairs.addSession(s);
      attach.addSession(s, ref, order);
    });
    const { offsets } = pairs.estimate(clockInputs);
    onOffsets(offsets);
    correlated.setClocks(offsets);
    correlated.forEachKeyless((e, ref) => {
      context.addKeyless(e);
      attach.addKeyless(e, ref, true);
    });
    correlated.setAttachment(attach.plan(offsets));
  }

  // pass 2: the run's context; pass 3: the verdicts
  correlated.forEachSession((s) => context.addSession(s));
  const classifier = new RunClassifier(context.finish(), inputRefs, correlated.anyUser);
  correlated.forEachSession((s) => classifier.add(s));
  return classifier.finish();
}

function numberOrUndefined(v: string | number | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') return 'corrupt or truncated gzip data';
  return err instanceof Error ? err.message : String(err);
}
