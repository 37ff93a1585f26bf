/**
 * One JsSIP user agent, as a Node load harness runs it: JsSIP's own debug output (all namespaces)
 * plus the app's lines. JsSIP reconnects by itself (connection_recovery_*); it has no keep-alive
 * of its own, so "keep-alive on" is the app sending an OPTIONS every keepaliveS seconds.
 */
import JsSIP from 'jssip';

JsSIP.debug.enable('JsSIP:*');

export async function runUser({ user, url, plan, password, keepaliveS = 0, log }) {
  const uri = `sip:${user}@${plan.domain}`;
  log(`starting UA ${uri} ws=${url} register_expires=300`);
  const socket = new JsSIP.WebSocketInterface(url);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri,
    password,
    register: true,
    register_expires: 300,
    connection_recovery_min_interval: 2,
    connection_recovery_max_interval: 6,
  });
  let timer;
  let retry;
  let stopped = false;

  ua.on('connected', () => log('transport connected'));
  ua.on('disconnected', (e) => {
    log(`transport disconnected${e?.error ? ' with error' : ''} (code: ${e?.code ?? 'none'})`);
  });
  ua.on('registered', () => log('registered'));
  ua.on('unregistered', () => log('unregistered'));
  ua.on('registrationFailed', (e) => {
    const r = e.response;
    const status = r ? `${r.status_code} ${r.reason_phrase}` : 'no response';
    const after = r?.getHeader?.('Retry-After');
    log(`registration failed: ${e.cause} (${status})${after ? ` Retry-After: ${after}` : ''}`);
    // a harness retries a throttled registration once the server's Retry-After has passed
    if (r?.status_code === 503 && !stopped && !retry) {
      const seconds = Number.parseInt(after ?? '2', 10) || 2;
      log(`retrying registration in ${seconds} s`);
      retry = setTimeout(() => {
        retry = undefined;
        if (!stopped) ua.register();
      }, seconds * 1000);
    }
  });
  if (keepaliveS > 0) {
    timer = setInterval(() => {
      if (ua.isConnected()) ua.sendOptions(`sip:${plan.domain}`, null, {});
    }, keepaliveS * 1000);
  }
  ua.start();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(retry);
      log('stopping UA');
      await new Promise((resolve) => {
        ua.once('disconnected', resolve);
        ua.stop();
        setTimeout(resolve, 2_000);
      });
    },
  };
}
