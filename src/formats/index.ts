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
import { jssip } from './jssip.js';
import { sipjs } from './sipjs.js';
import { browserConsole } from './browser-console.js';
import { jsonLines } from './json-lines.js';
import { har } from './har.js';
import { k6 } from './k6.js';
import { acmeSipmsg } from './acme-sipmsg.js';
import { harness } from './harness.js';

export const FORMATS: readonly LogFormat[] = [
  kamailio,
  opensips,
  freeswitch,
  asterisk,
  acmeSipmsg,
  nginxAccess,
  nginxError,
  haproxy,
  alb,
  envoy,
  traefik,
  jssip,
  sipjs,
  browserConsole,
  har,
  k6,
  jsonLines,
  harness,
];

export const FORMATS_BY_NAME: ReadonlyMap<string, LogFormat> = new Map(FORMATS.map((f) => [f.name, f]));
