/**
 * The lab's scenarios: each reproduces one cause for real, next to users for whom nothing goes
 * wrong. A scenario only sets up the servers and the clients' behaviour; which users failed, and
 * why, is read afterwards from what each client saw (lab/lib/truth.mjs), never from this file.
 *
 * Users are spread over the three client families: JsSIP, SIP.js and a bare `ws` client.
 */

export const PASSWORD = 'lab-secret';
const LIBS = ['jssip', 'sipjs', 'ws'];

/** `agent-001` … */
const name = (i) => `agent-${String(i + 1).padStart(3, '0')}`;

/**
 * n users, the i-th on LIBS[i % 3], starting evenly over rampMs; `tweak(user, i)` adds the
 * scenario's quirks.
 */
function users(n, rampMs, tweak = () => ({})) {
  return Array.from({ length: n }, (_, i) => {
    const u = {
      user: name(i),
      lib: LIBS[i % LIBS.length],
      startMs: Math.round((i * rampMs) / n) + 50,
      password: PASSWORD,
      keepaliveS: 0,
      retries: 2,
      retryDelayMs: 3_000,
    };
    return { ...u, ...tweak(u, i) };
  });
}

/** every k-th user of a library (by its index among that library's users) */
const everyKth = (u, i, lib, k, phase = 0) => u.lib === lib && Math.floor(i / LIBS.length) % k === phase;

export const SCENARIOS = [
  {
    name: 'healthy',
    title: 'a healthy run: every user registers and stays registered (nginx)',
    lb: 'nginx',
    durationMs: 9_000,
    users: (n) =>
      users(n, 3_000, (u, i) => ({
        // a well-formed custom header is harmless, and so is a keep-alive
        headers: i % 4 === 2 ? { 'X-Client-Version': '2.4.1' } : undefined,
        keepaliveS: i % 5 === 0 ? 2 : 0,
      })),
  },
  {
    name: 'sbc-throttling',
    title: "Kamailio's ratelimit answers a REGISTER burst with 503 Limiting + Retry-After (behind nginx)",
    lb: 'nginx',
    kamailio: { ratelimit: true, rlLimit: 6, retryAfter: 2 },
    durationMs: 11_000,
    users: (n) => users(n, 2_500),
  },
  {
    name: 'edge-rate-limit',
    title: 'nginx limit_req refuses WebSocket upgrades with its default 503',
    lb: 'nginx',
    nginx: { limitRate: '3r/s', burst: 4 },
    durationMs: 13_000,
    users: (n) => users(n, 3_000),
  },
  {
    name: 'idle-timeout',
    title: "HAProxy's timeout tunnel cuts silent sockets; keep-alive clients survive",
    lb: 'haproxy',
    haproxy: { tunnelTimeout: '5s' },
    durationMs: 14_000,
    users: (n) => users(n, 2_000, (u, i) => ({ keepaliveS: i % 2 === 0 ? 2 : 0 })),
  },
  {
    name: 'missing-subprotocol',
    title: 'handshakes without the sip sub-protocol, refused by Kamailio (behind nginx)',
    lb: 'nginx',
    durationMs: 9_000,
    users: (n) => users(n, 2_500, (u, i) => ({ omitProtocol: everyKth(u, i, 'ws', 2, 0) })),
  },
  {
    name: 'bad-header',
    title: 'a malformed handshake header refused by HAProxy, next to a well-formed unknown header',
    lb: 'haproxy',
    durationMs: 9_000,
    users: (n) =>
      users(n, 2_500, (u, i) => {
        if (everyKth(u, i, 'ws', 2, 0)) return { malformedHeader: 'X-Client-Version : 2.4.1' };
        return i % 3 !== 1 ? { headers: { 'X-Client-Version': '2.4.1' } } : {};
      }),
  },
  {
    name: 'bad-header-jssip',
    title:
      'the malformed header sent by JsSIP users, whose log shows the status only inside an ErrorEvent dump',
    lb: 'haproxy',
    durationMs: 9_000,
    users: (n) =>
      users(n, 2_500, (u, i) =>
        everyKth(u, i, 'jssip', 2, 0) ? { malformedHeader: 'X-Client-Version : 2.4.1' } : {},
      ),
  },
  {
    name: 'upstream-timeout',
    title: 'Kamailio answers some upgrades after 3.5 s; HAProxy gives up at 2 s with 504',
    lb: 'haproxy',
    haproxy: { serverTimeout: '2s' },
    kamailio: { slowHandshakes: true, tcpChildren: 16 },
    durationMs: 12_000,
    users: (n) => users(n, 2_500, (u, i) => (i % 4 === 1 ? { headers: { 'X-Lab-Delay-Ms': '3500' } } : {})),
  },
  {
    name: 'auth-failure',
    title: 'wrong credentials: Kamailio challenges the answer again (behind nginx)',
    lb: 'nginx',
    durationMs: 8_000,
    users: (n) => users(n, 2_500, (u, i) => (i % 4 === 3 ? { password: 'not-the-password' } : {})),
  },
];

export function scenarioNamed(nameOrAlias) {
  return SCENARIOS.find((s) => s.name === nameOrAlias);
}
