/**
 * Timestamp shapes as each product prints them. Every host in the scenario runs in UTC, so local
 * time equals UTC; the input is epoch ms already shifted by the writing role's clock skew.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const pad2 = (n: number): string => String(n).padStart(2, '0');
const pad3 = (n: number): string => String(n).padStart(3, '0');

function clock(d: Date): string {
  return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** RFC 3164 syslog header time, no year: `Nov  4 10:00:01` (day padded with a space) */
export function syslogTime(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${clock(d)}`;
}

/** nginx `$time_local`: `24/Nov/2025:10:00:01 +0000` */
export function nginxLocalTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${clock(d)} +0000`;
}

/** nginx error log: `2025/11/24 10:00:01` */
export function nginxErrorTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad2(d.getUTCMonth() + 1)}/${pad2(d.getUTCDate())} ${clock(d)}`;
}

/** HAProxy `%tr` / accept date: `24/Nov/2025:10:00:01.234` */
export function haproxyDate(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${clock(d)}.${pad3(d.getUTCMilliseconds())}`;
}

/** `Date.prototype.toISOString()`, what the Node `debug` package prints when stdout is not a TTY */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** `Date.prototype.toString()` in a UTC process, what SIP.js prints: 1-second resolution */
export function jsDateString(ms: number): string {
  const d = new Date(ms);
  return (
    `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${d.getUTCFullYear()} ` +
    `${clock(d)} GMT+0000 (Coordinated Universal Time)`
  );
}
