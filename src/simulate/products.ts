/** The product behind each role of a scenario, by `--sbc`, `--lb` and `--client` name. */
import { AlbEdge } from './alb.js';
import { AsteriskLog } from './asterisk.js';
import { JsSipClient, SipJsClient, type ClientFlavor } from './client.js';
import { HaproxyEdge, NginxEdge, type Edge } from './edge.js';
import { EnvoyEdge } from './envoy.js';
import { FreeSwitchLog } from './freeswitch.js';
import { HarClient } from './har-client.js';
import { JsonClient } from './json-client.js';
import { KamailioLog } from './kamailio.js';
import { OpenSipsLog } from './opensips.js';
import type { SbcLog } from './sbc.js';
import { TraefikEdge } from './traefik.js';
import type { World } from './world.js';

export function createSbc(world: World): SbcLog {
  switch (world.opts.sbc) {
    case 'kamailio':
      return new KamailioLog(world);
    case 'opensips':
      return new OpenSipsLog(world);
    case 'freeswitch':
      return new FreeSwitchLog(world);
    case 'asterisk':
      return new AsteriskLog(world);
  }
}

export function createEdge(world: World): Edge {
  switch (world.opts.lb) {
    case 'nginx':
      return new NginxEdge(world);
    case 'haproxy':
      return new HaproxyEdge(world);
    case 'alb':
      return new AlbEdge(world);
    case 'envoy':
      return new EnvoyEdge(world);
    case 'traefik':
      return new TraefikEdge(world);
  }
}

export function createClient(world: World): ClientFlavor {
  switch (world.opts.client) {
    case 'jssip':
      return new JsSipClient();
    case 'sipjs':
      return new SipJsClient();
    case 'har':
      return new HarClient();
    case 'json':
      return new JsonClient();
  }
}
