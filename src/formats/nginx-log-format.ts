/**
 * A site's own nginx `log_format`, given at run time (`--nginx-log-format`): the format string is
 * compiled into one anchored regular expression, and each line's variables are turned into the
 * same event nginx-access.ts builds from the same fields (lb-formats.md §2, §3, §12).
 *
 * Accepted spec shapes: the format string itself (`$remote_addr - … "$http_user_agent"`), the
 * quoted pieces of a config (`'$remote_addr … ' '"$http_user_agent"'`), or the whole directive
 * (`log_format upstreaminfo escape=json '{…}';`). `escape=json` values are JSON-unescaped.
 *
 * The regex is safe by construction: literals are escaped, and each variable matches a run of
 * characters that excludes the first character of the literal after it (so `"$request"` is
 * `"([^"]*)"`), or a fixed shape for the time variables and the `, `/` : ` lists of the upstream
 * variables. A greedy run that cannot contain its terminator never backtracks more than once.
 *
 * Not registered in index.ts: the CLI builds it per run and hands it to analyze's `extraFormats`.
 */
import type { LogEvent } from '../model.js';
import {
  accessEvent,
  parseRequestLine,
  readExtraField,
  splitClientAddr,
  stripContainerPrefix,
  type AccessLine,
  type Extras,
} from './nginx-access.js';
import { parseClf, parseIso } from './time.js';
import type { LineParser, LogFormat, ParseContext } from './types.js';

type Escape = 'default' | 'json' | 'none';

interface Piece {
  literal?: string;
  variable?: string;
}

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/** Reads a config's arguments: quoted strings (nginx escapes `\"`, `\'`, `\\`) and bare words, up to `;`. */
function configArguments(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === ';') break;
    let arg = '';
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const n = text[i + 1];
          arg += n === '"' || n === "'" || n === '\\' ? n : `\\${n}`;
          i += 2;
        } else {
          arg += text[i++];
        }
      }
      i++; // the closing quote
    } else {
      while (i < text.length && !/[\s;]/.test(text[i])) arg += text[i++];
    }
    args.push(arg);
  }
  return args;
}

/** The format string and its escaping, out of whichever shape the spec was given in. */
function unwrapSpec(spec: string): { format: string; escape: Escape } {
  let text = spec.trim();
  let escape: Escape = 'default';
  const directive = /^log_format\s/.test(text);
  if (directive) text = text.replace(/^log_format\s+\S+\s*/, '');
  const esc = /^escape=(default|json|none)\s*/.exec(text);
  if (esc) {
    escape = esc[1] as Escape;
    text = text.slice(esc[0].length);
  }
  // config pieces are concatenated as they are (nginx joins the arguments without separator)
  const quoted = text.startsWith("'") && (text.endsWith("'") || text.endsWith("';"));
  if (directive || quoted) return { format: configArguments(text).join(''), escape };
  return { format: text, escape };
}

/** `$name` / `${name}` variables and the literal text between them. */
function splitFormat(format: string): Piece[] {
  const pieces: Piece[] = [];
  const VAR = /\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = VAR.exec(format))) {
    if (m.index > last) pieces.push({ literal: format.slice(last, m.index) });
    pieces.push({ variable: m[1] ?? m[2] });
    last = m.index + m[0].length;
  }
  if (last < format.length) pieces.push({ literal: format.slice(last) });
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// The regex
// ---------------------------------------------------------------------------------------------

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** Fixed shapes: no run can swallow what follows them. */
const FIXED: Record<string, string> = {
  time_local: '\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}',
  time_iso8601: '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:[+-]\\d{2}:\\d{2}|Z)',
  msec: '\\d{1,12}\\.\\d{1,6}',
};

/** Printed as `a, b : c` lists (upstream tries and internal redirects; X-Forwarded-For hops). */
const LISTS = new Set([
  'upstream_addr',
  'upstream_status',
  'upstream_response_time',
  'upstream_connect_time',
  'upstream_header_time',
  'upstream_response_length',
  'upstream_bytes_received',
  'upstream_bytes_sent',
  'http_x_forwarded_for',
  'proxy_add_x_forwarded_for',
]);

/** The pattern of the variable at `i`: its fixed shape, or a run up to the next literal. */
function variablePattern(pieces: readonly Piece[], i: number, escape: Escape): string {
  const name = pieces[i].variable!;
  if (FIXED[name]) return FIXED[name];
  // a variable right after another non-fixed one gets nothing: the first takes the whole run
  const prev = pieces[i - 1];
  if (prev?.variable !== undefined && !FIXED[prev.variable]) return '';
  let j = i + 1;
  while (j < pieces.length && pieces[j].variable !== undefined) j++;
  const stop = pieces[j]?.literal?.[0];
  if (stop === undefined) return '.*';
  if (stop === '"' && escape === 'json') return '(?:[^"\\\\]|\\\\.)*';
  if (stop === ' ' && LISTS.has(name) && j === i + 1) return '[^\\s,]+(?:(?:, | : )[^\\s,]+)*';
  const cls = stop === '\\' || stop === ']' || stop === '^' || stop === '-' ? `\\${stop}` : stop;
  return `[^${cls}]*`;
}

interface Compiled {
  regex: RegExp;
  /** variable name of each capture group, in order */
  names: string[];
}

function compile(pieces: readonly Piece[], escape: Escape): Compiled {
  let source = '^';
  const names: string[] = [];
  pieces.forEach((p, i) => {
    if (p.literal !== undefined) source += escapeRegex(p.literal);
    else {
      source += `(${variablePattern(pieces, i, escape)})`;
      names.push(p.variable!);
    }
  });
  return { regex: new RegExp(`${source}$`), names };
}

// ---------------------------------------------------------------------------------------------
// Fields → event
// ---------------------------------------------------------------------------------------------

const TIME_VARIABLES = ['time_local', 'time_iso8601', 'msec'];
const REQUEST_VARIABLES = ['request', 'request_uri', 'uri'];

function unescapeJson(value: string): string {
  if (!value.includes('\\')) return value;
  try {
    return JSON.parse(`"${value}"`) as string;
  } catch {
    return value;
  }
}

/** `$request`, else `$request_method $request_uri|$uri?$args $server_protocol`; method and target. */
function requestOf(f: ReadonlyMap<string, string>): { request: string; method?: string; url?: string } {
  const request = f.get('request');
  if (request !== undefined) return { request, ...parseRequestLine(request) };
  const args = f.get('args') ?? f.get('query_string');
  const uri = f.get('request_uri') ?? (f.get('uri') ?? '') + (args && args !== '-' ? `?${args}` : '');
  const method = f.get('request_method');
  const parts = [method, uri, f.get('server_protocol')].filter((x) => x && x !== '-');
  return {
    request: parts.join(' '),
    method: method && /^[A-Z][A-Z_-]{0,19}$/.test(method) ? method : undefined,
    url: uri && uri !== '-' ? uri : undefined,
  };
}

function lineOf(f: ReadonlyMap<string, string>, ctx: ParseContext): AccessLine | undefined {
  const statusText = f.get('status') ?? '';
  if (!/^[1-5]\d{2}$/.test(statusText)) return undefined;
  const status = Number(statusText);
  let ts = NaN;
  const local = f.get('time_local');
  const iso = f.get('time_iso8601');
  if (local !== undefined) ts = parseClf(local, ctx);
  if (Number.isNaN(ts) && iso !== undefined) ts = parseIso(iso, ctx);
  const extras: Extras = {};
  for (const [name, value] of f) readExtraField(name, value, extras);
  if (Number.isNaN(ts) && extras.msec !== undefined) ts = Math.round(extras.msec * 1000);
  if (Number.isNaN(ts)) return undefined;
  const client = splitClientAddr(f.get('remote_addr') ?? '');
  const ua = f.get('http_user_agent');
  return {
    ts,
    ip: client.ip,
    port: client.port ?? extras.remotePort,
    ...requestOf(f),
    status,
    userAgent: ua && ua !== '-' ? ua : undefined,
    extras,
  };
}

/**
 * Compiles an nginx `log_format` into a LogFormat (role lb). Throws an Error naming what is
 * missing when the format has no time variable, no `$status` or no request.
 */
export function compileNginxLogFormat(spec: string, name = 'nginx-custom'): LogFormat {
  const { format, escape } = unwrapSpec(spec);
  const pieces = splitFormat(format);
  const variables = new Set(pieces.filter((p) => p.variable !== undefined).map((p) => p.variable!));
  const missing: string[] = [];
  if (!TIME_VARIABLES.some((v) => variables.has(v)))
    missing.push('a time variable ($time_local, $time_iso8601 or $msec)');
  if (!variables.has('status')) missing.push('$status');
  if (!REQUEST_VARIABLES.some((v) => variables.has(v))) missing.push('$request (or $request_uri / $uri)');
  if (missing.length > 0)
    throw new Error(`nginx log_format "${format.slice(0, 120)}" has no ${missing.join(', no ')}`);
  const { regex, names } = compile(pieces, escape);

  const read = (body: string): Map<string, string> | undefined => {
    const m = regex.exec(body);
    if (!m) return undefined;
    const fields = new Map<string, string>();
    names.forEach((n, k) => {
      if (fields.has(n)) return;
      const v = m[k + 1];
      // escape=json prints an unset variable as "" where the default escaping prints "-"
      fields.set(n, escape === 'json' ? (v === '' ? '-' : unescapeJson(v)) : v);
    });
    return fields;
  };

  const createParser = (ctx: ParseContext): LineParser => ({
    push(line: string, lineNo: number, emit: (event: LogEvent) => void) {
      const body = stripContainerPrefix(line);
      if (body.trim() === '') return 'skip';
      const fields = read(body);
      const access = fields ? lineOf(fields, ctx) : undefined;
      if (!access) return 'unparsed';
      emit(accessEvent(access, line, lineNo, ctx));
      return 'event';
    },
    end() {},
  });

  return {
    name,
    role: 'lb',
    description: `nginx access log in the log_format given at run time: ${format.slice(0, 160)}`,
    samples: [],
    sniff: (line: string) => (regex.test(stripContainerPrefix(line)) ? 0.97 : 0),
    createParser,
  };
}
