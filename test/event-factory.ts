/**
 * Builds normalised events for classifier tests, the way the formats would emit them.
 */
import type { LogEvent, Role } from '../src/model.js';
import type { Session } from '../src/correlate/sessions.js';

export const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

let line = 0;

export function ev(role: Role, atSec: number, partial: Partial<LogEvent>): LogEvent {
  line++;
  return {
    ts: T0 + atSec * 1000,
    input: role === 'sbc' ? 0 : role === 'lb' ? 1 : 2,
    line,
    raw: partial.raw ?? partial.text ?? `${role} line ${line}`,
    role,
    kind: partial.kind ?? 'info',
    keys: partial.keys ?? {},
    ...partial,
  };
}

export function session(user: string, events: LogEvent[]): Session {
  events.sort((a, b) => a.ts - b.ts);
  return { id: `user:${user}`, user, events };
}

/** A client that connected, registered (401 then 200) and stayed quiet. */
export function registeredClient(user: string, at: number, callId = `call-${user}`): LogEvent[] {
  return [
    ev('client', at, { kind: 'ws-handshake', signal: 'ws-connecting', keys: { user } }),
    ev('client', at + 0.1, { kind: 'ws-open', signal: 'ws-open', keys: { user } }),
    ev('client', at + 0.2, {
      kind: 'sip-request',
      keys: { user, callId },
      sip: { method: 'REGISTER', cseq: 1, direction: 'sent' },
    }),
    ev('client', at + 0.3, {
      kind: 'sip-response',
      keys: { user, callId },
      sip: { method: 'REGISTER', cseq: 1, status: 401, reason: 'Unauthorized', direction: 'received' },
    }),
    ev('client', at + 0.4, {
      kind: 'sip-request',
      keys: { user, callId },
      sip: { method: 'REGISTER', cseq: 2, direction: 'sent' },
    }),
    ev('client', at + 0.5, {
      kind: 'sip-response',
      keys: { user, callId },
      sip: { method: 'REGISTER', cseq: 2, status: 200, reason: 'OK', direction: 'received' },
    }),
  ];
}

export const INPUTS = [
  { path: 'sbc.log', role: 'sbc' as const },
  { path: 'lb.log', role: 'lb' as const },
  { path: 'client.log', role: 'client' as const },
];
