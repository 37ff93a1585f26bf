/**
 * What a kept event costs in memory. A substring can keep the string it was cut from alive (V8
 * slices), so the pieces a format cut out of a line or a multi-line record (Call-ID, text) are
 * copied when the event is kept, and the strings that repeat across thousands of events (users,
 * reasons, user agents, URLs) are stored once.
 */
import type { LogEvent } from '../model.js';

/** Longest raw line kept for evidence; the report shows 500 characters at most. */
export const MAX_RAW_CHARS = 2000;

/** A copy of `s` that shares no memory with the chunk `s` was cut from. */
export function detach(s: string): string {
  // concatenation then slice makes V8 flatten into a fresh string; the slice points at that copy
  return (' ' + s).slice(1);
}

/** Strings that repeat across events, stored once. Bounded: past the limit, values are copied. */
export class StringPool {
  private readonly pool = new Map<string, string>();
  constructor(private readonly limit = 200_000) {}

  clear(): void {
    this.pool.clear();
  }

  intern(s: string): string;
  intern(s: string | undefined): string | undefined;
  intern(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const known = this.pool.get(s);
    if (known !== undefined) return known;
    const copy = detach(s);
    if (this.pool.size < this.limit) this.pool.set(copy, copy);
    return copy;
  }
}

/** Replaces the string fields `names` of `obj` (when present) with `rewrite(value)`. */
function rewriteFields<T extends object>(
  obj: T,
  names: readonly (keyof T)[],
  rewrite: (s: string) => string,
): void {
  const rec = obj as Record<keyof T, unknown>;
  for (const name of names) {
    const v = rec[name];
    if (typeof v === 'string') rec[name] = rewrite(v);
  }
}

/** Rewrites a kept event's strings in place so that it holds no part of its input chunk. */
export function retainEvent(e: LogEvent, pool: StringPool): LogEvent {
  const intern = (s: string) => pool.intern(s);
  // lines arrive as strings of their own (see ingest); only an overlong one is cut
  if (e.raw.length > MAX_RAW_CHARS) e.raw = detach(e.raw.slice(0, MAX_RAW_CHARS));
  if (e.text !== undefined && e.text !== e.raw) e.text = detach(e.text);
  rewriteFields(e.keys, ['callId', 'connId', 'requestId', 'wsKey'], detach);
  rewriteFields(e.keys, ['user', 'peer', 'ip'], intern);
  // header names are lower-cased copies already
  if (e.sip) rewriteFields(e.sip, ['method', 'reason', 'agent', 'fromUser', 'toUser'], intern);
  if (e.http) rewriteFields(e.http, ['upstream', 'flags', 'method', 'url', 'userAgent'], intern);
  if (e.ws) rewriteFields(e.ws, ['closeReason', 'url', 'subprotocol'], intern);
  return e;
}
