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

/** `2025-11-24 10:00:01` plus a fraction of `digits` digits (FreeSWITCH µs, Asterisk `%3q` ms) */
export function dateTimeFraction(ms: number, digits: 3 | 6, extraMicros = 0): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${clock(d)}`;
  return `${date}.${fraction(d, digits, extraMicros)}`;
}

/** `10:00:01.123456`: the time of day with microseconds (sofia-sip's trace stamp) */
export function timeOfDayMicros(ms: number, extraMicros = 0): string {
  const d = new Date(ms);
  return `${clock(d)}.${fraction(d, 6, extraMicros)}`;
}

function fraction(d: Date, digits: 3 | 6, extraMicros: number): string {
  const milli = pad3(d.getUTCMilliseconds());
  return digits === 3 ? milli : `${milli}${pad3(Math.max(0, Math.min(999, Math.round(extraMicros))))}`;
}

/** ISO 8601 with microseconds, as the AWS ALB writes `time` and `request_creation_time` */
export function isoMicros(ms: number, extraMicros = 0): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${pad3(Math.max(0, Math.min(999, Math.round(extraMicros))))}Z`;
}

/** Go's RFC 3339 with nanoseconds (Traefik's StartUTC), trailing zeros dropped as Go does */
export function goRfc3339Nano(ms: number, extraNanos = 0): string {
  const iso = new Date(ms).toISOString();
  const nanos = `${pad3(new Date(ms).getUTCMilliseconds())}${String(Math.max(0, Math.min(999_999, Math.round(extraNanos)))).padStart(6, '0')}`;
  const trimmed = nanos.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${trimmed === '' ? '' : `.${trimmed}`}Z`;
}
