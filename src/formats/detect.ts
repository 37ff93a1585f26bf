/**
 * Detection: which format wrote an input, judged from its first lines.
 *
 * Each format's score is the mean of its sniff over the lines that carry a record (SIP message
 * lines and their SDP bodies, stack frames and blank lines inside multi-line records are
 * neutral). A format whose parser also reads generic harness lines, and that has strong hits of
 * its own, is credited with the harness reader's score on those lines: a JsSIP log interleaved
 * with the harness's own lines is still a JsSIP log.
 */
import { harness } from './harness.js';
import { isSipStartLine } from './sip-message.js';
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
/** Strong hits a harness-reading format needs before harness lines count for it. */
const MIN_OWN_HITS = 2;

const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]{0,40}:\s/;
/** An SDP body line ("v=0", "a=candidate:…", "t=0 0"): a SIP dump's INVITE carries dozens of them. */
const SDP_LINE = /^(?:[vosiuepcbrzkam]=\S|t=\d{1,20} \d)/;

/** Lines inside multi-line records: they tell no format apart. */
export function isNeutralLine(line: string): boolean {
  return (
    line.trim() === '' ||
    /^\s/.test(line) ||
    isSipStartLine(line) ||
    HEADER_LINE.test(line) ||
    SDP_LINE.test(line)
  );
}

function safeSniff(format: LogFormat, line: string): number {
  try {
    const s = format.sniff(line);
    return Number.isFinite(s) ? Math.max(0, Math.min(1, s)) : 0;
  } catch {
    return 0;
  }
}

export function detectFormat(head: readonly string[], formats: readonly LogFormat[]): Detection {
  const nonEmpty = head.filter((l) => l.trim() !== '').slice(0, DETECT_LINES);
  if (nonEmpty.length === 0) return { format: undefined, confidence: 0 };
  let lines = nonEmpty.filter((l) => !isNeutralLine(l));
  if (lines.length === 0) lines = nonEmpty;
  const harnessScores = lines.map((l) => safeSniff(harness, l));
  const scored = formats.map((format) => {
    const own = lines.map((l) => safeSniff(format, l));
    const hits = own.filter((s) => s >= 0.8).length;
    const absorbs = format.readsHarnessLines === true && hits >= MIN_OWN_HITS;
    let sum = 0;
    own.forEach((s, i) => (sum += absorbs ? Math.max(s, harnessScores[i]) : s));
    return { format, confidence: sum / lines.length, hits };
  });
  scored.sort((a, b) => b.confidence - a.confidence || b.hits - a.hits);
  const [best, second] = scored;
  const runnerUp = second ? { name: second.format.name, confidence: round(second.confidence) } : undefined;
  if (best.confidence < MIN_CONFIDENCE) {
    return {
      format: undefined,
      confidence: round(best.confidence),
      runnerUp: { name: best.format.name, confidence: round(best.confidence) },
      firstLine: nonEmpty[0].slice(0, 200),
    };
  }
  return { format: best.format, confidence: round(best.confidence), runnerUp };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
