import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { readSippStatHeader, readSippStatRow, sippStats } from '../../src/formats/sipp-stats.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';

/** The header of src/stat.cpp (client-formats.md §5.3 quotes it with elisions), `;` delimiter. */
const HEADER =
  'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedCannotSendMessage(P);FailedCannotSendMessage(C);FailedMaxUDPRetrans(P);FailedMaxUDPRetrans(C);FailedTcpConnect(P);FailedTcpConnect(C);FailedTcpClosed(P);FailedTcpClosed(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);FailedCallRejected(P);FailedCallRejected(C);FailedCmdNotSent(P);FailedCmdNotSent(C);FailedRegexpDoesntMatch(P);FailedRegexpDoesntMatch(C);FailedRegexpShouldntMatch(P);FailedRegexpShouldntMatch(C);FailedRegexpHdrNotFound(P);FailedRegexpHdrNotFound(C);FailedOutboundCongestion(P);FailedOutboundCongestion(C);FailedTimeoutOnRecv(P);FailedTimeoutOnRecv(C);FailedTimeoutOnSend(P);FailedTimeoutOnSend(C);OutOfCallMsgs(P);OutOfCallMsgs(C);DeadCallMsgs(P);DeadCallMsgs(C);Retransmissions(P);Retransmissions(C);AutoAnswered(P);AutoAnswered(C);Warnings(P);Warnings(C);FatalErrors(P);FatalErrors(C);WatchdogMajor(P);WatchdogMajor(C);WatchdogMinor(P);WatchdogMinor(C);ResponseTime1(P);ResponseTime1(C);ResponseTime1StDev(P);ResponseTime1StDev(C);CallLength(P);CallLength(C);CallLengthStDev(P);CallLengthStDev(C);';

/** A row as CStat::dumpData writes it: three times `date\ttime\tepoch`, elapsed times, counters. */
const ROW =
  '2026-11-24\t10:00:00.000100\t1795514400.000100;2026-11-24\t10:00:10.000200\t1795514410.000200;2026-11-24\t10:00:20.000300\t1795514420.000300;00:00:10;00:00:20;2;1.9;1.95;0;0;19;39;39;12;8;20;9;15;0;0;0;0;0;0;0;0;6;9;0;0;0;0;0;0;0;0;0;0;0;0;3;6;0;0;2;2;0;0;0;0;0;0;9;15;0;0;0;0;0;0;00:00:00:012000;00:00:00:011000;00:00:00:003000;00:00:00:002000;00:00:20:001000;00:00:20:001000;00:00:00:000000;00:00:00:000000;';

function parse(lines: readonly string[]): { events: LogEvent[]; outcomes: string[] } {
  const parser = sippStats.createParser(utcContext(2026));
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

describe('sipp-stats', () => {
  it('reads the header and the rows but makes no session event of run-level counters', () => {
    const { events, outcomes } = parse([HEADER, ROW, '']);
    expect(outcomes).toEqual(['skip', 'skip', 'skip']);
    expect(events).toEqual([]);
  });

  it('the counts are available to whoever reads the rows', () => {
    const header = readSippStatHeader(HEADER);
    expect(header?.delimiter).toBe(';');
    const row = readSippStatRow(ROW, header);
    expect(row?.ts).toBeCloseTo(1795514420000.3, 1);
    expect(row?.periodStart).toBeCloseTo(1795514410000.2, 1);
    expect(row?.counters).toMatchObject({
      'SuccessfulCall(P)': 8,
      'FailedCall(P)': 9,
      'FailedUnexpectedMessage(P)': 6,
      'FailedTimeoutOnRecv(P)': 3,
      'OutOfCallMsgs(P)': 2,
      'Warnings(P)': 9,
    });
    // without the header, the default column set of src/stat.cpp applies
    expect(readSippStatRow(ROW)?.counters['FailedCall(C)']).toBe(15);
  });

  it('another delimiter (-stat_delimiter)', () => {
    const header = readSippStatHeader(HEADER.replaceAll(';', ','));
    expect(header?.delimiter).toBe(',');
    expect(readSippStatRow(ROW.replaceAll(';', ','), header)?.counters['FailedCall(P)']).toBe(9);
  });

  it('is detected (header and rows), and leaves other lines alone', () => {
    expect(detectFormat([HEADER, ROW, ROW], FORMATS).format?.name).toBe('sipp-stats');
    expect(
      detectFormat(
        sippStats.samples.map((s) => s.line),
        FORMATS,
      ).format?.name,
    ).toBe('sipp-stats');
    for (const f of FORMATS) {
      if (f === sippStats) continue;
      for (const s of f.samples) expect(sippStats.sniff(s.line), `${f.name}: ${s.line}`).toBe(0);
    }
    expect(parse(['hello']).outcomes).toEqual(['unparsed']);
  });
});
