/**
 * Ingest: turns the paths a user gives (files, directories, `-`, .gz) into line streams.
 * I/O lives here and nowhere else in the pipeline.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Longest line kept; the rest of an overlong line is dropped and counted. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface InputSource {
  /** the path as the user should see it */
  path: string;
  /** 'file' or 'stdin' */
  kind: 'file' | 'stdin';
  /** bytes on disk (compressed size for .gz), when known */
  size?: number;
}

export interface SourceProblem {
  path: string;
  message: string;
}

/**
 * Expands files and directories (recursively, sorted, symlink loops and unreadable entries
 * reported, not fatal) into input sources.
 */
export async function expandInputs(
  paths: readonly string[],
): Promise<{ sources: InputSource[]; problems: SourceProblem[] }> {
  const sources: InputSource[] = [];
  const problems: SourceProblem[] = [];
  const seenDirs = new Set<string>();

  async function visit(path: string, topLevel: boolean): Promise<void> {
    let stat;
    try {
      stat = await fs.stat(path);
    } catch (err) {
      problems.push({ path, message: describeFsError(err) });
      return;
    }
    if (stat.isDirectory()) {
      let real: string;
      try {
        real = await fs.realpath(path);
      } catch (err) {
        problems.push({ path, message: describeFsError(err) });
        return;
      }
      if (seenDirs.has(real)) {
        if (topLevel)
          problems.push({ path, message: 'directory already read (symlink loop or repeated argument)' });
        return;
      }
      seenDirs.add(real);
      let names: string[];
      try {
        names = (await fs.readdir(path)).sort();
      } catch (err) {
        problems.push({ path, message: describeFsError(err) });
        return;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue;
        await visit(join(path, name), false);
      }
      return;
    }
    if (!stat.isFile()) {
      problems.push({ path, message: 'not a regular file' });
      return;
    }
    // documentation beside the logs in a directory is not a log
    if (!topLevel && (/\.(?:md|markdown|html?)$/i.test(path) || basename(path) === 'truth.json')) return;
    sources.push({ path, kind: 'file', size: stat.size });
  }

  for (const p of paths) {
    if (p === '-') sources.push({ path: '-', kind: 'stdin' });
    else await visit(p, true);
  }
  return { sources, problems };
}

export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many symbolic links (symlink loop)';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Cuts bytes into lines at `\n` (a byte that never occurs inside a UTF-8 sequence, so a
 * character split across chunks is decoded whole), drops a trailing `\r`, keeps at most
 * MAX_LINE_BYTES of a line (counting the cuts), and decodes each line on its own (invalid UTF-8
 * becomes U+FFFD): every line is a string of its own, so keeping one line never keeps its chunk.
 * Emits the lines of each chunk as one array.
 */
class LineSplitter extends Transform {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private overflow = false;
  truncatedLines = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const lines: string[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.keep(chunk, pos, chunk.length);
        break;
      }
      if (this.carryBytes === 0 && !this.overflow) lines.push(this.decode(chunk, pos, nl));
      else {
        this.keep(chunk, pos, nl);
        lines.push(this.takeCarry());
      }
      pos = nl + 1;
    }
    if (lines.length > 0) this.push(lines);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.carryBytes > 0 || this.overflow) this.push([this.takeCarry()]);
    done();
  }

  private decode(buf: Buffer, start: number, end: number): string {
    if (end > start && buf[end - 1] === 13) end--;
    if (end - start > MAX_LINE_BYTES) {
      this.truncatedLines++;
      end = start + MAX_LINE_BYTES;
    }
    return buf.toString('utf8', start, end);
  }

  /** Keeps part of a line that continues in the next chunk, up to MAX_LINE_BYTES. */
  private keep(buf: Buffer, start: number, end: number): void {
    const room = MAX_LINE_BYTES - this.carryBytes;
    if (end - start > room) {
      if (!this.overflow) this.truncatedLines++;
      this.overflow = true;
      end = start + room;
    }
    if (end > start) {
      // a copy: the chunk itself can go once this line is complete
      this.carry.push(Buffer.from(buf.subarray(start, end)));
      this.carryBytes += end - start;
    }
  }

  private takeCarry(): string {
    const line = Buffer.concat(this.carry, this.carryBytes);
    const cut = !this.overflow && line.length > 0 && line[line.length - 1] === 13 ? 1 : 0;
    this.carry = [];
    this.carryBytes = 0;
    this.overflow = false;
    return line.toString('utf8', 0, line.length - cut);
  }
}

async function* eachLine(batches: AsyncIterable<string[]>): AsyncGenerator<string> {
  for await (const batch of batches) yield* batch;
}

export interface LineStream {
  lines: AsyncIterable<string>;
  /** Calls `fn` for every line, synchronously as chunks arrive (no promise per line). */
  each(fn: (line: string) => void): Promise<void>;
  /** lines cut at MAX_LINE_BYTES so far */
  truncated(): number;
  /** bytes read from the source so far (compressed size for .gz) */
  bytesRead(): number;
  close(): void;
}

function isGzipPath(path: string): boolean {
  return /\.gz$/i.test(path);
}

/**
 * Opens a source as a stream of lines: gunzip when needed, overlong lines cut, CRLF handled,
 * invalid UTF-8 replaced (never thrown).
 */
export function openLines(source: InputSource, stdin: Readable = process.stdin): LineStream {
  const raw: Readable =
    source.kind === 'stdin' ? stdin : createReadStream(source.path, { highWaterMark: 256 * 1024 });
  let bytes = 0;
  raw.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  const splitter = new LineSplitter();
  let head: Readable = raw;
  if (source.kind === 'file' && isGzipPath(source.path)) {
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    head = raw.pipe(gunzip);
  }
  head.on('error', (e) => splitter.destroy(e));
  const lines = head.pipe(splitter);
  return {
    lines: eachLine(lines),
    each: (fn) =>
      new Promise<void>((resolve, reject) => {
        lines.on('data', (batch: string[]) => {
          for (const line of batch) fn(line);
        });
        lines.once('end', resolve);
        lines.once('error', reject);
      }),
    truncated: () => splitter.truncatedLines,
    bytesRead: () => bytes,
    close: () => {
      lines.destroy();
      if (source.kind === 'file') raw.destroy();
    },
  };
}

const MAGIC: { bytes: number[]; what: string }[] = [
  {
    bytes: [0xd4, 0xc3, 0xb2, 0xa1],
    what: 'a packet capture (pcap): export the SIP as text first, e.g. `tshark -r FILE -Y sip -V` or sngrep',
  },
  {
    bytes: [0xa1, 0xb2, 0xc3, 0xd4],
    what: 'a packet capture (pcap): export the SIP as text first, e.g. `tshark -r FILE -Y sip -V` or sngrep',
  },
  {
    bytes: [0x0a, 0x0d, 0x0d, 0x0a],
    what: 'a packet capture (pcapng): export the SIP as text first, e.g. `tshark -r FILE -Y sip -V` or sngrep',
  },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image, not a log' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image, not a log' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image, not a log' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document, not a log' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive: unpack it and pass the directory' },
];

/** Names a binary file by its first bytes (pcap, image, archive), or undefined for anything else. */
export async function binaryMagic(path: string): Promise<string | undefined> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const buf = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buf, 0, 8, 0);
    const hit = MAGIC.find((m) => bytesRead >= m.bytes.length && m.bytes.every((b, i) => buf[i] === b));
    return hit ? `binary file: ${hit.what}` : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
