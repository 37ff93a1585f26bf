/**
 * Runs every user's story and writes the logs in time order with bounded memory.
 *
 * Each story is a generator that yields the true time it wants to continue at (its watermark) and
 * queues the lines it writes on its Agent. A min-heap orders users by the earliest moment they
 * can still produce a line: min(first queued line, watermark). Popping a user either flushes its
 * earliest queued line (when nothing earlier can come from anyone) or resumes its story. Users are
 * created when their start time comes and dropped when their story is over, so memory follows the
 * users alive at once, not the size of the logs. Files are written through buffered,
 * backpressure-aware streams.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from './agent.js';
import { MinHeap } from './heap.js';
import { NoiseSource } from './noise.js';
import type { AnyVariant, TrueOutcome } from './options.js';
import { createClient, createEdge, createSbc } from './products.js';
import { mixSeed, Prng } from './prng.js';
import { userStory, type Story } from './stories.js';
import type { Emission, LogFile, World } from './world.js';

export interface UserSpec {
  index: number;
  name: string;
  outcome: TrueOutcome;
  variant: AnyVariant | null;
  startMs: number;
  stopMs: number;
}

const FLUSH_BYTES = 64 * 1024;

export class LogSink {
  lines = 0;
  bytes = 0;
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  write(lines: readonly string[]): void {
    for (const line of lines) {
      this.buffer.push(line);
      this.buffered += line.length + 1;
    }
    this.lines += lines.length;
  }

  get full(): boolean {
    return this.buffered >= FLUSH_BYTES;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.buffered = 0;
    this.bytes += Buffer.byteLength(chunk);
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** How much of one user's own file (a HAR) is held before it is appended to the file. */
const OWN_FILE_FLUSH_BYTES = 4 * 1024;

/**
 * A file of one user's own (one HAR per user): buffered and appended in chunks, without keeping a
 * descriptor open, so that thousands of users can each have one.
 */
export class OwnFileSink {
  lines = 0;
  bytes = 0;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(readonly path: string) {}

  write(lines: readonly string[]): void {
    for (const line of lines) {
      this.buffer.push(line);
      this.buffered += line.length + 1;
    }
    this.lines += lines.length;
  }

  get full(): boolean {
    return this.buffered >= OWN_FILE_FLUSH_BYTES;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.buffered = 0;
    this.bytes += Buffer.byteLength(chunk);
    await appendFile(this.path, chunk);
  }
}

/** Totals of the users' own files, once closed. */
export interface OwnFiles {
  paths: string[];
  lines: number;
  bytes: number;
}

interface Runner {
  spec: UserSpec;
  agent: Agent | null;
  story: Story | null;
  /** the story will not write anything earlier than this */
  watermark: number;
  finished: boolean;
  /** when this runner can next produce a line */
  key: number;
}

function keyOf(r: Runner): number {
  if (r.agent === null) return r.spec.startMs;
  const queued = r.agent.nextQueuedAt();
  return r.finished ? queued : Math.min(queued, r.watermark);
}

export async function runScenario(
  world: World,
  users: UserSpec[],
  sinks: Partial<Record<LogFile, LogSink>>,
  outDir: string,
): Promise<OwnFiles> {
  const edge = createEdge(world);
  const client = createClient(world);
  const sbc = createSbc(world);
  const noise = new NoiseSource(
    world,
    edge,
    sbc,
    client,
    new Prng(mixSeed(world.opts.seed, 0x0015e)),
    world.opts.noise / 100,
  );
  const own = new Map<string, OwnFileSink>();
  const ownFiles: OwnFiles = { paths: [], lines: 0, bytes: 0 };
  const closeOwn = async (path: string | undefined): Promise<void> => {
    const sink = path === undefined ? undefined : own.get(path);
    if (sink === undefined || path === undefined) return;
    await sink.flush();
    own.delete(path);
    ownFiles.paths.push(sink.path);
    ownFiles.lines += sink.lines;
    ownFiles.bytes += sink.bytes;
  };
  const allSinks = Object.values(sinks).filter((s): s is LogSink => s !== undefined);

  const heap = new MinHeap<Runner>(
    (a, b) => a.key < b.key || (a.key === b.key && a.spec.index < b.spec.index),
  );
  for (const spec of users) {
    const runner: Runner = {
      spec,
      agent: null,
      story: null,
      watermark: spec.startMs,
      finished: false,
      key: 0,
    };
    runner.key = keyOf(runner);
    heap.push(runner);
  }

  /** the user's own file when it filled up, to be flushed */
  let fullOwn: OwnFileSink | undefined;
  const write = (emission: Emission): void => {
    if (emission.path !== undefined) {
      let sink = own.get(emission.path);
      if (sink === undefined) own.set(emission.path, (sink = new OwnFileSink(join(outDir, emission.path))));
      sink.write(emission.lines);
      if (sink.full) fullOwn = sink;
      return;
    }
    const sink = sinks[emission.file];
    if (sink === undefined) return;
    sink.write(emission.lines);
    for (const extra of noise.after(emission.file, emission.t, emission.lines.length))
      sinks[extra.file]?.write(extra.lines);
  };

  for (let runner = heap.pop(); runner !== undefined; runner = heap.pop()) {
    if (runner.agent === null) {
      const { spec } = runner;
      runner.agent = new Agent({ ...spec, world, edge, client, sbc });
      runner.story = userStory(runner.agent);
    } else if (runner.finished || runner.agent.nextQueuedAt() <= runner.watermark) {
      const emission = runner.agent.takeQueued();
      if (emission !== undefined) write(emission);
    } else if (runner.story !== null) {
      runner.agent.floor = runner.watermark;
      const step = runner.story.next();
      if (step.done) runner.finished = true;
      else runner.watermark = Math.max(runner.watermark, step.value);
    }
    if (fullOwn !== undefined) {
      await fullOwn.flush();
      fullOwn = undefined;
    }
    if (runner.finished && runner.agent.nextQueuedAt() === Infinity) {
      await closeOwn(runner.agent.ownFile);
      continue;
    }
    runner.key = keyOf(runner);
    heap.push(runner);
    for (const sink of allSinks) if (sink.full) await sink.flush();
  }
  for (const sink of allSinks) await sink.close();
  for (const path of [...own.keys()]) await closeOwn(path);
  return ownFiles;
}
