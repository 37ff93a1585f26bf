import { describe, expect, it } from 'vitest';
import { SessionBuilder } from '../src/correlate/sessions.js';
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
});
