/**
 * Detection: which format wrote an input, judged from its first lines.
 */
import type { LogFormat } from './types.js';

export interface Detection {
  format: LogFormat | undefined;
  confidence: number;
  runnerUp?: { name: string; confidence: number };
  /** for an unrecognised input: the first non-empty line */
  firstLine?: string;
}

/** Lines sniffed at most; enough to get past banners and multi-line dumps. */
export const DETECT_LINES = 200;
/** Mean sniff score a format needs to claim an input. */
const MIN_CONFIDENCE = 0.15;

export function detectFormat(head: readonly string[], formats: readonly LogFormat[]): Detection {
  const lines = head.filter((l) => l.trim() !== '').slice(0, DETECT_LINES);
  if (lines.length === 0) return { format: undefined, confidence: 0 };
  const scored = formats.map((format) => {
    let sum = 0;
    let hits = 0;
    for (const line of lines) {
      let s = 0;
      try {
        s = format.sniff(line);
      } catch {
        s = 0;
      }
      sum += s;
      if (s >= 0.5) hits++;
    }
    // the mean rewards formats that explain most lines; the hit share breaks ties
    return { format, confidence: sum / lines.length, hits };
  });
  scored.sort((a, b) => b.confidence - a.confidence || b.hits - a.hits);
  const [best, second] = scored;
  const runnerUp = second ? { name: second.format.name, confidence: round(second.confidence) } : undefined;
  if (best.confidence < MIN_CONFIDENCE) {
    return { format: undefined, confidence: round(best.confidence), runnerUp: { name: best.format.name, confidence: round(best.confidence) }, firstLine: lines[0].slice(0, 200) };
  }
  return { format: best.format, confidence: round(best.confidence), runnerUp };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
