/**
 * The lab's real servers: finding (or installing) Debian's kamailio, nginx and haproxy, rendering
 * the configs kept in lab/conf/, starting each server in the foreground on 127.0.0.1, and stopping
 * exactly the processes the lab started, by PID.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const LAB = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PACKAGES = ['kamailio', 'kamailio-websocket-modules', 'nginx', 'haproxy'];
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/sbin', '/bin'];

function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...SBIN]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Kamailio's module directory (Debian: /usr/lib/<triplet>/kamailio/modules). */
function kamailioModules() {
  const candidates = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'];
  try {
    for (const d of readdirSync('/usr/lib'))
      if (d.endsWith('-linux-gnu')) candidates.push(join('/usr/lib', d));
  } catch {
    // no /usr/lib: nothing to add
  }
  for (const base of candidates) {
    const dir = join(base, 'kamailio', 'modules');
    if (existsSync(join(dir, 'websocket.so'))) return dir;
  }
  return undefined;
}

/** What is installed: paths of the three servers and Kamailio's module directory. */
export function findServers() {
  return {
    kamailio: which('kamailio'),
    nginx: which('nginx'),
    haproxy: which('haproxy'),
    modules: kamailioModules(),
  };
}

export function missingServers(found = findServers()) {
  const missing = [];
  if (!found.kamailio) missing.push('kamailio');
  if (!found.modules) missing.push('kamailio-websocket-modules');
  if (!found.nginx) missing.push('nginx');
  if (!found.haproxy) missing.push('haproxy');
  return missing;
}

/** Installs what is missing from Debian's packages (root only): apt-get update, then install. */
export function ensureServers(log) {
  let found = findServers();
  if (missingServers(found).length === 0) return found;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    throw new Error(
      `missing ${missingServers(found).join(', ')}; install as root: apt-get update && apt-get install -y ${PACKAGES.join(' ')}`,
    );
  }
  log(`installing ${PACKAGES.join(' ')} from Debian's packages (apt-get update first)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...PACKAGES],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit ${r.status})`);
  }
  found = findServers();
  const still = missingServers(found);
  if (still.length) throw new Error(`still missing after apt-get: ${still.join(', ')}`);
  return found;
}

export function versions(found) {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? '';
  };
  return {
    kamailio: first(found.kamailio, ['-v'])
      .replace(/^version:\s*/, '')
      .trim(),
    nginx: first(found.nginx, ['-v'])
      .replace(/^nginx version:\s*/, '')
      .trim(),
    haproxy: first(found.haproxy, ['-v'])
      .replace(/ - https.*$/, '')
      .trim(),
  };
}

/** `{{NAME}}` → vars.NAME; an unknown name is an error (a config must never go out half-rendered). */
export function render(template, vars) {
  const text = readFileSync(join(LAB, 'conf', template), 'utf8');
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`${template}: no value for {{${name}}}`);
    return String(vars[name]);
  });
}

/** A port above 20000 that 127.0.0.1 can bind right now. */
export async function freePort(taken = new Set()) {
  for (let i = 0; i < 200; i++) {
    const port = 20_001 + Math.floor(Math.random() * 40_000);
    if (taken.has(port)) continue;
    const ok = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port above 20000 on 127.0.0.1');
}

export async function waitForPort(port, timeoutMs, isAlive = () => true) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isAlive()) return false;
    const ok = await new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** RFC 3339 UTC with nanoseconds, as `docker logs -t` prints it. */
export function runtimeStamp() {
  const now = performance.timeOrigin + performance.now();
  const ms = Math.floor(now);
  const sub = Math.floor((now - ms) * 1e6)
    .toString()
    .padStart(6, '0');
  return new Date(ms).toISOString().replace('Z', `${sub}Z`);
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Children of `pid` that outlived it (re-parented): read from /proc, matched by process group. */
function leftoversOf(pgid) {
  const pids = [];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && Number(d) !== pgid) pids.push(Number(d));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return pids;
}

/**
 * The processes one lab run started. Each is spawned in a process group of its own (so a
 * server's forked workers can be found again) and stopped by its PID: SIGTERM, then SIGKILL after
 * a grace period; workers left behind in that group are then stopped one by one, by PID.
 */
export class Processes {
  constructor(pidFile) {
    this.pidFile = pidFile;
    this.list = [];
  }

  /**
   * stdout/stderr: a file path (appended), 'stamp:PATH' (each line behind an RFC 3339 stamp, as a
   * container runtime writes it), or 'ignore'.
   */
  start(name, cmd, args, { stdout = 'ignore', stderr = stdout, env } = {}) {
    const opened = [];
    const target = (spec) => {
      if (spec === 'ignore' || spec.startsWith('stamp:')) return spec === 'ignore' ? 'ignore' : 'pipe';
      const fd = openSync(spec, 'a');
      opened.push(fd);
      return fd;
    };
    const outTarget = target(stdout);
    const errTarget = stderr === stdout && typeof outTarget === 'number' ? outTarget : target(stderr);
    const child = spawn(cmd, args, {
      stdio: ['ignore', outTarget, errTarget],
      detached: true,
      env: { ...process.env, TZ: 'UTC', ...env },
    });
    for (const fd of opened) closeSync(fd);
    const entry = { name, pid: child.pid, child, exited: false, code: null, pipes: [] };
    child.once('exit', (code, signal) => {
      entry.exited = true;
      entry.code = code ?? signal;
    });
    const stampTo = (stream, spec) => {
      if (!stream || !spec.startsWith('stamp:')) return;
      const fd = openSync(spec.slice(6), 'a');
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      const done = new Promise((resolve) => rl.once('close', resolve));
      rl.on('line', (line) => writeFileSync(fd, `${runtimeStamp()} ${line}\n`));
      done.then(() => closeSync(fd));
      entry.pipes.push(done);
    };
    stampTo(child.stdout, stdout);
    stampTo(child.stderr, stderr);
    if (!child.pid) throw new Error(`${name}: could not start ${cmd}`);
    this.list.push(entry);
    this.save();
    return entry;
  }

  save() {
    if (!this.pidFile) return;
    const pids = this.list.map(({ name, pid, exited }) => ({ name, pid, exited }));
    writeFileSync(this.pidFile, `${JSON.stringify(pids, null, 2)}\n`);
  }

  async waitExit(entry, ms) {
    const until = Date.now() + ms;
    while (!entry.exited && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    return entry.exited;
  }

  async stop(entry, { signal = 'SIGTERM', graceMs = 5_000 } = {}) {
    if (!entry.exited && alive(entry.pid)) {
      try {
        process.kill(entry.pid, signal);
      } catch {
        // already gone
      }
      if (!(await this.waitExit(entry, graceMs))) {
        try {
          process.kill(entry.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await this.waitExit(entry, 2_000);
      }
    }
    // forked workers that outlived their parent (same process group, which the lab created)
    for (let i = 0; i < 20; i++) {
      const left = leftoversOf(entry.pid);
      if (left.length === 0) break;
      for (const pid of left) {
        try {
          process.kill(pid, i < 10 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await Promise.all(entry.pipes);
    this.save();
  }

  /** Stops every process still running, newest first. */
  async stopAll() {
    for (const entry of [...this.list].reverse()) await this.stop(entry);
  }

  /** Last resort on exit (synchronous): SIGKILL each PID the lab started that still runs. */
  killAllSync() {
    for (const entry of this.list) {
      if (entry.exited) continue;
      try {
        process.kill(entry.pid, 'SIGKILL');
      } catch {
        // gone
      }
      for (const pid of leftoversOf(entry.pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
}
