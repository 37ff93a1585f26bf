/**
 * What each cause means to the person reading the report, and what to do about it.
 */
import type { CauseId } from '../model.js';

export interface CauseText {
  title: string;
  remediation: string;
}

export const CAUSE_TEXT: Record<CauseId, CauseText> = {
  'sbc-throttling': {
    title: 'The SBC refused (flood, rate or capacity protection)',
    remediation:
      'Raise or scope the SBC limits for the load-test sources (pike density / ipban, ratelimit or pipelimit pipes, session and registration limits, per-IP connection limits), spread registrations over a longer ramp, and make clients honour Retry-After.',
  },
  'edge-rate-limit': {
    title: 'The load balancer / edge refused before the SBC (rate or connection limit)',
    remediation:
      'Raise the edge limit for WebSocket upgrades (nginx limit_req/limit_conn burst and rate, HAProxy stick-table deny, Envoy local rate limit, WAF rate rules), key it on something other than a load generator IP, or spread the test over more source IPs.',
  },
  'idle-timeout': {
    title: 'Idle connections were cut by an intermediary',
    remediation:
      'Send keep-alives more often than the idle timeout (SIP.js keepAliveInterval, CRLF or WebSocket pings, OPTIONS, or a shorter REGISTER refresh), or raise the idle timeout on the LB (ALB idle_timeout, nginx proxy_read_timeout/proxy_send_timeout, HAProxy timeout tunnel).',
  },
  'client-misconfig': {
    title: 'The client did it (handshake, URL, timeouts or retry behaviour)',
    remediation:
      'Fix the client: offer the "sip" WebSocket subprotocol, send only well-formed headers (browsers cannot set custom handshake headers at all), use the right wss:// URL and path, keep client timeouts longer than the server needs, and reconnect with jittered exponential backoff.',
  },
  'upstream-timeout': {
    title: 'The edge gave up waiting for the SBC',
    remediation:
      'Find why the SBC or its registrar answered late (CPU, DNS, database, registrar backend); check the edge timeouts (proxy_read_timeout, timeout server, route timeouts) against the SBC answer time.',
  },
  'auth-failure': {
    title: 'Authentication failed (credentials, unknown user or expired token)',
    remediation:
      'Check the test accounts: usernames, passwords or HA1, realm, and token lifetimes; make sure every load-test user is provisioned on the registrar.',
  },
  unclassified: {
    title: 'Failed, and no rule explains why',
    remediation:
      'Read the evidence lines; add the missing log (SBC, LB or client) for this period so the cause can be decided.',
  },
};
