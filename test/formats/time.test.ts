import { describe, expect, it } from 'vitest';
import {
  leadingTimestamp,
  parseClf,
  parseDateToString,
  parseIso,
  parseRfc1123,
  parseSlashDate,
  parseSyslog,
  utcContext,
} from '../../src/formats/time.js';
import { zoneResolver } from '../../src/formats/zone.js';

const ctx = utcContext(2026);

describe('timestamps', () => {
  it('reads the shapes the reference logs use', () => {
    // Kamailio container prefix, kamailio/kamailio issue #3864
    expect(parseIso('2024-05-29T02:49:15.436088156Z 11(22) WARNING')).toBeCloseTo(
      Date.UTC(2024, 4, 29, 2, 49, 15, 436) + 0.088,
      2,
    );
    // k6 JSON time with offset (client-formats.md §5.1)
    expect(parseIso('2017-05-09T14:34:45.625742514+02:00')).toBeCloseTo(
      Date.UTC(2017, 4, 9, 12, 34, 45, 625) + 0.742,
      2,
    );
    // journald short-precise, kamailio/kamailio issue #2990
    expect(parseSyslog('Dec 31 18:29:08.819765 eqx-sjc-ecv3 kamailio_edge[19096]:', ctx)).toBeCloseTo(
      Date.UTC(2026, 11, 31, 18, 29, 8, 819) + 0.765,
      2,
    );
    // nginx $time_local (lb-formats.md §2.1)
    expect(parseClf('05/Jan/2022:17:24:48 +0000', ctx)).toBe(Date.UTC(2022, 0, 5, 17, 24, 48));
    expect(parseClf('05/Jan/2022:18:24:48 +0100', ctx)).toBe(Date.UTC(2022, 0, 5, 17, 24, 48));
    // HAProxy accept date, no zone (lb-formats.md §4.1)
    expect(parseClf('06/Feb/2009:12:14:14.655', ctx)).toBe(Date.UTC(2009, 1, 6, 12, 14, 14, 655));
    // nginx error log (lb-formats.md §2.3)
    expect(parseSlashDate('2015/10/29 20:01:02', ctx)).toBe(Date.UTC(2015, 9, 29, 20, 1, 2));
    // SIP.js Date.toString(), onsip/SIP.js#860
    expect(parseDateToString('Wed Sep 09 2020 12:16:14 GMT+0300 (GMT+03:00)')).toBe(
      Date.UTC(2020, 8, 9, 9, 16, 14),
    );
    // jssip-node-websocket's debug build (observed-on-real-servers.md)
    expect(parseRfc1123('Tue, 24 Nov 2026 00:44:12 GMT')).toBe(Date.UTC(2026, 10, 24, 0, 44, 12));
  });

  it('finds a leading timestamp in harness lines, bracketed or not', () => {
    expect(leadingTimestamp('[2024-01-31 12:00:00,123] loadgen/INFO: x', ctx)).toEqual({
      ts: Date.UTC(2024, 0, 31, 12, 0, 0, 123),
      length: 26,
    });
    expect(leadingTimestamp('2026-11-24T00:44:12.001Z [agent-042] registered', ctx)?.ts).toBe(
      Date.UTC(2026, 10, 24, 0, 44, 12, 1),
    );
    expect(leadingTimestamp('no time here', ctx)).toBeUndefined();
  });

  it('applies --tz to zone-less local times, including DST', () => {
    const berlin = zoneResolver('Europe/Berlin');
    expect(berlin(Date.UTC(2026, 0, 15, 12, 0, 0))).toBe(Date.UTC(2026, 0, 15, 11, 0, 0));
    expect(berlin(Date.UTC(2026, 6, 15, 12, 0, 0))).toBe(Date.UTC(2026, 6, 15, 10, 0, 0));
    expect(zoneResolver('-05:00')(Date.UTC(2026, 0, 1))).toBe(Date.UTC(2026, 0, 1, 5));
    expect(() => zoneResolver('Mars/Olympus')).toThrow(/unknown time zone/);
  });
});
