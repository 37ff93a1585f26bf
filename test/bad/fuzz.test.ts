/**
 * Property tests (fast-check): mutated lines of every format never crash a parser and every line
 * is accounted for; garbage spliced into a scenario's logs does not change any user's verdict.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { FORMATS } from '../../src/formats/index.js';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome } from '../../src/formats/types.js';
import { simulate } from '../../src/simulate/index.js';

const OUTCOMES: LineOutcome[] = ['event', 'part', 'skip', 'unparsed'];
const samples = FORMATS.flatMap((f) => f.samples.map((s) => s.line));

/** A sample line cut, spliced with junk, case-flipped or with its zone changed. */
const mutatedLine = fc
  .tuple(fc.constantFrom(...samples), fc.nat(), fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 4 }))
  .map(([line, at, junk, how]) => {
    const cut = at % (line.length + 1);
    switch (how) {
      case 0:
        return line.slice(0, cut);
      case 1:
        return line.slice(0, cut) + junk + line.slice(cut);
      case 2:
        return line.replace(/Z|\+0000|GMT/, '+0530');
      case 3:
        return junk + line;
      default:
        return line.slice(cut) + line.slice(0, cut);
    }
  });

describe('mutated lines of every format', () => {
  it('never throw and always return a known outcome', () => {
    fc.assert(
      fc.property(fc.array(mutatedLine, { minLength: 1, maxLength: 30 }), (lines) => {
        for (const format of FORMATS) {
          const parser = format.createParser(utcContext(2026));
          lines.forEach((line, i) => {
            format.sniff(line);
            expect(OUTCOMES).toContain(parser.push(line, i + 1, () => undefined));
          });
          parser.end(() => undefined);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('a scenario with garbage spliced in', () => {
  let dir = '';
  const verdicts = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logdiag-fuzz-'));
    await simulate({
      outDir: dir,
      users: 24,
      durationSec: 150,
      rampSec: 20,
      causes: { 'sbc-throttling': 0.2, 'edge-rate-limit': 0.15, 'idle-timeout': 0.2, 'auth-failure': 0.1 },
      sbc: 'kamailio',
      lb: 'nginx',
      client: 'jssip',
      seed: 99,
      skewMs: { sbc: 0, lb: 200, client: -300 },
      noise: 3,
      idleTimeoutSec: 40,
      start: new Date('2026-11-24T10:00:00Z'),
    });
    const { report } = await analyze({ paths: [dir] });
    for (const f of report.findings) verdicts.set(f.keys.user![0], f.cause);
  }, 60_000);

  it('keeps every verdict and accounts for every added line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 80 })), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.integer({ min: 0, max: 1000 }),
        async (insertions, run) => {
          const out = mkdtempSync(join(tmpdir(), `logdiag-fuzz-${run}-`));
          let added = 0;
          for (const name of readdirSync(dir).filter((f) => f.endsWith('.log'))) {
            const lines = readFileSync(join(dir, name), 'utf8').split('\n');
            for (const [at, junk] of insertions) {
              // garbage that is not a line of any format: never starts with a digit, a bracket or a letter
              lines.splice(at % lines.length, 0, `~${junk.replace(/[\r\n]/g, ' ')}`);
              added++;
            }
            writeFileSync(join(out, name), lines.join('\n'));
          }
          const { report } = await analyze({ paths: [out] });
          const after = new Map(report.findings.map((f) => [f.keys.user![0], f.cause]));
          expect(after).toEqual(verdicts);
          for (const i of report.inputs) {
            expect(i.events + (i.multiline ?? 0) + (i.skipped ?? 0) + i.unparsed).toBe(i.lines);
          }
          expect(
            report.inputs.reduce((n, i) => n + i.unparsed + (i.multiline ?? 0) + (i.skipped ?? 0), 0),
          ).toBeGreaterThanOrEqual(0);
          expect(added).toBeGreaterThan(0);
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});
