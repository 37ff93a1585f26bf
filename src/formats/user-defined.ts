/**
 * User-defined log formats: a JSON description (a regex with named groups, a timestamp format,
 * a role, which groups are keys and fields, optional signal rules and sample lines) turned into a
 * LogFormat like the built-in ones, so its events take part in correlation and classification.
 * The schema is documented in docs/FORMATS.md; this module is pure (the files are read by
 * src/ingest/user-formats.ts).
 *
 * Every problem is reported as one line naming the field: `FILE: formats[2].timestamp.format: …`.
 */
import type { EventKeys, EventKind, HttpInfo, LogEvent, Role, Signal, SipInfo, WsInfo } from '../model.js';
import { FORMATS } from './index.js';
import { isStaticAsset, isWebSocketPath, normaliseIp, splitClientAddr, urlUser } from './nginx-access.js';
import { uriUser } from './sip-message.js';
import { readClientText, type TextReading } from './text-signals.js';
import { compileTimePattern } from './time-pattern.js';
import { parseClf, parseIso, parseSyslog, utcContext } from './time.js';
import type { FormatSample, LineParser, LogFormat, ParseContext } from './types.js';
import { zoneResolver } from './zone.js';

/** A validation problem; the message is one line: `ORIGIN: PATH: what is wrong`. */
export class UserFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserFormatError';
  }
}

/** A user-defined format, with the file it came from. */
export interface UserLogFormat extends LogFormat {
  origin: string;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

const ROLES: readonly Role[] = ['sbc', 'lb', 'client'];

/** What kind of event a line is when a signal rule names it (and it carries no HTTP status). */
const SIGNAL_KIND: Record<Signal, EventKind> = {
  'ws-connecting': 'ws-handshake',
  'ws-open': 'ws-open',
  'ws-close': 'ws-close',
  'ws-handshake-failed': 'ws-handshake',
  'app-ws-failed': 'ws-close',
  reconnect: 'info',
  keepalive: 'info',
  registered: 'info',
  'registration-failed': 'error',
  'sbc-flood-block': 'rate-limit',
  'sbc-rate-limit': 'rate-limit',
  'sbc-capacity': 'rate-limit',
  'sbc-overload': 'rate-limit',
  'edge-rate-limit': 'rate-limit',
  'edge-connection-limit': 'rate-limit',
  'upstream-timeout': 'timeout',
  'idle-close': 'ws-close',
  'conn-reset': 'error',
  'transaction-timeout': 'timeout',
  'client-timeout': 'timeout',
  'bad-header': 'config',
  'missing-subprotocol': 'config',
  'bad-url': 'config',
  'internal-status': 'sip-response',
  'resource-exhausted': 'error',
  'unknown-header': 'config',
  'auth-challenge': 'auth',
  'auth-failed': 'auth',
  'acl-rejected': 'auth',
};
const SIGNALS = Object.keys(SIGNAL_KIND) as Signal[];

const KEY_NAMES = ['callId', 'user', 'peer', 'ip', 'connId', 'requestId', 'wsKey'] as const;
type KeyName = (typeof KEY_NAMES)[number];

const FIELD_NAMES = [
  'message',
  'sipMethod',
  'sipStatus',
  'sipReason',
  'sipCseq',
  'sipDirection',
  'retryAfter',
  'httpStatus',
  'upstreamStatus',
  'httpMethod',
  'url',
  'durationMs',
  'durationS',
  'wsCloseCode',
] as const;
type FieldName = (typeof FIELD_NAMES)[number];

const NAMED_TIME_FORMATS = ['iso8601', 'epoch-s', 'epoch-ms', 'syslog', 'nginx'] as const;

const TOP_FIELDS = [
  'name',
  'role',
  'description',
  'regex',
  'flags',
  'timestamp',
  'keys',
  'fields',
  'signals',
  'sample',
  'comment',
  '$schema',
];

const SIP_METHODS = new Set([
  'REGISTER',
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'MESSAGE',
  'INFO',
  'PRACK',
  'UPDATE',
  'REFER',
]);

/** Limits that keep a user regex cheap: source length, signal rules, sample lines. */
const MAX_REGEX_LENGTH = 4_000;
const MAX_SIGNAL_RULES = 100;
const MAX_SAMPLES = 50;
const MAX_FORMATS_PER_FILE = 100;
const ALLOWED_FLAGS = 'imsu';
/** Lines are matched on at most this much text: the ingest line cap (64 KB). */
const MAX_LINE_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

class Where {
  constructor(
    private readonly origin: string,
    private readonly path: string,
  ) {}

  at(child: string | number): Where {
    if (typeof child === 'number') return new Where(this.origin, `${this.path}[${child}]`);
    return new Where(this.origin, this.path ? `${this.path}.${child}` : child);
  }

  error(what: string): UserFormatError {
    const path = this.path ? `${this.path}: ` : '';
    return new UserFormatError(`${this.origin}: ${path}${oneLine(what)}`);
  }
}

function oneLine(text: string): string {
  return text
    .split(/[\r\n]+/)
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ');
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${show(value)}`;
}

function asObject(value: unknown, where: Where): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw where.error(`expected an object, got ${describeType(value)}`);
  return value as Json;
}

function asString(value: unknown, where: Where): string {
  if (typeof value !== 'string') throw where.error(`expected a string, got ${describeType(value)}`);
  return value;
}

function asList(value: unknown, where: Where): unknown[] {
  if (!Array.isArray(value)) throw where.error(`expected a list, got ${describeType(value)}`);
  return value;
}

function onlyKnown(obj: Json, allowed: readonly string[], where: Where): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw where.at(key).error(`unknown field (expected one of: ${allowed.join(', ')})`);
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: Where, what: string): T {
  const text = asString(value, where);
  if (!(allowed as readonly string[]).includes(text))
    throw where.error(`unknown ${what} ${show(text)} (expected ${allowed.join(', ')})`);
  return text as T;
}

// ---------------------------------------------------------------------------------------------
// Regexes: compile, and refuse shapes that backtrack badly
// ---------------------------------------------------------------------------------------------

/**
 * A cheap structural guard against catastrophic backtracking: a group that repeats without bound
 * (`*`, `+`, `{n,}`, or `{n,m}` with m > 1) must not itself contain an unbounded repetition
 * (`(a+)+`, `(\w+\s?)*`); backreferences are refused. Returns why the source is refused.
 */
export function unsafeRegexReason(source: string): string | undefined {
  // per open group: does it contain an unbounded repetition?
  const stack: boolean[] = [false];
  let i = 0;
  const quantifierAt = (k: number): { unbounded: boolean; repeats: boolean; length: number } | undefined => {
    const c = source[k];
    if (c === '*' || c === '+') return { unbounded: true, repeats: true, length: 1 };
    if (c === '?') return { unbounded: false, repeats: false, length: 1 };
    if (c === '{') {
      const m = /^\{(\d{1,6})(,(\d{0,6}))?\}/.exec(source.slice(k, k + 16));
      if (!m) return undefined;
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      return { unbounded: max === Infinity, repeats: max > 1, length: m[0].length };
    }
    return undefined;
  };
  const afterAtom = (k: number): number => {
    const q = quantifierAt(k);
    if (!q) return k;
    if (q.unbounded) stack[stack.length - 1] = true;
    let next = k + q.length;
    if (source[next] === '?') next++; // lazy
    return next;
  };
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9]/.test(n) || (n === 'k' && source[i + 2] === '<')) return 'backreferences are not allowed';
      let end = i + 2;
      if ((n === 'p' || n === 'P' || n === 'u') && source[end] === '{') {
        const close = source.indexOf('}', end);
        end = close < 0 ? end : close + 1;
      }
      i = afterAtom(end);
    } else if (c === '[') {
      let k = i + 1;
      if (source[k] === '^') k++;
      if (source[k] === ']') k++;
      while (k < source.length && source[k] !== ']') k += source[k] === '\\' ? 2 : 1;
      i = afterAtom(k + 1);
    } else if (c === '(') {
      stack.push(false);
      i++;
      if (source[i] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        i++;
        if (source[i] === '<' && source[i + 1] !== '=' && source[i + 1] !== '!') {
          const close = source.indexOf('>', i);
          i = close < 0 ? i : close + 1;
        } else i += source[i] === '<' ? 2 : 1;
      }
    } else if (c === ')') {
      const inner = stack.length > 1 ? stack.pop()! : false;
      const q = quantifierAt(i + 1);
      if (q && q.repeats && inner)
        return 'a repeated group contains a repetition (like (a+)+): it can backtrack for ever';
      if (inner) stack[stack.length - 1] = true;
      i = afterAtom(i + 1);
    } else {
      i = afterAtom(i + 1);
    }
  }
  return undefined;
}

function compileRegex(source: unknown, flags: string, where: Where, anchored: boolean): RegExp {
  const text = asString(source, where);
  if (text.length === 0) throw where.error('empty regex');
  if (text.length > MAX_REGEX_LENGTH) throw where.error(`regex longer than ${MAX_REGEX_LENGTH} characters`);
  let re: RegExp;
  try {
    re = new RegExp(anchored ? `^(?:${text})` : text, flags);
  } catch (err) {
    throw where.error(err instanceof Error ? err.message : String(err));
  }
  const unsafe = unsafeRegexReason(text);
  if (unsafe) throw where.error(unsafe);
  return re;
}

/** Probe line lengths (growing, so a bad regex is caught before it takes long) and the time budget of one probe. */
const PROBE_LENGTHS = [1024, 2048, 4096, 8192, 16_384, 32_768];
const PROBE_BUDGET_MS = 100;
/** Signal rules search anywhere in a message: they read at most this much of it. */
const MAX_RULE_TEXT = 16 * 1024;

/** What probe lines repeat: each character the regex names, its literal words, and runs of them. */
function probeUnits(source: string): string[] {
  const plain = source
    .replace(/\(\?<[A-Za-z_$][\w$]{0,63}>/g, '(')
    .replace(/\\[dDsSwWbBpPu]/g, ' ')
    .replace(/\\(.)/g, '$1');
  const chars = [...new Set(`${plain} a0-:`)].filter((c) => c >= ' ').slice(0, 40);
  const words = [...new Set(plain.match(/[A-Za-z0-9_=:-]{2,20}/g) ?? [])].slice(0, 10);
  // runs of consecutive words without the last one: "ratelimit" for rate.*limit.*exceeded
  const runs = words.slice(1, -1).map((_, i) => words.slice(0, i + 2).join(''));
  return [...chars, ...words, ...runs];
}

/**
 * A load-time probe for what the structural guard cannot see: wildcards in a row backtrack
 * polynomially (`.*x.*y` on a line of x's; `rate.*limit` searched in "ratelimitratelimit…").
 * The regex runs on lines of 1 to 32 KB made of what it names, alone and after each sample
 * line. A linear regex takes well under a millisecond per probe; one that takes
 * PROBE_BUDGET_MS would take seconds on a long line, so it is refused.
 */
function probeSpeed(re: RegExp, prefixes: readonly string[], where: Where): void {
  const units = probeUnits(re.source);
  for (const length of PROBE_LENGTHS) {
    for (const prefix of ['', ...prefixes.slice(0, 3)]) {
      for (const unit of units) {
        const line = prefix + unit.repeat(Math.ceil(length / unit.length));
        const time = () => {
          const start = performance.now();
          re.exec(line);
          return performance.now() - start;
        };
        // a slow probe is timed again, so that a pause of the process is not taken for the regex's
        const ms = time() > PROBE_BUDGET_MS ? time() : 0;
        if (ms > PROBE_BUDGET_MS)
          throw where.error(
            `too slow on long lines (${Math.round(ms)} ms on a ${length / 1024} KB line of '${unit}'): avoid unbounded wildcards in a row such as .*x.*; prefer [^x]* or \\S+`,
          );
      }
    }
  }
}

function readFlags(value: unknown, where: Where): string {
  if (value === undefined) return '';
  const flags = asString(value, where);
  for (const f of flags) {
    if (!ALLOWED_FLAGS.includes(f))
      throw where.error(`unknown flag ${show(f)} (allowed: ${ALLOWED_FLAGS.split('').join(', ')})`);
  }
  if (new Set(flags).size !== flags.length) throw where.error(`a flag appears twice in ${show(flags)}`);
  return flags;
}

function groupNames(re: RegExp): string[] {
  const probe = new RegExp(`(?:${re.source})|`, re.flags).exec('');
  return Object.keys(probe?.groups ?? {});
}

function groupRef(value: unknown, groups: readonly string[], where: Where): string {
  const name = asString(value, where);
  if (!groups.includes(name))
    throw where.error(
      `no group ${show(name)} in the regex (named groups: ${groups.length ? groups.join(', ') : 'none'})`,
    );
  return name;
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

type TimeReader = (text: string, ctx: ParseContext) => number;

const EPOCH_S = /^\d{9,11}(?:\.\d{1,9})?$/;
const EPOCH_MS = /^\d{11,14}(?:\.\d{1,6})?$/;

function namedTimeReader(format: (typeof NAMED_TIME_FORMATS)[number]): TimeReader {
  switch (format) {
    case 'iso8601':
      return (text, ctx) => parseIso(text.trim(), ctx);
    case 'epoch-s':
      return (text) => (EPOCH_S.test(text.trim()) ? Math.round(Number(text) * 1000) : NaN);
    case 'epoch-ms':
      return (text) => (EPOCH_MS.test(text.trim()) ? Math.round(Number(text)) : NaN);
    case 'syslog':
      return (text, ctx) => parseSyslog(text.trim(), ctx);
    case 'nginx':
      return (text, ctx) => parseClf(text.trim(), ctx);
  }
}

interface TimeSpec {
  group: string;
  /** as written, for messages */
  format: string;
  read: TimeReader;
}

function readTimestamp(value: unknown, groups: readonly string[], where: Where): TimeSpec {
  const obj = asObject(value, where);
  onlyKnown(obj, ['group', 'format', 'zone'], where);
  if (obj.group === undefined) throw where.at('group').error('required (the named group holding the time)');
  if (obj.format === undefined) throw where.at('format').error('required');
  const group = groupRef(obj.group, groups, where.at('group'));
  const format = asString(obj.format, where.at('format'));
  let read: TimeReader;
  if ((NAMED_TIME_FORMATS as readonly string[]).includes(format)) {
    read = namedTimeReader(format as (typeof NAMED_TIME_FORMATS)[number]);
  } else {
    const compiled = compileTimePattern(format);
    if (typeof compiled === 'string')
      throw where
        .at('format')
        .error(
          `unknown format ${show(format)} (expected ${NAMED_TIME_FORMATS.join(', ')} or a date pattern such as 'yyyy-MM-dd HH:mm:ss.SSS': ${compiled})`,
        );
    read = (text, ctx) =>
      compiled.parse(text, ctx.localToEpoch, (m) => (ctx.yearFor ? ctx.yearFor(m) : ctx.year));
  }
  if (obj.zone !== undefined) {
    const zone = asString(obj.zone, where.at('zone'));
    let toEpoch: (wall: number) => number;
    try {
      toEpoch = zoneResolver(zone);
    } catch (err) {
      throw where.at('zone').error(err instanceof Error ? err.message : String(err));
    }
    const inner = read;
    read = (text, ctx) => inner(text, { ...ctx, localToEpoch: toEpoch });
  }
  return { group, format, read };
}

// ---------------------------------------------------------------------------------------------
// The validated description
// ---------------------------------------------------------------------------------------------

interface SignalRule {
  re: RegExp;
  signal: Signal;
  /** the group the rule reads; undefined: the message field, else the whole line */
  group?: string;
}

interface Spec {
  name: string;
  role: Role;
  regex: RegExp;
  time: TimeSpec;
  keys: Partial<Record<KeyName, string>>;
  fields: Partial<Record<FieldName, string>>;
  signals: SignalRule[];
}

function readMap<T extends string>(
  value: unknown,
  allowed: readonly T[],
  groups: readonly string[],
  where: Where,
  what: string,
): Partial<Record<T, string>> {
  if (value === undefined) return {};
  const obj = asObject(value, where);
  const out: Partial<Record<T, string>> = {};
  for (const [key, group] of Object.entries(obj)) {
    if (!(allowed as readonly string[]).includes(key))
      throw where.at(key).error(`unknown ${what} (expected one of: ${allowed.join(', ')})`);
    out[key as T] = groupRef(group, groups, where.at(key));
  }
  return out;
}

function readSignals(value: unknown, groups: readonly string[], where: Where): SignalRule[] {
  if (value === undefined) return [];
  const list = asList(value, where);
  if (list.length > MAX_SIGNAL_RULES) throw where.error(`at most ${MAX_SIGNAL_RULES} rules`);
  return list.map((item, i) => {
    const w = where.at(i);
    const obj = asObject(item, w);
    onlyKnown(obj, ['match', 'signal', 'flags', 'group'], w);
    if (obj.match === undefined) throw w.at('match').error('required (a regex searched in the message)');
    if (obj.signal === undefined) throw w.at('signal').error('required');
    const signal = oneOf(obj.signal, SIGNALS, w.at('signal'), 'signal');
    const flags = readFlags(obj.flags, w.at('flags'));
    const re = compileRegex(obj.match, flags, w.at('match'), false);
    const group = obj.group === undefined ? undefined : groupRef(obj.group, groups, w.at('group'));
    return { re, signal, group };
  });
}

function readSamples(value: unknown, origin: string, where: Where): FormatSample[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : asList(value, where);
  if (list.length > MAX_SAMPLES) throw where.error(`at most ${MAX_SAMPLES} sample lines`);
  return list.map((item, i) => {
    const w = where.at(i);
    if (typeof item === 'string') return { line: item, source: origin };
    const obj = asObject(item, w);
    onlyKnown(obj, ['line', 'source'], w);
    const line = asString(obj.line, w.at('line'));
    const source = obj.source === undefined ? origin : asString(obj.source, w.at('source'));
    return { line, source };
  });
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/;

function readFormat(
  value: unknown,
  origin: string,
  where: Where,
  taken: ReadonlyMap<string, string>,
): UserLogFormat {
  const obj = asObject(value, where);
  onlyKnown(obj, TOP_FIELDS, where);
  for (const required of ['name', 'role', 'regex', 'timestamp'])
    if (obj[required] === undefined) throw where.at(required).error('required');

  const name = asString(obj.name, where.at('name'));
  if (!NAME.test(name))
    throw where
      .at('name')
      .error(`${show(name)}: use letters, digits, '.', '_' or '-' (at most 48 characters)`);
  if (FORMATS.some((f) => f.name === name))
    throw where.at('name').error(`${show(name)} is a built-in format; choose another name`);
  const other = taken.get(name);
  if (other !== undefined) throw where.at('name').error(`${show(name)} is already defined in ${other}`);

  const role = oneOf(obj.role, ROLES, where.at('role'), 'role');
  const description =
    obj.description === undefined
      ? `user-defined format (${origin})`
      : asString(obj.description, where.at('description'));
  const flags = readFlags(obj.flags, where.at('flags'));
  const regex = compileRegex(obj.regex, flags, where.at('regex'), true);
  const groups = groupNames(regex);
  if (groups.length === 0) throw where.at('regex').error('the regex has no named groups such as (?<time>…)');
  const time = readTimestamp(obj.timestamp, groups, where.at('timestamp'));
  const keys = readMap(obj.keys, KEY_NAMES, groups, where.at('keys'), 'key');
  const fields = readMap(obj.fields, FIELD_NAMES, groups, where.at('fields'), 'field');
  const signals = readSignals(obj.signals, groups, where.at('signals'));
  const spec: Spec = { name, role, regex, time, keys, fields, signals };
  const samples = readSamples(obj.sample, origin, where.at('sample'));
  probeSpeed(
    regex,
    samples.map((x) => x.line),
    where.at('regex'),
  );
  spec.signals.forEach((rule, i) => probeSpeed(rule.re, [], where.at('signals').at(i).at('match')));

  // samples are checked as lnav checks its format files: each must match and carry a time
  const ctx = utcContext();
  samples.forEach((s, i) => {
    const m = matchLine(spec, s.line);
    if (!m)
      throw where
        .at('sample')
        .at(i)
        .error(`does not match the regex: ${show(s.line)}`);
    const stamp = m[time.group];
    if (stamp === undefined)
      throw where.at('sample').at(i).error(`the group '${time.group}' matched nothing`);
    if (Number.isNaN(time.read(stamp, ctx)))
      throw where
        .at('sample')
        .at(i)
        .error(`timestamp ${show(stamp)} does not read as '${time.format}'`);
  });

  return {
    name,
    role,
    description,
    samples,
    origin,
    sniff: (line) => sniff(spec, line),
    createParser: (parseCtx) => createParser(spec, parseCtx),
  };
}

/**
 * Validates a parsed JSON document (one format object, or `{ "formats": [ … ] }`) and builds its
 * formats. `origin` names the file in messages; `taken` maps names already defined to their file.
 * Throws UserFormatError with a one-line message naming the bad field.
 */
export function parseUserFormats(
  json: unknown,
  origin: string,
  taken: ReadonlyMap<string, string> = new Map(),
): UserLogFormat[] {
  const root = new Where(origin, '');
  const obj = asObject(json, root);
  const defined = new Map(taken);
  const build = (value: unknown, where: Where) => {
    const format = readFormat(value, origin, where, defined);
    defined.set(format.name, origin);
    return format;
  };
  if (obj.formats === undefined) return [build(obj, root)];
  onlyKnown(obj, ['formats', 'comment', '$schema'], root);
  const list = asList(obj.formats, root.at('formats'));
  if (list.length === 0) throw root.at('formats').error('the list is empty');
  if (list.length > MAX_FORMATS_PER_FILE)
    throw root.at('formats').error(`at most ${MAX_FORMATS_PER_FILE} formats`);
  return list.map((item, i) => build(item, root.at('formats').at(i)));
}

// ---------------------------------------------------------------------------------------------
// Reading lines
// ---------------------------------------------------------------------------------------------

type Groups = Record<string, string | undefined>;

/** Runs the format's regex on a line cut at the ingest cap (64 KB). */
function matchLine(spec: Spec, line: string): Groups | undefined {
  const text = line.length > MAX_LINE_BYTES ? line.slice(0, MAX_LINE_BYTES) : line;
  const m = spec.regex.exec(text);
  return m ? (m.groups ?? {}) : undefined;
}

function sniff(spec: Spec, line: string): number {
  const groups = matchLine(spec, line);
  if (!groups) return 0;
  const stamp = groups[spec.time.group];
  return stamp !== undefined && !Number.isNaN(spec.time.read(stamp, SNIFF_CONTEXT)) ? 1 : 0;
}

const SNIFF_CONTEXT = utcContext();

/** A group's value, or undefined when it did not take part or holds a placeholder ("-", ""). */
function value(groups: Groups, name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const v = groups[name]?.trim();
  return v === undefined || v === '' || v === '-' ? undefined : v;
}

function intIn(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d{1,6}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

function keysOf(spec: Spec, groups: Groups): EventKeys {
  const k = spec.keys;
  const keys: EventKeys = {};
  const callId = value(groups, k.callId);
  if (callId) keys.callId = callId;
  const user = value(groups, k.user);
  if (user) {
    const at = user.indexOf('@');
    keys.user = uriUser(user) ?? (at > 0 ? user.slice(0, at) : user);
  }
  const peer = value(groups, k.peer);
  if (peer) {
    // "ip:port", "[v6]:port", or Ribbon's "ip/port"
    const addr = splitClientAddr(/^[\d.]+\/\d{1,5}$/.test(peer) ? peer.replace('/', ':') : peer);
    if (addr.ip) keys.ip = addr.ip;
    if (addr.ip && addr.port)
      keys.peer = addr.ip.includes(':') ? `[${addr.ip}]:${addr.port}` : `${addr.ip}:${addr.port}`;
  }
  const ip = value(groups, k.ip);
  if (ip && splitClientAddr(ip).ip) keys.ip = normaliseIp(splitClientAddr(ip).ip!);
  for (const name of ['connId', 'requestId', 'wsKey'] as const) {
    const v = value(groups, k[name]);
    if (v) keys[name] = v;
  }
  return keys;
}

function sipOf(spec: Spec, groups: Groups): SipInfo | undefined {
  const f = spec.fields;
  const status = intIn(value(groups, f.sipStatus), 100, 699);
  const cseqText = value(groups, f.sipCseq);
  const cseq = cseqText ? /^(\d{1,10})(?:\s+([A-Za-z]{3,12}))?$/.exec(cseqText) : null;
  const methodText = (value(groups, f.sipMethod) ?? cseq?.[2])?.toUpperCase();
  const method = methodText && SIP_METHODS.has(methodText) ? methodText : undefined;
  if (status === undefined && method === undefined) return undefined;
  const sip: SipInfo = {
    direction: sipDirection(spec.role, status !== undefined, value(groups, f.sipDirection)),
  };
  if (method) sip.method = method;
  if (status !== undefined) sip.status = status;
  const reason = value(groups, f.sipReason);
  if (reason) sip.reason = reason;
  if (cseq) sip.cseq = Number(cseq[1]);
  const retryAfter = intIn(value(groups, f.retryAfter), 0, 86_400);
  if (retryAfter !== undefined) sip.retryAfter = retryAfter;
  return sip;
}

const SENT = /^(?:sent|send|sending|out|outgoing|outbound|tx|egress|->|-->|>>|to)$/i;
const RECEIVED = /^(?:recv|rcvd|received|receiving|in|incoming|inbound|rx|ingress|<-|<--|<<|from)$/i;

/** A direction group wins; else an SBC sends responses and receives requests, a client the reverse. */
function sipDirection(role: Role, response: boolean, text: string | undefined): SipInfo['direction'] {
  if (text && SENT.test(text)) return 'sent';
  if (text && RECEIVED.test(text)) return 'received';
  if (role === 'client') return response ? 'received' : 'sent';
  return response ? 'sent' : 'received';
}

function httpOf(spec: Spec, groups: Groups, end: number): HttpInfo | undefined {
  const f = spec.fields;
  const status = intIn(value(groups, f.httpStatus), 100, 599);
  if (status === undefined) return undefined;
  const url = value(groups, f.url);
  const http: HttpInfo = { status, upgrade: status === 101 || url === undefined || isWebSocketPath(url) };
  if (f.upstreamStatus !== undefined) {
    const upstream = groups[f.upstreamStatus]?.trim();
    // "-" (nginx) or "<NOSRV>"-like text: the edge answered itself
    const n = intIn(upstream, 100, 599);
    if (upstream !== undefined && upstream !== '') http.upstreamStatus = n ?? null;
  }
  if (url) http.url = url;
  const method = value(groups, f.httpMethod);
  if (method) http.method = method;
  const ms = value(groups, f.durationMs);
  const s = value(groups, f.durationS);
  const duration =
    ms && /^\d{1,12}(?:\.\d+)?$/.test(ms)
      ? Number(ms)
      : s && /^\d{1,9}(?:\.\d+)?$/.test(s)
        ? Number(s) * 1000
        : undefined;
  if (duration !== undefined) {
    http.durationMs = Math.round(duration);
    http.startTs = end - http.durationMs;
  }
  return http;
}

/** What an HTTP status on a handshake means, as the built-in LB readers say it. */
function httpSignal(role: Role, http: HttpInfo): Signal | undefined {
  const status = http.status!;
  if (status === 101) return 'ws-open';
  if (role === 'lb') {
    if (status === 499) return 'client-timeout';
    if (status === 504) return 'upstream-timeout';
    if (status === 429) return 'edge-rate-limit';
    if (status === 503 && http.upstreamStatus === null) return 'edge-rate-limit';
  }
  const socketLike = http.upgrade || (http.url !== undefined && !isStaticAsset(http.url));
  return status >= 400 && socketLike ? 'ws-handshake-failed' : undefined;
}

function ruleSignal(
  spec: Spec,
  groups: Groups,
  message: string | undefined,
  line: string,
): Signal | undefined {
  for (const rule of spec.signals) {
    const text = rule.group !== undefined ? (groups[rule.group] ?? '') : (message ?? line);
    if (rule.re.test(text.length > MAX_RULE_TEXT ? text.slice(0, MAX_RULE_TEXT) : text)) return rule.signal;
  }
  return undefined;
}

function toEvent(
  spec: Spec,
  groups: Groups,
  ts: number,
  line: string,
  lineNo: number,
  ctx: ParseContext,
): LogEvent {
  const f = spec.fields;
  const message = value(groups, f.message);
  const keys = keysOf(spec, groups);
  const reading: TextReading | undefined = message !== undefined ? readClientText(message) : undefined;
  // the message may name a user or a Call-ID the regex did not; addresses in free text are not
  // trusted as join keys (an LB message names its upstream too)
  if (reading?.keys.user && !keys.user) keys.user = reading.keys.user;
  if (reading?.keys.callId && !keys.callId) keys.callId = reading.keys.callId;
  const url = value(groups, f.url);
  if (url && !keys.user) {
    const user = urlUser(url);
    if (user) keys.user = user;
  }

  const sip = sipOf(spec, groups) ?? (reading?.sip?.status !== undefined ? reading.sip : undefined);
  const ownHttp = httpOf(spec, groups, ts);
  const http = ownHttp ?? reading?.http;
  const closeCode = intIn(value(groups, f.wsCloseCode), 1000, 4999);
  let ws: WsInfo | undefined = reading?.ws;
  if (closeCode !== undefined) ws = { ...ws, closeCode, wasClean: closeCode !== 1006 };

  // a signal rule wins; then what the status says; then what the message says
  const ruled = ruleSignal(spec, groups, message, line);
  let signal: Signal | undefined =
    ruled ?? (ownHttp ? httpSignal(spec.role, ownHttp) : undefined) ?? reading?.signal;
  if (!signal && closeCode !== undefined) signal = 'ws-close';
  if (signal === 'sbc-flood-block' && !keys.ip) {
    const ip = /\b((?:\d{1,3}\.){3}\d{1,3})\b/.exec(message ?? line);
    if (ip) keys.ip = ip[1];
  }

  // a rule's meaning outranks a SIP status on the same line ("replying 503 Limiting" is the
  // limiter's refusal); the status stays on the event for display and clock matching
  let kind: EventKind;
  if (ruled && !ownHttp) kind = SIGNAL_KIND[ruled];
  else if (sip?.status !== undefined) kind = 'sip-response';
  else if (sip) kind = 'sip-request';
  else if (ownHttp) kind = ownHttp.upgrade ? 'ws-handshake' : 'http-request';
  else if (reading && reading.kind !== 'info') kind = reading.kind;
  else kind = signal ? SIGNAL_KIND[signal] : 'info';

  const event: LogEvent = { ts, input: ctx.input, line: lineNo, raw: line, role: spec.role, kind, keys };
  if (signal) event.signal = signal;
  if (sip) event.sip = sip;
  if (http) event.http = http;
  if (ws) event.ws = ws;
  if (reading?.retryDelayMs !== undefined) event.retryDelayMs = reading.retryDelayMs;
  if (reading?.timeoutMs !== undefined) event.timeoutMs = reading.timeoutMs;
  event.text = message ?? line;
  return event;
}

/** Lines that match but say nothing a rule or a reader could use are skipped. */
function diagnostic(e: LogEvent): boolean {
  return (
    e.signal !== undefined ||
    e.sip !== undefined ||
    e.http !== undefined ||
    e.ws !== undefined ||
    e.kind !== 'info'
  );
}

function createParser(spec: Spec, ctx: ParseContext): LineParser {
  return {
    push(line, lineNo, emit) {
      if (line.trim() === '') return 'skip';
      const groups = matchLine(spec, line);
      if (!groups) return 'unparsed';
      const stamp = groups[spec.time.group];
      const ts = stamp === undefined ? NaN : spec.time.read(stamp, ctx);
      if (Number.isNaN(ts)) return 'unparsed';
      const event = toEvent(spec, groups, ts, line, lineNo, ctx);
      if (!diagnostic(event)) return 'skip';
      emit(event);
      return 'event';
    },
    end() {},
  };
}
