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

  /** The same REGISTER sent by a client (input c) and received by an SBC (input b), client `aheadMs` ahead. */
  function pairs(user: string, sbcInput: number, clientInput: number, aheadMs: number) {
    const events = [];
    for (let i = 0; i < 10; i++) {
      const callId = `${user}-c${i}`;
      const sent = ev('client', i * 10 + aheadMs / 1000 + 0.013, {
        kind: 'sip-request',
        keys: { callId, user },
        sip: { method: 'REGISTER', cseq: 1, direction: 'sent' },
      });
      const got = ev('sbc', i * 10 + 0.01, {
        kind: 'sip-request',
        keys: { callId },
        sip: { method: 'REGISTER', cseq: 1, direction: 'received' },
      });
      sent.input = clientInput;
      got.input = sbcInput;
      events.push(sent, got);
    }
    return session(user, events);
  }

  it('keeps a second SBC and its clients consistent among themselves when nothing links them to the first', () => {
    // inputs: 0 SBC A, 1 clients of A (+2 s), 2 SBC B, 3 clients of B (+5 s against SBC B)
    const est = estimateClocks(
      [pairs('a1', 0, 1, 2000), pairs('b1', 2, 3, 5000)],
      [
        { role: 'sbc', format: 'kamailio' },
        { role: 'client', format: 'jssip' },
        { role: 'sbc', format: 'ribbon' },
        { role: 'client', format: 'jssip' },
      ],
    );
    expect(Math.abs(est.offsets[1] - 2000)).toBeLessThanOrEqual(20);
    // B's clients are 5 s ahead of B's SBC, whatever B's own clock is
    expect(Math.abs(est.offsets[3] - est.offsets[2] - 5000)).toBeLessThanOrEqual(20);
  });

  it('does not lend a client clock to another product’s client log that has no pairs', () => {
    const est = estimateClocks(
      [pairs('a1', 0, 1, 3_600_000)],
      [
        { role: 'sbc', format: 'kamailio' },
        { role: 'client', format: 'chrome-log' },
        { role: 'client', format: 'genesys' },
        { role: 'client', format: 'chrome-log' },
      ],
    );
    expect(Math.abs(est.offsets[1] - 3_600_000)).toBeLessThanOrEqual(20);
    expect(est.offsets[2]).toBe(0);
    expect(est.offsets[3]).toBe(est.offsets[1]);
  });

  it('lends a clock across one product’s logs (nginx access and error log)', () => {
    const est = estimateClocks(
      [pairs('a1', 0, 1, 1500)],
      [
        { role: 'sbc', format: 'kamailio' },
        { role: 'lb', format: 'nginx-access' },
        { role: 'lb', format: 'nginx-error' },
      ],
    );
    expect(est.offsets[2]).toBe(est.offsets[1]);
    expect(Math.abs(est.offsets[1] - 1500)).toBeLessThanOrEqual(20);
  });

  it('pairs an SDK log that names answers without their CSeq with the SBC that sent them', () => {
    const events = [];
    for (let i = 0; i < 12; i++) {
      const callId = `reg-${i}`;
      events.push(
        ev('sbc', i * 30 + 0.02, {
          kind: 'sip-response',
          keys: { callId },
          sip: { method: 'REGISTER', cseq: 2, status: 200, direction: 'sent' },
        }),
        // the app logs "registered" with the status and Call-ID, 2.4 s ahead, no CSeq
        ev('client', i * 30 + 2.437, {
          kind: 'sip-response',
          keys: { callId, user: 'u1' },
          sip: { method: 'REGISTER', status: 200, direction: 'received' },
        }),
      );
    }
    const est = estimateClocks(
      [session('u1', events)],
      [{ role: 'sbc' }, { role: 'lb' }, { role: 'client' }],
    );
    expect(Math.abs(est.offsets[2] - 2417)).toBeLessThanOrEqual(20);
  });
});
