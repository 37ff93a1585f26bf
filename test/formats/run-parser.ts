/** Feeds lines to one format's parser, as analyze does, for the per-format tests. */
import { expect } from 'vitest';
import { utcContext } from '../../src/formats/time.js';
import type { LineOutcome, LogFormat, ParseContext } from '../../src/formats/types.js';
import type { LogEvent } from '../../src/model.js';

export function parseLines(
  format: LogFormat,
  lines: readonly string[],
  ctx: ParseContext = utcContext(2026),
): { events: LogEvent[]; outcomes: LineOutcome[] } {
  const parser = format.createParser(ctx);
  const events: LogEvent[] = [];
  const outcomes = lines.map((line, i) => parser.push(line, i + 1, (e) => events.push(e)));
  parser.end((e) => events.push(e));
  return { events, outcomes };
}

/** The one event a single line makes. */
export function oneEvent(format: LogFormat, line: string): LogEvent {
  const { events, outcomes } = parseLines(format, [line]);
  expect(outcomes).toEqual(['event']);
  expect(events).toHaveLength(1);
  return events[0];
}

/** Each adversarial line (sniffed, then parsed twice in a row) is read within the budget. */
export function expectLinear(format: LogFormat, attacks: readonly string[], budgetMs: number): void {
  for (const line of attacks) {
    const t0 = performance.now();
    format.sniff(line);
    parseLines(format, [line, line]);
    expect(performance.now() - t0, line.slice(0, 40)).toBeLessThan(budgetMs);
  }
}
