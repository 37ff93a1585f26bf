import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { expandInputs, MAX_LINE_BYTES, openLines } from '../src/ingest/sources.js';

async function linesOf(path: string, stdin?: Readable): Promise<{ lines: string[]; truncated: number }> {
  const s = openLines(path === '-' ? { path, kind: 'stdin' } : { path, kind: 'file' }, stdin);
  const lines: string[] = [];
  for await (const l of s.lines) lines.push(l);
  return { lines, truncated: s.truncated() };
}

describe('ingest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'logdiag-ingest-'));

  it('reads CRLF lines, gzip files and invalid UTF-8 without crashing', async () => {
    writeFileSync(join(dir, 'crlf.log'), 'one\r\ntwo\r\n');
    writeFileSync(join(dir, 'z.log.gz'), gzipSync('alpha\nbeta\n'));
    writeFileSync(join(dir, 'bad.log'), Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a, 0x00, 0x63, 0x0a]));
    expect((await linesOf(join(dir, 'crlf.log'))).lines).toEqual(['one', 'two']);
    expect((await linesOf(join(dir, 'z.log.gz'))).lines).toEqual(['alpha', 'beta']);
    const bad = (await linesOf(join(dir, 'bad.log'))).lines;
    expect(bad).toHaveLength(2);
    expect(bad[0]).toContain('\ufffd');
  });

  it('cuts an overlong line and keeps the lines after it', async () => {
    writeFileSync(join(dir, 'long.log'), `short\n${'x'.repeat(MAX_LINE_BYTES * 3)}\nafter\n`);
    const { lines, truncated } = await linesOf(join(dir, 'long.log'));
    expect(lines).toHaveLength(3);
    expect(lines[1].length).toBe(MAX_LINE_BYTES);
    expect(lines[2]).toBe('after');
    expect(truncated).toBe(1);
  });

  it('reads stdin', async () => {
    const { lines } = await linesOf('-', Readable.from(['a\nb', '\nc\n']));
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('expands directories recursively and reports missing paths without stopping', async () => {
    mkdirSync(join(dir, 'tree', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'a.log'), 'a\n');
    writeFileSync(join(dir, 'tree', 'deeper', 'b.log'), 'b\n');
    const { sources, problems } = await expandInputs([join(dir, 'tree'), join(dir, 'missing.log')]);
    expect(sources.map((s) => s.path)).toEqual([
      join(dir, 'tree', 'a.log'),
      join(dir, 'tree', 'deeper', 'b.log'),
    ]);
    expect(problems).toEqual([{ path: join(dir, 'missing.log'), message: 'no such file or directory' }]);
  });
});
