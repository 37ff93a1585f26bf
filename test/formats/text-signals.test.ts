import { describe, expect, it } from 'vitest';
import { readClientText, wsUrlUser } from '../../src/formats/text-signals.js';

describe('client text reading', () => {
  it('reads the classic application symptom as a 1006 with no cause', () => {
    // the brief's line (client-formats.md §0: an application wrapper, not a library string)
    const r = readClientText(
      'Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally',
    );
    expect(r.signal).toBe('app-ws-failed');
    expect(r.ws?.closeCode).toBe(1006);
  });

  it('reads handshake statuses from browsers and Node ws', () => {
    // versatica/JsSIP#194
    expect(
      readClientText(
        "WebSocket connection to 'ws://ws1.versatica.com:10080/' failed: Error during WebSocket handshake: Unexpected response code: 403",
      ).http?.status,
    ).toBe(403);
    // client-formats.md §3.3 (websockets/ws lib/websocket.js)
    const ws = readClientText('Error: Unexpected server response: 504');
    expect([ws.signal, ws.http?.status]).toEqual(['ws-handshake-failed', 504]);
    // onsip/SIP.js#1016: recent Chrome gives an empty reason
    expect(readClientText("WebSocket connection to 'wss://localhost:8080/' failed: ").signal).toBe(
      'ws-handshake-failed',
    );
    // onsip/SIP.js#545
    expect(
      readClientText(
        "WebSocket connection to 'wss://sip-ws.example.com/' failed: Error in connection establishment: net::ERR_NAME_NOT_RESOLVED",
      ).signal,
    ).toBe('ws-handshake-failed');
  });

  it('reads a well-formed custom handshake header as harmless, not as a keep-alive or a fault', () => {
    // the classic report's harness line; the forum's "add a keep-alive header" advice
    const r = readClientText('handshake header X-Genesys-KeepAlive: true');
    expect([r.kind, r.signal]).toEqual(['config', 'unknown-header']);
    expect(readClientText("extraHeaders: ['X-Agent-Id: 7']").signal).toBe('unknown-header');
    // an illegal one is still a local fault
    expect(
      readClientText(
        'TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
      ).signal,
    ).toBe('bad-header');
  });

  it('tells local header errors and a missing subprotocol apart from server refusals', () => {
    // client-formats.md §3.3
    expect(
      readClientText(
        'TypeError [ERR_INVALID_CHAR]: Invalid character in header content ["X-Genesys-KeepAlive"]',
      ).signal,
    ).toBe('bad-header');
    // hapijs/nes#270
    expect(
      readClientText(
        "Uncaught DOMException: Failed to construct 'WebSocket': The subprotocol '[object Object]' is invalid.",
      ).signal,
    ).toBe('bad-header');
    expect(readClientText('Error: Server sent no subprotocol').signal).toBe('missing-subprotocol');
  });

  it('reads SIP.js internal statuses, timeouts, reconnects and keep-alives', () => {
    // client-formats.md §1.2 (SIP.js src)
    const internal = readClientText(
      'User agent client request transport error. Generating internal 503 Service Unavailable.',
    );
    expect([internal.signal, internal.sip?.direction, internal.sip?.status]).toEqual([
      'internal-status',
      'internal',
      503,
    ]);
    const timeout = readClientText(
      'Connect timed out. Exceeded time set in configuration.connectionTimeout: 5s.',
    );
    expect([timeout.signal, timeout.timeoutMs]).toEqual(['client-timeout', 5000]);
    const retry = readClientText('reconnection attempt: 1. next connection attempt in 2 seconds');
    expect([retry.signal, retry.retryDelayMs]).toEqual(['reconnect', 2000]);
    expect(readClientText('Received WebSocket message with CRLF Keep Alive response').signal).toBe(
      'keepalive',
    );
    // a deprecation warning names an option, it is not a reconnect
    expect(
      readClientText(
        'The transport option "maxReconnectionAttempts" as has apparently been specified and has been deprecated.',
      ).signal,
    ).toBeUndefined();
    // InnovateAsterisk/Browser-Phone#499
    expect(
      readClientText('Failed to reconnect Error: WebSocket closed wss://192.168.39.90:8088/ws (code: 1006)')
        .ws?.closeCode,
    ).toBe(1006);
    expect(readClientText('Transitioned from Connected to Disconnecting').signal).not.toBe('ws-open');
  });

  it('finds the user in URLs, SIP URIs and harness tags', () => {
    expect(wsUrlUser('wss://sbc.example.com/ws?user=agent-042')).toBe('agent-042');
    expect(wsUrlUser('wss://sbc.example.com/ws/agent-007')).toBe('agent-007');
    expect(readClientText('[agent-042] registered').keys.user).toBe('agent-042');
    expect(readClientText('REGISTER sip:example.com from sip:agent-9@example.com').keys.user).toBe('agent-9');
  });
});
