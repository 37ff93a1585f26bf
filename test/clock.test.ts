import { describe, expect, it } from 'vitest';
import { coarseCentre, densestCentre, estimateClocks } from '../src/correlate/clock.js';
import { ev, session } from './event-factory.js';

describe('clock offsets', () => {
  it('finds the offset in the densest window, ignoring wrong pairings', () => {
    const diffs = [1190, 1200, 1205, 1210, 1198, -40_000, 77_000, 1202];
    expect(densestCentre(diffs)).toBeGreaterThanOrEqual(1198);
    expect(densestCentre(diffs)).toBeLessThanOrEqual(1205);
  });

  it('averages whole-second differences between two whole-second clocks (3.5 s → 3000s and 4000s)', () => {
    const diffs = [...Array(50).fill(3000), ...Array(50).fill(4000), 90_000];
    expect(coarseCentre(diffs)).toBe(3500);
  });

  it('estimates a client clock 1.2 s ahead of the SBC from the same REGISTER seen on both sides', () => {
    const events = [];
    for (let i = 0; i < 20; i++) {
      const callId = `c${i}`;
      // client clock = SBC clock + 1200 ms, 10 ms one-way latency each way
      events.push(
        ev('client', i * 10 + 1.2, {
          kind: 'sip-request',
          keys: { callId, user: 'u1' },
          sip: { method: 'REGISTER', cseq: 1, direction: 'sent' },
        }),
      );
      events.push(
        ev('sbc', i * 10 + 0.01, {
          kind: 'sip-request',
          keys: { callId },
          sip: { method: 'REGISTER', cseq: 1, direction: 'received' },
        }),
      );
      events.push(
        ev('sbc', i * 10 + 0.02, {
          kind: 'sip-response',
          keys: { callId },
          sip: { method: 'REGISTER', cseq: 1, status: 200, direction: 'sent' },
        }),
      );
      events.push(
        ev('client', i * 10 + 1.23, {
          kind: 'sip-response',
          keys: { callId, user: 'u1' },
          sip: { method: 'REGISTER', cseq: 1, status: 200, direction: 'received' },
        }),
      );
    }
    const est = estimateClocks(
      [session('u1', events)],
      [{ role: 'sbc' }, { role: 'lb' }, { role: 'client' }],
    );
    expect(est.reference).toBe(0);
    expect(Math.abs(est.offsets[2] - 1200)).toBeLessThanOrEqual(20);
  });
});
