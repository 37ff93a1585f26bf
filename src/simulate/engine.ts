/**
 * Runs every user's story and writes the four logs in time order with bounded memory.
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
import { Agent } from './agent.js';
import { createClient } from './client.js';
import { createEdge } from './edge.js';
import { MinHeap } from './heap.js';
import { KamailioLog } from './kamailio.js';
import { NoiseSource } from './noise.js';
import type { AnyVariant, TrueOutcome } from './options.js';
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
): Promise<void> {
  const edge = createEdge(world);
  const client = createClient(world.opts.client);
  const sbc = new KamailioLog(world);
  const noise = new NoiseSource(
    world,
    edge,
    sbc,
    new Prng(mixSeed(world.opts.seed, 0x0015e)),
    world.opts.noise / 100,
  );
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

  const write = (emission: Emission): void => {
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
    if (runner.finished && runner.agent.nextQueuedAt() === Infinity) continue;
    runner.key = keyOf(runner);
    heap.push(runner);
    for (const sink of allSinks) if (sink.full) await sink.flush();
  }
  for (const sink of allSinks) await sink.close();
}
