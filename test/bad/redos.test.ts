/**
 * Every regular expression that reads log text is checked by a ReDoS checker (recheck, from the
 * npm registry), and the line readers are fed long adversarial lines within a time budget.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/formats/index.js';
import { MAX_LINE_BYTES } from '../../src/ingest/sources.js';
import { readClientText } from '../../src/formats/text-signals.js';
import { utcContext } from '../../src/formats/time.js';

const SRC = join(import.meta.dirname, '..', '..', 'src');
/** Folders whose regexes run on untrusted log text. */
const READERS = ['formats', 'ingest', 'correlate', 'classify', 'report'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function regexLiterals(file: string): { source: string; flags: string; where: string }[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: { source: string; flags: string; where: string }[] = [];
  const visit = (node: ts.Node) => {
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = node.getText(sf);
      const end = literal.lastIndexOf('/');
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      found.push({
        source: literal.slice(1, end),
        flags: literal.slice(end + 1),
        where: `${file.slice(SRC.length + 1)}:${line + 1}`,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('regular expressions on log text', () => {
  const files = READERS.flatMap((d) => sourceFiles(join(SRC, d)));
  const regexes = files.flatMap(regexLiterals);

  it('finds the regexes to check', () => {
    expect(regexes.length).toBeGreaterThan(100);
  });

  it('none can backtrack catastrophically (recheck)', async () => {
    const { checkSync } = await import('recheck');
    // exponential backtracking is never acceptable; a polynomial one must stay within budget on
    // recheck's own attack string pumped to the 64 KB line cap (lines are never longer)
    const vulnerable: string[] = [];
    for (const r of regexes) {
      const flags = r.flags.replace(/[gy]/g, '');
      const result = checkSync(r.source, flags, { timeout: 2_000 });
      if (result.status !== 'vulnerable') continue;
      if (result.complexity.type === 'exponential') {
        vulnerable.push(`${r.where} /${r.source}/ exponential`);
        continue;
      }
      const unit = result.attack.pumps.reduce((n, p) => n + p.prefix.length + p.pump.length, 0) || 1;
      const times = Math.floor((MAX_LINE_BYTES - result.attack.suffix.length) / unit);
      const attack =
        result.attack.pumps.map((p) => p.prefix + p.pump.repeat(times)).join('') + result.attack.suffix;
      const t0 = performance.now();
      new RegExp(r.source, flags).exec(attack.slice(0, MAX_LINE_BYTES));
      const ms = performance.now() - t0;
      if (ms > 500)
        vulnerable.push(
          `${r.where} /${r.source}/ ${result.complexity.summary}: ${ms.toFixed(0)} ms on a 64 KB attack`,
        );
    }
    expect(vulnerable).toEqual([]);
  }, 300_000);
});

describe('long adversarial lines', () => {
  const attacks = [
    ' '.repeat(60_000) + 'x',
    'a'.repeat(60_000),
    '['.repeat(30_000),
    '{"'.repeat(20_000),
    'Nov 24 10:00:00 h kamailio[1]: INFO: ' + '{1 '.repeat(15_000),
    '1.2.3.4 - - [24/Nov/2026:10:00:00 +0000] "' + 'GET /'.repeat(10_000),
    'wss://' + 'a.'.repeat(25_000),
    'sip:' + 'a@'.repeat(25_000),
    '2026-11-24T10:00:00.000Z ' + 'X-'.repeat(25_000) + ':',
    'SIP/2.0 503 ' + 'Limiting '.repeat(6_000),
  ];

  it('every format reads each within 1 s and never throws', () => {
    for (const format of FORMATS) {
      for (const line of attacks) {
        const parser = format.createParser(utcContext(2026));
        const t0 = performance.now();
        expect(() => {
          format.sniff(line);
          parser.push(line, 1, () => undefined);
          parser.end(() => undefined);
        }).not.toThrow();
        expect(performance.now() - t0, `${format.name} on ${line.slice(0, 30)}…`).toBeLessThan(1000);
      }
    }
  });

  it('the shared client-text reading stays linear', () => {
    for (const line of attacks) {
      const t0 = performance.now();
      readClientText(line);
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });
});
