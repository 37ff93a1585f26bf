/**
 * Scenario simulator: writes the logs a WebRTC softphone load test leaves behind (an SBC:
 * Kamailio, OpenSIPS, FreeSWITCH or Asterisk; an edge: nginx, HAProxy, AWS ALB, Envoy or Traefik;
 * the clients: a JsSIP or SIP.js harness log, JSON lines, or one HAR per browser user), each user
 * failing (or not) for a planted cause, plus the ground truth. Line shapes follow the reference
 * notes, not any logdiag parser.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LogSink, runScenario, type UserSpec } from './engine.js';
import {
  outcomeCounts,
  validateOptions,
  type AnyVariant,
  type PlantedCause,
  type SimulateOptions,
  type SimulateResult,
  type TrueOutcome,
} from './options.js';
import { mixSeed, Prng } from './prng.js';
import { scenarioReadme } from './readme.js';
import { chooseVariant } from './stories.js';
import { World, type LogFile } from './world.js';

export {
  parseCauseMix,
  CAUSE_VARIANTS,
  CLIENT_FORMATS,
  LB_PRODUCTS,
  SBC_PRODUCTS,
  variantSupported,
} from './options.js';
export type { SimulateOptions, SimulateResult, TrueOutcome, VariantWeights } from './options.js';
export { SAMPLE_SCENARIOS, type SampleScenario } from './samples.js';

const FILE_NAMES: Record<LogFile, string> = {
  sbc: 'sbc.log',
  lb: 'lb.log',
  lbError: 'lb-error.log',
  client: 'client.log',
};

/** The directory of the per-user HAR files (`--client har`). */
export const HAR_DIR = 'har';

/** Spread of the harness's stop over the users at the end of the test, ms. */
const STOP_SPREAD_MS = 2500;

export async function simulate(opts: SimulateOptions): Promise<SimulateResult> {
  validateOptions(opts);
  const world = new World(opts);
  const users = planUsers(world);

  await mkdir(opts.outDir, { recursive: true });
  const files: LogFile[] = ['sbc', 'lb'];
  if (opts.lb === 'nginx') files.push('lbError');
  if (opts.client !== 'har') files.push('client');
  // logs left by an earlier run with other products would pass for this scenario's
  for (const file of Object.keys(FILE_NAMES) as LogFile[])
    if (!files.includes(file)) await rm(join(opts.outDir, FILE_NAMES[file]), { force: true });
  await rm(join(opts.outDir, HAR_DIR), { recursive: true, force: true });
  if (opts.client === 'har') await mkdir(join(opts.outDir, HAR_DIR));
  const sinks: Partial<Record<LogFile, LogSink>> = {};
  for (const file of files) sinks[file] = new LogSink(join(opts.outDir, FILE_NAMES[file]));
  const own = await runScenario(world, users, sinks, opts.outDir);
  own.paths.sort();

  const truthPath = join(opts.outDir, 'truth.json');
  await writeFile(truthPath, truthJson(opts, users, world.idleCutUsers));
  const logNames = files.map((f) => FILE_NAMES[f]);
  if (own.paths.length > 0) logNames.push(`${HAR_DIR}/<user>.har (${own.paths.length} files)`);
  const readmePath = join(opts.outDir, 'README.md');
  await writeFile(readmePath, scenarioReadme(world, [...logNames, 'truth.json']));

  let lines = own.lines;
  let bytes = own.bytes;
  for (const sink of Object.values(sinks)) {
    lines += sink?.lines ?? 0;
    bytes += sink?.bytes ?? 0;
  }
  return {
    files: [...files.map((f) => join(opts.outDir, FILE_NAMES[f])), ...own.paths, readmePath],
    truthPath,
    lines,
    bytes,
  };
}

/** Who fails for what, when each user starts and stops: all decided up front from the seed. */
function planUsers(world: World): UserSpec[] {
  const opts = world.opts;
  const prefix = opts.userPrefix ?? 'agent-';
  const width = Math.max(3, String(opts.users).length);
  const outcomes: TrueOutcome[] = [];
  for (const [outcome, count] of outcomeCounts(opts.users, opts.causes)) {
    for (let i = 0; i < count; i++) outcomes.push(outcome);
  }
  const shuffle = new Prng(mixSeed(opts.seed, 0x5f1e));
  for (let i = outcomes.length - 1; i > 0; i--) {
    const j = shuffle.int(0, i);
    [outcomes[i], outcomes[j]] = [outcomes[j], outcomes[i]];
  }
  const rampMs = opts.rampSec * 1000;
  const slot = rampMs / opts.users;
  return outcomes.map((outcome, index) => {
    const rng = new Prng(mixSeed(opts.seed, index, 0x51a27));
    const variant: AnyVariant | null =
      outcome === 'healthy' ? null : chooseVariant(outcome as PlantedCause, opts, opts.variants, rng);
    return {
      index,
      name: `${prefix}${String(index + 1).padStart(width, '0')}`,
      outcome,
      variant,
      startMs: Math.round(world.startMs + index * slot + rng.next() * slot),
      stopMs: world.endMs + rng.int(0, STOP_SPREAD_MS),
    };
  });
}

/**
 * What each user really went through: a user planted for an idle cut whose test ended before the
 * cut came (a late start in a short test) stayed connected and registered, so it is healthy.
 */
function truthJson(opts: SimulateOptions, users: UserSpec[], idleCut: ReadonlySet<string>): string {
  const { outDir: _outDir, start, ...rest } = opts;
  const scenario = { ...rest, start: start.toISOString() };
  const truth: Record<string, TrueOutcome> = {};
  const variants: Record<string, AnyVariant> = {};
  for (const user of users) {
    if (user.outcome === 'idle-timeout' && !idleCut.has(user.name)) {
      truth[user.name] = 'healthy';
      continue;
    }
    truth[user.name] = user.outcome;
    if (user.variant !== null) variants[user.name] = user.variant;
  }
  return JSON.stringify({ scenario, users: truth, variants }, null, 2) + '\n';
}
