/**
 * Spill files: kept events written to disk when a run holds more of them than memory should, and
 * read back one partition at a time. A record is [u32 length][u32 node][u32 seq][JSON of the event];
 * `node` is the session node (a union-find node, later its root) and `seq` the event's arrival
 * number, so records can be routed to partitions without parsing their JSON.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEvent } from '../model.js';

const HEADER = 12;
const WRITE_BUFFER = 1 << 20;
const READ_CHUNK = 4 << 20;

/** JSON writes NaN as null: a line without a readable time comes back without one. */
export function encodeEvent(e: LogEvent): string {
  return JSON.stringify(e);
}

export function decodeEvent(json: string): LogEvent {
  const e = JSON.parse(json) as LogEvent;
  if (e.ts === null) e.ts = NaN;
  const http = e.http;
  if (http) {
    if (http.startTs === null) http.startTs = NaN;
    if (http.durationMs === null) http.durationMs = NaN;
  }
  return e;
}

/** A temporary directory removed when the run ends (also when the process exits early). */
export class SpillDir {
  readonly path: string;
  private readonly cleanup = () => this.remove();

  constructor(parent = tmpdir()) {
    this.path = mkdtempSync(join(parent, 'logdiag-spill-'));
    process.once('exit', this.cleanup);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  removeFile(path: string): void {
    rmSync(path, { force: true });
  }

  remove(): void {
    process.removeListener('exit', this.cleanup);
    rmSync(this.path, { recursive: true, force: true });
  }
}

/**
 * Appends records to a spill file. The file is opened only while a full buffer is written, so a run
 * with hundreds of partitions never holds hundreds of descriptors.
 */
export class SpillWriter {
  private buffer: Buffer;
  private used = 0;
  records = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    bufferBytes = WRITE_BUFFER,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  /** Appends a record whose payload is already encoded. */
  writeRaw(node: number, seq: number, payload: Buffer | string): void {
    const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    const size = HEADER + length;
    if (this.used + size > this.buffer.length) {
      this.flush();
      if (size > this.buffer.length) this.buffer = Buffer.allocUnsafe(size);
    }
    const b = this.buffer;
    b.writeUInt32LE(length, this.used);
    b.writeUInt32LE(node, this.used + 4);
    b.writeUInt32LE(seq, this.used + 8);
    if (typeof payload === 'string') b.write(payload, this.used + HEADER, 'utf8');
    else payload.copy(b, this.used + HEADER);
    this.used += size;
    this.records++;
    this.bytes += size;
  }

  write(node: number, seq: number, e: LogEvent): void {
    this.writeRaw(node, seq, encodeEvent(e));
  }

  flush(): void {
    if (this.used === 0) return;
    const fd = openSync(this.path, 'a');
    try {
      let off = 0;
      while (off < this.used) off += writeSync(fd, this.buffer, off, this.used - off);
    } finally {
      closeSync(fd);
    }
    this.used = 0;
  }

  close(): void {
    this.flush();
    this.buffer = Buffer.alloc(0);
  }
}

/** Reads every record of a spill file in order; the payload is a view valid only during the call. */
export function readSpill(path: string, visit: (node: number, seq: number, payload: Buffer) => void): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    let buffer = Buffer.allocUnsafe(READ_CHUNK);
    let have = 0;
    for (;;) {
      if (have === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, have);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, have, buffer.length - have, null);
      have += n;
      let off = 0;
      while (have - off >= HEADER) {
        const length = buffer.readUInt32LE(off);
        if (have - off < HEADER + length) break;
        visit(
          buffer.readUInt32LE(off + 4),
          buffer.readUInt32LE(off + 8),
          buffer.subarray(off + HEADER, off + HEADER + length),
        );
        off += HEADER + length;
      }
      if (off > 0) {
        buffer.copy(buffer, 0, off, have);
        have -= off;
      }
      if (n === 0) break;
    }
    if (have > 0) throw new Error(`spill file ${path} ends inside a record`);
  } finally {
    closeSync(fd);
  }
}
