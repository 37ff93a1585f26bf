/**
 * Sample scenarios for docs, tests and benchmarks: `simulate({ ...sample.options, outDir })`.
 */
import type { SimulateOptions } from './options.js';

export interface SampleScenario {
  name: string;
  description: string;
  options: Omit<SimulateOptions, 'outDir'>;
}

const START = new Date('2025-11-24T10:00:00.000Z');

export const SAMPLE_SCENARIOS: readonly SampleScenario[] = [
  {
    name: 'classic-500',
    description:
      '500 JsSIP softphones behind nginx: handshakes get 101, then REGISTERs fail, mostly 503 Limiting from ' +
      "Kamailio's ratelimit/pipelimit/pike, some SIP 504 Server Time-out when the registrar behind the SBC " +
      'times out; the harness app reports "Error: WebSocket connection failed. Code: 1006" when the idle tunnels are cut.',
    options: {
      users: 500,
      durationSec: 180,
      rampSec: 60,
      causes: { 'sbc-throttling': 0.3, 'upstream-timeout': 0.06 },
      variants: { 'upstream-timeout': { 'sip-504': 1 } },
      sbc: 'kamailio',
      lb: 'nginx',
      client: 'jssip',
      seed: 500,
      skewMs: { sbc: 0, lb: 420, client: -1350 },
      noise: 5,
      idleTimeoutSec: 60,
      start: START,
    },
  },
  {
    name: 'idle-timeout-haproxy',
    description:
      'SIP.js softphones behind HAProxy (timeout tunnel 60s): the agents of one profile send no keep-alives, ' +
      'so their tunnels are cut (cD--) after 60 s of silence and they reconnect, again and again.',
    options: {
      users: 100,
      durationSec: 240,
      rampSec: 30,
      causes: { 'idle-timeout': 0.4 },
      sbc: 'kamailio',
      lb: 'haproxy',
      client: 'sipjs',
      seed: 60,
      skewMs: { sbc: -800, lb: 0, client: 2300 },
      noise: 5,
      idleTimeoutSec: 60,
      start: START,
    },
  },
  {
    name: 'mixed-causes',
    description:
      'Every cause at once, nginx + JsSIP: a test to check that each failed user gets its own cause.',
    options: {
      users: 300,
      durationSec: 240,
      rampSec: 60,
      causes: {
        'sbc-throttling': 0.12,
        'edge-rate-limit': 0.1,
        'idle-timeout': 0.1,
        'client-misconfig': 0.08,
        'upstream-timeout': 0.08,
        'auth-failure': 0.06,
      },
      sbc: 'kamailio',
      lb: 'nginx',
      client: 'jssip',
      seed: 7,
      skewMs: { sbc: 150, lb: -600, client: 900 },
      noise: 8,
      idleTimeoutSec: 60,
      start: START,
    },
  },
  {
    name: 'edge-burst-sipjs',
    description:
      'SIP.js softphones behind nginx ramping fast: limit_req refuses upgrades (503 with no upstream), a few ' +
      'agents point at a wrong path and retry without backoff.',
    options: {
      users: 150,
      durationSec: 180,
      rampSec: 20,
      causes: { 'edge-rate-limit': 0.25, 'client-misconfig': 0.05 },
      sbc: 'kamailio',
      lb: 'nginx',
      client: 'sipjs',
      seed: 20,
      skewMs: { sbc: 0, lb: 0, client: 0 },
      noise: 5,
      idleTimeoutSec: 60,
      start: START,
    },
  },
];
