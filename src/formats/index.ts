/**
 * Every log format logdiag reads. Adding a format is one new file and one line here; detection,
 * `--format-of`, the sample self-test and `logdiag formats` all read this list.
 * Order matters only for ties: specific formats first, the tolerant harness reader last.
 */
import type { LogFormat } from './types.js';
import { kamailio } from './kamailio.js';
import { opensips } from './opensips.js';
import { freeswitch } from './freeswitch.js';
import { asterisk } from './asterisk.js';
import { nginxAccess } from './nginx-access.js';
import { nginxError } from './nginx-error.js';
import { haproxy } from './haproxy.js';
import { alb } from './alb.js';
import { envoy } from './envoy.js';
import { traefik } from './traefik.js';
import { gcpLb } from './gcp-lb.js';
import { azureAppGw } from './azure-appgw.js';
import { jssip } from './jssip.js';
import { sipjs } from './sipjs.js';
import { browserConsole } from './browser-console.js';
import { jsonLines } from './json-lines.js';
import { har } from './har.js';
import { k6 } from './k6.js';
import { acmeSipmsg } from './acme-sipmsg.js';
import { audiocodes } from './audiocodes.js';
import { ribbon } from './ribbon.js';
import { sngrep } from './sngrep.js';
import { ngrep } from './ngrep.js';
import { homer } from './homer.js';
import { chromeLog } from './chrome-log.js';
import { genesys } from './genesys.js';
import { artillery } from './artillery.js';
import { sippErrors } from './sipp-errors.js';
import { sippStats } from './sipp-stats.js';
import { harness } from './harness.js';

export const FORMATS: readonly LogFormat[] = [
  kamailio,
  opensips,
  freeswitch,
  asterisk,
  acmeSipmsg,
  audiocodes,
  ribbon,
  sngrep,
  ngrep,
  homer,
  nginxAccess,
  nginxError,
  haproxy,
  alb,
  envoy,
  traefik,
  gcpLb,
  azureAppGw,
  jssip,
  sipjs,
  browserConsole,
  har,
  k6,
  chromeLog,
  genesys,
  artillery,
  sippErrors,
  sippStats,
  jsonLines,
  harness,
];

export const FORMATS_BY_NAME: ReadonlyMap<string, LogFormat> = new Map(FORMATS.map((f) => [f.name, f]));
