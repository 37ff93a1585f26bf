/**
 * One scenario, end to end: fresh Kamailio + nginx or HAProxy on 127.0.0.1 with the scenario's
 * config, the three client harnesses, then every process stopped by PID, the truth derived from
 * the clients' outcomes, and (optionally) logdiag's verdicts scored against it.
 *
 * Layout of OUT/<scenario>/:
 *   logs/       what the servers and clients printed: sbc.log, lb.log (+ lb-error.log for nginx),
 *               client-jssip.log, client-sipjs.log, client-ws.log  ← what logdiag reads
 *   outcomes/   one JSON line per user, what actually happened to it (never read by logdiag)
 *   run/        rendered configs, plans, pids.json, servers' own start-up output
 *   truth.json  { scenario, users: { user: cause }, why: { user: text } }
 *   report.json logdiag analyze --format json, score.json the check
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD } from './scenarios.mjs';
import { LAB, freePort, render, waitForPort } from './servers.mjs';
import { deriveTruth } from './truth.mjs';

const DOMAIN = 'lab.example.com';
const CLIENT_LIBS = ['jssip', 'sipjs', 'ws'];
/** silence before an abnormal close that makes it an idle cut (keep-alive clients ping every 2 s) */
const IDLE_SILENCE_MS = 3_000;

function startKamailio(ctx, scenario, ports) {
  const k = scenario.kamailio ?? {};
  const cfg = join(ctx.run, 'kamailio.cfg');
  writeFileSync(
    cfg,
    render('kamailio.cfg', {
      KAM_PORT: ports.kamailio,
      TCP_CHILDREN: k.tcpChildren ?? 8,
      MODULES: ctx.servers.modules,
      AUTH_SECRET: Math.random().toString(36).slice(2, 14),
      PASSWORD,
      RL_LIMIT: k.rlLimit ?? 10,
      RETRY_AFTER: k.retryAfter ?? 2,
    }),
  );
  const defines = [];
  if (k.ratelimit) defines.push('-A', 'WITH_RATELIMIT');
  if (k.slowHandshakes) defines.push('-A', 'WITH_SLOW_WS');
  // the json log engine is only honoured from the command line in 5.6 (the cfg parameter is not)
  if (ctx.kamailioLog === 'json') defines.push('--log-engine=json:U');
  const args = ['-f', cfg, ...defines, '-DD', '-E', '-m', '64', '-M', '8', '-Y', ctx.run];
  const log = join(ctx.logs, 'sbc.log');
  // stderr without a time: stamp each line as a container runtime does; JSON lines carry their own
  const target = ctx.kamailioLog === 'json' ? log : `stamp:${log}`;
  return ctx.procs.start('kamailio', ctx.servers.kamailio, args, { stdout: target, stderr: target });
}

function startNginx(ctx, scenario, ports) {
  const n = scenario.nginx ?? {};
  const cfg = join(ctx.run, 'nginx.conf');
  writeFileSync(
    cfg,
    render('nginx.conf', {
      RUN: ctx.run,
      LOGS: ctx.logs,
      LB_PORT: ports.lb,
      KAM_PORT: ports.kamailio,
      READ_TIMEOUT: n.readTimeout ?? '60s',
      LIMIT_RATE: n.limitRate ?? '100r/s',
      LIMIT_REQ: n.limitRate
        ? `limit_req zone=ws_upgrades burst=${n.burst ?? 5} nodelay;`
        : '# no limit_req here',
    }),
  );
  const out = join(ctx.run, 'nginx.out');
  return ctx.procs.start('nginx', ctx.servers.nginx, ['-c', cfg, '-p', `${ctx.run}/`, '-e', out], {
    stdout: out,
  });
}

function startHaproxy(ctx, scenario, ports) {
  const h = scenario.haproxy ?? {};
  const cfg = join(ctx.run, 'haproxy.cfg');
  writeFileSync(
    cfg,
    render('haproxy.cfg', {
      LB_PORT: ports.lb,
      KAM_PORT: ports.kamailio,
      SERVER_TIMEOUT: h.serverTimeout ?? '30s',
      TUNNEL_TIMEOUT: h.tunnelTimeout ?? '60s',
    }),
  );
  // `log stdout`: the httplog lines are HAProxy's stdout, written to lb.log as they come
  return ctx.procs.start('haproxy', ctx.servers.haproxy, ['-f', cfg, '-db'], {
    stdout: join(ctx.logs, 'lb.log'),
    stderr: join(ctx.run, 'haproxy.err'),
  });
}

function runHarnesses(ctx, scenario, ports, users) {
  const url = `ws://127.0.0.1:${ports.lb}/ws`;
  const runs = [];
  for (const lib of CLIENT_LIBS) {
    const mine = users.filter((u) => u.lib === lib);
    if (mine.length === 0) continue;
    const planPath = join(ctx.run, `plan-${lib}.json`);
    const plan = {
      lib,
      url,
      domain: DOMAIN,
      password: PASSWORD,
      durationMs: scenario.durationMs,
      users: mine,
    };
    writeFileSync(planPath, `${JSON.stringify(plan, null, 2)}\n`);
    const log = join(ctx.logs, `client-${lib}.log`);
    const entry = ctx.procs.start(
      `harness-${lib}`,
      process.execPath,
      [join(LAB, 'clients', 'harness.mjs'), planPath, join(ctx.outcomes, `${lib}.jsonl`)],
      { stdout: log, stderr: log, env: { DEBUG_COLORS: 'no', NODE_NO_WARNINGS: '1' } },
    );
    runs.push(entry);
  }
  return runs;
}

/** every user's outcome record, from the harnesses' OUTCOMES files in `dir` */
export function readOutcomes(dir) {
  const all = [];
  for (const lib of CLIENT_LIBS) {
    const path = join(dir, `${lib}.jsonl`);
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) all.push(JSON.parse(line));
  }
  return all;
}

/** node bin/logdiag.js analyze LOGS --format json → the parsed report */
export function analyzeWithCli(root, logsDir) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'logdiag.js'), 'analyze', logsDir, '--format', 'json'],
      {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0 && code !== 1) return reject(new Error(`logdiag exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`logdiag printed no JSON: ${e.message}`));
      }
    });
  });
}

/**
 * Runs one scenario with `n` users. ctx: { out, servers, procs (a Processes), kamailioLog, log }.
 * Returns { name, dir, logs, truth, pids }.
 */
export async function runScenario(ctx0, scenario, n) {
  const dir = join(ctx0.out, scenario.name);
  rmSync(dir, { recursive: true, force: true });
  const ctx = {
    ...ctx0,
    dir,
    logs: join(dir, 'logs'),
    outcomes: join(dir, 'outcomes'),
    run: join(dir, 'run'),
  };
  for (const d of [ctx.logs, ctx.outcomes, ctx.run]) mkdirSync(d, { recursive: true });
  const taken = new Set();
  const ports = { kamailio: await freePort(taken), lb: await freePort(taken) };
  const users = scenario.users(n);
  const started = [];
  const say = (msg) => ctx.log(`[${scenario.name}] ${msg}`);
  const t0 = Date.now();
  try {
    const kam = startKamailio(ctx, scenario, ports);
    started.push(kam);
    if (!(await waitForPort(ports.kamailio, 15_000, () => !kam.exited))) {
      throw new Error(
        `Kamailio did not listen on 127.0.0.1:${ports.kamailio} (see ${join(ctx.logs, 'sbc.log')})`,
      );
    }
    const lb =
      scenario.lb === 'nginx' ? startNginx(ctx, scenario, ports) : startHaproxy(ctx, scenario, ports);
    started.push(lb);
    if (!(await waitForPort(ports.lb, 10_000, () => !lb.exited))) {
      throw new Error(`${scenario.lb} did not listen on 127.0.0.1:${ports.lb}`);
    }
    say(
      `kamailio pid ${kam.pid} on :${ports.kamailio}, ${scenario.lb} pid ${lb.pid} on :${ports.lb}; ` +
        `${users.length} users for ${scenario.durationMs / 1000} s`,
    );
    const harnesses = runHarnesses(ctx, scenario, ports, users);
    started.push(...harnesses);
    for (const h of harnesses) {
      if (!(await ctx.procs.waitExit(h, scenario.durationMs + 15_000))) {
        say(`harness pid ${h.pid} overran its time; stopping it`);
        await ctx.procs.stop(h);
      }
    }
    // let the proxies write the access lines of the last closes
    await new Promise((r) => setTimeout(r, 700));
  } finally {
    for (const p of started.reverse()) await ctx.procs.stop(p);
  }
  const pids = started.map(({ name, pid, code }) => ({ name, pid, exit: code }));
  const outcomes = readOutcomes(ctx.outcomes);
  const derived = deriveTruth(outcomes, { idleSilenceMs: IDLE_SILENCE_MS });
  const truth = {
    scenario: {
      name: scenario.name,
      title: scenario.title,
      lb: scenario.lb,
      users: users.length,
      durationSec: scenario.durationMs / 1000,
      start: new Date(t0).toISOString(),
      servers: ctx.versions,
      derivedFrom: 'outcomes/*.jsonl (what each client saw), see lab/lib/truth.mjs',
    },
    users: derived.users,
    why: derived.why,
  };
  writeFileSync(join(dir, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);
  say(
    `done in ${((Date.now() - t0) / 1000).toFixed(1)} s; processes stopped: ${pids.map((p) => `${p.name} ${p.pid}`).join(', ')}`,
  );
  return { name: scenario.name, dir, logs: ctx.logs, truth, pids };
}
