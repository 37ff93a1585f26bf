/**
 * SIPp's statistics file (`-trace_stat`, `<scenario>_<pid>_.csv`; client-formats.md §5.3,
 * `src/stat.cpp` `CStat::dumpData`): a header line `StartTime;LastResetTime;CurrentTime;…` and one
 * row per `-fd` period, `;`-separated by default (`-stat_delimiter`). Times are
 * `YYYY-MM-DD\tHH:MM:SS.uuuuuu\t<epoch>.<usec>`; counters come in pairs, `(P)` for the period and
 * `(C)` cumulative: `SuccessfulCall`, `FailedCall`, `FailedUnexpectedMessage` (e.g. a 503 or 403
 * where a 200 was expected), `FailedTimeoutOnRecv`, `FailedMaxUDPRetrans`, `Retransmissions`, ….
 *
 * The counters belong to the whole run: no user, no Call-ID, no single happening. LogEvent has no
 * place for a count, and an event per row would read as one failure of nobody, so every line is
 * read and skipped; `readSippStatRow` gives the counts to whoever wants them (a run-level field
 * in the model could carry them).
 */
import type { LineParser, LogFormat, ParseContext } from './types.js';

/** The first columns of the header, in `src/stat.cpp` order; the delimiter is the character after `StartTime`. */
const HEADER = /^StartTime([^\w\s()])LastResetTime\1CurrentTime\1/;
/** A row starts with the start time: `2024-01-31\t12:00:00.123456\t1706702400.123456` then the delimiter. */
const ROW = /^\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\.\d{6}\t(\d{9,11})\.(\d{6})([^\w\s.:])/;

/** Column order when a file's header is missing (the default set, `src/stat.cpp`). */
const DEFAULT_COLUMNS = [
  'StartTime',
  'LastResetTime',
  'CurrentTime',
  'ElapsedTime(P)',
  'ElapsedTime(C)',
  'TargetRate',
  'CallRate(P)',
  'CallRate(C)',
  'IncomingCall(P)',
  'IncomingCall(C)',
  'OutgoingCall(P)',
  'OutgoingCall(C)',
  'TotalCallCreated',
  'CurrentCall',
  'SuccessfulCall(P)',
  'SuccessfulCall(C)',
  'FailedCall(P)',
  'FailedCall(C)',
  'FailedCannotSendMessage(P)',
  'FailedCannotSendMessage(C)',
  'FailedMaxUDPRetrans(P)',
  'FailedMaxUDPRetrans(C)',
  'FailedTcpConnect(P)',
  'FailedTcpConnect(C)',
  'FailedTcpClosed(P)',
  'FailedTcpClosed(C)',
  'FailedUnexpectedMessage(P)',
  'FailedUnexpectedMessage(C)',
  'FailedCallRejected(P)',
  'FailedCallRejected(C)',
  'FailedCmdNotSent(P)',
  'FailedCmdNotSent(C)',
  'FailedRegexpDoesntMatch(P)',
  'FailedRegexpDoesntMatch(C)',
  'FailedRegexpShouldntMatch(P)',
  'FailedRegexpShouldntMatch(C)',
  'FailedRegexpHdrNotFound(P)',
  'FailedRegexpHdrNotFound(C)',
  'FailedOutboundCongestion(P)',
  'FailedOutboundCongestion(C)',
  'FailedTimeoutOnRecv(P)',
  'FailedTimeoutOnRecv(C)',
  'FailedTimeoutOnSend(P)',
  'FailedTimeoutOnSend(C)',
  'OutOfCallMsgs(P)',
  'OutOfCallMsgs(C)',
  'DeadCallMsgs(P)',
  'DeadCallMsgs(C)',
  'Retransmissions(P)',
  'Retransmissions(C)',
  'AutoAnswered(P)',
  'AutoAnswered(C)',
  'Warnings(P)',
  'Warnings(C)',
  'FatalErrors(P)',
  'FatalErrors(C)',
  'WatchdogMajor(P)',
  'WatchdogMajor(C)',
  'WatchdogMinor(P)',
  'WatchdogMinor(C)',
];

export interface SippStatRow {
  /** CurrentTime: the end of the period, epoch ms */
  ts: number;
  /** the period's start (LastResetTime), epoch ms */
  periodStart: number;
  /** numeric columns by header name (`FailedCall(P)`, `Retransmissions(C)`, …) */
  counters: Record<string, number>;
}

/** `2024-01-31\t12:00:00.123456\t1706702400.123456` → epoch ms (the epoch part). */
function cellTime(cell: string | undefined): number {
  const tab = cell?.lastIndexOf('\t') ?? -1;
  if (!cell || tab < 0) return NaN;
  const epoch = cell.slice(tab + 1);
  return /^\d{9,11}\.\d{1,6}$/.test(epoch) ? Number(epoch) * 1000 : NaN;
}

/** The columns of a header line and its delimiter, or undefined when the line is no SIPp header. */
export function readSippStatHeader(line: string): { columns: string[]; delimiter: string } | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const columns = line.split(m[1]);
  if (columns[columns.length - 1] === '') columns.pop();
  return { columns, delimiter: m[1] };
}

/** One data row, read with the header's columns (or the default set). */
export function readSippStatRow(
  line: string,
  header?: { columns: string[]; delimiter: string },
): SippStatRow | undefined {
  const m = ROW.exec(line);
  if (!m) return undefined;
  const delimiter = header?.delimiter ?? m[3];
  const columns = header?.columns ?? DEFAULT_COLUMNS;
  const cells = line.split(delimiter);
  const counters: Record<string, number> = {};
  for (let i = 0; i < columns.length && i < cells.length; i++) {
    const cell = cells[i];
    if (/^\d{1,15}(?:\.\d{1,9})?$/.test(cell)) counters[columns[i]] = Number(cell);
  }
  return { ts: cellTime(cells[2]), periodStart: cellTime(cells[1]), counters };
}

function createParser(_ctx: ParseContext): LineParser {
  let header: { columns: string[]; delimiter: string } | undefined;
  return {
    push(line) {
      const h = readSippStatHeader(line);
      if (h) {
        header = h;
        return 'skip';
      }
      if (line.trim() === '') return 'skip';
      // a run-level row: read (the counts are there) but no event of any session
      return readSippStatRow(line, header) ? 'skip' : 'unparsed';
    },
    end() {},
  };
}

export const sippStats: LogFormat = {
  name: 'sipp-stats',
  role: 'client',
  description:
    'SIPp -trace_stat CSV (StartTime;LastResetTime;CurrentTime;… per-period and cumulative call counters); ' +
    'run-level counts without user or Call-ID, read but not turned into session events',
  samples: [
    {
      line: 'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedCannotSendMessage(P);',
      source:
        'SIPp src/stat.cpp stats CSV header, as quoted up to its first elision (client-formats.md §5.3)',
    },
    {
      line: 'StartTime,LastResetTime,CurrentTime,ElapsedTime(P),ElapsedTime(C),TargetRate,CallRate(P),CallRate(C),IncomingCall(P),IncomingCall(C),OutgoingCall(P),OutgoingCall(C),TotalCallCreated,CurrentCall,SuccessfulCall(P),SuccessfulCall(C),FailedCall(P),FailedCall(C),FailedCannotSendMessage(P),',
      source:
        'the same header with -stat_delimiter "," (client-formats.md §5.3: delimiter `;` by default, -stat_delimiter)',
    },
  ],
  sniff(line: string): number {
    const c = line.charCodeAt(0);
    if (c === 83 /* S */) return HEADER.test(line) ? 0.99 : 0;
    if (c < 48 || c > 57) return 0;
    return ROW.test(line.length > 200 ? line.slice(0, 200) : line) ? 0.95 : 0;
  },
  createParser,
};
