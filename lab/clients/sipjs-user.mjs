/**
 * One SIP.js 0.21 user agent with a Registerer, as a Node load harness runs it: SIP.js's builtin
 * logger at debug level with traceSip, plus the app's lines. Keep-alive is SIP.js's own CRLF ping
 * (transportOptions.keepAliveInterval). The app retries a failed connect and a throttled REGISTER.
 */
import { Registerer, UserAgent } from 'sip.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function runUser({
  user,
  url,
  plan,
  password,
  keepaliveS = 0,
  retries = 2,
  retryDelayMs = 3_000,
  log,
}) {
  let stopped = false;
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${plan.domain}`),
    transportOptions: { server: url, keepAliveInterval: keepaliveS, traceSip: true, connectionTimeout: 8 },
    authorizationUsername: user,
    authorizationPassword: password,
    logLevel: 'debug',
    delegate: {
      onConnect: () => log('transport connected'),
      onDisconnect: (error) => log(`transport disconnected${error ? `: ${error.message}` : ''}`),
    },
  });
  const registerer = new Registerer(ua, { expires: 300 });
  registerer.stateChange.addListener((state) => log(`registerer state ${state}`));
  log(`starting UserAgent sip:${user}@${plan.domain} server=${url} keepAliveInterval=${keepaliveS}`);

  const register = (attempt) =>
    registerer
      .register({
        requestDelegate: {
          onAccept: () => log('registered'),
          onReject: (response) => {
            const m = response.message;
            const after = m.getHeader('Retry-After');
            log(
              `registration failed: ${m.statusCode} ${m.reasonPhrase}${after ? ` Retry-After: ${after}` : ''}`,
            );
            if (m.statusCode === 503 && attempt < 1 && !stopped) {
              const seconds = Number.parseInt(after ?? '2', 10) || 2;
              log(`retrying registration in ${seconds} s`);
              setTimeout(() => {
                if (!stopped) register(attempt + 1);
              }, seconds * 1000);
            }
          },
        },
      })
      .catch((err) => log(`register() failed: ${err.message}`));

  const run = async () => {
    for (let i = 0; i <= retries && !stopped; i++) {
      try {
        // a UserAgent whose first connect failed is still Started: reconnect() tries again
        await (i === 0 ? ua.start() : ua.reconnect());
        await register(0);
        return;
      } catch (err) {
        log(`failed to connect: ${err instanceof Error ? err.message : String(err)}`);
        if (i === retries || stopped) return;
        log(`reconnecting in ${retryDelayMs} ms`);
        await sleep(retryDelayMs);
      }
    }
  };
  void run();

  return {
    async stop() {
      stopped = true;
      log('stopping UserAgent');
      try {
        if (registerer.state === 'Registered') await Promise.race([registerer.unregister(), sleep(1_000)]);
      } catch {
        // the socket may already be gone
      }
      await Promise.race([ua.stop(), sleep(1_500)]).catch(() => {});
    },
  };
}
