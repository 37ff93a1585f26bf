/**
 * Unrelated lines each role really prints during a load test: the SBC answering a monitoring
 * probe, LB health checks and keep-alive chatter, Prometheus scrapes, the harness's progress
 * reports (each product's own, see its `noise`). They carry no user of the test.
 */
import type { ClientFlavor } from './client.js';
import type { Edge } from './edge.js';
import type { Prng } from './prng.js';
import type { SbcLog } from './sbc.js';
import { isoTime } from './timefmt.js';
import type { Emission, LogFile, World } from './world.js';

/** at most this many noise lines follow one real emission (the rest of the debt waits) */
const MAX_NOISE_PER_EMISSION = 3;
/** the harness prints its progress line at most this often */
const PROGRESS_EVERY_MS = 1000;

export class NoiseSource {
  private nodeWarningPrinted = false;
  private lastProgressAt = -Infinity;
  private readonly debt: Record<LogFile, number> = { sbc: 0, lb: 0, lbError: 0, client: 0 };

  constructor(
    private readonly world: World,
    private readonly edge: Edge,
    private readonly sbc: SbcLog,
    private readonly client: ClientFlavor,
    private readonly rng: Prng,
    /** noise lines per real line */
    private readonly ratio: number,
  ) {}

  /**
   * Noise to write after `realLines` real lines of `file` at `t`: each real line adds `ratio` (±50 %)
   * to the file's debt, whole units of which are paid with noise lines.
   */
  after(file: LogFile, t: number, realLines: number): Emission[] {
    if (this.ratio <= 0) return [];
    this.debt[file] += realLines * this.ratio * this.rng.between(0.5, 1.5);
    const out: Emission[] = [];
    for (let n = 0; this.debt[file] >= 1 && n < MAX_NOISE_PER_EMISSION; n++) {
      this.debt[file] -= 1;
      out.push(...this.linesFor(file, t));
    }
    return out;
  }

  private linesFor(file: LogFile, t: number): Emission[] {
    switch (file) {
      case 'sbc':
        return [{ t, file, lines: this.sbc.noise(this.rng, t) }];
      case 'lb':
      case 'lbError':
        return this.edge.noise(this.rng, t, file);
      case 'client':
        return [
          {
            t,
            file,
            lines: this.client.noise ? this.client.noise(this.world, this.rng, t) : this.harnessChatter(t),
          },
        ];
    }
  }

  private harnessChatter(t: number): string[] {
    const world = this.world;
    const stats = world.stats;
    const time = isoTime(t + world.skewOf('client'));
    if (
      !this.nodeWarningPrinted &&
      stats.started >= Math.min(100, world.opts.users / 2) &&
      this.rng.chance(0.05)
    ) {
      this.nodeWarningPrinted = true;
      return [
        `(node:${world.harnessPid}) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. ` +
          '11 error listeners added to [ClientRequest]. Use emitter.setMaxListeners() to increase limit',
        '(Use `node --trace-warnings ...` to show where the warning was created)',
      ];
    }
    if (t - this.lastProgressAt >= PROGRESS_EVERY_MS) {
      this.lastProgressAt = t;
      return [
        `${time} [harness] progress: started=${stats.started}/${world.opts.users} ws_open=${stats.wsOpen} ` +
          `registered=${stats.registered} registration_failures=${stats.registrationFailures} handshake_failures=${stats.handshakeFailures}`,
      ];
    }
    if (this.rng.chance(0.5)) return [`${time} [harness] event loop delay p99=${this.rng.int(2, 60)} ms`];
    return [`${time} [harness] heap used ${this.rng.int(180, 900)} MB, ${world.lbOpen} sockets`];
  }
}
