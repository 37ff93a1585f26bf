import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import {
  parseCauseMix,
  SAMPLE_SCENARIOS,
  simulate,
  type SimulateOptions,
  type VariantWeights,
} from '../src/simulate/index.js';

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
  // FreeSWITCH `2025-11-24 10:00:01.123456 [LEVEL]`, Asterisk `[2025-11-24 10:00:01.123] LEVEL[`
  m = /^\[?(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3})\d{0,3}\]? /.exec(line);
  if (m) return { t: Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]), precise: true };
  m = /^(?:https?|wss?) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d{3}Z /.exec(line); // ALB: the answer (or close) time
  if (m) return { t: Date.parse(`${m[1]}Z`), precise: true };
  m = /^\{"level":\d+,"time":(\d{13}),/.exec(line); // pino
  if (m) return { t: Number(m[1]), precise: true };
  m = /"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"\}$/.exec(line); // Traefik: logrus time, the end
  if (m) return { t: Date.parse(m[1]), precise: false };
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

  it('calls a user planted for an idle cut healthy when the test ends before the cut', async () => {
    const outDir = join(root, 'too-short');
    await simulate({
      ...BASE,
      users: 40,
      durationSec: 40,
      rampSec: 10,
      causes: { 'idle-timeout': 0.5 },
      lb: 'haproxy',
      client: 'jssip',
      outDir,
    });
    const truth = JSON.parse(await read(outDir, 'truth.json')) as Truth;
    expect(new Set(Object.values(truth.users))).toEqual(new Set(['healthy']));
  });

  it('plants each cause on the share of users the mix asks for', async () => {
    const outDir = join(root, 'shares');
    const users = 400;
    // long enough for every planted idle cut (60 s) to happen
    await simulate({ ...BASE, users, durationSec: 100, rampSec: 10, lb: 'haproxy', client: 'jssip', outDir });
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

// ---------------------------------------------------------------------------------------------
// Every product of each role: each new emitter with the reference products of the other roles.
// The logs go through logdiag in-process; the verdicts are scored against truth.json.
// ---------------------------------------------------------------------------------------------

type Products = Pick<SimulateOptions, 'sbc' | 'lb' | 'client'>;

interface ProductMix extends Products {
  /** the emitter under test */
  name: string;
  /** mechanisms left out of the scored run: each one hits a logdiag gap, tested below with it.fails */
  variants?: VariantWeights;
}

const SMALL: Omit<SimulateOptions, 'outDir' | 'sbc' | 'lb' | 'client'> = {
  ...BASE,
  users: 60,
  durationSec: 150,
  rampSec: 20,
  seed: 2026,
  skewMs: { sbc: -300, lb: 700, client: 1600 },
};

const PRODUCT_MIXES: ProductMix[] = [
  { name: 'opensips', sbc: 'opensips', lb: 'nginx', client: 'jssip' },
  { name: 'freeswitch', sbc: 'freeswitch', lb: 'nginx', client: 'jssip' },
  { name: 'asterisk', sbc: 'asterisk', lb: 'nginx', client: 'jssip' },
  { name: 'alb', sbc: 'kamailio', lb: 'alb', client: 'jssip' },
  { name: 'envoy', sbc: 'kamailio', lb: 'envoy', client: 'jssip' },
  { name: 'traefik', sbc: 'kamailio', lb: 'traefik', client: 'jssip' },
  { name: 'har', sbc: 'kamailio', lb: 'nginx', client: 'har' },
  { name: 'json', sbc: 'kamailio', lb: 'nginx', client: 'json' },
];

/** the format logdiag should detect for each file of a mix */
function expectedFormats(mix: Products): Record<string, string> {
  const lb: Record<string, string> = {
    nginx: 'nginx-access',
    haproxy: 'haproxy',
    alb: 'alb',
    envoy: 'envoy',
    traefik: 'traefik',
  };
  const formats: Record<string, string> = { 'sbc.log': mix.sbc, 'lb.log': lb[mix.lb] };
  if (mix.lb === 'nginx') formats['lb-error.log'] = 'nginx-error';
  if (mix.client === 'har') formats['har/*.har'] = 'har';
  else formats['client.log'] = mix.client;
  return formats;
}

interface Scored {
  accuracy: number;
  healthyFlagged: string[];
  misses: string[];
  formats: Record<string, string>;
}

/** Runs logdiag on a scenario directory and scores its verdicts against truth.json. */
async function score(dir: string): Promise<Scored> {
  const truth = JSON.parse(await read(dir, 'truth.json')) as Truth;
  const { report } = await analyze({ paths: [dir] });
  const formats: Record<string, string> = {};
  for (const input of report.inputs) {
    const rel = input.path.slice(dir.length + 1);
    if (!rel.endsWith('.log') && !rel.endsWith('.har')) continue;
    const key = rel.startsWith('har/') ? 'har/*.har' : rel;
    if (formats[key] !== undefined && formats[key] !== input.format) formats[key] = 'mixed';
    else formats[key] = input.format;
  }
  const verdicts = new Map<string, string>();
  for (const f of report.findings)
    for (const u of f.keys.user ?? []) if (u in truth.users) verdicts.set(u, f.cause);
  const misses: string[] = [];
  const healthyFlagged: string[] = [];
  let right = 0;
  for (const [user, actual] of Object.entries(truth.users)) {
    const got = verdicts.get(user) ?? 'healthy';
    if (got === actual) right++;
    else {
      misses.push(`${user}: ${actual} → ${got}`);
      if (actual === 'healthy') healthyFlagged.push(user);
    }
  }
  return { accuracy: right / Object.keys(truth.users).length, healthyFlagged, misses, formats };
}

const productRuns = new Map<string, Promise<string>>();
function productDir(mix: ProductMix): Promise<string> {
  let run = productRuns.get(mix.name);
  if (run === undefined) {
    const outDir = join(root, `product-${mix.name}`);
    const { name: _name, ...products } = mix;
    run = simulate({ ...SMALL, ...products, outDir }).then(() => outDir);
    productRuns.set(mix.name, run);
  }
  return run;
}

/** The files of a scenario directory (har/ included), relative to it. */
async function logFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((f) => f.endsWith('.log') || f.endsWith('.har')).sort();
}

describe('simulate: every SBC, LB and client format', () => {
  for (const mix of PRODUCT_MIXES) {
    it(`${mix.name}: detected as intended, ≥ 95 % of the users right, no healthy user failed`, async () => {
      const dir = await productDir(mix);
      const scored = await score(dir);
      expect(scored.formats).toEqual(expectedFormats(mix));
      expect(scored.healthyFlagged).toEqual([]);
      expect(scored.accuracy, scored.misses.join('; ')).toBeGreaterThanOrEqual(0.95);
    });

    it(`${mix.name}: keeps the time order of each log and names only true users`, async () => {
      const dir = await productDir(mix);
      const truth = JSON.parse(await read(dir, 'truth.json')) as Truth;
      for (const file of await logFiles(dir)) {
        const text = await read(dir, file);
        expect(text.length, file).toBeGreaterThan(0);
        // Envoy stamps each line with its stream's start but writes it when the stream ends
        if (!(file === 'lb.log' && mix.lb === 'envoy')) expect(outOfOrderLines(text, 2025), file).toEqual([]);
        for (const m of text.matchAll(/user=(agent-\d+)|sip:(agent-\d+)@|"user":"(agent-\d+)"/g))
          expect(truth.users, file).toHaveProperty(m[1] ?? m[2] ?? m[3]);
      }
    });
  }

  it('writes one valid HAR per user, its WebSocket entries and frames in time order', async () => {
    const dir = await productDir(PRODUCT_MIXES.find((m) => m.name === 'har') as ProductMix);
    const truth = JSON.parse(await read(dir, 'truth.json')) as Truth;
    const files = (await readdir(join(dir, 'har'))).sort();
    expect(files).toEqual(Object.keys(truth.users).map((u) => `${u}.har`));
    let refused = 0;
    let opened = 0;
    for (const file of files) {
      interface Frame {
        type: string;
        time: number;
        opcode: number;
        data: string;
      }
      interface Entry {
        startedDateTime: string;
        _resourceType: string;
        request: { url: string; headers: { name: string; value: string }[] };
        response: { status: number };
        _webSocketMessages?: Frame[];
      }
      const har = JSON.parse(await read(join(dir, 'har'), file)) as {
        log: { version: string; entries: Entry[] };
      };
      expect(har.log.version).toBe('1.2');
      const sockets = har.log.entries.filter((e) => e._resourceType === 'websocket');
      expect(sockets.length, file).toBeGreaterThan(0);
      let last = -Infinity;
      for (const e of sockets) {
        const user = file.slice(0, -4);
        expect(e.request.url).toMatch(new RegExp(`^wss://sbc\\.example\\.com/\\w+\\?user=${user}$`));
        // a browser always offers the subprotocol it was given: SIP.js gives `sip`
        expect(e.request.headers).toContainEqual({ name: 'Sec-WebSocket-Protocol', value: 'sip' });
        const started = Date.parse(e.startedDateTime);
        expect(started).toBeGreaterThanOrEqual(last);
        last = started;
        const frames = e._webSocketMessages ?? [];
        for (let i = 1; i < frames.length; i++)
          expect(frames[i].time).toBeGreaterThanOrEqual(frames[i - 1].time);
        if (e.response.status === 101) {
          opened++;
          expect(frames.every((f) => f.opcode === 1 && (f.type === 'send' || f.type === 'receive'))).toBe(
            true,
          );
        } else {
          refused++;
          expect(e.response.status).toBe(0);
          expect(frames).toHaveLength(1);
          expect(frames[0]).toMatchObject({ type: 'error', opcode: -1 });
          expect(frames[0].data).toMatch(
            /^Error during WebSocket handshake: Unexpected response code: \d{3}$/,
          );
        }
      }
    }
    expect(opened).toBeGreaterThan(truth.scenario.users as number);
    expect(refused).toBeGreaterThan(0);
  });

  it('leaves the decisive evidence of each cause where each product prints it', async () => {
    const text = async (name: string, file: string): Promise<string> =>
      read(await productDir(PRODUCT_MIXES.find((m) => m.name === name) as ProductMix), file);

    const opensips = await text('opensips', 'sbc.log');
    expect(opensips).toMatch(
      /^\w{3} [ \d]\d \d\d:\d\d:\d\d sbc-01 \/usr\/sbin\/opensips\[\d+\]: WARNING:pike:pike_check_req: PIKE - BLOCKing ip 10\.0\.0\.2, node=0x[0-9a-f]+$/m,
    );
    expect(opensips).toMatch(/callid=\S+\), replying 503 Server Unavailable \(Retry-After: 5\)$/m);
    expect(opensips).toMatch(/www_authorize\(\) returned -1 \(invalid user\), replying 403 Forbidden$/m);

    const freeswitch = await text('freeswitch', 'sbc.log');
    expect(freeswitch).toMatch(
      /^send \d+ bytes to ws\/\[10\.0\.0\.2\]:\d+ at \d\d:\d\d:\d\d\.\d{6}:\n-{72}\nSIP\/2\.0 503 (Maximum Calls In Progress|System Busy)\n/m,
    );
    expect(freeswitch).toContain('Retry-After: 300');
    expect(freeswitch).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \[WARNING\] sofia_reg\.c:\d+ SIP auth failure \(REGISTER\) on sofia profile 'internal' for \[agent-\d+@example\.com\] from ip 10\.0\.0\.2$/m,
    );
    expect(freeswitch).toMatch(
      /\[WARNING\] sofia_reg\.c:\d+ Can't find user \[agent-\d+@example\.com\] from 10\.0\.0\.2\nYou must define a domain called 'example\.com'/,
    );

    const asterisk = await text('asterisk', 'sbc.log');
    expect(asterisk).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] NOTICE\[\d+\] res_pjsip\/pjsip_distributor\.c: Request 'REGISTER' from '<sip:agent-\d+@example\.com>' failed for '10\.0\.0\.2:\d+' \(callid: \S+\) - Failed to authenticate$/m,
    );
    expect(asterisk).toMatch(
      /WARNING\[\d+\] taskprocessor\.c: The 'pjsip\/distributor-\d{8}' task processor queue reached 500 scheduled tasks/,
    );
    expect(asterisk).toMatch(
      /VERBOSE\[\d+\] res_pjsip_logger\.c: <--- Transmitting SIP response \(\d+ bytes\) to WS:10\.0\.0\.2:\d+ --->\nSIP\/2\.0 503 Service Unavailable\n/,
    );
    expect(asterisk).toMatch(/WARNING\[\d+\] res_http_websocket\.c: Web socket closed abruptly$/m);
    expect(asterisk).toContain('could not be accepted - no protocols requested');

    const alb = await text('alb', 'lb.log');
    expect(alb).toMatch(
      /^https \S+Z app\/\S+ 198\.51\.100\.\d+:\d+ - -1 -1 -1 403 - \d+ \d+ "GET https:\/\/sbc\.example\.com:443\/ws\?user=agent-\d+ HTTP\/1\.1" .* "waf" "-" "-" "-" "-" "-" "-" TID_[0-9a-f]{32}$/m,
    );
    expect(alb).toMatch(/^wss \S+Z app\/\S+ \S+ 10\.0\.0\.1:8080 0\.000 0\.00\d 0\.000 101 101 \d+ \d+ /m);

    const envoy = await text('envoy', 'lb.log');
    expect(envoy).toMatch(/" 101 SI stream_idle_timeout \d+ \d+ 60\d{3} /);
    expect(envoy).toMatch(/" 429 RL local_rate_limited 0 18 0 - /);
    expect(envoy).toMatch(/" 504 UT response_timeout 0 24 150\d\d - /);

    const traefik = await text('traefik', 'lb.log');
    expect(traefik).toMatch(/"DownstreamStatus":0,"Duration":6\d{10},.*"OriginStatus":0,/);
    expect(traefik).toMatch(
      /"DownstreamContentSize":26,"DownstreamStatus":429,.*"OriginStatus":0,.*"RouterName":"sbc-ws@file"/,
    );
    expect(traefik).toMatch(/"DownstreamStatus":504,.*"OriginStatus":504,/);

    const json = await text('json', 'client.log');
    expect(json).toMatch(
      /"status":503,"reason":"Limiting","retryAfter":5,"msg":"registrationFailed: SIP Failure Code"\}$/m,
    );
    expect(json).toMatch(/"msg":"WebSocket error: Unexpected server response: \d{3}"\}$/m);
    expect(json).toMatch(
      /"code":1006,"reason":"Connection closed abnormally","error":true,"msg":"disconnected"\}$/m,
    );
  });

  it('refuses a cause that no mechanism of the mix can produce', async () => {
    await expect(
      simulate({
        ...SMALL,
        causes: { 'client-misconfig': 0.2 },
        sbc: 'freeswitch',
        lb: 'haproxy',
        client: 'sipjs',
        outDir: join(root, 'impossible'),
      }),
    ).rejects.toThrow(
      /client-misconfig: no variant left that this mix can produce \(sbc freeswitch, lb haproxy, client sipjs\)/,
    );
  });
});

// Gaps these realistic logs exposed in logdiag (now closed): each mechanism alone, so a regression
// shows which one.
describe('simulate: mechanisms that once fooled logdiag', () => {
  const gap = async (name: string, options: Partial<SimulateOptions> & Products): Promise<Scored> => {
    const outDir = join(root, `gap-${name}`);
    await simulate({ ...SMALL, ...options, outDir });
    return score(outDir);
  };

  it('OpenSIPS: "cannot complete WebSocket handshake" (no address, no status) is not pinned on a healthy user', async () => {
    const scored = await gap('opensips-handshake', {
      sbc: 'opensips',
      lb: 'nginx',
      client: 'jssip',
      causes: { 'client-misconfig': 0.3 },
      variants: { 'client-misconfig': { 'no-subprotocol': 1 } },
    });
    expect(scored.healthyFlagged).toEqual([]);
  });

  it("ALB behind AWS WAF: the 504 and the default action's 404 (`waf,forward`, `waf,fixed-response`) are not WAF blocks", async () => {
    const scored = await gap('alb-waf', {
      sbc: 'kamailio',
      lb: 'alb',
      client: 'jssip',
      causes: { 'upstream-timeout': 0.2, 'client-misconfig': 0.2 },
      variants: { 'upstream-timeout': { 'edge-504': 1 }, 'client-misconfig': { 'bad-path': 1 } },
    });
    expect(scored.accuracy, scored.misses.join('; ')).toBeGreaterThanOrEqual(0.95);
  });

  it('HAR behind ALB or Traefik: idle cuts are seen (the LB line has no termination state, the HAR no close)', async () => {
    const scored = await gap('har-traefik-idle', {
      sbc: 'kamailio',
      lb: 'traefik',
      client: 'har',
      causes: { 'idle-timeout': 0.3 },
    });
    expect(scored.accuracy, scored.misses.join('; ')).toBeGreaterThanOrEqual(0.95);
  });

  it('OpenSIPS pike drops seen from HAR pages: the unanswered REGISTER is the transaction timeout', async () => {
    const scored = await gap('opensips-har-pike', {
      sbc: 'opensips',
      lb: 'envoy',
      client: 'har',
      causes: { 'sbc-throttling': 0.3 },
    });
    expect(scored.accuracy, scored.misses.join('; ')).toBeGreaterThanOrEqual(0.95);
    expect(scored.healthyFlagged).toEqual([]);
  });
});
