/**
 * The command line: wires options to the pipeline. No analysis happens here.
 */
import { promises as fs } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { analyze } from './analyze.js';
import { detectFormat } from './formats/detect.js';
import { FORMATS } from './formats/index.js';
import { expandInputs, openLines } from './ingest/sources.js';
import { CAUSES, type CauseId, type Report } from './model.js';
import { REPORTERS, type ReporterName } from './report/index.js';
import { VERSION } from './version.js';

export class UsageError extends Error {}

function collectPair(kind: string) {
  return (value: string, previous: Map<string, string>) => {
    const eq = value.lastIndexOf('=');
    if (eq <= 0 || eq === value.length - 1) throw new UsageError(`${kind} expects PATH=VALUE, got '${value}'`);
    previous.set(value.slice(0, eq), value.slice(eq + 1));
    return previous;
  };
}

export function parseFailOn(text: string): Set<CauseId> | 'any' | 'none' {
  const t = text.trim().toLowerCase();
  if (t === 'any') return 'any';
  if (t === 'none') return 'none';
  const set = new Set<CauseId>();
  for (const part of t.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(CAUSES as readonly string[]).includes(part)) {
      throw new UsageError(`--fail-on: unknown cause '${part}' (use any, none, or a list of: ${CAUSES.join(', ')})`);
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

function useColor(stream: NodeJS.WriteStream, flag: boolean | undefined): boolean {
  if (flag === false || process.env.NO_COLOR !== undefined) return false;
  return Boolean(stream.isTTY);
}

interface AnalyzeFlags {
  format: ReporterName;
  output?: string;
  failOn: string;
  formatOf: Map<string, string>;
  skew: Map<string, string>;
  tz?: string;
  year?: string;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
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
    if (!Number.isInteger(year) || year < 1970 || year > 2200) throw new UsageError(`--year ${flags.year}: not a year`);
  }
  const formatOf = new Map<string, string>();
  for (const [path, name] of flags.formatOf) {
    if (!FORMATS.some((f) => f.name === name)) throw new UsageError(`--format-of ${path}=${name}: unknown format (see 'logdiag formats')`);
    formatOf.set(path, name);
  }
  let result;
  try {
    result = await analyze({ paths, formatOf, skew, tz: flags.tz, year });
  } catch (err) {
    if (err instanceof Error && /time zone|--format-of/.test(err.message)) throw new UsageError(err.message);
    throw err;
  }
  if (!flags.quiet) for (const p of result.problems) process.stderr.write(`logdiag: ${p}\n`);
  if (!result.usable) {
    process.stderr.write('logdiag: nothing readable in the inputs\n');
    return 2;
  }
  const toFile = flags.output !== undefined;
  const text = REPORTERS[flags.format](result.report, {
    color: !toFile && flags.format === 'table' && useColor(process.stdout, flags.color),
    verbose: flags.verbose,
  });
  if (toFile) await fs.writeFile(flags.output!, text);
  else process.stdout.write(text);
  return exitCodeFor(result.report, failOn);
}

async function runFormats(): Promise<number> {
  for (const f of FORMATS) {
    process.stdout.write(`${f.name.padEnd(16)} ${f.role.padEnd(7)} ${f.description}\n`);
    if (f.samples[0]) process.stdout.write(`${''.padEnd(24)} e.g. ${f.samples[0].line.slice(0, 150)}\n`);
  }
  return 0;
}

async function runDetect(paths: string[]): Promise<number> {
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
    const d = detectFormat(head, FORMATS);
    const runner = d.runnerUp ? ` (runner-up ${d.runnerUp.name} ${d.runnerUp.confidence})` : '';
    if (d.format) process.stdout.write(`${source.path}: ${d.format.name} [${d.format.role}] confidence ${d.confidence}${runner}\n`);
    else {
      unknown++;
      process.stdout.write(`${source.path}: unknown${runner}; first line: ${JSON.stringify(d.firstLine ?? '')}\n`);
    }
  }
  return unknown > 0 ? 1 : 0;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('logdiag')
    .description('Why did WebRTC softphone (SIP over WebSocket) connections fail? Reads SBC, load-balancer and client logs together.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);

  program
    .command('analyze')
    .description('analyse logs and explain every failed session')
    .argument('[paths...]', 'log files, directories (recursive), .gz files, or - for stdin')
    .addOption(new Option('-f, --format <name>', 'report format').choices(Object.keys(REPORTERS)).default('table'))
    .option('-o, --output <file>', 'write the report to a file')
    .option('--fail-on <causes>', 'exit 1 when a finding has one of these causes: any, none, or a comma list', 'any')
    .option('--format-of <path=name>', 'force the format of an input (repeatable)', collectPair('--format-of'), new Map())
    .option('--skew <path=ms>', "an input's clock offset in ms, instead of the estimate (repeatable)", collectPair('--skew'), new Map())
    .option('--tz <zone>', 'time zone of logs that write local time without a zone (UTC, +02:00, Europe/Berlin)')
    .option('--year <year>', 'year of logs that write none (syslog); default: inferred from the other inputs')
    .option('-v, --verbose', 'show every finding in the terminal report')
    .option('-q, --quiet', 'no warnings on stderr')
    .option('--no-color', 'no colour in the terminal report')
    .action(async (paths: string[], flags: AnalyzeFlags) => setExit(await runAnalyze(paths, flags)));

  program
    .command('formats')
    .description('list the log formats logdiag reads')
    .action(async () => setExit(await runFormats()));

  program
    .command('detect')
    .description('say which format each file was detected as')
    .argument('<paths...>')
    .action(async (paths: string[]) => setExit(await runDetect(paths)));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
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
