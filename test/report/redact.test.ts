import { describe, expect, it } from 'vitest';
import { REPORTERS } from '../../src/report/index.js';
import { makeRedactor, redactReport } from '../../src/report/redact.js';
import { IPS, SECRET_LINES, SECRETS, sampleReport, secretReport } from './fixture.js';

const KEY = Buffer.from('test-key-0123456789');

function everyFormat(report: ReturnType<typeof secretReport>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, render] of Object.entries(REPORTERS)) {
    out[name] = render(report, { color: false, verbose: true, redacted: true });
  }
  return out;
}

describe('redactReport', () => {
  it('leaves no secret in any output format', () => {
    const report = secretReport();
    const outputs = everyFormat(redactReport(report, { ips: false }));
    expect(Object.keys(outputs).sort()).toEqual(['html', 'json', 'jsonl', 'junit', 'markdown', 'table']);
    for (const [format, text] of Object.entries(outputs)) {
      for (const secret of SECRETS) expect(text, `${format} leaks ${secret}`).not.toContain(secret);
      expect(text, format).toContain('«secret:');
    }
    // the unredacted report does carry them (so the test means something)
    const raw = everyFormat(report);
    for (const secret of SECRETS) expect(raw.json).toContain(secret);
  });

  it('with ips, leaves no IP address in any output format, and keeps ports', () => {
    const outputs = everyFormat(redactReport(secretReport(), { ips: true }));
    for (const [format, text] of Object.entries(outputs)) {
      for (const ip of [...IPS, ...SECRETS]) expect(text, `${format} leaks ${ip}`).not.toContain(ip);
    }
    expect(outputs.json).toMatch(/«ip:[0-9a-f]{8}»:44711/);
    expect(outputs.json).toMatch(/\[«ip:[0-9a-f]{8}»\]:5060/);
  });

  it('without ips, keeps IP addresses', () => {
    const json = REPORTERS.json(redactReport(secretReport(), { ips: false }));
    expect(json).toContain('198.51.100.23');
    expect(json).toContain('10.0.0.2:44711');
  });

  it('gives the same secret the same pseudonym everywhere, and different secrets different ones', () => {
    const r = redactReport(secretReport(), { ips: true, key: KEY });
    const json = JSON.stringify(r);
    const jwt = makeRedactor({ ips: false, key: KEY })(`x ${SECRETS[1]}`).slice(2);
    expect(jwt).toMatch(/^«secret:[0-9a-f]{8}»$/);
    // the JWT appears in a token= parameter and bare in the same line: one pseudonym for both
    const line = r.findings.at(-1)!.evidence[2].text;
    expect(line.split(jwt).length - 1).toBe(2);
    // the bearer token of the evidence and of the explanation read the same
    const bearer = makeRedactor({ ips: false, key: KEY })(`Bearer ${SECRETS[0]}`);
    expect(r.findings.at(-1)!.explanation).toContain(bearer.slice('Bearer '.length));
    expect(json.split(bearer.slice(7)).length - 1).toBeGreaterThanOrEqual(3);
    const all = new Set(json.match(/«secret:[0-9a-f]{8}»/g));
    expect(all.size).toBeGreaterThanOrEqual(SECRETS.length - 1);
  });

  it('is keyed: the same key gives the same pseudonyms, another key other ones', () => {
    const a = JSON.stringify(redactReport(secretReport(), { ips: true, key: KEY }));
    const b = JSON.stringify(redactReport(secretReport(), { ips: true, key: KEY }));
    const c = JSON.stringify(redactReport(secretReport(), { ips: true, key: Buffer.from('other') }));
    const d = JSON.stringify(redactReport(secretReport(), { ips: true }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toBe(d);
  });

  it('is pure: the input report is unchanged, and redacting twice changes nothing more', () => {
    const report = secretReport();
    const before = JSON.stringify(report);
    const once = redactReport(report, { ips: true, key: KEY });
    expect(JSON.stringify(report)).toBe(before);
    expect(redactReport(once, { ips: true, key: KEY })).toEqual(once);
  });

  it('keeps paths, times, causes, numbers and a clean report as they are', () => {
    const report = sampleReport();
    const r = redactReport(report, { ips: false, key: KEY });
    expect(r).toEqual(report);
    const withIps = redactReport(secretReport(), { ips: true, key: KEY });
    const orig = secretReport();
    expect(withIps.inputs.map((i) => [i.path, i.format, i.role, i.clockOffsetMs])).toEqual(
      orig.inputs.map((i) => [i.path, i.format, i.role, i.clockOffsetMs]),
    );
    const f = withIps.findings.at(-1)!;
    expect(f.evidence.map((e) => [e.path, e.line, e.role, e.time])).toEqual(
      orig.findings.at(-1)!.evidence.map((e) => [e.path, e.line, e.role, e.time]),
    );
    expect([f.cause, f.firstSeen, f.lastSeen, f.confidence]).toEqual([
      'auth-failure',
      orig.findings.at(-1)!.firstSeen,
      orig.findings.at(-1)!.lastSeen,
      0.95,
    ]);
    expect(withIps.summary.byCause).toEqual(orig.summary.byCause);
  });

  const r = makeRedactor({ ips: true, key: KEY });
  it.each([
    ['Authorization: Bearer abc.def-ghi', /^Authorization: Bearer «secret:\w+»$/],
    ['Proxy-Authorization: Basic dXNlcjpwYXNz', /^Proxy-Authorization: Basic «secret:\w+»$/],
    ['Cookie: sid=abc; theme=dark', /^Cookie: sid=«secret:\w+»; theme=«secret:\w+»$/],
    [
      'Set-Cookie: sid=abc; Path=/; Max-Age=60; HttpOnly',
      /^Set-Cookie: sid=«secret:\w+»; Path=\/; Max-Age=60; HttpOnly$/,
    ],
    [
      'nonce="abc", response="0123456789abcdef0123456789abcdef", cnonce=xyz',
      /^nonce="«secret:\w+»", response="«secret:\w+»", cnonce=«secret:\w+»$/,
    ],
    ['"password": "p\\"w"', /^"password": "«secret:\w+»"$/],
    ['X-API-Key: k-1', /^X-API-Key: «secret:\w+»$/],
    ['password: hunter2', /^password: «secret:\w+»$/],
    ['https://bob:pw@host/x', /^https:\/\/bob:«secret:\w+»@host\/x$/],
    ['key AKIAIOSFODNN7EXAMPLE', /^key «secret:\w+»$/],
    ['::ffff:10.0.0.1 and fe80::1', /^«ip:\w+» and «ip:\w+»$/],
  ])('%s', (input, expected) => {
    expect(r(input)).toMatch(expected);
  });

  it.each([
    'registrationFailed: cause="Rejected" response="403 Forbidden - Invalid Credentials"',
    'Error: Unexpected server response: 503',
    '2025-11-24T10:00:01.340Z 10:00:01.769 12:34:56',
    'Nov 24 10:00:00 sbc-01 /usr/sbin/kamailio[16659]: WARNING: {1 1 REGISTER skovf7} <core> [core/tcp_read.c:289]',
    'JsSIP 3.10.1 std::string aa:bb:cc:dd:ee:ff v1.2.3.4.5',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  ])('leaves alone: %s', (input) => {
    expect(r(input)).toBe(input);
  });

  it('redacts each of the secret lines', () => {
    for (const line of SECRET_LINES) {
      const out = r(line);
      for (const s of [...SECRETS, ...IPS]) expect(out).not.toContain(s);
    }
  });
});
