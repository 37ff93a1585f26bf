/**
 * User-defined formats end to end: a load test whose SBC logs in a format only a JSON file
 * describes (test/fixtures/user-formats/, see its README.md) is analysed like any other, and the
 * CLI loads `--formats` files and the config directory, refusing bad ones with one line and exit 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { cli } from './in-process.js';
import { loadRunFormats, loadUserFormats, userFormatsDir } from '../../src/ingest/user-formats.js';
import type { Report } from '../../src/model.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'user-formats');
const FORMATS_JSON = join(DIR, 'formats.json');
const SBC = join(DIR, 'sbc-voxgate.log');
const LB = join(DIR, 'lb-haproxy.log');
const CLIENT = join(DIR, 'client-sipjs.log.gz');
const TRUTH = (JSON.parse(readFileSync(join(DIR, 'truth.json'), 'utf8')) as { users: Record<string, string> })
  .users;

function score(report: Report): { accuracy: number; healthyFlagged: string[]; misses: string[] } {
  const got = new Map<string, string>();
  for (const f of report.findings) for (const u of f.keys.user ?? []) got.set(u, f.cause);
  const users = Object.keys(TRUTH);
  const misses = users.filter((u) => (got.get(u) ?? 'healthy') !== TRUTH[u]);
  return {
    accuracy: (users.length - misses.length) / users.length,
    healthyFlagged: users.filter((u) => TRUTH[u] === 'healthy' && got.has(u)),
    misses: misses.map((u) => `${u}: truth ${TRUTH[u]}, got ${got.get(u) ?? 'healthy'}`),
  };
}

// the user's real config directory must not leak into these tests
let configDir: string;
let savedEnv: string | undefined;
beforeAll(() => {
  configDir = mkdtempSync(join(tmpdir(), 'logdiag-formats-'));
});
afterAll(() => rmSync(configDir, { recursive: true, force: true }));
beforeEach(() => {
  savedEnv = process.env.LOGDIAG_FORMATS_DIR;
  process.env.LOGDIAG_FORMATS_DIR = configDir;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.LOGDIAG_FORMATS_DIR;
  else process.env.LOGDIAG_FORMATS_DIR = savedEnv;
});

describe('a load test whose SBC log is in a user-defined format', () => {
  let full: Report;
  let withoutClient: Report;

  beforeAll(async () => {
    const extraFormats = await loadUserFormats(FORMATS_JSON);
    full = (await analyze({ paths: [SBC, LB, CLIENT], extraFormats })).report;
    withoutClient = (await analyze({ paths: [SBC, LB], extraFormats })).report;
  });

  it('reads every SBC line with the user format', () => {
    const sbc = full.inputs[0];
    expect(sbc).toMatchObject({ format: 'voxgate', role: 'sbc', unparsed: 0 });
    expect(sbc.events).toBeGreaterThan(500);
    expect(full.inputs.map((i) => i.format)).toEqual(['voxgate', 'haproxy', 'sipjs']);
  });

  it('finds the gateway clock 1.5 s behind from the SIP messages both sides saw', () => {
    // the SBC is the reference: the others run 1.5 s ahead of it
    const [, lb, client] = full.inputs;
    expect(Math.abs(client.clockOffsetMs - 1500)).toBeLessThan(150);
    expect(Math.abs(lb.clockOffsetMs - 1500)).toBeLessThan(150);
  });

  it('classifies ≥ 95 % of users right and reports no healthy user', () => {
    const s = score(full);
    expect(s.healthyFlagged).toEqual([]);
    expect(s.accuracy, s.misses.join('\n')).toBeGreaterThanOrEqual(0.95);
  });

  it("cites the user-format lines as evidence of the gateway's refusals", () => {
    const throttled = full.findings.filter((f) => f.cause === 'sbc-throttling');
    expect(throttled.length).toBeGreaterThan(0);
    const sbcEvidence = throttled.flatMap((f) => f.evidence.filter((e) => e.path === SBC));
    expect(sbcEvidence.length).toBeGreaterThan(0);
    expect(sbcEvidence.some((e) => /rate limit exceeded|over limit|flood/.test(e.text))).toBe(true);
  });

  it('still gets the users right from the SBC and LB logs alone', () => {
    const s = score(withoutClient);
    expect(s.healthyFlagged).toEqual([]);
    expect(s.accuracy, s.misses.join('\n')).toBeGreaterThanOrEqual(0.95);
    const auth = withoutClient.findings.filter((f) => f.cause === 'auth-failure');
    expect(auth.every((f) => f.evidence.some((e) => e.path === SBC))).toBe(true);
  });

  it('can be forced with --format-of, by its name', async () => {
    const extraFormats = await loadUserFormats(FORMATS_JSON);
    const { report } = await analyze({
      paths: [SBC],
      extraFormats,
      formatOf: new Map([['sbc-voxgate.log', 'voxgate']]),
    });
    expect(report.inputs[0]).toMatchObject({ format: 'voxgate', unparsed: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI, in process (dist is not rebuilt here)
// ---------------------------------------------------------------------------------------------

describe('logdiag --formats', () => {
  let tmp: string;
  const write = (name: string, content: unknown): string => {
    const path = join(tmp, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  };
  const valid = () =>
    JSON.parse(readFileSync(FORMATS_JSON, 'utf8')) as { formats: Record<string, unknown>[] };
  const withChange = (change: Record<string, unknown>) => {
    const json = valid();
    json.formats[0] = { ...json.formats[0], ...change };
    return json;
  };

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'logdiag-user-formats-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('analyze reads the SBC log with the format from the file', async () => {
    const r = await cli('analyze', '--formats', FORMATS_JSON, SBC, LB, '--format', 'json', '-q');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.inputs[0].format).toBe('voxgate');
    expect(r.code).toBe(1); // failures found
  });

  it('formats lists the user format first, with its role, origin and a sample', async () => {
    const r = await cli('formats', '--formats', FORMATS_JSON);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^voxgate\s+sbc\s+Voxgate WebRTC gateway .*\(user-defined: .*formats\.json\)$/);
    expect(lines[1]).toMatch(/^\s+e\.g\. 24\.11\.2026 /);
    expect(r.stdout).toMatch(/^kamailio\s+sbc/m);
  });

  it('detect names the user format', async () => {
    const r = await cli('detect', '--formats', FORMATS_JSON, SBC);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sbc-voxgate\.log: voxgate \[sbc\] confidence 1/);
  });

  it('loads every *.json of the config directory without --formats', async () => {
    writeFileSync(join(configDir, 'voxgate.json'), readFileSync(FORMATS_JSON));
    writeFileSync(join(configDir, 'notes.txt'), 'not a format file');
    try {
      const r = await cli('detect', SBC);
      expect(r.stdout).toMatch(/voxgate \[sbc\]/);
      // the same name given with --formats replaces the config directory's
      const formats = await loadRunFormats([FORMATS_JSON]);
      expect(formats.map((f) => [f.name, f.origin])).toEqual([['voxgate', FORMATS_JSON]]);
    } finally {
      rmSync(join(configDir, 'voxgate.json'));
      rmSync(join(configDir, 'notes.txt'));
    }
  });

  it('finds the config directory through LOGDIAG_FORMATS_DIR, XDG_CONFIG_HOME or ~/.config', () => {
    expect(userFormatsDir({ LOGDIAG_FORMATS_DIR: '/etc/logdiag/formats' })).toBe('/etc/logdiag/formats');
    expect(userFormatsDir({ XDG_CONFIG_HOME: '/home/u/.cfg' })).toBe('/home/u/.cfg/logdiag/formats');
    expect(userFormatsDir({})).toBe(join(homedir(), '.config', 'logdiag', 'formats'));
  });

  const bad: [string, () => string, RegExp][] = [
    [
      'bad JSON',
      () => write('bad.json', '{\n  "name": "x",\n}\n'),
      /^logdiag: .*bad\.json: not valid JSON: .* at line 3, column 1$/,
    ],
    [
      'a bad field',
      () => write('field.json', withChange({ timestamp: { group: 'time', format: 'yyyy-mm-dd' } })),
      /^logdiag: .*field\.json: formats\[0\]\.timestamp\.format: unknown format 'yyyy-mm-dd' \(expected iso8601, epoch-s, epoch-ms, syslog, nginx or a date pattern/,
    ],
    [
      'an unknown role',
      () => write('role.json', withChange({ role: 'gateway' })),
      /^logdiag: .*role\.json: formats\[0\]\.role: unknown role 'gateway' \(expected sbc, lb, client\)$/,
    ],
    [
      'a built-in name',
      () => write('clash.json', withChange({ name: 'haproxy' })),
      /^logdiag: .*clash\.json: formats\[0\]\.name: 'haproxy' is a built-in format; choose another name$/,
    ],
    [
      'a sample its regex does not match',
      () => write('sample.json', withChange({ sample: ['24.11.2026 11:00:01,037 nonsense'] })),
      /^logdiag: .*sample\.json: formats\[0\]\.sample\[0\]: does not match the regex: /,
    ],
    [
      'a missing file',
      () => join(tmp, 'missing.json'),
      /^logdiag: .*missing\.json: no such file or directory$/,
    ],
  ];

  for (const [what, file, message] of bad) {
    it(`exits 2 with one line for ${what}`, async () => {
      const path = file();
      for (const args of [
        ['analyze', '--formats', path, SBC],
        ['detect', '--formats', path, SBC],
        ['formats', '--formats', path],
      ]) {
        const r = await cli(...args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.split('\n').filter(Boolean), r.stderr).toHaveLength(1);
        expect(r.stderr.trim()).toMatch(message);
        expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
      }
    });
  }

  it('exits 2 when LOGDIAG_FORMATS_DIR names no directory', async () => {
    process.env.LOGDIAG_FORMATS_DIR = join(tmp, 'no-such-dir');
    const r = await cli('detect', SBC);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^logdiag: .*no-such-dir: no such file or directory \(LOGDIAG_FORMATS_DIR\)$/,
    );
  });

  it('exits 2 for the same name in two --formats files', async () => {
    const copy = write('copy.json', valid());
    const r = await cli('detect', '--formats', FORMATS_JSON, '--formats', copy, SBC);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /copy\.json: formats\[0\]\.name: 'voxgate' is already defined in .*formats\.json$/,
    );
  });
});
