/**
 * Unrelated lines each role really prints during a load test: Kamailio answering a monitoring
 * probe, nginx health checks and keep-alive chatter, HAProxy Prometheus scrapes, the harness's
 * progress reports. They carry no user of the test.
 */
import type { Edge } from './edge.js';
import type { KamailioLog } from './kamailio.js';
import type { Prng } from './prng.js';
import { isoTime } from './timefmt.js';
import { TOPOLOGY, type Emission, type LogFile, type World } from './world.js';

export class NoiseSource {
  private nodeWarningPrinted = false;

  constructor(
    private readonly world: World,
    private readonly edge: Edge,
    private readonly sbc: KamailioLog,
    private readonly rng: Prng,
  ) {}

  linesFor(file: LogFile, t: number): Emission[] {
    switch (file) {
      case 'sbc':
        return [{ t, file, lines: this.sbcProbe(t) }];
      case 'lb':
      case 'lbError':
        return this.edge.noise(this.rng, t, file);
      case 'client':
        return [{ t, file, lines: this.harnessChatter(t) }];
    }
  }

  /** a SIP OPTIONS probe from the monitoring host, logged by the same request_route xlog */
  private sbcProbe(t: number): string[] {
    const rng = this.rng;
    const pid = this.world.kamailio.main + rng.int(1, 3);
    const probe = { cseq: rng.int(1, 9), method: 'OPTIONS', callId: `${rng.int(100_000_000, 999_999_999)}@${TOPOLOGY.monitorIp}` };
    const lines = [
      this.sbc.script(
        t,
        pid,
        'INFO',
        probe,
        `SIP request OPTIONS received from ${TOPOLOGY.monitorIp}:5060 via udp - from sip:monitor@${TOPOLOGY.monitorIp} to sip:${TOPOLOGY.sbcIp}`,
      ),
    ];
    if (rng.chance(0.3)) lines.push(this.sbc.routeLatency(t, pid, probe, rng.int(1000, 4000)));
    return lines;
  }

  private harnessChatter(t: number): string[] {
    if (!this.nodeWarningPrinted && this.rng.chance(0.05)) {
      this.nodeWarningPrinted = true;
      return [
        `(node:${this.world.harnessPid}) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. ` +
          '11 error listeners added to [ClientRequest]. Use emitter.setMaxListeners() to increase limit',
        '(Use `node --trace-warnings ...` to show where the warning was created)',
      ];
    }
    const s = this.world.stats;
    const time = isoTime(t + this.world.skewOf('client'));
    return [
      `${time} [harness] progress: started=${s.started}/${this.world.opts.users} ws_open=${s.wsOpen} ` +
        `registered=${s.registered} registration_failures=${s.registrationFailures} handshake_failures=${s.handshakeFailures}`,
    ];
  }
}
