/**
 * A scenario's truth, derived only from what each client recorded about itself (the outcomes
 * files), never from what the scenario meant to happen.
 *
 * Per user, every connection attempt is read in time order and the first failure the user
 * actually met decides its cause:
 *
 * | what the client saw                                                   | cause            |
 * |-----------------------------------------------------------------------|------------------|
 * | handshake 429, or 503 written by the proxy itself (its own error page) | edge-rate-limit  |
 * | handshake 503 written by someone else                                 | sbc-throttling   |
 * | handshake 502 / 504                                                   | upstream-timeout |
 * | handshake 401 / 403 / 407                                             | auth-failure     |
 * | handshake 400 / 404 / 426 / other 4xx                                 | client-misconfig |
 * | SIP 503 to a REGISTER                                                 | sbc-throttling   |
 * | SIP 401 / 407 to a REGISTER that carried credentials, SIP 403         | auth-failure     |
 * | SIP 408 / 504 to a REGISTER                                           | upstream-timeout |
 * | open socket closed without a close frame (1006) after ≥ idleSilenceMs  | idle-timeout     |
 * |   with no traffic either way, on a client without keep-alive          |                  |
 * | any other failed handshake, abnormal close or refusal                 | unclassified     |
 * | none of these, and the user registered                                | healthy          |
 *
 * A user who never registered and met none of these is `unclassified`; a user the harness never
 * started is left out.
 */

/** an error page the proxy wrote itself (nginx's "<center>nginx…</center>", HAProxy's canned pages) */
function proxyMade(handshake) {
  const text = `${handshake.server ?? ''} ${handshake.body ?? ''}`;
  return (
    /nginx|haproxy/i.test(text) || /<h1>\d{3} [^<]*<\/h1>\s*(?:No server|Service Unavailable)/i.test(text)
  );
}

function handshakeCause(h) {
  const s = h.status;
  if (s === 429) return 'edge-rate-limit';
  if (s === 503) return proxyMade(h) ? 'edge-rate-limit' : 'sbc-throttling';
  if (s === 502 || s === 504) return 'upstream-timeout';
  if (s === 401 || s === 403 || s === 407) return 'auth-failure';
  if (s >= 400 && s < 500) return 'client-misconfig';
  return 'unclassified';
}

/** the failures one user met, each { at, cause, why } */
function failuresOf(u, { idleSilenceMs }) {
  const out = [];
  const stoppedAt = u.stoppedAt ?? Infinity;
  for (const a of u.attempts) {
    const h = a.handshake;
    if (h && h.status !== 101) {
      out.push({ at: h.at, cause: handshakeCause(h), why: `handshake answered ${h.status}` });
      continue;
    }
    if (!h && !a.openAt) {
      if (a.startAt < stoppedAt && (a.error || a.close)) {
        out.push({
          at: a.close?.at ?? a.startAt,
          cause: 'unclassified',
          why: `handshake failed: ${a.error ?? 'closed'}`,
        });
      }
      continue;
    }
    for (const r of a.received) {
      if (r.method !== 'REGISTER' || r.status < 300) continue;
      // the request this answers: same Call-ID and CSeq
      const asked = a.sent.find((s) => s.method === 'REGISTER' && s.cseq === r.cseq && s.callId === r.callId);
      let cause = 'unclassified';
      if (r.status === 503) cause = 'sbc-throttling';
      else if (r.status === 403) cause = 'auth-failure';
      else if (r.status === 401 || r.status === 407) cause = asked?.credentials ? 'auth-failure' : null;
      else if (r.status === 408 || r.status === 504) cause = 'upstream-timeout';
      if (cause) out.push({ at: r.at, cause, why: `SIP ${r.status} ${r.reason ?? ''} to REGISTER`.trim() });
    }
    const c = a.close;
    if (a.openAt && c && c.code !== 1000 && c.at < stoppedAt) {
      const last = Math.max(a.openAt, a.lastSentAt ?? 0, a.lastReceivedAt ?? 0);
      const silence = c.at - last;
      const idle = c.code === 1006 && !u.keepalive && silence >= idleSilenceMs;
      out.push({
        at: c.at,
        cause: idle ? 'idle-timeout' : 'unclassified',
        why: `socket closed ${c.code} after ${(silence / 1000).toFixed(1)} s without traffic (keep-alive ${u.keepalive ? 'on' : 'off'})`,
      });
    }
  }
  return out.sort((x, y) => x.at - y.at);
}

function registered(u) {
  return u.attempts.some((a) =>
    a.received.some((r) => r.method === 'REGISTER' && r.status >= 200 && r.status < 300),
  );
}

/**
 * outcomes: one record per user (lab/clients/recording-ws.mjs). Returns
 * { users: { name: cause }, why: { name: text } }.
 */
export function deriveTruth(outcomes, { idleSilenceMs = 3_000 } = {}) {
  const users = {};
  const why = {};
  for (const u of [...outcomes].sort((a, b) => a.user.localeCompare(b.user))) {
    if (u.attempts.length === 0) continue;
    const first = failuresOf(u, { idleSilenceMs })[0];
    if (first) {
      users[u.user] = first.cause;
      why[u.user] = `${u.lib}: ${first.why}`;
    } else if (registered(u)) {
      users[u.user] = 'healthy';
      why[u.user] = `${u.lib}: registered, no failure`;
    } else {
      users[u.user] = 'unclassified';
      why[u.user] = `${u.lib}: never registered`;
    }
  }
  return { users, why };
}
