/**
 * A small, safe compiler for date patterns in the date-fns / Unicode style used by user-defined
 * formats ("yyyy-MM-dd HH:mm:ss.SSS", "dd/MMM/yyyy:HH:mm:ss xx", "MMM d HH:mm:ss"). The pattern
 * becomes one anchored regex made of fixed-width digit runs and literals, so it cannot backtrack
 * badly whatever the user wrote.
 */
import { monthIndex, zoneOffsetMinutes } from './time.js';

/** Reads the text of a timestamp into wall-clock parts; NaN parts mean "not in the pattern". */
export interface CompiledTimePattern {
  /** epoch ms of the text; `localToEpoch` converts a zone-less wall time, `yearFor` supplies a missing year */
  parse(text: string, localToEpoch: (wallMs: number) => number, yearFor: (month: number) => number): number;
}

type Part =
  | 'year4'
  | 'year2'
  | 'month'
  | 'monthName'
  | 'day'
  | 'hour'
  | 'hour12'
  | 'minute'
  | 'second'
  | 'fraction'
  | 'ampm'
  | 'weekday'
  | 'zone';

interface Token {
  part: Part;
  re: string;
}

/** Allowed run lengths of each pattern letter, and what they read. */
function tokenFor(letter: string, n: number): Token | string {
  const digits = (exact: number, loose: number) => (n === exact ? `(\\d{${exact}})` : `( ?\\d{1,${loose}})`);
  switch (letter) {
    case 'y':
      if (n === 2) return { part: 'year2', re: '(\\d{2})' };
      if (n === 1 || n === 4) return { part: 'year4', re: '(\\d{4})' };
      return `'${'y'.repeat(n)}' (use yyyy or yy)`;
    case 'M':
      if (n <= 2) return { part: 'month', re: digits(2, 2) };
      return { part: 'monthName', re: n === 3 ? '([A-Za-z]{3})' : '([A-Za-z]{3,9})' };
    case 'd':
      if (n <= 2) return { part: 'day', re: digits(2, 2) };
      break;
    case 'H':
      if (n <= 2) return { part: 'hour', re: digits(2, 2) };
      break;
    case 'h':
      if (n <= 2) return { part: 'hour12', re: digits(2, 2) };
      break;
    case 'm':
      if (n <= 2) return { part: 'minute', re: digits(2, 2) };
      break;
    case 's':
      if (n <= 2) return { part: 'second', re: digits(2, 2) };
      break;
    case 'S':
      if (n <= 9) return { part: 'fraction', re: `(\\d{${n}})` };
      break;
    case 'a':
      if (n === 1) return { part: 'ampm', re: '([AaPp][Mm])' };
      break;
    case 'E':
      if (n <= 4) return { part: 'weekday', re: '(?:[A-Za-z]{2,9})' };
      break;
    case 'X':
    case 'x':
    case 'Z':
      if (n <= 3) return { part: 'zone', re: '(Z|[+-]\\d{2}(?::?\\d{2})?)' };
      break;
    default:
      return `unknown letter '${letter}' (quote literal text: 'T')`;
  }
  return `'${letter.repeat(n)}' is not a known field`;
}

function escapeLiteral(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

/**
 * Compiles a pattern, or returns why it cannot be used. A pattern must name at least the month,
 * the day, the hour and the minute; without a year, the input's year applies (as for syslog).
 */
export function compileTimePattern(pattern: string): CompiledTimePattern | string {
  if (pattern.length === 0 || pattern.length > 100) return 'the pattern must be 1 to 100 characters';
  let re = '';
  const parts: Part[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      // 'quoted literal'; '' is a quote
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) return 'an unclosed quote';
      re += close === i + 1 ? "'" : escapeLiteral(pattern.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      let n = 1;
      while (pattern[i + n] === c) n++;
      const token = tokenFor(c, n);
      if (typeof token === 'string') return token;
      if (token.part !== 'weekday' && parts.includes(token.part)) return `'${c.repeat(n)}' appears twice`;
      if (token.part !== 'weekday') parts.push(token.part);
      re += token.re;
      i += n;
      continue;
    }
    re += escapeLiteral(c);
    i++;
  }
  const has = (...p: Part[]) => p.some((x) => parts.includes(x));
  if (!has('month', 'monthName')) return 'the pattern has no month (MM or MMM; mm is minutes)';
  if (!has('day')) return 'the pattern has no day (dd)';
  if (!has('hour', 'hour12')) return 'the pattern has no hour (HH)';
  if (!has('minute')) return 'the pattern has no minutes (mm)';
  if (has('hour12') !== has('ampm')) return 'hh needs a (AM/PM), and a needs hh; use HH for 24-hour time';
  const groups = parts; // capture groups in order (weekday does not capture)
  const compiled = new RegExp(`^${re}$`);
  return {
    parse(text, localToEpoch, yearFor) {
      const m = compiled.exec(text.trim());
      if (!m) return NaN;
      const v: Partial<Record<Part, string>> = {};
      groups.forEach((p, k) => (v[p] = m[k + 1].trim()));
      const month = v.monthName !== undefined ? monthIndex(v.monthName) : Number(v.month) - 1;
      if (month < 0 || month > 11) return NaN;
      const year =
        v.year4 !== undefined
          ? Number(v.year4)
          : v.year2 !== undefined
            ? 2000 + Number(v.year2)
            : yearFor(month);
      let hour = Number(v.hour ?? v.hour12);
      if (v.ampm !== undefined) {
        if (hour < 1 || hour > 12) return NaN;
        hour = (hour % 12) + (/^p/i.test(v.ampm) ? 12 : 0);
      }
      const day = Number(v.day);
      const minute = Number(v.minute);
      const second = Number(v.second ?? 0);
      if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
      const frac = v.fraction ? Number(`0.${v.fraction}`) * 1000 : 0;
      const wall = Date.UTC(year, month, day, hour, minute, second) + frac;
      if (v.zone !== undefined) return wall - zoneOffsetMinutes(v.zone) * 60_000;
      return localToEpoch(wall);
    },
  };
}
