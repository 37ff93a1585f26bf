/**
 * The command line: wires options to the pipeline. No analysis happens here.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { basename } from 'node:path';
import { analyze, type Progress } from './analyze.js';
import { MAX_EVENTS_IN_MEMORY } from './correlate/sessions.js';
import { detectFormat } from './formats/detect.js';
import { FORMATS } from './formats/index.js';
import { compileNginxLogFormat } from './formats/nginx-log-format.js';
import type { LogFormat } from './formats/types.js';
import { UserFormatError, type UserLogFormat } from './formats/user-defined.js';
import { loadRunFormats } from './ingest/user-formats.js';
import { expandInputs, openLines } from './ingest/sources.js';
import { CAUSES, type CauseId, type Report } from './model.js';
import { REPORTERS, type ReporterName } from './report/index.js';
import { makeRedactor, redactReport } from './report/redact.js';
import {
  CLIENT_FORMATS,
  LB_PRODUCTS,
  parseCauseMix,
  SAMPLE_SCENARIOS,
  SBC_PRODUCTS,
  simulate,
  type SimulateOptions,
} from './simulate/index.js';
import { VERSION } from './version.js';

export class UsageError extends Error {}

function collectPair(kind: string) {
  return (value: string, previous: Map<string, string>) => {
    const eq = value.lastIndexOf('=');
    if (eq <= 0 || eq === value.length - 1)
      throw new UsageError(`${kind} expects PATH=VALUE, got '${value}'`);
    previous.set(value.slice(0, eq), value.slice(eq + 1));
    return previous;
  };
}

export function parseFailOn(text: string): Set<CauseId> | 'any' | 'none' {
  const t = text.trim().toLowerCase();
  if (t === 'any') return 'any';
  if (t === 'none') return 'none';
  const set = new Set<CauseId>();
  for (const part of t
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(CAUSES as readonly string[]).includes(part)) {
      throw new UsageError(
        `--fail-on: unknown cause '${part}' (use any, none, or a list of: ${CAUSES.join(', ')})`,
      );
    }
    set.add(part as CauseId);
  }
  if (set.size === 0) throw new UsageError('--fail-on needs any, none, or a list of causes');
  return set;
}

export function exitCodeFor(report: Report, failOn: Set<CauseId> | 'any' | 'none'): number {
  if (failOn === 'none') return 0;
  if (failOn === 'any') return report.findings.length > 0 ? 1 : 0;
  return report.findings.some((f) => failOn.has(f.cause)) ? 1 : 0;
}

/** "logdiag: 2/4 client.log · 310 of 1024 MB · 1.2 M lines/s · ETA 9 s" */
export function progressLine(p: Progress, started: number): string {
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  const mb = (n: number) => (n / 1e6).toFixed(0);
  const rate = p.lines / secs;
  const parts = [`logdiag: ${p.fileIndex}/${p.files} ${basename(p.file)}`];
  if (p.totalBytes > 0) parts.push(`${mb(p.bytes)} of ${mb(p.totalBytes)} MB`);
  parts.push(`${rate >= 1e6 ? `${(rate / 1e6).toFixed(1)} M` : `${Math.round(rate / 1e3)} k`} lines/s`);
  if (p.totalBytes > 0 && p.bytes > 0 && p.bytes < p.totalBytes) {
    parts.push(`ETA ${Math.ceil(((p.totalBytes - p.bytes) * secs) / p.bytes)} s`);
  }
  return parts.join(' · ');
}

function useColor(stream: NodeJS.WriteStream, flag: boolean | undefined): boolean {
  if (flag === false || process.env.NO_COLOR !== undefined) return false;
  return Boolean(stream.isTTY);
}

interface AnalyzeFlags {
  format: ReporterName;
  output?: string;
  failOn: string;
  formatOf: Map<string, string>;
  formats: string[];
  nginxLogFormat?: string;
  skew: Map<string, string>;
  tz?: string;
  year?: string;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
  redact: boolean;
  redactIps?: boolean;
  maxEventsInMemory?: string;
  tmpDir?: string;
}

async function isWritableDir(path: string): Promise<boolean> {
  try {
    await fs.access(path, constants.W_OK);
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function runAnalyze(paths: string[], flags: AnalyzeFlags): Promise<number> {
  if (paths.length === 0) throw new UsageError('analyze needs at least one file, directory or - for stdin');
  const failOn = parseFailOn(flags.failOn);
  const skew = new Map<string, number>();
  for (const [path, ms] of flags.skew) {
    const n = Number(ms);
    if (!Number.isFinite(n)) throw new UsageError(`--skew ${path}=${ms}: not a number of milliseconds`);
    skew.set(path, n);
  }
  let year: number | undefined;
  if (flags.year !== undefined) {
    year = Number(flags.year);
    if (!Number.isInteger(year) || year < 1970 || year > 2200)
      throw new UsageError(`--year ${flags.year}: not a year`);
  }
  let maxEventsInMemory: number | undefined;
  if (flags.maxEventsInMemory !== undefined) {
    maxEventsInMemory = Number(flags.maxEventsInMemory);
    if (!Number.isInteger(maxEventsInMemory) || maxEventsInMemory < 1)
      throw new UsageError(`--max-events-in-memory ${flags.maxEventsInMemory}: not a positive whole number`);
  }
  if (flags.tmpDir !== undefined && !(await isWritableDir(flags.tmpDir)))
    throw new UsageError(`--tmp-dir ${flags.tmpDir}: not a writable directory`);
  if (!flags.redact && flags.redactIps)
    throw new UsageError('--redact-ips needs redaction on (drop --no-redact)');
  const extraFormats: LogFormat[] = [
    ...nginxCustom(flags.nginxLogFormat),
    ...(await userFormats(flags.formats)),
  ];
  const formatOf = new Map<string, string>();
  for (const [path, name] of flags.formatOf) {
    if (![...extraFormats, ...FORMATS].some((f) => f.name === name))
      throw new UsageError(`--format-of ${path}=${name}: unknown format (see 'logdiag formats')`);
    formatOf.set(path, name);
  }
  let result;
  const live = !flags.quiet && Boolean(process.stderr.isTTY);
  const progress: Progress = { file: '', fileIndex: 0, files: 0, bytes: 0, totalBytes: 0, lines: 0 };
  const started = Date.now();
  const ticker = live
    ? setInterval(() => process.stderr.write(`\r\u001b[K${progressLine(progress, started)}`), 250)
    : undefined;
  try {
    result = await analyze({
      paths,
      formatOf,
      skew,
      tz: flags.tz,
      year,
      progress,
      extraFormats,
      spill: { maxEventsInMemory, tmpDir: flags.tmpDir },
    });
  } catch (err) {
    if (err instanceof Error && /time zone|--format-of/.test(err.message)) throw new UsageError(err.message);
    throw err;
  } finally {
    if (ticker) {
      clearInterval(ticker);
      process.stderr.write('\r\u001b[K');
    }
  }
  // one key per run: a secret gets the same pseudonym in the report and on stderr
  const redaction = { ips: Boolean(flags.redactIps), key: randomBytes(32) };
  const redactor = flags.redact ? makeRedactor(redaction) : (text: string) => text;
  if (!flags.redact)
    process.stderr.write(
      'logdiag: warning: --no-redact: the report may contain secrets (tokens, passwords, cookies, digest nonces)\n',
    );
  if (!flags.quiet) for (const p of result.problems) process.stderr.write(`logdiag: ${redactor(p)}\n`);
  if (!result.usable) {
    process.stderr.write('logdiag: nothing readable in the inputs\n');
    return 2;
  }
  const report = flags.redact ? redactReport(result.report, redaction) : result.report;
  const toFile = flags.output !== undefined;
  const text = REPORTERS[flags.format](report, {
    color: !toFile && flags.format === 'table' && useColor(process.stdout, flags.color),
    verbose: flags.verbose,
    redacted: flags.redact,
  });
  if (toFile) await fs.writeFile(flags.output!, text);
  else process.stdout.write(text);
  return exitCodeFor(report, failOn);
}

/** `--nginx-log-format '<log_format string>'`: the site's own access log, read as nginx-custom. */
function nginxCustom(spec: string | undefined): LogFormat[] {
  if (spec === undefined) return [];
  try {
    return [compileNginxLogFormat(spec)];
  } catch (err) {
    throw new UsageError(`--nginx-log-format: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** `--formats FILE` (repeatable) and the config directory; a bad file is a usage error. */
async function userFormats(files: readonly string[]): Promise<UserLogFormat[]> {
  try {
    return await loadRunFormats(files);
  } catch (err) {
    if (err instanceof UserFormatError) throw new UsageError(err.message);
    throw err;
  }
}

function collectList(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runFormats(flags: { formats: string[] }): Promise<number> {
  const user = await userFormats(flags.formats);
  for (const f of [...user, ...FORMATS]) {
    const origin = 'origin' in f ? ` (user-defined: ${f.origin})` : '';
    process.stdout.write(`${f.name.padEnd(16)} ${f.role.padEnd(7)} ${f.description}${origin}\n`);
    if (f.samples[0]) process.stdout.write(`${''.padEnd(24)} e.g. ${f.samples[0].line.slice(0, 150)}\n`);
  }
  return 0;
}

async function runDetect(paths: string[], flags: { formats: string[] }): Promise<number> {
  const formats = [...(await userFormats(flags.formats)), ...FORMATS];
  const { sources, problems } = await expandInputs(paths);
  for (const p of problems) process.stdout.write(`${p.path}: error: ${p.message}\n`);
  let unknown = problems.length;
  for (const source of sources) {
    const stream = openLines(source);
    const head: string[] = [];
    try {
      for await (const line of stream.lines) {
        head.push(line);
        if (head.length >= 400) break;
      }
    } catch (err) {
      process.stdout.write(`${source.path}: error: ${err instanceof Error ? err.message : String(err)}\n`);
      unknown++;
      continue;
    } finally {
      stream.close();
    }
    const d = detectFormat(head, formats);
    const runner = d.runnerUp ? ` (runner-up ${d.runnerUp.name} ${d.runnerUp.confidence})` : '';
    if (d.format)
      process.stdout.write(
        `${source.path}: ${d.format.name} [${d.format.role}] confidence ${d.confidence}${runner}\n`,
      );
    else {
      unknown++;
      const closest = d.runnerUp ? ` (closest: ${d.runnerUp.name}, ${d.runnerUp.confidence})` : '';
      process.stdout.write(
        `${source.path}: unknown${closest}; first line: ${JSON.stringify(d.firstLine ?? '')}\n`,
      );
    }
  }
  return unknown > 0 ? 1 : 0;
}

interface SimulateFlags {
  out: string;
  scenario?: string;
  users?: string;
  duration?: string;
  ramp?: string;
  causes?: string;
  sbc?: string;
  lb?: string;
  client?: string;
  seed?: string;
  skew: Map<string, string>;
  noise?: string;
  idleTimeout?: string;
  start?: string;
}

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} ${text}: not a non-negative number`);
  return n;
}

function oneOf<T extends string>(
  name: string,
  text: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text))
    throw new UsageError(`${name} ${text}: use one of ${allowed.join(', ')}`);
  return text as T;
}

async function runSimulate(flags: SimulateFlags): Promise<number> {
  let base: Omit<SimulateOptions, 'outDir'>;
  if (flags.scenario) {
    const sample = SAMPLE_SCENARIOS.find((s) => s.name === flags.scenario);
    if (!sample)
      throw new UsageError(
        `--scenario ${flags.scenario}: use one of ${SAMPLE_SCENARIOS.map((s) => s.name).join(', ')}`,
      );
    base = sample.options;
  } else {
    base = {
      users: 100,
      durationSec: 300,
      rampSec: 60,
      causes: { 'sbc-throttling': 0.2, 'idle-timeout': 0.1 },
      sbc: 'kamailio',
      lb: 'nginx',
      client: 'jssip',
      seed: 1,
      skewMs: { sbc: 0, lb: 0, client: 0 },
      noise: 5,
      idleTimeoutSec: 60,
      start: new Date('2026-11-24T10:00:00.000Z'),
    };
  }
  let causes = base.causes;
  if (flags.causes !== undefined) {
    try {
      causes = parseCauseMix(flags.causes);
    } catch (err) {
      throw new UsageError(`--causes: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const skewMs = { ...base.skewMs };
  for (const [role, ms] of flags.skew) {
    if (role !== 'sbc' && role !== 'lb' && role !== 'client')
      throw new UsageError(`--skew ${role}=${ms}: the role must be sbc, lb or client`);
    skewMs[role] = positiveOrSigned(ms, `--skew ${role}`);
  }
  const start = flags.start !== undefined ? new Date(flags.start) : base.start;
  if (Number.isNaN(start.getTime())) throw new UsageError(`--start ${flags.start}: not an ISO time`);
  const options: SimulateOptions = {
    ...base,
    outDir: flags.out,
    users: Math.round(positiveNumber('--users', flags.users, base.users)),
    durationSec: positiveNumber('--duration', flags.duration, base.durationSec),
    rampSec: positiveNumber('--ramp', flags.ramp, base.rampSec),
    causes,
    sbc: oneOf('--sbc', flags.sbc, SBC_PRODUCTS, base.sbc),
    lb: oneOf('--lb', flags.lb, LB_PRODUCTS, base.lb),
    client: oneOf('--client', flags.client, CLIENT_FORMATS, base.client),
    seed: Math.round(positiveNumber('--seed', flags.seed, base.seed)),
    skewMs,
    noise: positiveNumber('--noise', flags.noise, base.noise),
    idleTimeoutSec: positiveNumber('--idle-timeout', flags.idleTimeout, base.idleTimeoutSec),
    start,
  };
  let result;
  try {
    result = await simulate(options);
  } catch (err) {
    if (err instanceof Error && !('code' in err)) throw new UsageError(err.message);
    throw err;
  }
  process.stderr.write(
    `logdiag: wrote ${result.lines} lines (${(result.bytes / 1e6).toFixed(1)} MB) to ${flags.out}; truth in ${result.truthPath}\n`,
  );
  return 0;
}

function positiveOrSigned(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isFinite(n)) throw new UsageError(`${name}=${text}: not a number of milliseconds`);
  return n;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('logdiag')
    .description(
      'Why did WebRTC softphone (SIP over WebSocket) connections fail? Reads SBC, load-balancer and client logs together.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);

  program
    .command('analyze')
    .description('analyse logs and explain every failed session')
    .argument('[paths...]', 'log files, directories (recursive), .gz files, or - for stdin')
    .addOption(
      new Option('-f, --format <name>', 'report format').choices(Object.keys(REPORTERS)).default('table'),
    )
    .option('-o, --output <file>', 'write the report to a file')
    .option(
      '--fail-on <causes>',
      'exit 1 when a finding has one of these causes: any, none, or a comma list',
      'any',
    )
    .option(
      '--format-of <path=name>',
      'force the format of an input (repeatable)',
      collectPair('--format-of'),
      new Map(),
    )
    .option(
      '--skew <path=ms>',
      "an input's clock offset in ms, instead of the estimate (repeatable)",
      collectPair('--skew'),
      new Map(),
    )
    .option(
      '--tz <zone>',
      'time zone of logs that write local time without a zone (UTC, +02:00, Europe/Berlin)',
    )
    .option('--year <year>', 'year of logs that write none (syslog); default: inferred from the other inputs')
    .option('-v, --verbose', 'show every finding in the terminal report')
    .option('-q, --quiet', 'no warnings on stderr')
    .option('--no-color', 'no colour in the terminal report')
    .option('--redact-ips', 'also pseudonymise IPv4/IPv6 addresses (ports are kept)')
    .option(
      '--no-redact',
      'print secrets as found (default: tokens, passwords, cookies, digest nonces become pseudonyms)',
    )
    .option(
      '--formats <file>',
      'user-defined log formats (JSON, see docs/FORMATS.md; repeatable); also loaded: $LOGDIAG_FORMATS_DIR/*.json',
      collectList,
      [],
    )
    .option(
      '--nginx-log-format <spec>',
      "nginx access logs written with this log_format (the string from nginx.conf), read as 'nginx-custom'",
    )
    .option(
      '--max-events-in-memory <n>',
      `events held in memory before the run spills its sessions to disk (default ${MAX_EVENTS_IN_MEMORY})`,
    )
    .option('--tmp-dir <dir>', 'where a large run spills (default: $TMPDIR or /tmp); removed at the end')
    .action(async (paths: string[], flags: AnalyzeFlags) => setExit(await runAnalyze(paths, flags)));

  program
    .command('formats')
    .description('list the log formats logdiag reads')
    .option(
      '--formats <file>',
      'also list the user-defined formats in this file (repeatable)',
      collectList,
      [],
    )
    .action(async (flags: { formats: string[] }) => setExit(await runFormats(flags)));

  program
    .command('detect')
    .description('say which format each file was detected as')
    .argument('<paths...>')
    .option('--formats <file>', 'user-defined log formats to try first (repeatable)', collectList, [])
    .action(async (paths: string[], flags: { formats: string[] }) => setExit(await runDetect(paths, flags)));

  program
    .command('simulate')
    .description('write a realistic load-test scenario (SBC, LB and client logs) and its truth.json')
    .requiredOption('--out <dir>', 'directory to write into')
    .option(
      '--scenario <name>',
      `start from a sample scenario (${SAMPLE_SCENARIOS.map((s) => s.name).join(', ')})`,
    )
    .option('--users <n>', 'softphones (default 100)')
    .option('--duration <s>', 'test length in seconds (default 300)')
    .option('--ramp <s>', 'users start spread over this many seconds (default 60)')
    .option(
      '--causes <mix>',
      'share of users per cause, e.g. sbc-throttling=0.3,idle-timeout=0.1 (rest healthy)',
    )
    .option('--sbc <name>', `SBC log format: ${SBC_PRODUCTS.join(' | ')} (default kamailio)`)
    .option('--lb <name>', `LB log format: ${LB_PRODUCTS.join(' | ')} (default nginx)`)
    .option(
      '--client <name>',
      `client log format: ${CLIENT_FORMATS.join(' | ')} (har: one HAR per user under har/; default jssip)`,
    )
    .option('--seed <n>', 'random seed (same seed, same files)')
    .option(
      '--skew <role=ms>',
      'clock error of a role’s log, e.g. client=1200 (repeatable)',
      collectPair('--skew'),
      new Map(),
    )
    .option('--noise <n>', 'unrelated lines per 100 lines (default 5)')
    .option('--idle-timeout <s>', 'the LB idle / tunnel timeout (default 60)')
    .option('--start <iso>', 'start time of the test')
    .action(async (flags: SimulateFlags) => setExit(await runSimulate(flags)));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return 0;
      return 2; // commander already printed its one-line message
    }
    if (err instanceof UsageError) {
      process.stderr.write(`logdiag: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return code;
}
