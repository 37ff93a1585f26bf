/**
 * Turns one lab run into a sample under samples/lab-<scenario>/: the logs as the servers and
 * clients printed them, truth.json (the users' causes, why, and the outcomes they were derived
 * from) and a README.md saying how it was captured. Configs go into the README, not next to the
 * logs, so that `logdiag analyze samples/lab-<scenario>` reads only logs.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { readOutcomes } from './run-scenario.mjs';

const require = createRequire(import.meta.url);
const pkgVersion = (name) => {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'unknown';
  }
};

function describeFiles(lb, kamailioLog) {
  return {
    'sbc.log':
      kamailioLog === 'json'
        ? 'Kamailio started with `--log-engine=json:U`: CEE JSON lines with their own time, plus its untimed stdout banner'
        : 'Kamailio stderr and stdout (`-E`, no time of its own), each line stamped with an RFC 3339 time as a container runtime does',
    'lb.log':
      lb === 'nginx'
        ? 'nginx access log, `log_format lab`: combined + `rt= ua= us= ut= cid= rid= port=`'
        : 'HAProxy `option httplog` lines as HAProxy wrote them on stdout (`log stdout format rfc3164`)',
    'lb-error.log': 'nginx error log at `info`',
    'client-jssip.log': 'JsSIP harness: JsSIP debug output (stderr) and the harness lines (stdout)',
    'client-sipjs.log': 'SIP.js harness: SIP.js builtin logger at debug with traceSip, and the harness lines',
    'client-ws.log': 'bare `ws` harness: its own lines and the SIP messages it sent and received',
  };
}

export function exportSample({ root, run, scenario, score, users, kamailioLog }) {
  const dest = join(root, 'samples', `lab-${scenario.name}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const logs = readdirSync(run.logs)
    .filter((f) => f.endsWith('.log'))
    .sort();
  for (const f of logs) copyFileSync(join(run.logs, f), join(dest, f));
  const truth = { ...run.truth, outcomes: readOutcomes(join(run.dir, 'outcomes')) };
  writeFileSync(join(dest, 'truth.json'), `${JSON.stringify(truth, null, 2)}\n`);

  const counts = {};
  for (const c of Object.values(run.truth.users)) counts[c] = (counts[c] ?? 0) + 1;
  const s = run.truth.scenario;
  const configs = readdirSync(join(run.dir, 'run'))
    .filter((f) => /\.(?:cfg|conf)$/.test(f))
    .sort();
  const lines = [
    `# Lab capture: ${scenario.name}`,
    '',
    `${scenario.title}. Captured by logdiag's lab (\`npm run lab\`, docs/LAB.md) on ${s.start.slice(0, 10)}:`,
    `real servers on 127.0.0.1 and real clients, nothing generated. Re-capture with`,
    '',
    '```sh',
    `npm run lab -- ${scenario.name} --users ${users}${kamailioLog === 'json' ? ' --kamailio-log json' : ''} --sample`,
    '```',
    '',
    '(ports, times, Call-IDs and which users fail change from run to run; the truth is re-derived each time).',
    '',
    '## What ran',
    '',
    '| role | software |',
    '| --- | --- |',
    `| SBC | ${s.servers.kamailio}, Debian package, WebSocket via xhttp + websocket modules |`,
    `| load balancer | ${scenario.lb === 'nginx' ? s.servers.nginx : s.servers.haproxy} |`,
    `| clients | JsSIP ${pkgVersion('jssip')}, SIP.js ${pkgVersion('sip.js')}, ws ${pkgVersion('ws')} on Node ${process.versions.node}, one harness process per library |`,
    '',
    `${users} users (\`agent-001\`…), a third on each library, connecting to \`ws://127.0.0.1:PORT/ws?user=agent-NNN\`,`,
    `SIP AOR \`sip:agent-NNN@lab.example.com\`, for ${s.durationSec} s. Every time is UTC.`,
    '',
    '## Files',
    '',
    ...logs.map((f) => `- \`${f}\`: ${describeFiles(scenario.lb, kamailioLog)[f] ?? 'log'}`),
    "- `truth.json`: `users` (each user's cause), `why` (the outcome that decided it) and `outcomes` (what",
    '  each client recorded about itself: handshake status, SIP statuses, traffic times, close code and time,',
    '  keep-alive on or off), written by the clients apart from the logs. See lab/lib/truth.mjs for the rules.',
    '',
    `Truth: ${Object.entries(counts)
      .map(([c, n]) => `${n} ${c}`)
      .join(', ')}.`,
    '',
    '## logdiag on it',
    '',
    score
      ? `${score.correct}/${score.total} users right (session accuracy ${(score.accuracy * 100).toFixed(1)}%), ` +
        `false failures: ${score.falseFailures.length ? score.falseFailures.join(', ') : 'none'}.`
      : 'Not analysed at capture time.',
    '',
    '## Configs (as rendered for this run)',
    '',
  ];
  for (const f of configs) {
    const text = readFileSync(join(run.dir, 'run', f), 'utf8')
      .split(run.dir)
      .join(`OUT/${scenario.name}`);
    lines.push(`### ${basename(f)}`, '', '```', text.trimEnd(), '```', '');
  }
  writeFileSync(join(dest, 'README.md'), lines.join('\n'));
  return dest;
}
