/**
 * A softphone that is registered makes and takes calls: their ordinary final answers (busy,
 * cancelled, callee absent, declined) and the answers to in-dialog or presence requests are not a
 * failure of its connection. Reporting such a healthy agent as failed is the worst error.
 */
import { describe, expect, it } from 'vitest';
import { classifyRun } from '../../src/classify/index.js';
import type { LogEvent } from '../../src/model.js';
import { ev, INPUTS, registeredClient, session } from '../event-factory.js';

function answered(
  user: string,
  at: number,
  method: string,
  status: number,
  reason: string,
  extra = {},
): LogEvent[] {
  const callId = `${method.toLowerCase()}-${user}-${status}`;
  return [
    ev('client', at, {
      kind: 'sip-request',
      keys: { user, callId },
      sip: { method, cseq: 1, direction: 'sent', headers: ['via'] },
    }),
    ev('client', at + 0.5, {
      kind: 'sip-response',
      keys: { user, callId },
      sip: { method, cseq: 1, status, reason, direction: 'received', headers: ['via'], ...extra },
    }),
  ];
}

describe('call outcomes of a registered softphone', () => {
  it('486, 487, 480, 404, 603 to INVITE, 481 to BYE, 489 to SUBSCRIBE and 405 to OPTIONS leave it healthy', () => {
    const user = 'agent-7';
    const s = session(user, [
      ...registeredClient(user, 0),
      ...answered(user, 10, 'INVITE', 486, 'Busy Here'),
      ...answered(user, 20, 'INVITE', 487, 'Request Terminated'),
      ...answered(user, 30, 'INVITE', 480, 'Temporarily Unavailable'),
      ...answered(user, 40, 'INVITE', 404, 'Not Found'),
      ...answered(user, 50, 'INVITE', 603, 'Decline'),
      ...answered(user, 60, 'BYE', 481, 'Call/Transaction Does Not Exist'),
      ...answered(user, 70, 'SUBSCRIBE', 489, 'Bad Event'),
      ...answered(user, 80, 'OPTIONS', 405, 'Method Not Allowed'),
    ]);
    const run = classifyRun([s], [], INPUTS);
    expect(run.findings).toEqual([]);
    expect(run.healthySessions).toBe(1);
  });

  it('an INVITE refused for load (503 with Retry-After, 486 naming a call limit) is still throttling', () => {
    const a = session('agent-8', [
      ...registeredClient('agent-8', 0),
      ...answered('agent-8', 10, 'INVITE', 503, 'Service Unavailable', { retryAfter: 30 }),
    ]);
    const b = session('agent-9', [
      ...registeredClient('agent-9', 0),
      ...answered('agent-9', 10, 'INVITE', 486, 'Call Limit Reached'),
    ]);
    const run = classifyRun([a, b], [], INPUTS);
    expect(run.findings.map((f) => f.cause)).toEqual(['sbc-throttling', 'sbc-throttling']);
  });

  it('a REGISTER answered 480 (admission control) fails the registration as throttling; 486 Busy Here to REGISTER is not read as a rate limit', () => {
    const a = session('agent-10', answered('agent-10', 0, 'REGISTER', 480, 'Temporarily Unavailable'));
    const run = classifyRun([a], [], INPUTS);
    expect(run.findings.map((f) => f.cause)).toEqual(['sbc-throttling']);
    const b = session('agent-11', answered('agent-11', 0, 'REGISTER', 486, 'Busy Here'));
    expect(classifyRun([b], [], INPUTS).findings.map((f) => f.cause)).toEqual(['unclassified']);
  });

  it('an app line "registration failed: 503" right after SIP.js made up a 503 on a line naming no user is not the SBC’s 503', () => {
    const user = 'agent-2';
    const s = session(user, [
      ev('client', 0, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user } }),
      ev('client', 0.2, {
        kind: 'ws-handshake',
        signal: 'ws-handshake-failed',
        keys: { user },
        http: { status: 504 },
      }),
      ev('client', 0.4, {
        kind: 'sip-response',
        signal: 'registration-failed',
        keys: { user },
        sip: { method: 'REGISTER', status: 503, reason: 'Service Unavailable', direction: 'received' },
      }),
    ]);
    const internal = ev('client', 0.3, {
      kind: 'sip-response',
      signal: 'internal-status',
      keys: {},
      sip: { status: 503, reason: 'Service Unavailable', direction: 'internal' },
    });
    const run = classifyRun([s], [internal], INPUTS);
    expect(run.findings.map((f) => f.cause)).toEqual(['upstream-timeout']);
  });

  it('a refresh challenged minutes after the last challenge is not "401 again", even when the log lost the 200 between', () => {
    const user = 'agent-3';
    const callId = 'reg-agent-3';
    const r = (at: number, cseq: number, status?: number) =>
      ev('client', at, {
        kind: status ? 'sip-response' : 'sip-request',
        keys: { user, callId },
        sip: status
          ? { method: 'REGISTER', cseq, status, direction: 'received', headers: ['via'] }
          : { method: 'REGISTER', cseq, direction: 'sent', headers: ['via'] },
      });
    // 401 → credentials → (200 lost) … refresh 5 min later → 401 → credentials, and the log ends
    const s = session(user, [r(0, 1), r(0.1, 1, 401), r(0.2, 2), r(300, 3), r(300.1, 3, 401), r(300.2, 4)]);
    expect(classifyRun([s], [], INPUTS).findings).toEqual([]);
    // the same challenge answered by a challenge at once is a rejection
    const bad = session('agent-4', [
      ev('client', 0, {
        kind: 'sip-response',
        keys: { user: 'agent-4', callId: 'c4' },
        sip: { method: 'REGISTER', cseq: 1, status: 401, direction: 'received', headers: ['via'] },
      }),
      ev('client', 0.3, {
        kind: 'sip-response',
        keys: { user: 'agent-4', callId: 'c4' },
        sip: { method: 'REGISTER', cseq: 2, status: 401, direction: 'received', headers: ['via'] },
      }),
    ]);
    expect(classifyRun([bad], [], INPUTS).findings.map((f) => f.cause)).toEqual(['auth-failure']);
  });
});

describe('an app line naming only a call status', () => {
  it('"call failed" with 486 and no method leaves a registered agent healthy', () => {
    const user = 'agent-5';
    const s = session(user, [
      ...registeredClient(user, 0),
      ev('client', 20, {
        kind: 'sip-response',
        keys: { user, callId: 'call-5' },
        sip: { status: 486, reason: 'Busy', direction: 'received' },
      }),
    ]);
    expect(classifyRun([s], [], INPUTS).findings).toEqual([]);
  });
});

describe("the SBC's own traffic", () => {
  it('a trunk qualify answered 503, seen only at the SBC, is not a softphone that failed', () => {
    const pbx = session('asterisk', [
      ev('sbc', 10, {
        kind: 'sip-request',
        keys: { user: 'asterisk', callId: 'q1' },
        sip: { method: 'OPTIONS', cseq: 1, direction: 'sent', headers: ['via'] },
      }),
      ev('sbc', 10.1, {
        kind: 'sip-response',
        signal: 'sbc-overload',
        keys: { user: 'asterisk', callId: 'q1' },
        sip: { method: 'OPTIONS', cseq: 1, status: 503, direction: 'received', headers: ['via'] },
      }),
    ]);
    const run = classifyRun([session('agent-6', registeredClient('agent-6', 0)), pbx], [], INPUTS);
    expect(run.findings).toEqual([]);
    expect(run.sessions).toBe(1);
  });
});
