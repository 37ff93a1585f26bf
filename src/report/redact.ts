/**
 * Redaction: every secret a log line may carry is replaced by a pseudonym before any reporter sees
 * the report. A pseudonym is a keyed hash of the secret (HMAC-SHA256, per-run random key by
 * default), so the same token reads the same everywhere in a report and sessions can still be told
 * apart, while the secret itself never leaves the machine.
 *
 * What counts as a secret: bearer/basic credentials, JWTs, token/password/API-key parameters in
 * URLs, JSON and headers, cookies, SIP digest response/nonce/cnonce, passwords in URLs and a few
 * well-known vendor key shapes. With `ips`, IPv4 and IPv6 addresses too (the port is kept).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Report } from '../model.js';

export interface RedactOptions {
  /** also pseudonymise IPv4/IPv6 addresses */
  ips: boolean;
  /** HMAC key; a random per-run key when absent (pseudonyms then differ between runs) */
  key?: Buffer;
}

/** Pseudonyms start with this character; a value that already starts with it is not redacted again. */
const MARK = '«';

/** Cookie attributes, which are not secrets. */
const COOKIE_ATTRIBUTES = new Set([
  'path',
  'domain',
  'expires',
  'max-age',
  'samesite',
  'secure',
  'httponly',
  'priority',
]);

type Pseudonym = (kind: 'secret' | 'ip', value: string) => string;

interface Rule {
  re: RegExp;
  /** replace one match; `p` makes pseudonyms */
  apply: (p: Pseudonym, m: string, ...groups: string[]) => string;
}

/** prefix + pseudonym(secret) + suffix, for rules written as (prefix)(secret)(suffix?) */
const keepAround = (p: Pseudonym, m: string, prefix: string, secret: string, suffix = ''): string =>
  secret && !secret.startsWith(MARK) ? `${prefix}${p('secret', secret)}${suffix}` : m;

/*
 * The rules run on untrusted log lines of up to 64 KB, so every pattern must run in linear time
 * (test/bad/redos.test.ts checks the literals): a match may only start where a run of its
 * characters starts (look-behinds), adjacent quantifiers never compete for the same characters,
 * and open-ended scans stop at a character that also ends the next attempt.
 *
 * Secret names (parameters, JSON fields, key=value): access/refresh/id/auth/session_token, token,
 * jwt, password, passwd, pwd, (client_)secret, (x-)api-key / api_key / apikey, signature and the
 * AWS pre-signed URL parameters.
 */
const RULES: Rule[] = [
  // Authorization / Proxy-Authorization with a scheme that carries an opaque credential
  {
    re: /((?:proxy-)?authorization"?[ \t]*[:=][ \t]*(?:"[ \t]*)?(?:bearer|basic|token|negotiate|ntlm|apikey|sharedaccesssignature)[ \t]+)([^\s"',;]+)/gi,
    apply: keepAround,
  },
  // Bearer tokens anywhere (headers printed alone, error messages, JSON)
  { re: /(\bbearer[ \t]+)([\w\-.~+/]+=*)/gi, apply: keepAround },
  // JSON / quoted fields: "password": "…", 'token':'…', "cookie": "…"
  {
    re: /(["'](?:(?:access_|refresh_|id_|auth_|session_)?token|jwt|passw(?:or)?d|pwd|(?:client_)?secret|(?:x-)?api[-_]?key|(?:x-amz-)?signature|x-amz-(?:credential|security-token)|(?:set-)?cookie)["'][ \t]*:[ \t]*")((?:[^"\\]|\\.)+)(")/gi,
    apply: (p, m, prefix, value, suffix) =>
      /cookie/i.test(prefix)
        ? `${prefix}${redactCookiePairs(p, value)}${suffix}`
        : keepAround(p, m, prefix, value, suffix),
  },
  // Cookie / Set-Cookie headers: every cookie value
  {
    re: /(\b(?:set-)?cookie[ \t]*:[ \t]*)([^\s"][^\r\n"]*)/gi,
    apply: (p, _m, prefix, value) => `${prefix}${redactCookiePairs(p, value)}`,
  },
  // credential headers: x-api-key: …, X-Auth-Token: …
  {
    re: /(\b(?:x-api-key|api-key|apikey|x-auth-token|x-access-token|x-csrf-token|x-xsrf-token)[ \t]*:[ \t]*)([^\s"',;]+)/gi,
    apply: keepAround,
  },
  // name=value in URLs, query strings, key=value logs and SIP digest parameters (quoted or not)
  {
    re: /((?<![\w.-])(?:(?:access_|refresh_|id_|auth_|session_)?token|jwt|passw(?:or)?d|pwd|(?:client_)?secret|(?:x-)?api[-_]?key|(?:x-amz-)?signature|x-amz-(?:credential|security-token)|c?nonce|response)[ \t]*=[ \t]*)("[^"]*"|[^\s&"'<>\\,;]+)/gi,
    apply: (p, m, prefix, value) => {
      const quoted = value.startsWith('"') && value.endsWith('"') && value.length >= 2;
      const inner = quoted ? value.slice(1, -1) : value;
      if (!inner || inner.startsWith(MARK)) return m;
      // a digest response is hex; "response" also names SIP answers such as response="403 Forbidden"
      if (/^response/i.test(prefix) && !/^[0-9a-f]{16,}$/i.test(inner)) return m;
      return quoted ? `${prefix}"${p('secret', inner)}"` : `${prefix}${p('secret', inner)}`;
    },
  },
  // password: … and secret: … written as YAML/config text
  {
    re: /(\b(?:passw(?:or)?d|client_secret|api_key|apikey)[ \t]*:[ \t]*)([^\s"',;]+)/gi,
    apply: keepAround,
  },
  // passwords in URLs: scheme://user:password@host
  {
    re: /((?<![\w+.-])[a-z][\w+.-]{0,30}:\/\/[^\s/:@"'<>]{1,256}:)([^\s/@"'<>]{1,2048})(@)/gi,
    apply: keepAround,
  },
  // JWTs anywhere
  {
    re: /(?<![\w-])eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
    apply: (p, m) => p('secret', m),
  },
  // well-known key shapes: AWS access key ids, GitHub, Slack, Stripe, Google API keys
  {
    re: /(?<![\w-])(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[\w-]{35})(?![\w-])/g,
    apply: (p, m) => p('secret', m),
  },
];

function redactCookiePairs(p: Pseudonym, cookies: string): string {
  return cookies.replace(
    /(?<![^=;,\s])([^=;,\s]+)([ \t]*=[ \t]*)([^;,\s]*)/g,
    (m, name: string, eq: string, value: string) => {
      if (!value || value.startsWith(MARK) || COOKIE_ATTRIBUTES.has(name.toLowerCase())) return m;
      return `${name}${eq}${p('secret', value)}`;
    },
  );
}

// IPv6 candidates are checked with isIPv6, so times like 10:00:01 never match.
const IPV6_BRACKETED = /\[([0-9A-Fa-f:.]+(?:%[0-9A-Za-z]+)?)\]/g;
const IPV6_BARE =
  /(?<![\w:.«])(?=[:0-9A-Fa-f]*[0-9A-Fa-f])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:])/g;
const IPV4 = /(?<![0-9A-Za-z.«])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.\d)/g;

function redactIps(p: Pseudonym, text: string): string {
  let out = text.replace(IPV6_BRACKETED, (m, addr: string) =>
    isIPv6(addr.split('%')[0]) ? `[${p('ip', addr)}]` : m,
  );
  out = out.replace(IPV6_BARE, (m) => {
    if (isIPv6(m)) return p('ip', m);
    // addr:port written without brackets: keep the last group as a port when the rest is an address
    const cut = m.lastIndexOf(':');
    const head = m.slice(0, cut);
    return cut > 0 && isIPv6(head) && /^\d{1,5}$/.test(m.slice(cut + 1))
      ? `${p('ip', head)}${m.slice(cut)}`
      : m;
  });
  return out.replace(IPV4, (m) => (isIPv4(m) ? p('ip', m) : m));
}

/** A string redactor with one key: the same secret gives the same pseudonym in every call. */
export function makeRedactor(opts: RedactOptions): (text: string) => string {
  const key = opts.key ?? randomBytes(32);
  const seen = new Map<string, string>();
  const p: Pseudonym = (kind, value) => {
    const id = `${kind}\u0000${value}`;
    let name = seen.get(id);
    if (name === undefined) {
      name = `«${kind}:${createHmac('sha256', key).update(id).digest('hex').slice(0, 8)}»`;
      seen.set(id, name);
    }
    return name;
  };
  return (text: string) => {
    let out = text;
    for (const rule of RULES) {
      const n = countGroups(rule.re);
      // replace() passes (match, ...groups, offset, input): keep the groups, unmatched ones as ''
      out = out.replace(rule.re, (m: string, ...args: unknown[]) =>
        rule.apply(p, m, ...args.slice(0, n).map((g) => (typeof g === 'string' ? g : ''))),
      );
    }
    return opts.ips ? redactIps(p, out) : out;
  };
}

const groupCounts = new WeakMap<RegExp, number>();
function countGroups(re: RegExp): number {
  let n = groupCounts.get(re);
  if (n === undefined) {
    n = (new RegExp(`${re.source}|`).exec('')?.length ?? 1) - 1;
    groupCounts.set(re, n);
  }
  return n;
}

/** Fields whose values are never secrets and must stay exact (paths, times, enums, numbers). */
const KEEP_FIELDS = new Set([
  'path',
  'format',
  'role',
  'cause',
  'primaryCause',
  'firstSeen',
  'lastSeen',
  'time',
  'failuresBegan',
  'schemaVersion',
  'tool',
]);

function walk(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, redact));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = KEEP_FIELDS.has(k) ? structuredClone(v) : walk(v, redact);
    return out;
  }
  return value;
}

/**
 * A copy of the report with every printable string redacted: evidence text, explanations,
 * remediation, verdict, what was ruled out, session names and keys, unparsed samples, input errors.
 * Paths, times, causes and numbers are kept as they are. The input report is not modified.
 */
export function redactReport(report: Report, opts: RedactOptions): Report {
  return walk(report, makeRedactor(opts)) as Report;
}
