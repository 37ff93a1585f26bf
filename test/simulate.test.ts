import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCauseMix, SAMPLE_SCENARIOS, simulate, type SimulateOptions } from '../src/simulate/index.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const month = (name: string): number => MONTHS.indexOf(name);

/**
 * Time of a log line in its own clock (ms), from the shape each product prints, and whether it has
 * millisecond precision; null for lines that carry none (SIP dump bodies, stack frames, Node warnings).
 */
function lineTime(line: string, year: number): { t: number; precise: boolean } | null {
  let m = /^(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) /.exec(line); // syslog (Kamailio, HAProxy)
  if (m) return { t: Date.UTC(year, month(m[1]), +m[2], +m[3], +m[4], +m[5]), precise: false };
  m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /.exec(line); // ISO (JsSIP debug, harness)
  if (m) return { t: Date.parse(m[1]), precise: true };
  m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) \[/.exec(line); // nginx error log
  if (m) return { t: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]), precise: false };
  m = /^\S+ - \S+ \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) \+0000\]/.exec(line); // nginx access log
  if (m) return { t: Date.UTC(+m[3], month(m[2]), +m[1], +m[4], +m[5], +m[6]), precise: false };
  m = /^\w{3} (\w{3}) (\d\d) (\d{4}) (\d\d):(\d\d):(\d\d) GMT\+0000 /.exec(line); // SIP.js Date.toString()
  if (m) return { t: Date.UTC(+m[3], month(m[1]), +m[2], +m[4], +m[5], +m[6]), precise: false };
  return null;
}

/** Lines whose time is earlier than a line above them (at the resolution both lines have). */
function outOfOrderLines(text: string, year: number): string[] {
  const problems: string[] = [];
  let lastSecond = -Infinity;
  let lastPrecise = -Infinity;
  for (const line of text.split('\n')) {
    const stamp = lineTime(line, year);
    if (stamp === null) continue;
    const second = Math.floor(stamp.t / 1000);
    if (second < lastSecond || (stamp.precise && stamp.t < lastPrecise)) problems.push(line);
    lastSecond = Math.max(lastSecond, second);
    if (stamp.precise) lastPrecise = Math.max(lastPrecise, stamp.t);
  }
  return problems;
}

const BASE: Omit<SimulateOptions, 'outDir' | 'lb' | 'client'> = {
  users: 120,
  durationSec: 150,
  rampSec: 20,
  causes: {
    'sbc-throttling': 0.2,
    'edge-rate-limit': 0.1,
    'idle-timeout': 0.1,
    'client-misconfig': 0.1,
    'upstream-timeout': 0.1,
    'auth-failure': 0.1,
  },
  sbc: 'kamailio',
  seed: 4242,
  skewMs: { sbc: 250, lb: -900, client: 1500 },
  noise: 5,
  idleTimeoutSec: 60,
  start: new Date('2025-11-24T10:00:00.000Z'),
};

interface Truth {
  scenario: Record<string, unknown>;
  users: Record<string, string>;
}

let root: string;
const read = (dir: string, file: string): Promise<string> => readFile(join(dir, file), 'utf8');

/** one run per product combination, shared by the tests that only read its files */
const runs = new Map<string, Promise<string>>();
function scenarioDir(lb: SimulateOptions['lb'], client: SimulateOptions['client']): Promise<string> {
  const key = `${lb}-${client}`;
  let run = runs.get(key);
  if (run === undefined) {
    const outDir = join(root, `mix-${key}`);
    run = simulate({ ...BASE, lb, client, outDir }).then(() => outDir);
    runs.set(key, run);
  }
  return run;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'logdiag-sim-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('simulate', () => {
  it('writes byte-identical files for the same seed', async () => {
    const a = await simulate({ ...BASE, lb: 'nginx', client: 'jssip', outDir: join(root, 'same-a') });
    const b = await simulate({ ...BASE, lb: 'nginx', client: 'jssip', outDir: join(root, 'same-b') });
    expect(a.lines).toBe(b.lines);
    expect(a.bytes).toBe(b.bytes);
    expect(a.lines).toBeGreaterThan(1000);
    for (const file of ['sbc.log', 'lb.log', 'lb-error.log', 'client.log', 'truth.json', 'README.md']) {
      const [left, right] = await Promise.all([
        readFile(join(root, 'same-a', file)),
        readFile(join(root, 'same-b', file)),
      ]);
      expect(left.equals(right), file).toBe(true);
    }
    expect(a.files.map((f) => f.slice(join(root, 'same-a').length + 1))).toEqual([
      'sbc.log',
      'lb.log',
      'lb-error.log',
      'client.log',
      'README.md',
    ]);
    expect(a.truthPath).toBe(join(root, 'same-a', 'truth.json'));
    await simulate({ ...BASE, seed: 4243, lb: 'nginx', client: 'jssip', outDir: join(root, 'other') });
    expect(await read(join(root, 'other'), 'sbc.log')).not.toBe(await read(join(root, 'same-a'), 'sbc.log'));
  });

  it('plants each cause on the share of users the mix asks for', async () => {
    const outDir = join(root, 'shares');
    const users = 400;
    await simulate({ ...BASE, users, durationSec: 40, rampSec: 10, lb: 'haproxy', client: 'jssip', outDir });
    const truth = JSON.parse(await read(outDir, 'truth.json')) as Truth;
    const names = Object.keys(truth.users);
    expect(names).toHaveLength(users);
    expect(names[0]).toBe('agent-001');
    const counts = new Map<string, number>();
    for (const outcome of Object.values(truth.users)) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    let planted = 0;
    for (const [cause, share] of Object.entries(BASE.causes)) {
      expect(Math.abs((counts.get(cause) ?? 0) / users - (share ?? 0)), cause).toBeLessThanOrEqual(0.01);
      planted += share ?? 0;
    }
    expect(Math.abs((counts.get('healthy') ?? 0) / users - (1 - planted))).toBeLessThanOrEqual(0.01);
    expect(truth.scenario).toMatchObject({
      users,
      lb: 'haproxy',
      client: 'jssip',
      start: '2025-11-24T10:00:00.000Z',
    });
    expect(truth.scenario).not.toHaveProperty('outDir');
  });

  for (const [lb, client] of [
    ['nginx', 'jssip'],
    ['haproxy', 'sipjs'],
  ] as const) {
    it(`keeps every file in time order and names only true users (${lb} + ${client})`, async () => {
      const outDir = await scenarioDir(lb, client);
      const logs =
        lb === 'nginx'
          ? ['sbc.log', 'lb.log', 'lb-error.log', 'client.log']
          : ['sbc.log', 'lb.log', 'client.log'];
      for (const file of logs) {
        const text = await read(outDir, file);
        expect(text.length, file).toBeGreaterThan(0);
        expect(outOfOrderLines(text, 2025), file).toEqual([]);
      }
      const truth = JSON.parse(await read(outDir, 'truth.json')) as Truth;
      const clientLog = await read(outDir, 'client.log');
      const named = new Set<string>();
      for (const m of clientLog.matchAll(/\[(agent-\d+)\]|user=(agent-\d+)|sip:(agent-\d+)@/g))
        named.add(m[1] ?? m[2] ?? m[3]);
      expect(named.size).toBeGreaterThan(BASE.users / 2);
      for (const user of named) expect(truth.users, user).toHaveProperty(user);
    });
  }

  it('puts the Call-ID of a JsSIP REGISTER dump into the SBC log', async () => {
    const outDir = await scenarioDir('nginx', 'jssip');
    const clientLog = await read(outDir, 'client.log');
    const sbcLog = await read(outDir, 'sbc.log');
    const dump =
      /JsSIP:Transport sending message:\n\nREGISTER sip:example\.com SIP\/2\.0\n(?:[^\n]+\n)*?Call-ID: (\S+)\n/.exec(
        clientLog,
      );
    expect(dump).not.toBeNull();
    const callId = dump?.[1] ?? '';
    expect(callId).toMatch(/^[0-9a-v]{22}$/);
    expect(sbcLog).toContain(`REGISTER ${callId}} <script>: SIP request REGISTER received`);
    expect(clientLog).not.toContain('\r');
  });

  it('leaves the decisive evidence of each cause where real products print it', async () => {
    const nginx = await scenarioDir('nginx', 'jssip');
    const [sbc, access, errors, client] = await Promise.all(
      ['sbc.log', 'lb.log', 'lb-error.log', 'client.log'].map((f) => read(nginx, f)),
    );
    expect(errors).toMatch(
      /\[error\] \d+#\d+: \*\d+ limiting requests, excess: 6\.\d{3} by zone "ws_limit", client: /,
    );
    expect(access).toMatch(
      /"GET \/ws\?user=agent-\d+ HTTP\/1\.1" 503 \d+ "-" "-" 0\.000 - - \d+ [0-9a-f]{32} \d+$/m,
    );
    expect(errors).toContain('while proxying upgraded connection');
    expect(access).toMatch(/" 101 \d+ "-" "-" 60\.0\d\d 101 10\.0\.0\.1:8080 /);
    expect(sbc).toMatch(
      /tcp_read_data\(\): error reading: Connection reset by peer \(104\) \(\[10\.0\.0\.2\]:\d+ ->$/m,
    );
    expect(sbc).toMatch(/rl_check\(\) failed|pl_check\("register"\) drop|PIKE - BLOCKing ip 10\.0\.0\.2/);
    expect(sbc).toMatch(/auth failed for agent-\d+@example\.com/);
    expect(client).toContain('Error: WebSocket connection failed. Code: 1006');
    expect(client).toMatch(/error: {2}Error: Unexpected server response: (400|503|504)/);
    expect(client).toContain('handshake header X-Genesys-KeepAlive: true');

    const haproxy = await read(await scenarioDir('haproxy', 'sipjs'), 'lb.log');
    expect(haproxy).toMatch(/ fe_ws~ fe_ws\/<NOSRV> \d+\/-1\/-1\/-1\/\d+ 429 \d+ - - PR-- /);
    expect(haproxy).toMatch(/ be_sbc\/sbc1 \d+\/0\/\d+\/\d+\/60\d{3} 101 \d+ - - cD-- /);
  });

  it('ships runnable sample scenarios', () => {
    const names = SAMPLE_SCENARIOS.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['classic-500', 'idle-timeout-haproxy', 'mixed-causes']));
    const classic = SAMPLE_SCENARIOS.find((s) => s.name === 'classic-500');
    expect(classic?.options).toMatchObject({ users: 500, lb: 'nginx', client: 'jssip' });
    const mixed = SAMPLE_SCENARIOS.find((s) => s.name === 'mixed-causes');
    expect(Object.keys(mixed?.options.causes ?? {}).sort()).toEqual(
      [
        'auth-failure',
        'client-misconfig',
        'edge-rate-limit',
        'idle-timeout',
        'sbc-throttling',
        'upstream-timeout',
      ].sort(),
    );
    expect(SAMPLE_SCENARIOS.find((s) => s.name === 'idle-timeout-haproxy')?.options).toMatchObject({
      lb: 'haproxy',
      client: 'sipjs',
    });
  });
});

describe('parseCauseMix', () => {
  it('reads shares and percentages', () => {
    expect(parseCauseMix('sbc-throttling=0.3,idle-timeout=0.1')).toEqual({
      'sbc-throttling': 0.3,
      'idle-timeout': 0.1,
    });
    expect(parseCauseMix(' auth-failure = 25% ')).toEqual({ 'auth-failure': 0.25 });
    expect(parseCauseMix('')).toEqual({});
    expect(parseCauseMix('edge-rate-limit=0.1,client-misconfig=0.2,upstream-timeout=0.7')).toBeTruthy();
  });

  it('rejects unknown causes, bad shares and sums over 1 with a clear message', () => {
    expect(() => parseCauseMix('foo=0.5')).toThrow(/unknown cause "foo".*known causes: sbc-throttling/);
    expect(() => parseCauseMix('sbc-throttling=0.7,idle-timeout=0.4')).toThrow(/sum to 1\.1, more than 1/);
    expect(() => parseCauseMix('unclassified=0.1')).toThrow(/unknown cause "unclassified"/);
    expect(() => parseCauseMix('sbc-throttling=abc')).toThrow(/between 0 and 1/);
    expect(() => parseCauseMix('sbc-throttling')).toThrow(/expected <cause>=<share>/);
    expect(() => parseCauseMix('sbc-throttling=0.1,sbc-throttling=0.2')).toThrow(/given twice/);
  });

  it('is what simulate() validates too', async () => {
    await expect(
      simulate({
        ...BASE,
        causes: { 'sbc-throttling': 0.8, 'auth-failure': 0.3 },
        lb: 'nginx',
        client: 'jssip',
        outDir: join(root, 'bad'),
      }),
    ).rejects.toThrow(/more than 1/);
  });
});
