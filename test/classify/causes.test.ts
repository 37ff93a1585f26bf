import { describe, expect, it } from 'vitest';
import { classifyRun } from '../../src/classify/index.js';
import type { Session } from '../../src/correlate/sessions.js';
import { ev, INPUTS, registeredClient, session, T0 } from '../event-factory.js';

function verdictOf(sessions: Session[], user: string) {
  const run = classifyRun(sessions, [], INPUTS);
  return { run, finding: run.findings.find((f) => f.keys.user?.includes(user)) };
}

/** A healthy user that stays registered until the end of the run, closing cleanly. */
function healthy(user: string, at: number, endAt = 600): Session {
  return session(user, [
    ...registeredClient(user, at),
    ev('client', endAt, {
      kind: 'ws-close',
      signal: 'ws-close',
      keys: { user },
      ws: { closeCode: 1000, wasClean: true },
    }),
  ]);
}

describe('sbc-throttling', () => {
  it('a SIP 503 with Retry-After received from the SBC is throttling, and the 1006 after it is a symptom', () => {
    const s = session('agent-001', [
      ev('client', 0, { kind: 'ws-open', signal: 'ws-open', keys: { user: 'agent-001' } }),
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-001', callId: 'c1' },
        sip: {
          method: 'REGISTER',
          cseq: 1,
          status: 503,
          reason: 'Limiting',
          retryAfter: 5,
          direction: 'received',
        },
      }),
      ev('sbc', 1, {
        kind: 'sip-response',
        keys: { callId: 'c1' },
        sip: {
          method: 'REGISTER',
          cseq: 1,
          status: 503,
          reason: 'Limiting',
          retryAfter: 5,
          direction: 'sent',
        },
      }),
      ev('client', 40, {
        kind: 'ws-close',
        signal: 'app-ws-failed',
        keys: { user: 'agent-001' },
        ws: { closeCode: 1006 },
      }),
    ]);
    const { finding } = verdictOf([s, healthy('agent-002', 0)], 'agent-001');
    expect(finding?.cause).toBe('sbc-throttling');
    expect(finding?.evidence.map((e) => e.role)).toEqual(expect.arrayContaining(['client', 'sbc']));
    expect(finding?.remediation).toMatch(/Retry-After: 5/);
  });

  it('a 403 whose reason is rate is throttling, a 403 for credentials is not', () => {
    const rate = session('agent-003', [
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-003', callId: 'c3' },
        sip: {
          method: 'REGISTER',
          cseq: 1,
          status: 403,
          reason: 'Blocked - too many requests',
          direction: 'received',
        },
      }),
    ]);
    const creds = session('agent-004', [
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-004', callId: 'c4' },
        sip: {
          method: 'REGISTER',
          cseq: 1,
          status: 403,
          reason: 'Forbidden - wrong password',
          direction: 'received',
        },
      }),
    ]);
    const run = classifyRun([rate, creds], [], INPUTS);
    expect(run.findings.find((f) => f.keys.user?.[0] === 'agent-003')?.cause).toBe('sbc-throttling');
    expect(run.findings.find((f) => f.keys.user?.[0] === 'agent-004')?.cause).toBe('auth-failure');
  });

  it('timeouts right after a pike BLOCK of the source IP are throttling (pike drops silently)', () => {
    const s = session('agent-005', [
      ev('sbc', 0.5, {
        kind: 'sip-request',
        keys: { user: 'agent-005', ip: '198.51.100.7', peer: '198.51.100.7:40000' },
        sip: { method: 'REGISTER', direction: 'received' },
      }),
      ev('client', 33, { kind: 'timeout', signal: 'transaction-timeout', keys: { user: 'agent-005' } }),
    ]);
    const block = ev('sbc', 1, {
      kind: 'rate-limit',
      signal: 'sbc-flood-block',
      keys: { ip: '198.51.100.7' },
    });
    const run = classifyRun([s], [block], INPUTS);
    expect(run.findings[0].cause).toBe('sbc-throttling');
  });

  it('a gateway timeout in a session the SBC throttled defers to the throttling', () => {
    const s = session('agent-006', [
      ev('sbc', 1, { kind: 'rate-limit', signal: 'sbc-rate-limit', keys: { user: 'agent-006' } }),
      ev('client', 2, {
        kind: 'sip-response',
        keys: { user: 'agent-006', callId: 'c6' },
        sip: { method: 'REGISTER', cseq: 1, status: 504, reason: 'Server Time-out', direction: 'received' },
      }),
      ev('client', 3, {
        kind: 'sip-response',
        keys: { user: 'agent-006', callId: 'c6' },
        sip: { method: 'REGISTER', cseq: 2, status: 504, reason: 'Server Time-out', direction: 'received' },
      }),
    ]);
    expect(verdictOf([s], 'agent-006').finding?.cause).toBe('sbc-throttling');
  });
});

describe('traps', () => {
  it('a SIP.js internal 503 is not the SBC’s', () => {
    const s = session('agent-010', [
      ev('client', 0, { kind: 'ws-open', signal: 'ws-open', keys: { user: 'agent-010' } }),
      ev('client', 5, {
        kind: 'ws-close',
        signal: 'ws-close',
        keys: { user: 'agent-010' },
        ws: { closeCode: 1006, wasClean: false },
      }),
      ev('client', 5.1, {
        kind: 'sip-response',
        signal: 'internal-status',
        keys: { user: 'agent-010' },
        sip: { status: 503, direction: 'internal' },
      }),
      ev('client', 5.2, {
        kind: 'sip-response',
        signal: 'registration-failed',
        keys: { user: 'agent-010' },
        sip: { status: 503, method: 'REGISTER', direction: 'internal' },
      }),
      ev('client', 9, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user: 'agent-010' } }),
    ]);
    const { finding, run } = verdictOf([s], 'agent-010');
    expect(finding).toBeDefined();
    expect(finding?.cause).not.toBe('sbc-throttling');
    expect(run.ruledOut.map((r) => r.hypothesis).join(' ')).toMatch(/503/);
  });

  it('a well-formed unknown header on healthy sessions is ruled out, not reported', () => {
    const withHeader = session('agent-011', [
      ev('client', 0, {
        kind: 'config',
        signal: 'unknown-header',
        keys: { user: 'agent-011' },
        text: 'setting header X-Genesys-KeepAlive: true',
      }),
      ...registeredClient('agent-011', 0.1),
    ]);
    const run = classifyRun([withHeader, healthy('agent-012', 0)], [], INPUTS);
    expect(run.findings).toHaveLength(0);
    expect(run.ruledOut.some((r) => r.hypothesis.includes('X-Genesys-KeepAlive'))).toBe(true);
  });

  it('1006 alone is unclassified, never a cause', () => {
    const s = session('agent-013', [
      ev('client', 0, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user: 'agent-013' } }),
      ev('client', 1, {
        kind: 'ws-close',
        signal: 'app-ws-failed',
        keys: { user: 'agent-013' },
        ws: { closeCode: 1006 },
      }),
    ]);
    const { finding } = verdictOf([s, healthy('agent-014', 0)], 'agent-013');
    expect(finding?.cause).toBe('unclassified');
    expect(finding?.explanation).toMatch(/1006/);
  });

  it('a registered client whose socket closes when the logs end is a teardown, not a failure', () => {
    const s = session('agent-015', [
      ...registeredClient('agent-015', 0),
      ev('client', 600, {
        kind: 'ws-close',
        signal: 'ws-close',
        keys: { user: 'agent-015' },
        ws: { closeCode: 1006, wasClean: false },
      }),
    ]);
    const run = classifyRun([s, healthy('agent-016', 0, 600)], [], INPUTS);
    expect(run.findings).toHaveLength(0);
    expect(run.healthySessions).toBe(2);
  });

  it('SIP 429 is not a rate limit', () => {
    const s = session('agent-017', [
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-017', callId: 'c17' },
        sip: {
          method: 'REFER',
          cseq: 1,
          status: 429,
          reason: 'Provide Referrer Identity',
          direction: 'received',
        },
      }),
    ]);
    // to a REFER it is the ordinary answer of a transfer; the softphone's connection is fine
    expect(verdictOf([s], 'agent-017').finding).toBeUndefined();
    const r = session('agent-018', [
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-018', callId: 'c18' },
        sip: {
          method: 'REGISTER',
          cseq: 1,
          status: 429,
          reason: 'Provide Referrer Identity',
          direction: 'received',
        },
      }),
    ]);
    const { finding } = verdictOf([r], 'agent-018');
    expect(finding).toBeDefined();
    expect(finding?.cause).not.toBe('edge-rate-limit');
  });
});

describe('edge-rate-limit', () => {
  it('an LB-made 503 (no upstream) with a limiter line is the edge’s, not the SBC’s', () => {
    const s = session('agent-020', [
      ev('client', 1, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-020' },
        http: { status: 503 },
      }),
      ev('lb', 1, {
        kind: 'ws-handshake',
        signal: 'edge-rate-limit',
        keys: { user: 'agent-020', connId: '7' },
        http: { status: 503, upstreamStatus: null, upgrade: true },
      }),
      ev('lb', 1, {
        kind: 'rate-limit',
        signal: 'edge-rate-limit',
        keys: { connId: '7' },
        text: 'limiting requests, excess: 6.412 by zone "ws"',
      }),
    ]);
    expect(verdictOf([s], 'agent-020').finding?.cause).toBe('edge-rate-limit');
  });

  it('a client-seen handshake 503 is the edge’s when the run’s LB refused handshakes itself', () => {
    const lbOnly = session('agent-021', [
      ev('lb', 1, {
        kind: 'ws-handshake',
        signal: 'edge-rate-limit',
        keys: { user: 'agent-021' },
        http: { status: 503, upstreamStatus: null, upgrade: true },
      }),
    ]);
    const clientOnly = session('agent-022', [
      ev('client', 1, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-022' },
        http: { status: 503 },
      }),
    ]);
    expect(verdictOf([lbOnly, clientOnly], 'agent-022').finding?.cause).toBe('edge-rate-limit');
  });

  it('a 503 the upstream made on the handshake is the SBC’s', () => {
    const s = session('agent-023', [
      ev('lb', 1, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-023' },
        http: { status: 503, upstreamStatus: 503, upgrade: true },
      }),
    ]);
    expect(verdictOf([s], 'agent-023').finding?.cause).toBe('sbc-throttling');
  });

  it('HTTP 429 on the handshake is the edge', () => {
    const s = session('agent-024', [
      ev('client', 1, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-024' },
        http: { status: 429 },
      }),
    ]);
    expect(verdictOf([s], 'agent-024').finding?.cause).toBe('edge-rate-limit');
  });
});

describe('idle-timeout', () => {
  function cut(user: string, at: number, life: number): Session {
    return session(user, [
      ...registeredClient(user, at),
      ev('lb', at + life, {
        kind: 'ws-handshake',
        signal: 'ws-open',
        keys: { user },
        http: {
          status: 101,
          upstreamStatus: 101,
          durationMs: life * 1000,
          startTs: (at + 0.05) * 1000 + Date.UTC(2026, 10, 24, 10),
        },
      }),
      ev('client', at + life, {
        kind: 'ws-close',
        signal: 'ws-close',
        keys: { user },
        ws: { closeCode: 1006, wasClean: false },
      }),
      ev('client', at + life + 2, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user } }),
    ]);
  }

  it('tunnels whose lifetimes cluster at the idle timeout are idle-timeout drops', () => {
    const sessions = [
      cut('agent-030', 0, 60.01),
      cut('agent-031', 5, 60.0),
      cut('agent-032', 9, 59.99),
      cut('agent-033', 14, 60.02),
      healthy('agent-034', 0),
    ];
    const run = classifyRun(sessions, [], INPUTS);
    expect(run.byCause['idle-timeout']).toBe(4);
    expect(run.run.idleTimeoutMs).toBeGreaterThan(59_500);
    expect(run.run.idleTimeoutMs).toBeLessThan(60_500);
    expect(run.findings.find((f) => f.keys.user?.[0] === 'agent-034')).toBeUndefined();
  });

  it('a tunnel the client closed with code 1000 is not cut, even when its silence matches the timeout', () => {
    const user = 'agent-039';
    const quietButClean = session(user, [
      ...registeredClient(user, 0),
      ev('lb', 60, {
        kind: 'ws-handshake',
        signal: 'ws-open',
        keys: { user },
        http: { status: 101, upstreamStatus: 101, durationMs: 60_000, startTs: T0 },
      }),
      // SIP.js logs "WebSocket closed … (code: 1000)" without saying wasClean
      ev('client', 60, { kind: 'ws-close', signal: 'ws-close', keys: { user }, ws: { closeCode: 1000 } }),
    ]);
    const run = classifyRun(
      [
        cut('agent-036', 0, 60),
        cut('agent-037', 1, 60),
        cut('agent-038', 2, 60),
        quietButClean,
        healthy('agent-040', 0),
      ],
      [],
      INPUTS,
    );
    expect(run.byCause['idle-timeout']).toBe(3);
    expect(run.findings.find((f) => f.keys.user?.[0] === user)).toBeUndefined();
  });

  it('a busy socket closed early is not idle-timeout', () => {
    const busyUser = 'agent-035';
    const busy = session(busyUser, [
      ...registeredClient(busyUser, 0),
      ev('client', 30, { kind: 'info', signal: 'keepalive', keys: { user: busyUser } }),
      ev('client', 59.9, { kind: 'info', signal: 'keepalive', keys: { user: busyUser } }),
      ev('client', 60, {
        kind: 'ws-close',
        signal: 'ws-close',
        keys: { user: busyUser },
        ws: { closeCode: 1006, wasClean: false },
      }),
      ev('client', 62, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user: busyUser } }),
    ]);
    const sessions = [cut('agent-036', 0, 60), cut('agent-037', 1, 60), cut('agent-038', 2, 60), busy];
    const run = classifyRun(sessions, [], INPUTS);
    const busyFinding = run.findings.find((f) => f.keys.user?.[0] === busyUser);
    expect(busyFinding).toBeDefined();
    expect(busyFinding?.cause).not.toBe('idle-timeout');
    expect(run.byCause['idle-timeout']).toBe(3);
  });
});

describe('client-misconfig', () => {
  it('a malformed header refused locally (ERR_INVALID_CHAR) is the client’s', () => {
    const s = session('agent-040', [
      ev('client', 0, { kind: 'config', signal: 'bad-header', keys: { user: 'agent-040' } }),
    ]);
    expect(verdictOf([s], 'agent-040').finding?.cause).toBe('client-misconfig');
  });

  it('a handshake without the sip subprotocol, refused by the SBC with 400, is the client’s', () => {
    const s = session('agent-041', [
      ev('lb', 1, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-041' },
        http: { status: 400, upstreamStatus: 400, upgrade: true },
      }),
      ev('sbc', 1, {
        kind: 'ws-handshake',
        signal: 'missing-subprotocol',
        keys: { user: 'agent-041' },
        http: { status: 400 },
      }),
    ]);
    expect(verdictOf([s], 'agent-041').finding?.cause).toBe('client-misconfig');
  });

  it('reconnects far faster than any backoff are a retry storm', () => {
    const storm = Array.from({ length: 12 }, (_, i) => [
      ev('client', i * 0.2, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user: 'agent-042' } }),
      ev('client', i * 0.2 + 0.05, {
        kind: 'ws-close',
        signal: 'ws-close',
        keys: { user: 'agent-042' },
        ws: { closeCode: 1006, wasClean: false },
      }),
    ]).flat();
    const { finding } = verdictOf([session('agent-042', storm)], 'agent-042');
    expect(finding?.cause).toBe('client-misconfig');
    expect(finding?.attempts).toBe(12);
  });
});

describe('upstream-timeout and auth-failure', () => {
  it('an LB 504 with no throttling evidence is an upstream timeout', () => {
    const s = session('agent-050', [
      ev('lb', 61, {
        kind: 'ws-handshake',
        signal: 'upstream-timeout',
        keys: { user: 'agent-050' },
        http: { status: 504, upstreamStatus: 504, upgrade: true },
      }),
      ev('client', 61, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user: 'agent-050' },
        http: { status: 504 },
      }),
    ]);
    expect(verdictOf([s], 'agent-050').finding?.cause).toBe('upstream-timeout');
  });

  it('a challenge answered with another challenge is an auth failure; 401 then 200 is healthy', () => {
    const bad = session('agent-051', [
      ev('client', 1, {
        kind: 'sip-response',
        keys: { user: 'agent-051', callId: 'c51' },
        sip: { method: 'REGISTER', cseq: 1, status: 401, direction: 'received' },
      }),
      ev('client', 2, {
        kind: 'sip-response',
        keys: { user: 'agent-051', callId: 'c51' },
        sip: { method: 'REGISTER', cseq: 2, status: 401, direction: 'received' },
      }),
    ]);
    const run = classifyRun([bad, healthy('agent-052', 0)], [], INPUTS);
    expect(run.findings).toHaveLength(1);
    expect(run.findings[0].cause).toBe('auth-failure');
    expect(run.findings[0].keys.user).toEqual(['agent-051']);
  });
});
