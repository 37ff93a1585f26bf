#!/usr/bin/env node
/**
 * logdiag benchmark (issue #7): throughput, peak memory, accuracy and clock-offset error of the
 * built CLI against scenarios written by `logdiag simulate`, plus a side-by-side with lnav.
 *
 *   npm run bench                 full run (~1.3 GB of generated input, several minutes)
 *   npm run bench -- --quick      ~20 MB, under a minute: for trying it
 *
 * Options: --quick, --no-build, --no-lnav, --timeout-min N (per analysis, default 15 full / 2 quick),
 *          --render (only rewrite results.md from results.json),
 *          --profile (one extra, untimed `node --cpu-prof` run on the smaller scale scenario: top self time),
 *          --out DIR (inputs, default bench/out), --results DIR (results.md/.json, default bench/).
 *
 * Plain Node ESM, no dependencies: it calls `node bin/logdiag.js` as a child process, so what is
 * measured is what a user runs (process start, detection, parsing, correlation, report).
 * Inputs go under bench/out/<name>/ with a manifest.json; a scenario is reused when its simulate
 * parameters and the simulator's compiled code are unchanged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'logdiag.js');
const T0 = performance.now();
const MB = 1e6; // MB = 10^6 bytes throughout

// ---------------------------------------------------------------------------------------------
// options

function parseArgs(argv) {
  const opts = {
    quick: false,
    build: true,
    lnav: true,
    profile: false,
    timeoutMin: null,
    out: null,
    results: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--no-lnav') opts.lnav = false;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--render') opts.render = true;
    else if (a === '--timeout-min') opts.timeoutMin = Number(argv[++i]);
    else if (a === '--out') opts.out = resolve(argv[++i]);
    else if (a === '--results') opts.results = resolve(argv[++i]);
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${a} (try --help)`);
      process.exit(2);
    }
  }
  if (opts.timeoutMin !== null && !(opts.timeoutMin > 0)) {
    console.error('bench: --timeout-min needs a positive number');
    process.exit(2);
  }
  opts.timeoutMin ??= opts.quick ? 2 : 15;
  opts.out ??= join(ROOT, 'bench', 'out', opts.quick ? 'quick' : 'full');
  opts.results ??= join(ROOT, 'bench');
  return opts;
}

const OPTS = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------
// plan

/** Every cause at once (the shares of the `mixed-causes` sample); the rest of the users are healthy. */
const ALL_CAUSES = {
  'sbc-throttling': 0.12,
  'edge-rate-limit': 0.1,
  'idle-timeout': 0.1,
  'client-misconfig': 0.08,
  'upstream-timeout': 0.08,
  'auth-failure': 0.06,
};
const PLANTED = Object.keys(ALL_CAUSES);
const MIXES = [
  { name: 'nginx+jssip', sbc: 'kamailio', lb: 'nginx', client: 'jssip' },
  { name: 'haproxy+sipjs', sbc: 'kamailio', lb: 'haproxy', client: 'sipjs' },
  { name: 'nginx+sipjs', sbc: 'kamailio', lb: 'nginx', client: 'sipjs' },
  { name: 'opensips+envoy+har', sbc: 'opensips', lb: 'envoy', client: 'har' },
  { name: 'freeswitch+alb+json', sbc: 'freeswitch', lb: 'alb', client: 'json' },
  { name: 'asterisk+traefik+sipjs', sbc: 'asterisk', lb: 'traefik', client: 'sipjs' },
];
const SEEDS = [1, 2, 3];
/** clock error of each role vs true time, per seed (ms); the reference is the SBC log */
const SKEWS = {
  1: { sbc: 150, lb: -600, client: 900 },
  2: { sbc: -400, lb: 250, client: -1800 },
  3: { sbc: 0, lb: 1200, client: 3500 },
};
const START = '2025-11-24T10:00:00.000Z';

const SIZES = OPTS.quick
  ? {
      accuracy: { users: 80, durationSec: 120, rampSec: 30 },
      scale: { users: 250, small: 150, large: 450 },
      short: { users: 1500, durationSec: 150, rampSec: 60 },
    }
  : {
      accuracy: { users: 1000, durationSec: 300, rampSec: 60 },
      // same users, longer test: ~100 MB and ~1 GB (measured: 280 s → 112.6 MB, 2750 s → 704 MB;
      // about 45.6 MB + 0.239 MB per second of test)
      scale: { users: 5000, small: 280, large: 4000 },
      // many short sessions (issue 4: millions of lines of short sessions stay flat): ~8 M lines
      short: { users: 25000, durationSec: 300, rampSec: 240 },
    };

function accuracyScenarios() {
  const list = [];
  for (const mix of MIXES) {
    for (const seed of SEEDS) {
      list.push({
        name: `acc-${mix.name.replaceAll('+', '-')}-s${seed}`,
        mix: mix.name,
        params: {
          users: SIZES.accuracy.users,
          durationSec: SIZES.accuracy.durationSec,
          rampSec: SIZES.accuracy.rampSec,
          causes: ALL_CAUSES,
          sbc: mix.sbc,
          lb: mix.lb,
          client: mix.client,
          seed,
          skewMs: SKEWS[seed],
          noise: 8,
          idleTimeoutSec: 60,
          start: START,
        },
      });
    }
  }
  return list;
}

function scaleScenarios() {
  const s = SIZES.scale;
  const base = {
    users: s.users,
    rampSec: 60,
    causes: ALL_CAUSES,
    lb: 'nginx',
    client: 'jssip',
    seed: 42,
    skewMs: { sbc: 150, lb: -600, client: 900 },
    noise: 8,
    idleTimeoutSec: 60,
    start: START,
  };
  return [
    {
      name: OPTS.quick ? 'scale-small' : 'scale-100mb',
      label: OPTS.quick ? 'small' : '~100 MB',
      params: { ...base, durationSec: s.small },
    },
    {
      name: OPTS.quick ? 'scale-short' : 'scale-short-sessions',
      label: 'many short sessions',
      params: {
        ...base,
        users: SIZES.short.users,
        durationSec: SIZES.short.durationSec,
        rampSec: SIZES.short.rampSec,
      },
    },
    {
      name: OPTS.quick ? 'scale-large' : 'scale-1gb',
      label: OPTS.quick ? 'large' : '~1 GB',
      params: { ...base, durationSec: s.large },
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// helpers

function stamp() {
  const s = Math.round((performance.now() - T0) / 1000);
  return `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
}
function log(msg) {
  process.stderr.write(`${stamp()} ${msg}\n`);
}
const fmt = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));
const fmtInt = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));

function simulatorHash() {
  const dir = join(ROOT, 'dist', 'simulate');
  const h = createHash('sha256');
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    h.update(f);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

/** hash of the compiled CLI (every .js under dist/): another build during the run would change what is measured */
function distHash() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.js')) {
        h.update(relative(ROOT, full));
        h.update(readFileSync(full));
      }
    }
  };
  walk(join(ROOT, 'dist'));
  return h.digest('hex').slice(0, 16);
}

function logFiles(dir, params) {
  // the SBC log first: it is the clock reference; HAR clients are a directory of per-user files
  const client = params.client === 'har' ? 'har' : 'client.log';
  return ['sbc.log', 'lb.log', ...(params.lb === 'nginx' ? ['lb-error.log'] : []), client].map((f) =>
    join(dir, f),
  );
}

/** Bytes of a log file, or of every file in a directory of logs. */
function sizeOf(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

function gitInfo() {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  if (rev.status !== 0) return null;
  return { commit: rev.stdout.trim(), srcDirty: dirty.stdout.trim() !== '' };
}

/** Runs a command to completion, returns { status, stdout, stderr, ms }. */
function run(cmd, args, options = {}) {
  return new Promise((resolvePromise) => {
    const t = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) =>
      resolvePromise({ status: -1, stdout, stderr: stderr + String(err), ms: performance.now() - t }),
    );
    child.on('close', (status, signal) =>
      resolvePromise({ status, signal, stdout, stderr, ms: performance.now() - t }),
    );
  });
}

const HAVE_GNU_TIME = (() => {
  if (!existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-v', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /Maximum resident set size/.test(r.stderr);
})();

function procStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return null;
  }
}

function childPid(pid) {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return kids.length ? Number(kids[0]) : null;
  } catch {
    return null;
  }
}

/**
 * Runs `node bin/logdiag.js <args>` as a child process and measures it: wall time (ours), peak RSS
 * (GNU time's "Maximum resident set size" when available, else VmHWM polled from /proc). Prints
 * progress every `progressSec`. Kills the child's process group after `timeoutMs`.
 */
function measureCli(args, opts) {
  return measureCmd(process.execPath, [CLI, ...args], opts);
}

async function measureCmd(
  exe,
  exeArgs,
  { label, timeoutMs, progressSec = 15, workdir, env = process.env, keepStdout = false },
) {
  const timeFile = join(workdir, `${label.replace(/[^\w.-]+/g, '_')}.time.txt`);
  const cmd = HAVE_GNU_TIME ? '/usr/bin/time' : exe;
  const cmdArgs = HAVE_GNU_TIME ? ['-v', '-o', timeFile, exe, ...exeArgs] : exeArgs;
  const loadBefore = loadavg()[0];
  const t = performance.now();
  const child = spawn(cmd, cmdArgs, {
    stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'],
    detached: true,
    cwd: ROOT,
    env,
  });
  let stdout = '';
  if (keepStdout) child.stdout.on('data', (d) => (stdout += d));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-10000);
  });
  let polledHwmKb = 0;
  let lastRssKb = 0;
  let timedOut = false;
  const poll = setInterval(() => {
    const pid = HAVE_GNU_TIME ? childPid(child.pid) : child.pid;
    const st = pid ? procStatus(pid) : null;
    if (st) {
      polledHwmKb = Math.max(polledHwmKb, st.hwmKb ?? 0);
      lastRssKb = st.rssKb ?? lastRssKb;
    }
  }, 100);
  const progress = setInterval(() => {
    log(
      `  ${label}: ${Math.round((performance.now() - t) / 1000)} s, RSS ${fmt(lastRssKb / 1024, 0)} MiB (peak so far ${fmt(polledHwmKb / 1024, 0)} MiB)`,
    );
  }, progressSec * 1000);
  const timer = setTimeout(() => {
    timedOut = true;
    log(`  ${label}: timeout after ${timeoutMs / 1000} s, stopping it`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, timeoutMs);
  const [status, signal] = await new Promise((r) => child.on('close', (code, sig) => r([code, sig])));
  const ms = performance.now() - t;
  clearInterval(poll);
  clearInterval(progress);
  clearTimeout(timer);
  let maxRssKb = null;
  let gnuStatus = null;
  let cpuMs = null;
  if (HAVE_GNU_TIME && existsSync(timeFile)) {
    const text = readFileSync(timeFile, 'utf8');
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
    if (m) maxRssKb = Number(m[1]);
    const e = /Exit status: (\d+)/.exec(text);
    if (e) gnuStatus = Number(e[1]);
    const sig = /Command terminated by signal (\d+)/.exec(text);
    if (sig) gnuStatus = 128 + Number(sig[1]);
    const u = /User time \(seconds\): ([\d.]+)/.exec(text);
    const sy = /System time \(seconds\): ([\d.]+)/.exec(text);
    if (u && sy) cpuMs = (Number(u[1]) + Number(sy[1])) * 1000;
  }
  const exitCode = HAVE_GNU_TIME ? (gnuStatus ?? status) : status;
  const rssSource =
    maxRssKb !== null ? 'GNU time -v (Maximum resident set size)' : '/proc VmHWM polled every 100 ms';
  maxRssKb ??= polledHwmKb || null;
  // logdiag: 0 = no failure matched, 1 = failures found, 2 = usage error; anything else is a crash
  const state = timedOut ? 'timeout' : exitCode === 0 || exitCode === 1 ? 'ok' : 'failed';
  return {
    state,
    exitCode,
    signal: signal ?? null,
    wallMs: ms,
    cpuMs,
    loadavg1: { before: loadBefore, after: loadavg()[0] },
    maxRssKb,
    rssSource,
    stderrTail: state === 'ok' ? '' : stderr.trim().split('\n').slice(-6).join('\n'),
    ...(keepStdout ? { stdout, stderr } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// generation

async function ensureScenario(scn, simHash) {
  const dir = join(OPTS.out, scn.name);
  const manifestPath = join(dir, 'manifest.json');
  const key = { params: scn.params, simulator: simHash };
  const files = logFiles(dir, scn.params);
  if (existsSync(manifestPath)) {
    try {
      const m = JSON.parse(await readFile(manifestPath, 'utf8'));
      const same = JSON.stringify(m.key) === JSON.stringify(key);
      const intact = same && files.every((f, i) => existsSync(f) && sizeOf(f) === m.sizes[i]);
      if (intact && existsSync(join(dir, 'truth.json'))) {
        return { dir, files, bytes: m.bytes, lines: m.lines, generated: false, genMs: m.genMs };
      }
    } catch {
      /* regenerate */
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const p = scn.params;
  const args = [
    CLI,
    'simulate',
    '--out',
    dir,
    '--users',
    String(p.users),
    '--duration',
    String(p.durationSec),
    '--ramp',
    String(p.rampSec),
    '--causes',
    Object.entries(p.causes)
      .map(([c, s]) => `${c}=${s}`)
      .join(','),
    '--sbc',
    p.sbc ?? 'kamailio',
    '--lb',
    p.lb,
    '--client',
    p.client,
    '--seed',
    String(p.seed),
    ...Object.entries(p.skewMs).flatMap(([role, ms]) => ['--skew', `${role}=${ms}`]),
    '--noise',
    String(p.noise),
    '--idle-timeout',
    String(p.idleTimeoutSec),
    '--start',
    p.start,
  ];
  const r = await run(process.execPath, args, { cwd: ROOT });
  if (r.status !== 0) throw new Error(`simulate ${scn.name} failed (${r.status}): ${r.stderr.trim()}`);
  const m = /wrote (\d+) lines/.exec(r.stdout + r.stderr);
  const sizes = files.map((f) => sizeOf(f));
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const lines = m ? Number(m[1]) : null;
  await writeFile(manifestPath, JSON.stringify({ key, sizes, bytes, lines, genMs: r.ms }, null, 2) + '\n');
  return { dir, files, bytes, lines, generated: true, genMs: r.ms };
}

// ---------------------------------------------------------------------------------------------
// scoring

function loadJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** user → predicted outcome ('healthy' when no finding names the user); findings naming no truth user are orphans. */
function predictions(report, truth) {
  const pred = new Map();
  const orphans = [];
  let multiUser = 0;
  for (const f of report.findings ?? []) {
    const users = [].concat(f.keys?.user ?? []);
    if (users.length !== 1) multiUser++;
    const known = users.filter((u) => u in truth.users);
    if (known.length === 0) orphans.push(f.cause);
    for (const u of known) pred.set(u, f.cause);
  }
  return { pred, orphans, multiUser };
}

/** confusion[truth][pred] counts, plus orphan findings (failures reported for no known user) */
function confusion(report, truth) {
  const { pred, orphans, multiUser } = predictions(report, truth);
  const matrix = {};
  for (const [user, actual] of Object.entries(truth.users)) {
    const p = pred.get(user) ?? 'healthy';
    matrix[actual] ??= {};
    matrix[actual][p] = (matrix[actual][p] ?? 0) + 1;
  }
  return { matrix, orphans, multiUser };
}

function mergeConfusions(list) {
  const matrix = {};
  const orphans = [];
  let multiUser = 0;
  for (const c of list) {
    for (const [a, row] of Object.entries(c.matrix)) {
      matrix[a] ??= {};
      for (const [p, n] of Object.entries(row)) matrix[a][p] = (matrix[a][p] ?? 0) + n;
    }
    orphans.push(...c.orphans);
    multiUser += c.multiUser;
  }
  return { matrix, orphans, multiUser };
}

function scores({ matrix, orphans }) {
  let total = 0;
  let correct = 0;
  for (const [a, row] of Object.entries(matrix)) {
    for (const [p, n] of Object.entries(row)) {
      total += n;
      if (a === p) correct += n;
    }
  }
  const perCause = {};
  for (const c of PLANTED) {
    const tp = matrix[c]?.[c] ?? 0;
    const fn = Object.entries(matrix[c] ?? {}).reduce((s, [p, n]) => s + (p === c ? 0 : n), 0);
    let fp = orphans.filter((o) => o === c).length;
    for (const [a, row] of Object.entries(matrix)) if (a !== c) fp += row[c] ?? 0;
    const precision = tp + fp === 0 ? (fn === 0 ? 1 : 0) : tp / (tp + fp);
    const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perCause[c] = { support: tp + fn, tp, fp, fn, precision, recall, f1 };
  }
  const macroF1 = PLANTED.reduce((s, c) => s + perCause[c].f1, 0) / PLANTED.length;
  const healthyRow = matrix.healthy ?? {};
  const healthyTotal = Object.values(healthyRow).reduce((a, b) => a + b, 0);
  const falseAlarms = healthyTotal - (healthyRow.healthy ?? 0);
  let missed = 0;
  let unclassified = 0;
  for (const [a, row] of Object.entries(matrix)) {
    if (a !== 'healthy') missed += row.healthy ?? 0;
    unclassified += row.unclassified ?? 0;
  }
  return {
    users: total,
    accuracy: total ? correct / total : null,
    macroF1,
    perCause,
    falseAlarms,
    missedFailures: missed,
    unclassified,
    orphanFindings: orphans.length,
  };
}

/** expected offset of role R = skew[R] − skew.sbc (logdiag: D = input runs D ms ahead of the SBC log) */
function clockErrors(report, skewMs) {
  return (report.inputs ?? []).map((inp) => {
    const expected = (skewMs[inp.role] ?? 0) - skewMs.sbc;
    const measured = inp.clockOffsetMs;
    return {
      input: inp.path.split('/').pop(),
      role: inp.role,
      expectedMs: expected,
      measuredMs: measured ?? null,
      errorMs: typeof measured === 'number' ? Math.abs(measured - expected) : null,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// lnav

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function ensureLnav() {
  let path = which('lnav');
  if (path) return { path, installed: false };
  log('lnav not found: apt-get update && apt-get install -y lnav');
  const cmd = 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y lnav';
  const r = await run('sh', ['-c', cmd]);
  path = which('lnav');
  if (path) return { path, installed: true };
  return {
    path: null,
    installed: false,
    error: `install failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
  };
}

function lnavVersion(path) {
  const r = spawnSync(path, ['-V'], { encoding: 'utf8' });
  return (r.stdout || r.stderr).trim().split('\n')[0];
}

/** 503s by a plain regex on the status field of the combined format: checks that lnav parsed every line */
async function count503(file) {
  let n = 0;
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) if (/" 503 /.test(line)) n++;
  return n;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function lnavSideBySide(file, workdir, repeats) {
  const lnav = await ensureLnav();
  if (!lnav.path) return { skipped: true, reason: `lnav unavailable: ${lnav.error}` };
  const home = join(workdir, 'lnav-home');
  await mkdir(home, { recursive: true });
  const bytes = statSync(file).size;
  const sql = ';SELECT count(*) FROM access_log WHERE sc_status = 503';
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'dumb' };
  const lnavRuns = [];
  let lnavCount = null;
  let lnavOut = '';
  const lnavCpu = [];
  let lnavRss = null;
  for (let i = 0; i < repeats; i++) {
    const r = await measureCmd(lnav.path, ['-n', '-c', sql, file], {
      label: 'lnav',
      timeoutMs: OPTS.timeoutMin * 60000,
      workdir,
      env,
      keepStdout: true,
    });
    if (r.exitCode !== 0)
      return { skipped: true, reason: `lnav exited ${r.exitCode}: ${(r.stderr ?? '').trim().slice(0, 300)}` };
    lnavRuns.push(r.wallMs);
    if (r.cpuMs !== null) lnavCpu.push(r.cpuMs);
    lnavRss = Math.max(lnavRss ?? 0, r.maxRssKb ?? 0);
    lnavOut = r.stdout.trim();
    const nums = lnavOut.match(/\d+/g);
    lnavCount = nums ? Number(nums[nums.length - 1]) : null;
  }
  const ldRuns = [];
  const ldCpu = [];
  let ldRss = null;
  let ldState = 'ok';
  for (let i = 0; i < repeats; i++) {
    const m = await measureCli(
      ['analyze', file, '--format', 'json', '-q', '-o', join(workdir, 'lnav-compare.report.json')],
      {
        label: 'logdiag-lb-only',
        timeoutMs: OPTS.timeoutMin * 60000,
        workdir,
      },
    );
    if (m.state !== 'ok') {
      ldState = m.state;
      break;
    }
    ldRuns.push(m.wallMs);
    if (m.cpuMs !== null) ldCpu.push(m.cpuMs);
    ldRss = Math.max(ldRss ?? 0, m.maxRssKb ?? 0);
  }
  const regex503 = await count503(file);
  const lnavMs = median(lnavRuns);
  const ldMs = ldRuns.length ? median(ldRuns) : null;
  return {
    skipped: false,
    lnav: {
      path: lnav.path,
      version: lnavVersion(lnav.path),
      installedByBench: lnav.installed,
      command: `lnav -n -c '${sql}' FILE`,
    },
    file: relative(ROOT, file),
    bytes,
    repeats,
    lnavMs,
    lnavRunsMs: lnavRuns,
    lnavMBps: bytes / MB / (lnavMs / 1000),
    lnav503: lnavCount,
    lnavOutput: lnavOut.slice(0, 200),
    regex503,
    logdiagState: ldState,
    logdiagMs: ldMs,
    logdiagRunsMs: ldRuns,
    logdiagMBps: ldMs ? bytes / MB / (ldMs / 1000) : null,
    logdiagMaxRssKb: ldRss,
    ratio: ldMs ? lnavMs / ldMs : null, // logdiag throughput / lnav throughput (wall)
    lnavCpuMs: lnavCpu.length ? median(lnavCpu) : null,
    lnavMaxRssKb: lnavRss,
    logdiagCpuMs: ldCpu.length ? median(ldCpu) : null,
    cpuRatio: lnavCpu.length && ldCpu.length ? median(lnavCpu) / median(ldCpu) : null,
    loadavg1: loadavg()[0],
  };
}

// ---------------------------------------------------------------------------------------------
// profile (optional, untimed)

async function profile(files, workdir) {
  const dir = join(workdir, 'cpuprof');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const r = await run(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      CLI,
      'analyze',
      ...files,
      '--format',
      'json',
      '-q',
      '-o',
      join(dir, 'report.json'),
    ],
    { cwd: ROOT },
  );
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { error: `no profile written (exit ${r.status})` };
  const prof = loadJson(join(dir, file));
  const total = prof.endTime - prof.startTime; // µs
  const hits = new Map();
  let samples = 0;
  for (const n of prof.nodes) {
    const cf = n.callFrame;
    const url = cf.url.startsWith('file://') ? relative(ROOT, fileURLToPath(cf.url)) : cf.url;
    const where = url ? `${url}:${cf.lineNumber + 1}` : '(native/vm)';
    const key = `${cf.functionName || '(anonymous)'} ${where}`;
    hits.set(key, (hits.get(key) ?? 0) + (n.hitCount ?? 0));
    samples += n.hitCount ?? 0;
  }
  const top = [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([fn, n]) => ({ fn, selfPct: (100 * n) / samples, selfMs: ((n / samples) * total) / 1000 }));
  return { profile: relative(ROOT, join(dir, file)), totalMs: total / 1000, top };
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  log(`logdiag bench, ${OPTS.quick ? 'QUICK' : 'full'} mode; inputs under ${relative(ROOT, OPTS.out)}/`);
  if (OPTS.build) {
    log('npm run build');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  await mkdir(OPTS.out, { recursive: true });
  const simHash = simulatorHash();
  const distAtStart = distHash();
  const timeoutMs = OPTS.timeoutMin * 60000;
  const pkg = loadJson(join(ROOT, 'package.json'));

  // ---- inputs
  const acc = accuracyScenarios();
  const scale = scaleScenarios();
  const inputs = new Map();
  for (const scn of [...acc, ...scale]) {
    const t = performance.now();
    const info = await ensureScenario(scn, simHash);
    inputs.set(scn.name, info);
    log(
      `${info.generated ? 'generated' : 'reused   '} ${scn.name}: ${fmt(info.bytes / MB)} MB, ${fmtInt(info.lines)} lines` +
        (info.generated ? ` in ${fmt((performance.now() - t) / 1000)} s` : ''),
    );
  }

  // ---- accuracy and clock offsets
  const accuracyRuns = [];
  for (const scn of acc) {
    const info = inputs.get(scn.name);
    const reportPath = join(info.dir, 'report.json');
    await rm(reportPath, { force: true });
    const m = await measureCli(['analyze', ...info.files, '--format', 'json', '-q', '-o', reportPath], {
      label: scn.name,
      timeoutMs,
      workdir: info.dir,
    });
    const run = {
      name: scn.name,
      mix: scn.mix,
      seed: scn.params.seed,
      users: scn.params.users,
      bytes: info.bytes,
      lines: info.lines,
      ...m,
    };
    if (m.state === 'ok' && existsSync(reportPath)) {
      const report = loadJson(reportPath);
      const truth = loadJson(join(info.dir, 'truth.json'));
      run.confusion = confusion(report, truth);
      run.scores = scores(run.confusion);
      run.clock = clockErrors(report, truth.scenario.skewMs);
      run.formats = (report.inputs ?? []).map((i) => `${i.path.split('/').pop()}=${i.format}`);
    } else {
      run.state = m.state === 'ok' ? 'failed' : m.state;
    }
    accuracyRuns.push(run);
    const s = run.scores;
    const maxClk = run.clock ? Math.max(...run.clock.map((c) => c.errorMs ?? Infinity)) : null;
    log(
      `analyzed ${scn.name}: ${run.state}` +
        (s
          ? `, accuracy ${fmt(100 * s.accuracy, 2)} %, macro-F1 ${fmt(s.macroF1, 4)}, max clock error ${maxClk} ms`
          : '') +
        `, ${fmt(m.wallMs / 1000, 2)} s, ${fmt(m.maxRssKb / 1024, 0)} MiB`,
    );
  }
  const byMix = {};
  for (const mix of MIXES) {
    const runs = accuracyRuns.filter((r) => r.mix === mix.name && r.confusion);
    const merged = mergeConfusions(runs.map((r) => r.confusion));
    byMix[mix.name] = {
      runs: runs.length,
      expectedRuns: SEEDS.length,
      confusion: merged,
      scores: scores(merged),
    };
  }
  const allMerged = mergeConfusions(accuracyRuns.filter((r) => r.confusion).map((r) => r.confusion));
  const overall = { confusion: allMerged, scores: scores(allMerged) };

  // ---- throughput and memory
  const scaleRuns = [];
  for (const scn of scale) {
    const info = inputs.get(scn.name);
    const reportPath = join(info.dir, 'report.json');
    await rm(reportPath, { force: true });
    log(`analyzing ${scn.name} (${fmt(info.bytes / MB)} MB, timeout ${OPTS.timeoutMin} min)`);
    const m = await measureCli(['analyze', ...info.files, '--format', 'json', '-q', '-o', reportPath], {
      label: scn.name,
      timeoutMs,
      workdir: info.dir,
    });
    const run = {
      name: scn.name,
      label: scn.label,
      params: scn.params,
      bytes: info.bytes,
      lines: info.lines,
      genMs: info.genMs,
      ...m,
    };
    run.MBps = info.bytes / MB / (m.wallMs / 1000);
    run.linesPerSec = info.lines / (m.wallMs / 1000);
    run.cpuMBps = m.cpuMs ? info.bytes / MB / (m.cpuMs / 1000) : null;
    if (m.state === 'ok' && existsSync(reportPath)) {
      const report = loadJson(reportPath);
      const truth = loadJson(join(info.dir, 'truth.json'));
      run.reportLines = (report.inputs ?? []).reduce((s, i) => s + (i.lines ?? 0), 0);
      run.scores = scores(confusion(report, truth));
      run.clock = clockErrors(report, truth.scenario.skewMs);
      delete run.scores.perCause;
    }
    scaleRuns.push(run);
    log(
      `analyzed ${scn.name}: ${run.state}, ${fmt(m.wallMs / 1000, 1)} s, ${fmt(run.MBps, 2)} MB/s${m.state === 'ok' ? '' : ' (lower bound)'}, ` +
        `${fmtInt(run.linesPerSec)} lines/s, peak RSS ${fmt(m.maxRssKb / 1024, 0)} MiB` +
        (run.scores ? `, accuracy ${fmt(100 * run.scores.accuracy, 2)} %` : '') +
        (m.stderrTail ? `\n${m.stderrTail}` : ''),
    );
  }

  // ---- lnav side by side on the largest nginx access log of the run
  let lnavResult;
  if (!OPTS.lnav) lnavResult = { skipped: true, reason: 'skipped with --no-lnav' };
  else {
    const big = scale[scale.length - 1];
    const file = join(inputs.get(big.name).dir, 'lb.log');
    log(`lnav side-by-side on ${relative(ROOT, file)} (${fmt(statSync(file).size / MB)} MB)`);
    try {
      lnavResult = await lnavSideBySide(file, inputs.get(big.name).dir, OPTS.quick ? 3 : 3);
    } catch (err) {
      lnavResult = { skipped: true, reason: String(err) };
    }
    if (lnavResult.skipped) log(`lnav section skipped: ${lnavResult.reason}`);
    else
      log(
        `lnav ${fmt(lnavResult.lnavMs / 1000, 2)} s (${fmt(lnavResult.lnavMBps, 1)} MB/s, 503s=${lnavResult.lnav503}, regex=${lnavResult.regex503}); ` +
          `logdiag ${fmt(lnavResult.logdiagMs / 1000, 2)} s (${fmt(lnavResult.logdiagMBps, 1)} MB/s); ratio ${fmt(lnavResult.ratio, 2)}×`,
      );
  }

  // ---- profile
  let profileResult = null;
  if (OPTS.profile) {
    const scn = scale[0];
    log(`profiling logdiag on ${scn.name} (node --cpu-prof, untimed)`);
    profileResult = {
      scenario: scn.name,
      ...(await profile(inputs.get(scn.name).files, inputs.get(scn.name).dir)),
    };
    for (const t of profileResult.top ?? []) log(`  ${fmt(t.selfPct, 1).padStart(5)} %  ${t.fn}`);
  }

  // ---- targets
  const small = scaleRuns[0];
  const large = scaleRuns[scaleRuns.length - 1];
  const allClock = [...accuracyRuns, ...scaleRuns].flatMap((r) =>
    (r.clock ?? []).map((c) => ({ run: r.name, ...c })),
  );
  const maxClock = allClock.length ? Math.max(...allClock.map((c) => c.errorMs ?? Infinity)) : null;
  const clockRunsMissing = [...accuracyRuns, ...scaleRuns].filter((r) => !r.clock).length;
  const minMixF1 = Math.min(...Object.values(byMix).map((m) => m.scores.macroF1));
  const accRunsMissing = accuracyRuns.filter((r) => !r.confusion).length;
  const targets = [
    {
      id: 'lnav-ratio',
      target: '≥ 2× lnav throughput (same nginx access log)',
      measured: lnavResult.skipped ? null : lnavResult.ratio,
      display: lnavResult.skipped ? `skipped: ${lnavResult.reason}` : `${fmt(lnavResult.ratio, 2)}×`,
      met: lnavResult.skipped || lnavResult.ratio === null ? null : lnavResult.ratio >= 2,
      margin:
        lnavResult.skipped || lnavResult.ratio === null
          ? null
          : lnavResult.ratio >= 2
            ? `${fmt(lnavResult.ratio / 2, 2)}× the target`
            : `needs ${fmt(2 / lnavResult.ratio, 1)}× faster`,
    },
    {
      id: 'throughput',
      target: `≥ 150 MB/s end to end on the ${large.label} mixed scenario`,
      measured: large.MBps,
      display: `${fmt(large.MBps, 2)} MB/s${large.state === 'ok' ? '' : ` (${large.state}; lower bound)`}`,
      met: large.state === 'ok' ? large.MBps >= 150 : large.state === 'timeout' ? false : false,
      margin: `${fmt((large.MBps / 150) * 100, 1)} % of target (needs ${fmt(150 / large.MBps, 1)}× faster)`,
    },
    {
      id: 'rss-abs',
      target: `peak RSS at ${large.label} ≤ 300 MB`,
      measured: large.maxRssKb ? (large.maxRssKb * 1024) / MB : null,
      display: `${fmt((large.maxRssKb * 1024) / MB, 0)} MB${large.state === 'ok' ? '' : ` (${large.state}; at the moment it stopped)`}`,
      met: large.maxRssKb ? (large.maxRssKb * 1024) / MB <= 300 && large.state === 'ok' : null,
      margin: large.maxRssKb ? `${fmt((large.maxRssKb * 1024) / MB / 300, 2)}× the limit` : null,
    },
    {
      id: 'rss-growth',
      target: `peak RSS at ${large.label} ≤ 1.5× peak RSS at ${small.label}`,
      measured: large.maxRssKb && small.maxRssKb ? large.maxRssKb / small.maxRssKb : null,
      display: `${fmt(large.maxRssKb / small.maxRssKb, 2)}× (${fmt((small.maxRssKb * 1024) / MB, 0)} → ${fmt((large.maxRssKb * 1024) / MB, 0)} MB)`,
      met:
        large.maxRssKb && small.maxRssKb
          ? large.maxRssKb / small.maxRssKb <= 1.5 && large.state === 'ok'
          : null,
      margin:
        large.maxRssKb && small.maxRssKb
          ? `${fmt(large.maxRssKb / small.maxRssKb / 1.5, 2)}× the limit`
          : null,
    },
    {
      id: 'macro-f1',
      target: 'macro-F1 ≥ 0.98 (each format mix, 3 seeds pooled)',
      measured: minMixF1,
      display:
        `lowest ${fmt(minMixF1, 4)}; pooled ${fmt(overall.scores.macroF1, 4)}` +
        (accRunsMissing ? ` (${accRunsMissing} runs failed)` : ''),
      met: accRunsMissing ? false : minMixF1 >= 0.98,
      margin: `${fmt(minMixF1 - 0.98, 4)} vs 0.98`,
    },
    {
      id: 'clock',
      target: 'clock offsets within 50 ms (every input of every run)',
      measured: maxClock,
      display:
        `max error ${maxClock} ms over ${allClock.length} inputs` +
        (clockRunsMissing ? ` (${clockRunsMissing} runs without a report)` : ''),
      met: maxClock === null ? null : maxClock <= 50 && clockRunsMissing === 0,
      margin:
        maxClock === null
          ? null
          : `${maxClock - 50 <= 0 ? `${50 - maxClock} ms to spare` : `${maxClock - 50} ms over`}`,
    },
  ];

  const results = {
    schema: 'logdiag-bench/1',
    mode: OPTS.quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    benchSeconds: Math.round((performance.now() - T0) / 1000),
    environment: {
      node: process.version,
      logdiag: pkg.version,
      git: gitInfo(),
      cpu: cpus()[0]?.model ?? null,
      cores: cpus().length,
      memGB: Math.round(totalmem() / 2 ** 30),
      platform: `${process.platform} ${process.arch}`,
      rss: HAVE_GNU_TIME ? 'GNU time -v' : '/proc VmHWM polling',
      simulator: simHash,
      dist: { atStart: distAtStart, atEnd: distHash() },
    },
    units: { MB: '10^6 bytes', rss: 'MB = 10^6 bytes (raw kB in *Kb fields)', time: 'ms' },
    targets,
    throughput: scaleRuns,
    accuracy: {
      causes: ALL_CAUSES,
      mixes: MIXES,
      seeds: SEEDS,
      skewsBySeed: SKEWS,
      runs: accuracyRuns,
      byMix,
      overall,
    },
    clock: { maxErrorMs: maxClock, inputs: allClock },
    lnav: lnavResult,
    profile: profileResult,
  };
  await mkdir(OPTS.results, { recursive: true });
  await writeFile(join(OPTS.results, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(OPTS.results, 'results.md'), markdown(results));
  log(`wrote ${relative(ROOT, join(OPTS.results, 'results.md'))} and results.json`);
  for (const t of targets)
    log(`  ${t.met === true ? 'MET   ' : t.met === false ? 'MISSED' : 'n/a   '} ${t.target}: ${t.display}`);
}

// ---------------------------------------------------------------------------------------------
// markdown

function markdown(r) {
  const out = [];
  const p = (s = '') => out.push(s);
  const mb = (kb) => (kb ? fmt((kb * 1024) / MB, 0) : 'n/a');
  p(`# logdiag benchmark results (${r.mode} mode)`);
  p();
  if (r.mode === 'quick') {
    p(
      '> **Quick mode** (`npm run bench -- --quick`): small inputs for trying the bench. The size-dependent targets (150 MB/s, RSS at 1 GB) are',
    );
    p(
      '> judged on the small/large quick scenarios here, which are **not** the ~100 MB / ~1 GB of the full run; rerun `npm run bench` for the real figures.',
    );
    p();
  }
  const g = r.environment.git;
  p(
    `${r.date} · Node ${r.environment.node} · logdiag ${r.environment.logdiag}${g ? ` · git ${g.commit}${g.srcDirty ? ' (src/ modified)' : ''}` : ''} · ${r.environment.cpu}, ${r.environment.cores} cores, ${r.environment.memGB} GB · bench took ${r.benchSeconds} s`,
  );
  p();
  const d = r.environment.dist;
  if (d && d.atStart !== d.atEnd) {
    p(
      `> **Warning:** \`dist/\` changed during this run (hash ${d.atStart} → ${d.atEnd}): something rebuilt the CLI while it was being measured, so the runs did not all measure the same code.`,
    );
    p();
  }
  p(
    'MB = 10⁶ bytes. "End to end" = wall time of `node bin/logdiag.js analyze FILES --format json -o report.json` as a child process, from spawn to exit (Node start-up, detection, parsing, correlation, classification, report). Peak RSS: ' +
      r.environment.rss +
      '. See bench/README.md.',
  );
  p();
  p('## Targets');
  p();
  p('| target | measured | met? | margin |');
  p('| --- | --- | --- | --- |');
  for (const t of r.targets)
    p(
      `| ${t.target} | ${t.display} | ${t.met === true ? '✅ met' : t.met === false ? '❌ missed' : '— n/a'} | ${t.margin ?? ''} |`,
    );
  p();
  p(
    `Sizes actually measured: ${r.throughput.map((s) => `${s.label} = ${fmt(s.bytes / MB)} MB (${s.params.users} users × ${s.params.durationSec} s)`).join(', ')}.`,
  );
  p();
  p('## Throughput and peak memory (mixed scenario: nginx + JsSIP, every cause, Kamailio SBC)');
  p();
  p(
    'Same users, longer test: the ~1 GB run is the ~100 MB run lasting ~10× longer, so a bounded-memory pipeline keeps its RSS flat. The "many short sessions" run has 5× the users, each connected for at most a few minutes (millions of lines of short sessions); its RSS includes the report of every failed session, which grows with the users.',
  );
  p();
  p(
    '| input | users × seconds | MB | lines | state | wall s | **MB/s** | **lines/s** | CPU s (user+sys) | MB per CPU-s | **peak RSS MB** | load avg before/after | accuracy | generation s |',
  );
  p('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
  for (const s of r.throughput) {
    p(
      `| ${s.label} (\`${s.name}\`) | ${s.params.users} × ${s.params.durationSec} | ${fmt(s.bytes / MB)} | ${fmtInt(s.lines)} | ${s.state}${s.exitCode !== null && s.state !== 'ok' ? ` (exit ${s.exitCode})` : ''} | ${fmt(s.wallMs / 1000, 1)} | ${fmt(s.MBps, 2)} | ${fmtInt(s.linesPerSec)} | ${s.cpuMs ? fmt(s.cpuMs / 1000, 1) : 'n/a'} | ${fmt(s.cpuMBps, 2)} | ${mb(s.maxRssKb)} | ${fmt(s.loadavg1.before, 1)} / ${fmt(s.loadavg1.after, 1)} | ${s.scores ? fmt(100 * s.scores.accuracy, 2) + ' %' : 'n/a'} | ${s.genMs ? fmt(s.genMs / 1000, 1) : 'n/a'} |`,
    );
  }
  p();
  p(
    `The machine has ${r.environment.cores} cores; a 1-minute load average above that means other processes competed for the CPU during the measurement and the wall-clock figures are pessimistic (the CPU-second column is less sensitive to that).`,
  );
  for (const s of r.throughput)
    if (s.stderrTail) p(`\n\`${s.name}\` stderr (tail):\n\n\`\`\`text\n${s.stderrTail}\n\`\`\``);
  p();
  p('## Accuracy against truth.json');
  p();
  const a = r.accuracy;
  p(
    `Cause mix (share of users; the rest healthy): ${Object.entries(a.causes)
      .map(([c, s]) => `${c} ${s * 100} %`)
      .join(
        ', ',
      )}. Seeds ${a.seeds.join(', ')}; ${a.runs[0]?.users ?? '?'} users per run; noise 8 per 100 lines. A user with no finding counts as predicted healthy. Per-cause precision/recall/F1 over the planted causes; macro-F1 = mean F1 of the ${PLANTED.length} causes.`,
  );
  p();
  p(
    '| format mix | runs | users | accuracy | macro-F1 | healthy reported failed | failed reported healthy | unclassified | findings naming no user |',
  );
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, m] of Object.entries(a.byMix)) {
    const s = m.scores;
    p(
      `| ${name} | ${m.runs}/${m.expectedRuns} | ${s.users} | ${fmt(100 * s.accuracy, 2)} % | ${fmt(s.macroF1, 4)} | ${s.falseAlarms} | ${s.missedFailures} | ${s.unclassified} | ${s.orphanFindings} |`,
    );
  }
  const o = a.overall.scores;
  p(
    `| **all** | ${a.runs.filter((x) => x.confusion).length}/${a.runs.length} | ${o.users} | ${fmt(100 * o.accuracy, 2)} % | ${fmt(o.macroF1, 4)} | ${o.falseAlarms} | ${o.missedFailures} | ${o.unclassified} | ${o.orphanFindings} |`,
  );
  p();
  p('Per cause, precision / recall (support), 3 seeds pooled:');
  p();
  p(`| cause | ${Object.keys(a.byMix).join(' | ')} | all |`);
  p(
    `| --- | ${Object.keys(a.byMix)
      .map(() => '---')
      .join(' | ')} | --- |`,
  );
  const pr = (c) => `${fmt(c.precision, 3)} / ${fmt(c.recall, 3)} (${c.support})`;
  for (const cause of PLANTED) {
    p(
      `| ${cause} | ${Object.values(a.byMix)
        .map((m) => pr(m.scores.perCause[cause]))
        .join(' | ')} | ${pr(o.perCause[cause])} |`,
    );
  }
  p();
  const errors = [];
  for (const [name, m] of Object.entries(a.byMix)) {
    for (const [actual, row] of Object.entries(m.confusion.matrix)) {
      for (const [pred, n] of Object.entries(row))
        if (actual !== pred) errors.push(`${name}: ${n} × ${actual} → ${pred}`);
    }
  }
  p(
    errors.length
      ? `Confusions (truth → reported): ${errors.join('; ')}.`
      : 'No confusions: every user got its true outcome.',
  );
  p();
  p('Per run:');
  p();
  p('| run | MB | accuracy | macro-F1 | wall s | MB/s | peak RSS MB | max clock error ms |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const x of a.runs) {
    const maxClk = x.clock ? Math.max(...x.clock.map((c) => c.errorMs ?? Infinity)) : null;
    p(
      `| ${x.name} | ${fmt(x.bytes / MB)} | ${x.scores ? fmt(100 * x.scores.accuracy, 2) + ' %' : x.state} | ${x.scores ? fmt(x.scores.macroF1, 4) : 'n/a'} | ${fmt(x.wallMs / 1000, 2)} | ${fmt(x.bytes / MB / (x.wallMs / 1000), 2)} | ${mb(x.maxRssKb)} | ${maxClk ?? 'n/a'} |`,
    );
  }
  p();
  p('## Clock-offset estimation');
  p();
  p(
    "Expected `clockOffsetMs` of an input of role R = skewMs[R] − skewMs.sbc (truth.json's skew is each role's error vs true time; logdiag's offset is vs the first SBC log). Skews per seed: " +
      Object.entries(a.skewsBySeed)
        .map(([s, k]) => `seed ${s}: sbc ${k.sbc}, lb ${k.lb}, client ${k.client}`)
        .join('; ') +
      ' ms.',
  );
  p();
  p('| run | input | expected ms | measured ms | error ms |');
  p('| --- | --- | ---: | ---: | ---: |');
  for (const c of r.clock.inputs)
    if (c.role !== 'sbc')
      p(`| ${c.run} | ${c.input} | ${c.expectedMs} | ${c.measuredMs ?? 'n/a'} | ${c.errorMs ?? 'n/a'} |`);
  const errs = r.clock.inputs.filter((c) => c.role !== 'sbc' && c.errorMs !== null).map((c) => c.errorMs);
  if (errs.length)
    p(
      `\nNon-reference inputs: ${errs.length}; mean error ${fmt(errs.reduce((x, y) => x + y, 0) / errs.length, 1)} ms, max ${Math.max(...errs)} ms (the SBC log is the reference, always 0).`,
    );
  p();
  p('## Side by side with lnav');
  p();
  const l = r.lnav;
  if (l.skipped) p(`Skipped: ${l.reason}.`);
  else {
    p(
      `Same file, same run: \`${l.file}\` (${fmt(l.bytes / MB, 1)} MB, nginx access log of the largest scenario). Median of ${l.repeats} runs each, wall time of the whole process.`,
    );
    p();
    p('| tool | what it does | median wall s | MB/s | median CPU s | peak RSS MB | result |');
    p('| --- | --- | ---: | ---: | ---: | ---: | --- |');
    p(
      `| ${l.lnav.version} | \`${l.lnav.command}\` | ${fmt(l.lnavMs / 1000, 2)} | ${fmt(l.lnavMBps, 1)} | ${l.lnavCpuMs !== null ? fmt(l.lnavCpuMs / 1000, 2) : 'n/a'} | ${mb(l.lnavMaxRssKb)} | ${l.lnav503} × 503 (regex count: ${l.regex503}) |`,
    );
    p(
      `| logdiag | full analysis of that file alone (\`analyze FILE --format json\`) | ${l.logdiagMs ? fmt(l.logdiagMs / 1000, 2) : l.logdiagState} | ${fmt(l.logdiagMBps, 1)} | ${l.logdiagCpuMs !== null ? fmt(l.logdiagCpuMs / 1000, 2) : 'n/a'} | ${mb(l.logdiagMaxRssKb)} | JSON report |`,
    );
    p();
    p(
      `Ratio (logdiag MB/s ÷ lnav MB/s, wall): **${fmt(l.ratio, 2)}×** (target ≥ 2×); by CPU time: ${fmt(l.cpuRatio, 2)}×. Load average at the end: ${fmt(l.loadavg1, 1)}.${l.lnav.installedByBench ? ' lnav was installed by this run (apt-get).' : ''}`,
    );
    if (l.lnav503 !== l.regex503)
      p(
        `\nNote: lnav's 503 count (${l.lnav503}) differs from the regex count (${l.regex503}): lnav did not parse every line as access_log.`,
      );
  }
  p();
  if (r.profile?.top) {
    p(`## CPU profile (\`--profile\`: \`node --cpu-prof\` on \`${r.profile.scenario}\`, untimed)`);
    p();
    p('| self % | self ms | function |');
    p('| ---: | ---: | --- |');
    for (const t of r.profile.top) p(`| ${fmt(t.selfPct, 1)} | ${fmt(t.selfMs, 0)} | \`${t.fn}\` |`);
    p();
  }
  return out.join('\n');
}

async function render() {
  const r = loadJson(join(OPTS.results, 'results.json'));
  await writeFile(join(OPTS.results, 'results.md'), markdown(r));
  log(`rewrote ${relative(ROOT, join(OPTS.results, 'results.md'))} from results.json`);
}

(OPTS.render ? render() : main()).catch((err) => {
  log(`bench failed: ${err.stack ?? err}`);
  process.exit(1);
});
