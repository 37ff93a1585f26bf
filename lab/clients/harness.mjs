#!/usr/bin/env node
/**
 * One load-harness process of the lab: runs the users of one client library (JsSIP, SIP.js, or a
 * bare `ws` client) against the lab's load balancer, prints what a harness prints (its own
 * `ISO [agent-NNN] …` lines and the library's debug output, on stdout and stderr), and writes what
 * actually happened to each user to the outcomes file.
 *
 *   node lab/clients/harness.mjs PLAN.json OUTCOMES.jsonl
 *
 * PLAN: { lib, url, domain, durationMs, users: [{ user, startMs, password, keepaliveS, headers,
 *         malformedHeader, omitProtocol, retries, retryDelayMs }] }
 *
 * Bounded: every user starts within the plan, the process stops its users at durationMs, gives
 * them a moment to close, writes the outcomes and exits; a watchdog exits regardless.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Recorder, recordingWebSocket } from './recording-ws.mjs';

const [planPath, outcomesPath] = process.argv.slice(2);
if (!planPath || !outcomesPath) {
  console.error('usage: harness.mjs PLAN.json OUTCOMES.jsonl');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const recorder = new Recorder(plan.lib);
const byUser = new Map(plan.users.map((u) => [u.user, u]));
globalThis.WebSocket = recordingWebSocket(recorder, (user) => byUser.get(user));

const STOP_GRACE_MS = 2_500;
const t0 = Date.now();
let outcomesWritten = false;

function writeOutcomes() {
  if (outcomesWritten) return;
  outcomesWritten = true;
  writeFileSync(outcomesPath, recorder.lines());
}

// whatever happens, the process ends: durationMs + grace + a margin
const watchdog = setTimeout(
  () => {
    console.error(`${new Date().toISOString()} harness: watchdog, exiting`);
    writeOutcomes();
    process.exit(0);
  },
  plan.durationMs + STOP_GRACE_MS + 5_000,
);
watchdog.unref();
process.on('SIGTERM', () => {
  writeOutcomes();
  process.exit(0);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function logger(user) {
  return (msg) => console.log(`${new Date().toISOString()} [${user}] ${msg}`);
}

const drivers = {
  jssip: () => import('./jssip-user.mjs'),
  sipjs: () => import('./sipjs-user.mjs'),
  ws: () => import('./ws-user.mjs'),
};
const load = drivers[plan.lib];
if (!load) {
  console.error(`harness: unknown lib ${plan.lib}`);
  process.exit(2);
}
const { runUser } = await load();

console.log(
  `${new Date().toISOString()} harness: ${plan.users.length} ${plan.lib} users against ${plan.url} for ${plan.durationMs / 1000} s`,
);

const running = [];
const started = plan.users.map(async (u) => {
  await sleep(Math.max(0, t0 + u.startMs - Date.now()));
  if (Date.now() - t0 >= plan.durationMs) return;
  recorder.user(u.user, { keepalive: (u.keepaliveS ?? 0) > 0 });
  const url = `${plan.url}?user=${encodeURIComponent(u.user)}`;
  // what the harness adds to the handshake (the lab's WebSocket class sends it)
  for (const [header, value] of Object.entries(u.headers ?? {}))
    logger(u.user)(`handshake header ${header}: ${value}`);
  if (u.malformedHeader) logger(u.user)(`handshake header ${u.malformedHeader}`);
  try {
    const handle = await runUser({ ...u, url, plan, log: logger(u.user), t0 });
    running.push([u.user, handle]);
  } catch (err) {
    logger(u.user)(`harness error: ${err instanceof Error ? err.message : String(err)}`);
  }
});

await sleep(Math.max(0, t0 + plan.durationMs - Date.now()));
await Promise.race([Promise.all(started), sleep(1_000)]);
for (const [user] of running) recorder.stopping(user);
await Promise.race([Promise.allSettled(running.map(([, h]) => h.stop())), sleep(STOP_GRACE_MS)]);
console.log(`${new Date().toISOString()} harness: done`);
writeOutcomes();
process.exit(0);
