import { describe, expect, it } from 'vitest';
import { classifyRun } from '../../src/classify/index.js';
import { ev, INPUTS, registeredClient, session } from '../event-factory.js';

describe('run-level triage', () => {
  it('measures retry amplification, the load at onset, per-IP concentration and retry waves', () => {
    const sessions = [];
    // 12 users from one load generator, refused by the edge, all retrying in the same seconds
    for (let u = 0; u < 12; u++) {
      const user = `agent-${u}`;
      const events = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const at = 100 + attempt * 2;
        events.push(ev('client', at, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user } }));
        events.push(
          ev('lb', at + 0.01, {
            kind: 'ws-handshake',
            signal: 'edge-rate-limit',
            keys: { user, ip: '198.51.100.7' },
            http: { status: 429, upstreamStatus: null, upgrade: true },
          }),
        );
      }
      sessions.push(session(user, events));
    }
    // 8 healthy users that started earlier and were still connected
    for (let u = 0; u < 8; u++)
      sessions.push(
        session(`ok-${u}`, [
          ...registeredClient(`ok-${u}`, u * 5),
          ev('client', 300, { kind: 'info', signal: 'keepalive', keys: { user: `ok-${u}` } }),
        ]),
      );

    const run = classifyRun(sessions, [], INPUTS);
    expect(run.byCause['edge-rate-limit']).toBe(12);
    const t = run.triage;
    expect(t.attemptsPerUser).toBeCloseTo((12 * 3 + 8) / 20, 2);
    expect(t.onset?.openSessions).toBe(20);
    expect(t.failedBySource?.[0]).toEqual({ ip: '198.51.100.7', failedSessions: 12, share: 1 });
    expect(t.retryWaves?.map((w) => w.connects)).toEqual([12, 12, 12]);
  });
});
