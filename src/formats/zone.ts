/**
 * Time zones for logs that write local time without a zone (syslog, nginx error log, HAProxy).
 * `--tz` takes UTC, a fixed offset (+02:00, -0500) or an IANA name (Europe/Berlin).
 */
import { zoneOffsetMinutes } from './time.js';

export type LocalToEpoch = (wallMs: number) => number;

export function zoneResolver(tz: string | undefined): LocalToEpoch {
  if (!tz || /^(?:utc|gmt|z)$/i.test(tz)) return (w) => w;
  const fixed = zoneOffsetMinutes(tz);
  if (!Number.isNaN(fixed)) return (w) => w - fixed * 60_000;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(
      `unknown time zone '${tz}' (use UTC, an offset such as +02:00, or a name such as Europe/Berlin)`,
    );
  }
  const offsetAt = (epoch: number): number => {
    const parts = format.formatToParts(new Date(epoch));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const asUtc = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return asUtc - Math.floor(epoch / 1000) * 1000;
  };
  const cache = new Map<number, number>();
  return (w) => {
    // zone offsets change at most hourly: cache per wall-clock hour
    const hour = Math.floor(w / 3_600_000);
    let off = cache.get(hour);
    if (off === undefined) {
      off = offsetAt(w - offsetAt(w));
      cache.set(hour, off);
    }
    return w - off;
  };
}
