import type { LogEvent, Role } from '../model.js';

/** What the parser made of one line; the counts feed each input's accounting. */
export type LineOutcome =
  | 'event' // the line produced (or started) an event
  | 'part' // the line belongs to a multi-line record (SIP message dump, continuation)
  | 'skip' // the line is in this format but carries nothing diagnostic
  | 'unparsed'; // the line is not in this format

export interface ParseContext {
  input: number;
  path: string;
  /** year for timestamps that carry none (syslog, nginx error log) */
  year: number;
  /**
   * The year of a yearless timestamp in this month: follows a log across New Year (Dec 31 →
   * Jan 1). Without it, `year` applies.
   */
  yearFor?(month: number): number;
  /**
   * Converts a wall-clock time without zone (given as if it were UTC, in ms) into epoch ms,
   * using --tz or the inferred zone of this input.
   */
  localToEpoch(wallMs: number): number;
}

export interface LineParser {
  /**
   * Feeds one line (without its line terminator). Events are pushed to `emit`; an event may be
   * emitted later than its first line (multi-line records) but always carries its first line number.
   */
  push(line: string, lineNo: number, emit: (event: LogEvent) => void): LineOutcome;
  /** End of input: flush any pending multi-line record. */
  end(emit: (event: LogEvent) => void): void;
}

export interface FormatSample {
  line: string;
  /** where the line comes from (repository, issue, document) */
  source: string;
}

export interface LogFormat {
  name: string;
  role: Role;
  description: string;
  /** real lines in this format, with their source; every sample must sniff as this format */
  samples: FormatSample[];
  /**
   * How sure this format is that a line is its own, 0..1. Called on the first lines of an input
   * to detect its format. Must be cheap and never throw.
   */
  sniff(line: string): number;
  /**
   * The parser also reads the generic timestamped lines a load harness interleaves with this
   * format's own (it falls back to the harness reading), so detection counts those lines for it.
   */
  readsHarnessLines?: boolean;
  createParser(ctx: ParseContext): LineParser;
}
