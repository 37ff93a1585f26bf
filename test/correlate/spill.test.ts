// A run larger than memory spills its sessions to disk and reads them back partition by partition.
// The verdicts must not depend on that: every hand-made scenario and every sample gives the same
// report when forced to spill after a few dozen events (many partitions, orphans and keyless lines
// matched across partitions) as when held in memory.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtempSync, readdirSync as list } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

function inputsOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !/^(?:truth\.json|README\.md|report\.\w+|manifest\.json)$/.test(n))
    .map((n) => join(dir, n));
}

const dirs = [
  ...readdirSync(join(REPO, 'test', 'fixtures', 'scenarios')).map((n) =>
    join(REPO, 'test', 'fixtures', 'scenarios', n),
  ),
  ...readdirSync(join(REPO, 'samples')).map((n) => join(REPO, 'samples', n)),
].filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'truth.json')));

describe('spilling a run to disk', () => {
  for (const dir of dirs) {
    it(`gives the same report for ${dir.slice(REPO.length + 1)}`, async () => {
      const paths = inputsOf(dir);
      const inMemory = await analyze({ paths });
      const tmpDir = mkdtempSync(join(tmpdir(), 'logdiag-spill-test-'));
      const spilled = await analyze({ paths, spill: { maxEventsInMemory: 40, tmpDir } });
      expect(inMemory.spilled).toBe(false);
      expect(spilled.spilled).toBe(true);
      expect(spilled.report).toEqual(inMemory.report);
      expect(spilled.problems).toEqual(inMemory.problems);
      // the spill files are gone with the run
      expect(list(tmpDir)).toEqual([]);
    });
  }
});
