/**
 * Reports for the reporter tests: a realistic multi-cause report (lines shaped like the samples'),
 * hostile log text (<script>, terminal escapes, backticks, pipes), and a report full of secrets.
 */
import type { CauseId, Evidence, Finding, Report, Role } from '../../src/model.js';

const T0 = Date.parse('2025-11-24T10:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const hms = (ms: number) => iso(ms).slice(11, 19);
const nginxTime = (ms: number) => `24/Nov/2025:${hms(ms)} +0000`;
const syslogTime = (ms: number) => `Nov 24 ${hms(ms)}`;

const PATHS: Record<Role, string> = { sbc: 'logs/sbc.log', lb: 'logs/lb.log', client: 'logs/client.log' };

function ev(role: Role, line: number, at: number, text: string, path = PATHS[role]): Evidence {
  return { path, line, role, text, time: iso(at) };
}

/** Evidence lines of one session of a cause, starting `at` ms after T0. */
function evidenceFor(cause: CauseId, user: string, at: number, n: number): Evidence[] {
  const line = 100 + n * 37;
  const callId = `c${n.toString(36).padStart(6, '0')}x`;
  const port = 40000 + n;
  switch (cause) {
    case 'sbc-throttling':
      return [
        ev(
          'sbc',
          line,
          at,
          `${syslogTime(at)} sbc-01 /usr/sbin/kamailio[16659]: WARNING: {1 1 REGISTER ${callId}} <script>: rl_check() failed for REGISTER from sip:${user}@example.com (IP:10.0.0.2:${port}), replying 503 Limiting`,
        ),
        ev(
          'client',
          line * 7,
          at + 320,
          `${iso(at + 1060)} JsSIP:Transport received text message: ⏎ SIP/2.0 503 Limiting ⏎ Retry-After: 5`,
        ),
        ev(
          'sbc',
          line + 40,
          at + 5000,
          `${syslogTime(at + 5000)} sbc-01 /usr/sbin/kamailio[16659]: WARNING: {1 2 REGISTER ${callId}} <script>: rl_check() failed for REGISTER from sip:${user}@example.com (IP:10.0.0.2:${port}), replying 503 Limiting`,
        ),
        ev(
          'client',
          line * 7 + 900,
          at + 5330,
          `${iso(at + 6070)} JsSIP:Transport received text message: ⏎ SIP/2.0 503 Limiting ⏎ Retry-After: 5`,
        ),
      ];
    case 'edge-rate-limit':
      return [
        ev(
          'lb',
          line,
          at,
          `2025/11/24 ${hms(at)} [error] 7723#7723: *${72000 + n} limiting requests, excess: 6.508 by zone "ws_limit", client: 198.51.100.23, server: sbc.example.com, request: "GET /ws?user=${user} HTTP/1.1", host: "sbc.example.com"`,
          'logs/lb-error.log',
        ),
        ev(
          'lb',
          line + 1,
          at,
          `198.51.100.23 - - [${nginxTime(at)}] "GET /ws?user=${user} HTTP/1.1" 503 197 "-" "-" 0.000 - - ${72000 + n} 39f17000e26a783ff157b14f639c42b1 36809`,
        ),
        ev(
          'client',
          line * 7,
          at + 830,
          `${iso(at + 1570)} JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=${user} error:  Error: Unexpected server response: 503`,
        ),
      ];
    case 'idle-timeout':
      return [
        ev(
          'lb',
          line,
          at + 60000,
          `198.51.100.23 - - [${nginxTime(at + 60000)}] "GET /ws?user=${user} HTTP/1.1" 101 965 "-" "-" 60.034 101 10.0.0.1:8080 ${72000 + n} 653e55459e833f3940f036739f96e341 34293`,
        ),
        ev(
          'sbc',
          line * 2,
          at + 60230,
          `${syslogTime(at + 60230)} sbc-01 /usr/sbin/kamailio[16657]: ERROR: <core> [core/tcp_read.c:289]: tcp_read_data(): error reading: Connection reset by peer (104) ([10.0.0.2]:${port} ->\n${syslogTime(at + 60230)} sbc-01 /usr/sbin/kamailio[16657]: ERROR: <core> [core/tcp_read.c:291]: tcp_read_data(): -> [10.0.0.1]:8080)`,
        ),
        ev(
          'client',
          line * 7,
          at + 60800,
          `${iso(at + 61540)} JsSIP:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=${user} closed`,
        ),
        ev(
          'client',
          line * 7 + 2,
          at + 60800,
          `${iso(at + 61540)} [${user}] Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally`,
        ),
      ];
    case 'client-misconfig':
      return [
        ev(
          'lb',
          line,
          at,
          `198.51.100.23 - - [${nginxTime(at)}] "GET /websocket?user=${user} HTTP/1.1" 404 153 "-" "-" 0.000 - - ${72000 + n} 8f4354938e03a955ab9c7016b990ec97 34956`,
        ),
        ev(
          'client',
          line * 7,
          at + 700,
          `${iso(at + 1440)} JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/websocket?user=${user} error:  Error: Unexpected server response: 404`,
        ),
      ];
    case 'upstream-timeout':
      return [
        ev(
          'lb',
          line,
          at,
          `2025/11/24 ${hms(at)} [error] 7723#7723: *${72000 + n} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 198.51.100.23, server: sbc.example.com, request: "GET /ws?user=${user} HTTP/1.1", upstream: "http://10.0.0.1:8080/ws?user=${user}"`,
          'logs/lb-error.log',
        ),
        ev(
          'lb',
          line + 1,
          at,
          `198.51.100.23 - - [${nginxTime(at)}] "GET /ws?user=${user} HTTP/1.1" 504 167 "-" "-" 60.000 504 10.0.0.1:8080 ${72000 + n} 49a46aea2a8846350f3c2afefe05fe7e 55668`,
        ),
        ev(
          'client',
          line * 7,
          at + 1200,
          `${iso(at + 1940)} JsSIP:WARN:WebSocketInterface WebSocket wss://sbc.example.com/ws?user=${user} error:  Error: Unexpected server response: 504`,
        ),
      ];
    case 'auth-failure':
      return [
        ev(
          'sbc',
          line,
          at,
          `${syslogTime(at)} sbc-01 /usr/sbin/kamailio[16656]: NOTICE: {1 2 REGISTER ${callId}} <script>: auth failed for ${user}@example.com from 10.0.0.2:${port}: auth_check() returned -2 (invalid password), re-challenging`,
        ),
        ev(
          'client',
          line * 7,
          at + 800,
          `${iso(at + 1540)} [${user}] registrationFailed: cause="Authentication Error" response="401 Unauthorized"`,
        ),
      ];
    default:
      return [
        ev(
          'client',
          line * 7,
          at,
          `${iso(at + 740)} [${user}] Error: WebSocket connection failed. Code: 1006 Message: Connection closed abnormally`,
        ),
      ];
  }
}

const EXPLAIN: Record<CauseId, string> = {
  'sbc-throttling': 'The SBC refused this user: SIP 503 Limiting (Retry-After: 5 s).',
  'edge-rate-limit': 'The load balancer refused the WebSocket handshake itself, before the SBC saw it.',
  'idle-timeout': 'The WebSocket was open and registered, then cut after 60.0 s without traffic.',
  'client-misconfig': 'The client caused the failure: HTTP 404 on the handshake.',
  'upstream-timeout': 'The edge gave up waiting for the SBC.',
  'auth-failure': 'Authentication failed: credentials rejected.',
  unclassified: 'Failed, and no rule explains why.',
};

export const MIX: [CauseId, number][] = [
  ['sbc-throttling', 12],
  ['edge-rate-limit', 9],
  ['idle-timeout', 8],
  ['client-misconfig', 5],
  ['upstream-timeout', 4],
  ['auth-failure', 3],
  ['unclassified', 1],
];

export function finding(
  cause: CauseId,
  n: number,
  at: number,
  evidence = evidenceFor(cause, `agent-${String(n).padStart(3, '0')}`, at, n),
): Finding {
  const user = `agent-${String(n).padStart(3, '0')}`;
  const times = evidence.map((e) => Date.parse(e.time!));
  return {
    session: `user:${user}`,
    cause,
    confidence: cause === 'unclassified' ? 0.3 : 0.95,
    keys: {
      callId: [`c${n.toString(36).padStart(6, '0')}x`],
      user: [user],
      peer: [`10.0.0.2:${40000 + n}`],
      requestId: [`req${n}abcdef`],
    },
    firstSeen: new Date(Math.min(...times)).toISOString(),
    lastSeen: new Date(Math.max(...times)).toISOString(),
    explanation: EXPLAIN[cause],
    remediation: `Fix it (${cause}).`,
    evidence,
    attempts: 1 + (n % 4),
  };
}

/** A report shaped like a real run: several causes over a few minutes, healthy sessions too. */
export function sampleReport(extra: Finding[] = []): Report {
  const findings: Finding[] = [];
  let n = 1;
  for (const [cause, count] of MIX) {
    for (let k = 0; k < count; k++, n++) findings.push(finding(cause, n, (n * 4700) % 180_000));
  }
  findings.push(...extra);
  findings.sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
  const byCause: Partial<Record<CauseId, number>> = {};
  for (const f of findings) byCause[f.cause] = (byCause[f.cause] ?? 0) + 1;
  const failed = findings.length;
  return {
    schemaVersion: 1,
    tool: { name: 'logdiag', version: '0.1.0' },
    inputs: [
      {
        path: 'logs/client.log',
        format: 'jssip',
        role: 'client',
        lines: 9000,
        events: 1200,
        unparsed: 2,
        clockOffsetMs: 743,
      },
      {
        path: 'logs/lb-error.log',
        format: 'nginx-error',
        role: 'lb',
        lines: 68,
        events: 68,
        unparsed: 0,
        clockOffsetMs: -769,
      },
      {
        path: 'logs/lb.log',
        format: 'nginx-access',
        role: 'lb',
        lines: 104,
        events: 104,
        unparsed: 0,
        clockOffsetMs: -769,
      },
      {
        path: 'logs/sbc.log',
        format: 'kamailio',
        role: 'sbc',
        lines: 365,
        events: 334,
        unparsed: 0,
        clockOffsetMs: 0,
      },
    ],
    summary: {
      sessions: 80,
      failedSessions: failed,
      byCause,
      primaryCause: 'sbc-throttling',
      healthySessions: 80 - failed,
      attempts: 240,
      failuresBegan: findings[0].firstSeen,
      verdict: `${failed} of 80 sessions failed; primary cause sbc-throttling (${byCause['sbc-throttling']} sessions): The SBC refused (flood, rate or capacity protection).`,
      ruledOut: [
        {
          hypothesis: 'the custom header X-Genesys-KeepAlive broke the handshake',
          reason: 'it was set on 41 sessions and 29 of them are healthy',
        },
      ],
      idleTimeoutMs: 60003,
    },
    findings,
  };
}

/** Log text that must stay text: HTML, script, terminal escapes, Markdown syntax. */
export const HOSTILE_LINES = [
  '<script>window.__xss = 1</script> REGISTER sip:agent-900@example.com',
  '<img src=x onerror="window.__xss=2"> closed',
  '\u001b[2J\u001b[31mred\u001b[0m \u0007 bell | pipe | ``` fence ``` `tick` ]]> & &amp; \u2028 sep',
];

export function hostileReport(): Report {
  const f = finding(
    'unclassified',
    900,
    90_000,
    HOSTILE_LINES.map((t, i) => ev('client', 9000 + i, 90_000 + i * 10, t, 'logs/odd|name`.log')),
  );
  f.explanation = 'Odd text <b>bold</b> | pipe `tick` \u001b[31m';
  return sampleReport([f]);
}

/** Secrets planted everywhere a reporter may print; none of these strings may appear in any output. */
export const SECRETS = [
  'tok_BEARER_9f8e7d6c5b4a',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZ2VudC0wMDEiLCJleHAiOjE3NjR9.c2lnbmF0dXJlLXNlY3JldA',
  'AT-secret-11111',
  'Hunter2-pw',
  'plain-token-2222',
  'cookie-secret-3333',
  'csrf-secret-4444',
  'alb-cookie-5555',
  'nonce-6666abcdef',
  '0123456789abcdef0123456789abcdef',
  'cnonce-7777',
  'nonce2-8888',
  'APIKEY-9999',
  'APIKEY2-1010',
  'XAPIKEY-1212',
  'json-apikey-1313',
  'urlpass-1414',
  'YWdlbnQ6YmFzaWMtc2VjcmV0LTE1MTU=',
  'json-password-1616',
  'refresh-1717',
];

export const IPS = ['198.51.100.23', '10.0.0.2', '2001:db8::7', '2001:db8:0:0:0:0:0:9', '203.0.113.250'];

const JWT = SECRETS[1];

export const SECRET_LINES = [
  `GET /ws?user=agent-901 HTTP/1.1 Authorization: Bearer ${SECRETS[0]}`,
  `connecting to WebSocket wss://sbc.example.com/ws?user=agent-901&access_token=${SECRETS[2]}&refresh_token=${SECRETS[19]}`,
  `wss://sbc.example.com/ws?user=agent-901&token=${JWT} error: token expired ${JWT}`,
  `login?user=agent-901&password=${SECRETS[3]}&token=${SECRETS[4]} HTTP/1.1`,
  `Cookie: SESSIONID=${SECRETS[5]}; csrftoken=${SECRETS[6]}`,
  `Set-Cookie: AWSALB=${SECRETS[7]}; Path=/; HttpOnly`,
  `Authorization: Digest username="agent-901", realm="example.com", nonce="${SECRETS[8]}", uri="sip:example.com", response="${SECRETS[9]}", cnonce="${SECRETS[10]}", qop=auth, nc=00000001`,
  `SIP/2.0 401 Unauthorized ⏎ WWW-Authenticate: Digest realm="example.com", nonce="${SECRETS[11]}", algorithm=MD5`,
  `GET /ws?api_key=${SECRETS[12]}&apikey=${SECRETS[13]} x-api-key: ${SECRETS[14]}`,
  `{"level":"info","apiKey": "${SECRETS[15]}","password":"${SECRETS[18]}","msg":"connect"}`,
  `connecting to wss://agent-901:${SECRETS[16]}@sbc.example.com/ws`,
  `Authorization: Basic ${SECRETS[17]}`,
  `client: ${IPS[0]}, peer [${IPS[2]}]:5060 from ${IPS[1]}:44711 via ${IPS[3]} and ${IPS[4]}`,
];

/** A report whose every printable string carries secrets (and IP addresses). */
export function secretReport(base = sampleReport()): Report {
  const r = base;
  const lines = SECRET_LINES.map((t, i) =>
    ev(i % 3 === 0 ? 'sbc' : i % 3 === 1 ? 'lb' : 'client', 500 + i, 100_000 + i * 100, t),
  );
  const f = finding('auth-failure', 901, 100_000, lines);
  f.explanation = `Authentication failed with token=${SECRETS[4]} (Bearer ${SECRETS[0]}) from ${IPS[0]}.`;
  f.remediation = `Rotate api_key=${SECRETS[12]}.`;
  f.keys.peer = [`${IPS[1]}:44711`, `[${IPS[2]}]:5060`];
  f.session = `peer:${IPS[1]}:44711`;
  r.findings.push(f);
  r.summary.byCause['auth-failure'] = (r.summary.byCause['auth-failure'] ?? 0) + 1;
  r.summary.failedSessions++;
  r.summary.healthySessions = r.summary.sessions - r.summary.failedSessions;
  r.summary.verdict = `${r.summary.failedSessions} of ${r.summary.sessions} sessions failed; primary cause sbc-throttling. Seen with password=${SECRETS[3]}.`;
  r.summary.ruledOut!.push({
    hypothesis: `the cookie ${'Cookie: SESSIONID=' + SECRETS[5]}`,
    reason: `x-api-key: ${SECRETS[14]} was valid`,
  });
  r.inputs[0].unparsedSamples = [{ line: 7, text: `Authorization: Bearer ${SECRETS[0]} at ${IPS[4]}` }];
  r.inputs[1].error = `cannot read: token=${SECRETS[4]}`;
  return r;
}
