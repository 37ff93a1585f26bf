import { describe, expect, it } from 'vitest';
import { classifyRun } from '../../src/classify/index.js';
import { ev, INPUTS, registeredClient, session, T0 } from '../event-factory.js';

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

  it('cuts the run into intervals: attempts, registrations, failures by cause and open connections', () => {
    const sessions = [];
    // 8 healthy users connect one every 5 s from t=0 and stay connected; one of them closes at 290 s
    for (let u = 0; u < 8; u++) {
      const user = `ok-${u}`;
      const events = [
        ...registeredClient(user, u * 5),
        ev('client', 300, { kind: 'info', signal: 'keepalive', keys: { user } }),
      ];
      if (u === 0)
        events.push(
          ev('client', 290, {
            kind: 'ws-close',
            signal: 'ws-close',
            keys: { user },
            ws: { closeCode: 1000 },
          }),
        );
      sessions.push(session(user, events));
    }
    // from 120 s, 5 users refused by the edge, twice each
    for (let u = 0; u < 5; u++) {
      const user = `late-${u}`;
      const events = [];
      for (const at of [120 + u, 125 + u]) {
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
    const line = classifyRun(sessions, [], INPUTS).triage.timeline;
    expect(line?.stepSec).toBe(5);
    const at = (sec: number) => line!.intervals.find((i) => Date.parse(i.at) === T0 + sec * 1000)!;
    expect(line!.intervals.reduce((n, i) => n + i.attempts, 0)).toBe(8 + 10);
    expect(line!.intervals.reduce((n, i) => n + i.successes, 0)).toBe(8);
    expect(at(0)).toMatchObject({ attempts: 1, successes: 1, openConnections: 1 });
    expect(at(35)).toMatchObject({ attempts: 1, openConnections: 8 });
    expect(at(120).failures).toEqual({ 'edge-rate-limit': 5 });
    expect(at(120).attempts).toBe(5);
    expect(at(125).attempts).toBe(5);
    expect(at(285).openConnections).toBe(8);
    expect(at(290).openConnections).toBe(7);
  });

  it('does not rule out an edge rate limit without saying that refusals naming no user were seen', () => {
    const sessions = [session('ok-1', registeredClient('ok-1', 0))];
    for (let i = 0; i < 3; i++)
      sessions.push({
        id: `peer:198.51.100.7:${40000 + i}`,
        events: [
          ev('lb', 10 + i, {
            kind: 'ws-handshake',
            signal: 'edge-rate-limit',
            keys: { peer: `198.51.100.7:${40000 + i}`, ip: '198.51.100.7' },
            http: { status: 429, upstreamStatus: null, upgrade: true },
          }),
        ],
      });
    const run = classifyRun(sessions, [], INPUTS);
    expect(run.findings).toEqual([]);
    expect(run.unattributed).toEqual({ 'edge-rate-limit': 3 });
    const edge = run.ruledOut.find((r) => /edge rate limit/.test(r.hypothesis));
    expect(edge?.reason).toMatch(/3 LB\/SBC sessions that named no user/);
  });
});
