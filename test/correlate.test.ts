import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_SESSION, SessionBuilder } from '../src/correlate/sessions.js';
import { ev } from './event-factory.js';

describe('sessions', () => {
  it('never joins two users, even through a shared address', () => {
    const b = new SessionBuilder(() => 'kamailio');
    b.add(
      ev('sbc', 0, { kind: 'sip-request', keys: { user: 'agent-1', peer: '10.0.0.9:5060', callId: 'a' } }),
    );
    b.add(
      ev('sbc', 1, { kind: 'sip-request', keys: { user: 'agent-2', peer: '10.0.0.9:5060', callId: 'b' } }),
    );
    expect(
      b
        .build()
        .map((s) => s.user)
        .sort(),
    ).toEqual(['agent-1', 'agent-2']);
  });

  it('a harness tag finds a user first named on a line that was not kept', () => {
    const b = new SessionBuilder(() => 'harness');
    // "creating UA sip:agent-b07@…" carries nothing to classify, but names the user
    b.noteUser('agent-b07');
    const tagged = ev('client', 5, {
      kind: 'ws-close',
      signal: 'ws-close',
      raw: '10:00:05.120 [agent-b07] WebSocket closed, code 1006',
      keys: {},
      ws: { closeCode: 1006 },
    });
    b.add(tagged);
    const sessions = b.build();
    expect(sessions).toHaveLength(1);
    expect(sessions[0].user).toBe('agent-b07');
  });

  it('caps one session at MAX_EVENTS_PER_SESSION routine lines, even when each line names a new key', () => {
    const b = new SessionBuilder(() => 'kamailio');
    const n = MAX_EVENTS_PER_SESSION + 500;
    for (let i = 0; i < n; i++)
      b.add(ev('sbc', i, { kind: 'sip-request', keys: { user: 'monitor', callId: `ping-${i}` } }));
    // a line that says something failed is kept past the cap
    b.add(
      ev('sbc', n, {
        kind: 'sip-response',
        keys: { user: 'monitor', callId: 'last' },
        sip: { status: 503, direction: 'sent', method: 'OPTIONS' },
      }),
    );
    const [monitor] = b.build();
    expect(monitor.events).toHaveLength(MAX_EVENTS_PER_SESSION + 1);
    expect(monitor.events.at(-1)?.sip?.status).toBe(503);
    expect(b.capped).toBe(500);
  });
});
