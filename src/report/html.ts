/**
 * The HTML report: one self-contained file that works offline (no external scripts, fonts or
 * images; a Content-Security-Policy forbids them). The verdict, a timeline of failures by cause
 * (inline SVG drawn here), the cause breakdown, the inputs, what was ruled out, and a searchable
 * list of sessions. A session's details and its ladder diagram (client / LB / SBC columns, one row
 * per evidence line in time order) are drawn in the browser from an embedded JSON blob only when
 * the session is opened, so large reports stay small and fast.
 *
 * Log text is untrusted: it is HTML-escaped here, the JSON blob is escaped for a <script> element,
 * and the page script only ever writes it with textContent.
 */
import { createHash } from 'node:crypto';
import { CAUSE_TEXT } from '../classify/causes.js';
import type { CauseId, Evidence, Report, Role } from '../model.js';
import { CAUSES } from '../model.js';
import { neutralise } from './table.js';

export interface HtmlOptions {
  /** whether secrets were redacted; shown in the header when known */
  redacted?: boolean;
}

export const CAUSE_COLOURS: Record<CauseId, string> = {
  'sbc-throttling': '#d73027',
  'edge-rate-limit': '#8e44ad',
  'idle-timeout': '#e69f00',
  'client-misconfig': '#0f9fb4',
  'upstream-timeout': '#3563c9',
  'auth-failure': '#2e9e4f',
  unclassified: '#8a8f98',
};

const ROLE_INDEX: Record<Role, number> = { client: 0, lb: 1, sbc: 2 };

/* ------------------------------------------------------------------ escaping */

/** Text for HTML element content and attribute values; control characters are made visible. */
export function escapeHtml(text: string): string {
  return neutralise(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that can sit inside <script type="application/json"> whatever the strings contain. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/* ------------------------------------------------------------------ ladder steps */

export interface LadderStep {
  /** column the arrow starts at; equal to `to` for a note on one column */
  from: Role;
  to: Role;
  label: string;
  tone: 'ok' | 'bad' | 'info';
}

const SIP_STATUS = /SIP\/2\.0 (\d{3}[^⏎\r\n]{0,60})/;
const SIP_REQUEST =
  /\b(REGISTER|INVITE|OPTIONS|BYE|ACK|CANCEL|SUBSCRIBE|NOTIFY|MESSAGE|UPDATE|PRACK|REFER|INFO|PUBLISH) sips?:/;
const BAD =
  /\b[45]\d\d\b|\b10(?:0[1-9]|1\d)\b|time-?out|timed out|reset|refus|limit|fail|error|denied|forbidden|block|invalid|not present|unauthori|drop|abnormal|closed|lost/i;
const OK = /\b(?:101|200|202)\b|registered|\bopen\b|connected/i;

function clip(text: string, max = 36): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The message of a log line without its time stamp, host and process prefix. */
function message(text: string): string {
  return text
    .split('\n')[0]
    .replace(/^\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\s*/, '')
    .replace(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d? \d{4} \d\d:\d\d:\d\d [^|]*\|\s*/, '')
    .replace(/^[A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d \S+ \S+?:\s*/, '')
    .replace(/^\[\w+\] \d+#\d+: (?:\*\d+ )?/, '')
    .replace(/^(?:[A-Z]+: )?(?:\{[^}]*\} )?(?:<\w+>:? )?/, '');
}

/**
 * How one evidence line is drawn in a ladder: an arrow between two columns (who answered whom, as
 * far as the line tells) or a note on the column of the component that logged it.
 */
export function ladderStep(e: Evidence): LadderStep {
  const t = e.text.split('\n', 1)[0].slice(0, 4096);
  const step = (from: Role, to: Role, label: string, tone?: LadderStep['tone']): LadderStep => ({
    from,
    to,
    label: clip(label),
    tone: tone ?? (BAD.test(label) ? 'bad' : OK.test(label) ? 'ok' : 'info'),
  });
  // Log text is untrusted and up to 64 KB: every pattern here runs in linear time (no open-ended
  // scan after an unanchored start; test/bad/redos.test.ts checks them).
  let m: RegExpMatchArray | null;
  // an HTTP request line, as LB access logs write it
  const http = /"(GET|POST|HEAD|PUT|DELETE|OPTIONS|CONNECT) ([^\s?"]+)(?:\?[^\s"]*)? [^"]*"/.exec(t);
  if (e.role === 'lb' && http) {
    const nginx = /"\s(\d{3}) \d+ "[^"]*" "[^"]*" (\d+\.\d+)/.exec(t) ?? /"\s(\d{3})\s/.exec(t);
    const haproxy = /\s(?:-?\d+\/){3,4}(\+?-?\d+) (\d{3}) \d+ \S+ \S+ (\S{4})\s/.exec(t);
    const status = nginx?.[1] ?? haproxy?.[2];
    if (status) {
      const seconds = nginx?.[2]
        ? Number(nginx[2])
        : haproxy
          ? Number(haproxy[1].replace('+', '')) / 1000
          : NaN;
      const lasted = Number.isFinite(seconds) && seconds >= 1 ? `, ${seconds.toFixed(1)} s` : '';
      const flags = haproxy && !/^-+$/.test(haproxy[3]) ? ` ${haproxy[3]}` : '';
      // HAProxy termination state: a first letter other than '-' means the session ended abnormally
      const tone = flags && flags.trim()[0] !== '-' ? 'bad' : status === '101' ? 'ok' : undefined;
      return step('lb', 'client', `${http[2]} → ${status}${lasted}${flags}`, tone);
    }
  }
  if (e.role === 'lb') {
    if (/limiting requests/i.test(t)) return step('lb', 'lb', 'limit_req: request refused', 'bad');
    if (/limiting connections/i.test(t)) return step('lb', 'lb', 'limit_conn: connection refused', 'bad');
    if (/upstream timed out/i.test(t)) return step('sbc', 'lb', 'upstream timed out', 'bad');
    if (/upstream prematurely closed|reset by peer/i.test(t))
      return step('sbc', 'lb', 'upstream closed / reset', 'bad');
    return step('lb', 'lb', message(t));
  }
  if (e.role === 'client') {
    if ((m = SIP_STATUS.exec(t))) return step('sbc', 'client', m[1]);
    if ((m = /unexpected server response:?\s*(\d{3})/i.exec(t))) return step('lb', 'client', `HTTP ${m[1]}`);
    if (/registration ?failed/i.test(t) && (m = /response="?(\d{3}[^"]{0,60})/.exec(t)))
      return step('client', 'client', `REGISTER failed: ${m[1]}`, 'bad');
    if (/ERR_INVALID_CHAR|invalid character in header/i.test(t))
      return step('client', 'client', 'invalid header: handshake not sent', 'bad');
    if ((m = /code:?\s*(1\d{3})/i.exec(t)))
      return step('client', 'client', `WebSocket closed ${m[1]}`, m[1] === '1000' ? 'info' : 'bad');
    if (/\bclosed\b/i.test(t)) return step('client', 'client', 'WebSocket closed', 'bad');
    if (/\bconnecting\b/i.test(t)) return step('client', 'lb', 'WebSocket connect');
    if (/\b(?:send|sending|sent)\b/i.test(t) && (m = SIP_REQUEST.exec(t))) return step('client', 'sbc', m[1]);
    if (/\bregistered\b/i.test(t)) return step('client', 'client', 'registered', 'ok');
    return step('client', 'client', message(t));
  }
  // sbc
  const reply = /\brepl(?:ying|ied|y)\b:? ?(\d{3}(?: [A-Za-z][\w-]{0,30}){0,4})/i.exec(t)?.[1];
  if (/auth failed|auth_check\(\) returned/i.test(t)) {
    const why = /returned -?\d+ \(([^()]{1,60})\)/.exec(t)?.[1] ?? 'auth failed';
    return reply
      ? step('sbc', 'client', `${reply} (${why})`, 'bad')
      : step('sbc', 'sbc', `auth failed: ${why}`, 'bad');
  }
  if (reply) return step('sbc', 'client', reply);
  if (/\bsent\b/.test(t) && (m = SIP_STATUS.exec(t))) return step('sbc', 'client', m[1]);
  if (/reset by peer|connection lost|\bEOF\b/i.test(t)) return step('lb', 'sbc', 'connection reset', 'bad');
  if (/pike|ipban|blocking|blocked/i.test(t))
    return step('sbc', 'sbc', 'flood protection: source blocked', 'bad');
  if (/required headers not present/i.test(t))
    return step('sbc', 'sbc', 'handshake: required headers missing', 'bad');
  if ((m = /pl_check\("?([\w-]+)"?\) drop|rl_check\(\) failed/i.exec(t)))
    return step('sbc', 'sbc', m[1] ? `pipelimit ${m[1]}: drop` : 'ratelimit: refused', 'bad');
  if (/\breceived\b/i.test(t) && (m = SIP_REQUEST.exec(t))) return step('client', 'sbc', m[1]);
  return step('sbc', 'sbc', message(t));
}

/* ------------------------------------------------------------------ embedded data */

const TONES = { info: 0, ok: 1, bad: 2 } as const;

/** One evidence row: [path index, line, role index, ms after t0 or null, text, from, to, label, tone] */
type EvidenceRow = [number, number, number, number | null, string, number, number, string, number];

interface SessionData {
  /** session id */
  id: string;
  /** cause index in CAUSES */
  c: number;
  conf: number;
  /** users, comma separated (or the session id) */
  u: string;
  /** Call-IDs, peers and request ids, space separated (for search) */
  k: string;
  /** attempts */
  a: number | null;
  /** firstSeen / lastSeen, ms after t0 */
  f: number;
  l: number;
  /** explanation / remediation: index in `text` */
  x: number;
  r: number;
  e: EvidenceRow[];
}

export interface HtmlData {
  t0: number;
  causes: readonly CauseId[];
  paths: string[];
  text: string[];
  sessions: SessionData[];
}

function ms(iso: string | undefined | null): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** The earliest time in the findings: data and chart times count from it. */
function startOf(report: Report): number {
  let t0 = Infinity;
  for (const f of report.findings) {
    for (const t of [ms(f.firstSeen), ...f.evidence.map((e) => ms(e.time))]) if (t !== null && t < t0) t0 = t;
  }
  return Number.isFinite(t0) ? t0 : 0;
}

export function buildData(report: Report): HtmlData {
  const t0 = startOf(report);
  const paths: string[] = [];
  const pathIndex = new Map<string, number>();
  const text: string[] = [];
  const textIndex = new Map<string, number>();
  const intern = (s: string, list: string[], index: Map<string, number>) => {
    let i = index.get(s);
    if (i === undefined) {
      i = list.push(s) - 1;
      index.set(s, i);
    }
    return i;
  };
  const rel = (iso: string | undefined) => {
    const t = ms(iso);
    return t === null ? null : t - t0;
  };
  const sessions = report.findings.map((f): SessionData => {
    const evidence = f.evidence.map((e): EvidenceRow => {
      const s = ladderStep(e);
      return [
        intern(neutralise(e.path), paths, pathIndex),
        e.line,
        ROLE_INDEX[e.role] ?? 0,
        rel(e.time),
        neutralise(e.text),
        ROLE_INDEX[s.from],
        ROLE_INDEX[s.to],
        neutralise(s.label),
        TONES[s.tone],
      ];
    });
    return {
      id: neutralise(f.session),
      c: Math.max(0, CAUSES.indexOf(f.cause)),
      conf: f.confidence,
      u: neutralise(f.keys.user?.join(', ') || f.session),
      k: neutralise(
        [...(f.keys.callId ?? []), ...(f.keys.peer ?? []), ...(f.keys.requestId ?? [])].join(' '),
      ),
      a: f.attempts ?? null,
      f: rel(f.firstSeen) ?? 0,
      l: rel(f.lastSeen) ?? rel(f.firstSeen) ?? 0,
      x: intern(neutralise(f.explanation), text, textIndex),
      r: intern(neutralise(f.remediation), text, textIndex),
      e: evidence,
    };
  });
  return { t0, causes: CAUSES, paths, text, sessions };
}

/* ------------------------------------------------------------------ timeline chart */

const NICE_STEPS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

function niceTick(max: number): number {
  const raw = Math.max(1, max / 4);
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw) ?? 10 * p;
}

export interface TimelineBucket {
  /** bucket start, epoch ms */
  start: number;
  /** sessions with failure evidence in this bucket, per cause */
  byCause: Partial<Record<CauseId, number>>;
  /** sessions whose first failure falls in this bucket */
  onset: number;
}

/** Failing sessions per time bucket and cause, from evidence times and firstSeen. */
export function timelineBuckets(report: Report): { stepMs: number; buckets: TimelineBucket[] } {
  const times = report.findings.map((f) => {
    const list = [ms(f.firstSeen), ms(f.lastSeen), ...f.evidence.map((e) => ms(e.time))].filter(
      (t): t is number => t !== null,
    );
    return { f, list };
  });
  const all = times.flatMap((x) => x.list);
  if (all.length === 0) return { stepMs: 1000, buckets: [] };
  const lo = all.reduce((a, b) => Math.min(a, b));
  const hi = all.reduce((a, b) => Math.max(a, b));
  const rangeS = (hi - lo) / 1000;
  const stepS = NICE_STEPS_S.find((s) => rangeS / s <= 60) ?? 86400 * Math.ceil(rangeS / 60 / 86400);
  const stepMs = stepS * 1000;
  const first = Math.floor(lo / stepMs) * stepMs;
  const n = Math.floor((hi - first) / stepMs) + 1;
  const buckets: TimelineBucket[] = Array.from({ length: n }, (_, i) => ({
    start: first + i * stepMs,
    byCause: {},
    onset: 0,
  }));
  const at = (t: number) => buckets[Math.min(n - 1, Math.floor((t - first) / stepMs))];
  for (const { f, list } of times) {
    const firstSeen = ms(f.firstSeen);
    if (firstSeen !== null) at(firstSeen).onset++;
    const evidenceTimes = f.evidence.map((e) => ms(e.time)).filter((t): t is number => t !== null);
    const seen = new Set(
      (evidenceTimes.length ? [...evidenceTimes, ...(firstSeen !== null ? [firstSeen] : [])] : list).map(at),
    );
    for (const b of seen) b.byCause[f.cause] = (b.byCause[f.cause] ?? 0) + 1;
  }
  return { stepMs, buckets };
}

function clockLabel(t: number, stepMs: number, rangeMs: number): string {
  const iso = new Date(t).toISOString();
  if (rangeMs > 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return stepMs >= 60_000 ? iso.slice(11, 16) : iso.slice(11, 19);
}

export function timelineSvg(report: Report, t0: number, timeline = timelineBuckets(report)): string {
  const W = 960;
  const H = 250;
  const L = 46;
  const R = 12;
  const T = 24;
  const B = 30;
  const { stepMs, buckets } = timeline;
  const open = `<svg class="timeline" id="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="Failing sessions over time, by cause">`;
  if (buckets.length === 0) {
    return `${open}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="muted">No failures to chart.</text></svg>`;
  }
  const totals = buckets.map((b) => Object.values(b.byCause).reduce((a, v) => a + (v ?? 0), 0));
  const max = Math.max(1, ...totals, ...buckets.map((b) => b.onset));
  const tick = niceTick(max);
  const top = Math.ceil(max / tick) * tick;
  const plotW = W - L - R;
  const plotH = H - T - B;
  const bw = plotW / buckets.length;
  const y = (v: number) => T + plotH - (v / top) * plotH;
  const out: string[] = [open];
  for (let v = 0; v <= top; v += tick) {
    out.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    out.push(`<text class="axis" x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  const rangeMs = buckets.length * stepMs;
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    const x = L + i * bw;
    if (i % every === 0) {
      out.push(
        `<line class="tick" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${T + plotH}" y2="${T + plotH + 4}"/>`,
      );
      out.push(
        `<text class="axis" x="${x.toFixed(1)}" y="${H - 10}" text-anchor="middle">${clockLabel(b.start, stepMs, rangeMs)}</text>`,
      );
    }
    let base = 0;
    const when = `${clockLabel(b.start, 1000, rangeMs)}–${clockLabel(b.start + stepMs, 1000, rangeMs)} UTC`;
    for (const cause of CAUSES) {
      const v = b.byCause[cause];
      if (!v) continue;
      const y1 = y(base + v);
      const h = y(base) - y1;
      base += v;
      out.push(
        `<rect class="bar" data-c="${CAUSES.indexOf(cause)}" data-a="${b.start - t0}" data-b="${b.start + stepMs - t0}" x="${(x + (bw > 4 ? 0.5 : 0)).toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(0.5, bw - (bw > 4 ? 1 : 0)).toFixed(1)}" height="${h.toFixed(1)}" fill="${CAUSE_COLOURS[cause]}"><title>${when}\n${cause}: ${v} failing session${v === 1 ? '' : 's'} (click to list)</title></rect>`,
      );
    }
  });
  // the onset line stops after the last session that started failing
  const last = buckets.reduce((k, b, i) => (b.onset ? i : k), 0);
  const points = buckets
    .slice(0, last + 1)
    .map((b, i) => `${(L + (i + 0.5) * bw).toFixed(1)},${y(b.onset).toFixed(1)}`);
  out.push(
    `<polyline class="onset-halo" points="${points.join(' ')}"/><polyline class="onset" points="${points.join(' ')}"/>`,
  );
  buckets.forEach((b, i) => {
    if (!b.onset) return;
    out.push(
      `<circle class="onset-dot" cx="${(L + (i + 0.5) * bw).toFixed(1)}" cy="${y(b.onset).toFixed(1)}" r="2.5"><title>${clockLabel(b.start, 1000, rangeMs)} UTC: ${b.onset} session${b.onset === 1 ? '' : 's'} failed for the first time</title></circle>`,
    );
  });
  const began = ms(report.summary.failuresBegan ?? null);
  if (began !== null && began >= buckets[0].start && began <= buckets[buckets.length - 1].start + stepMs) {
    const x = L + ((began - buckets[0].start) / stepMs) * bw;
    out.push(
      `<line class="began" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${T - 4}" y2="${T + plotH}"/>`,
    );
    const anchor = x > W - 140 ? 'end' : 'start';
    out.push(
      `<text class="began-label" x="${(x + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${T - 8}" text-anchor="${anchor}">failures began ${escapeHtml(clockLabel(began, 1000, rangeMs))}</text>`,
    );
  }
  out.push(`<line class="axisline" x1="${L}" x2="${W - R}" y1="${T + plotH}" y2="${T + plotH}"/>`);
  out.push('</svg>');
  return out.join('');
}

/* ------------------------------------------------------------------ page */

function stepText(stepMs: number): string {
  const s = stepMs / 1000;
  return s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

function pct(n: number, of: number): string {
  return of > 0 ? `${Math.round((n / of) * 100)}%` : '–';
}

function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return escapeHtml(iso.replace('T', ' ').replace('Z', ' UTC'));
}

function chip(cause: CauseId): string {
  return `<span class="chip" style="--c:${CAUSE_COLOURS[cause]}">${escapeHtml(cause)}</span>`;
}

function headerHtml(report: Report, opts: HtmlOptions): string {
  const s = report.summary;
  const redaction =
    opts.redacted === undefined
      ? ''
      : opts.redacted
        ? ' · <span class="ok">secrets redacted</span>'
        : ' · <span class="warn">NOT redacted: may contain secrets</span>';
  const failed = s.failedSessions;
  const healthy = s.healthySessions ?? s.sessions - failed;
  const primary = s.primaryCause;
  const verdict = s.verdict ?? (failed ? `${failed} of ${s.sessions} sessions failed.` : 'No failure found.');
  const tiles = [
    ['Failed sessions', `${failed} <small>of ${s.sessions} (${pct(failed, s.sessions)})</small>`],
    [
      'Primary cause',
      primary
        ? `${chip(primary)} <small>${s.byCause[primary] ?? 0} sessions, ${pct(s.byCause[primary] ?? 0, failed)} of failures</small>`
        : '–',
    ],
    ['Failures began', fmtTime(s.failuresBegan)],
    ['Healthy sessions', String(healthy)],
    ['Connection attempts', s.attempts === undefined ? '–' : String(s.attempts)],
  ];
  return `<header>
<h1>logdiag report</h1>
<p class="muted">${escapeHtml(report.tool.name)} ${escapeHtml(report.tool.version)} · ${report.inputs.length} input${report.inputs.length === 1 ? '' : 's'}${redaction}</p>
<section class="verdict ${failed ? 'failed' : 'healthy'}" id="verdict">
<h2>Verdict</h2>
<p class="verdict-text">${escapeHtml(verdict)}</p>
${primary ? `<p class="cause-title">${escapeHtml(CAUSE_TEXT[primary].title)}.</p>` : ''}
<div class="tiles">${tiles.map(([k, v]) => `<div class="tile"><div class="k">${k}</div><div class="v">${v}</div></div>`).join('')}</div>
</section>
</header>`;
}

function causesHtml(report: Report): string {
  const s = report.summary;
  const rows = CAUSES.filter((c) => s.byCause[c]).map((c) => {
    const n = s.byCause[c] ?? 0;
    const share = s.failedSessions ? (n / s.failedSessions) * 100 : 0;
    return `<tr><td>${chip(c)}<div class="muted small">${escapeHtml(CAUSE_TEXT[c].title)}</div></td><td class="num">${n}</td><td class="share"><span class="sharebar" style="--w:${share.toFixed(1)}%;--c:${CAUSE_COLOURS[c]}"></span>${Math.round(share)}%</td><td>${escapeHtml(CAUSE_TEXT[c].remediation)}</td><td><button class="cf" data-c="${CAUSES.indexOf(c)}">show sessions</button></td></tr>`;
  });
  if (!rows.length) return '<section id="causes"><h2>Causes</h2><p>No failed session.</p></section>';
  return `<section id="causes"><h2>Causes</h2>
<table class="causes"><thead><tr><th>cause</th><th>sessions</th><th>share of failures</th><th>what to do</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function inputsHtml(report: Report): string {
  const rows = report.inputs.map((i) => {
    const off = `${i.clockOffsetMs >= 0 ? '+' : ''}${i.clockOffsetMs} ms`;
    return `<tr><td class="mono">${escapeHtml(i.path)}</td><td>${escapeHtml(i.format)}${i.error ? ` <span class="warn">${escapeHtml(i.error)}</span>` : ''}</td><td>${escapeHtml(i.role ?? '–')}</td><td class="num">${i.lines}</td><td class="num">${i.events}</td><td class="num">${i.unparsed}</td><td class="num">${off}</td></tr>`;
  });
  return `<section id="inputs"><h2>Inputs</h2><table><thead><tr><th>input</th><th>format</th><th>role</th><th>lines</th><th>events</th><th>unparsed</th><th>clock offset</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function ruledOutHtml(report: Report): string {
  const r = report.summary.ruledOut ?? [];
  if (!r.length) return '';
  return `<section id="ruled-out"><h2>Ruled out</h2><ul>${r.map((x) => `<li><strong>${escapeHtml(x.hypothesis)}</strong>: ${escapeHtml(x.reason)}</li>`).join('')}</ul></section>`;
}

function legendHtml(report: Report): string {
  const items = CAUSES.filter((c) => report.summary.byCause[c]).map(
    (c) =>
      `<span class="legend-item"><span class="swatch" style="--c:${CAUSE_COLOURS[c]}"></span>${escapeHtml(c)}</span>`,
  );
  items.push(
    '<span class="legend-item"><span class="swatch line"></span>sessions failing for the first time</span>',
  );
  return `<div class="legend">${items.join('')}</div>`;
}

function sessionsHtml(report: Report): string {
  const s = report.summary;
  const options = CAUSES.filter((c) => s.byCause[c]).map(
    (c) => `<option value="${CAUSES.indexOf(c)}">${escapeHtml(c)} (${s.byCause[c]})</option>`,
  );
  return `<section id="sessions"><h2>Failed sessions</h2>
<div class="filters">
<input id="q" type="search" placeholder="Search user, Call-ID, IP, request id or log text" aria-label="search sessions" autocomplete="off">
<select id="cause" aria-label="filter by cause"><option value="">all causes (${report.findings.length})</option>${options.join('')}</select>
<span id="window" class="window" hidden><span id="window-text"></span> <button id="window-clear" aria-label="clear time filter">×</button></span>
<span id="count" class="muted"></span>
</div>
<div class="split">
<div class="listwrap"><ul id="list" class="list"></ul><button id="more" hidden>show more</button></div>
<div id="detail" class="detail"><p class="muted">Pick a session to see its ladder diagram and evidence.</p></div>
</div>
<noscript><p class="warn">The session list needs JavaScript; --format markdown or json has every finding.</p></noscript>
</section>`;
}

const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--bad:#c0392b;--ok:#1e8449;--info:#475467}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 0}h2{font-size:17px;margin:0 0 10px}h3{font-size:16px;margin:0}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:14px 0}
.muted{color:var(--muted)}.small{font-size:12px}.mono,pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.warn{color:var(--bad);font-weight:600}.ok{color:var(--ok)}
.verdict.failed{border-left:6px solid var(--bad)}.verdict.healthy{border-left:6px solid var(--ok)}
.verdict-text{font-size:17px;font-weight:600;margin:0 0 4px}.cause-title{margin:0 0 10px;color:var(--muted)}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{flex:1 1 170px;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.tile .k{font-size:12px;color:var(--muted)}.tile .v{font-size:17px;font-weight:600}.tile small{font-weight:400;color:var(--muted);font-size:12px}
.chip{display:inline-block;padding:1px 8px;border-radius:10px;background:var(--c);color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.share{white-space:nowrap;width:150px}.sharebar{display:inline-block;height:10px;width:calc(var(--w) * .8);background:var(--c);border-radius:2px;margin-right:6px;vertical-align:middle}
button{font:inherit;font-size:12px;border:1px solid var(--line);background:#fff;border-radius:5px;padding:3px 8px;cursor:pointer}button:hover{background:#eef2f7}
.timeline{width:100%;height:auto;display:block}.timeline .grid{stroke:#eef0f3}.timeline .axisline,.timeline .tick{stroke:#98a2b3}
.timeline .axis{font-size:11px;fill:var(--muted)}.timeline .bar{cursor:pointer}.timeline .bar:hover{opacity:.75}
.timeline .onset{fill:none;stroke:#1d2330;stroke-width:1.6}.timeline .onset-halo{fill:none;stroke:#fff;stroke-width:4;opacity:.85}.timeline .onset-dot{fill:#1d2330}
.timeline .began{stroke:var(--bad);stroke-dasharray:4 3}.timeline .began-label{font-size:11px;fill:var(--bad)}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin-top:6px;font-size:12px}.swatch{display:inline-block;width:11px;height:11px;border-radius:2px;background:var(--c);margin-right:5px;vertical-align:-1px}
.swatch.line{height:2px;background:#1d2330;vertical-align:3px}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:10px}
#q{flex:1 1 320px;padding:6px 9px;border:1px solid #cfd4dc;border-radius:6px;font:inherit}select{padding:5px;border:1px solid #cfd4dc;border-radius:6px;font:inherit}
.window{background:#fff3c4;border-radius:6px;padding:2px 6px}
.split{display:grid;grid-template-columns:minmax(280px,2fr) 3fr;gap:14px}@media (max-width:900px){.split{grid-template-columns:1fr}}
.listwrap{max-height:78vh;overflow:auto;border:1px solid var(--line);border-radius:6px}
.list{list-style:none;margin:0;padding:0}.list li{border-bottom:1px solid var(--line)}
.row{display:block;width:100%;text-align:left;border:0;border-radius:0;padding:7px 10px;background:#fff}.row:hover{background:#f2f5f9}.row.sel{background:#e8f0fe}
.row .who{font-weight:600;margin:0 6px}.row .why{display:block;color:var(--muted);font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.detail{min-width:0}.detail .meta{color:var(--muted);font-size:12px;margin:4px 0 8px}.detail p{margin:6px 0}
.keys{font-size:12px;color:var(--muted);word-break:break-all}
.ladder{width:100%;height:auto;display:block;margin:10px 0;border:1px solid var(--line);border-radius:6px;background:#fcfcfd}
.ladder .lifeline{stroke:#c4cad4;stroke-dasharray:3 3}.ladder .head rect{fill:#1d2330}.ladder .head text{fill:#fff;font-size:12px;font-weight:600}
.ladder text{font-size:11px}.ladder .t{fill:var(--muted);font-family:ui-monospace,Menlo,Consolas,monospace;font-size:10.5px}.ladder .loc{fill:#3563c9;font-size:10px}
.ladder .step{cursor:pointer;outline:none}.ladder .step:focus-visible .hit{stroke:#3563c9}.ladder .step .hit{fill:transparent}.ladder .step:hover .hit{fill:#f2f5f9}.ladder .step.sel .hit{fill:#fff3c4}
.ladder .arrow{stroke-width:1.6}.tone-0{stroke:var(--info);fill:var(--info)}.tone-1{stroke:var(--ok);fill:var(--ok)}.tone-2{stroke:var(--bad);fill:var(--bad)}
.ladder .label{stroke:none}.ladder .note{fill:#fff;stroke-width:1.2}
.pick{border:1px solid var(--line);border-left:4px solid #3563c9;border-radius:6px;padding:6px 10px;background:#fbfcff}
pre{white-space:pre-wrap;word-break:break-all;margin:4px 0 0}
.evidence{padding-left:22px}.evidence li{padding:4px 6px;border-radius:4px}.evidence li.sel{background:#fff3c4}.evidence .loc{font-size:12px;color:var(--muted)}
a{color:#3563c9}
`;

/** The page script: filters, list, lazy session details and ladders. No template literals, no "</script". */
const SCRIPT = `(function () {
'use strict';
var D = JSON.parse(document.getElementById('logdiag-data').textContent);
var S = D.sessions, COLOURS = JSON.parse(document.getElementById('logdiag-colours').textContent);
var ROLE_NAMES = ['Client', 'LB', 'SBC'], ROLE_IDS = ['client', 'lb', 'sbc'];
var SVG = 'http://www.w3.org/2000/svg';
var $ = function (id) { return document.getElementById(id); };
function el(tag, attrs, kids, ns) {
  var e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
  (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}
function svg(tag, attrs, kids) { return el(tag, attrs, kids, SVG); }
function iso(rel) { return new Date(D.t0 + rel).toISOString(); }
function clock(rel) { return rel === null ? '--:--:--' : iso(rel).slice(11, 23); }
function base(p) { return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\\\')) + 1); }
function causeChip(c) { var s = el('span', { 'class': 'chip' }, [D.causes[c]]); s.style.setProperty('--c', COLOURS[D.causes[c]]); return s; }

var state = { q: '', cause: '', a: null, b: null, limit: 200, cur: -1 };
var hay = [];
function haystack(i) {
  if (hay[i] === undefined) {
    var s = S[i];
    hay[i] = [s.id, s.u, s.k, D.text[s.x]].concat(s.e.map(function (r) { return r[4]; })).join('\\n').toLowerCase();
  }
  return hay[i];
}
function inWindow(s) {
  if (state.a === null) return true;
  if (s.f >= state.a && s.f < state.b) return true;
  return s.e.some(function (r) { return r[3] !== null && r[3] >= state.a && r[3] < state.b; });
}
function matching() {
  var out = [], words = state.q.toLowerCase().split(/\\s+/).filter(Boolean);
  for (var i = 0; i < S.length; i++) {
    if (state.cause !== '' && String(S[i].c) !== state.cause) continue;
    if (!inWindow(S[i])) continue;
    var h = words.length ? haystack(i) : '';
    if (words.every(function (w) { return h.indexOf(w) >= 0; })) out.push(i);
  }
  return out;
}
function renderList() {
  var idx = matching(), list = $('list');
  list.textContent = '';
  idx.slice(0, state.limit).forEach(function (i) {
    var s = S[i];
    var b = el('button', { 'class': 'row' + (i === state.cur ? ' sel' : ''), 'data-i': i, type: 'button' }, [
      causeChip(s.c), el('span', { 'class': 'who' }, [s.u]),
      el('span', { 'class': 'muted small' }, [clock(s.f).slice(0, 8) + (s.a ? ' · ' + s.a + ' attempt' + (s.a === 1 ? '' : 's') : '')]),
      el('span', { 'class': 'why' }, [D.text[s.x]])
    ]);
    list.appendChild(el('li', {}, [b]));
  });
  $('count').textContent = idx.length + ' of ' + S.length + ' sessions' + (idx.length > state.limit ? ', first ' + state.limit + ' shown' : '');
  var more = $('more');
  more.hidden = idx.length <= state.limit;
  more.textContent = 'show ' + Math.min(200, idx.length - state.limit) + ' more';
}

function ladder(i) {
  var s = S[i];
  var order = s.e.map(function (r, j) { return j; }).sort(function (x, y) {
    var tx = s.e[x][3], ty = s.e[y][3];
    if (tx === null || ty === null) return (tx === null) - (ty === null) || x - y;
    return tx - ty || x - y;
  });
  var W = 820, X = [180, 400, 620], TOP = 46, ROW = 32, H = TOP + order.length * ROW + 12;
  var root = svg('svg', { 'class': 'ladder', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'ladder diagram of ' + s.u });
  var defs = svg('defs');
  [0, 1, 2].forEach(function (t) {
    defs.appendChild(svg('marker', { id: 'ah-' + t, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
      [svg('path', { d: 'M0,0 L10,5 L0,10 z', 'class': 'tone-' + t })]));
  });
  root.appendChild(defs);
  X.forEach(function (x, k) {
    root.appendChild(svg('line', { 'class': 'lifeline', x1: x, x2: x, y1: 30, y2: H - 6 }));
    var label = k === 0 ? 'Client ' + s.u : ROLE_NAMES[k];
    if (label.length > 24) label = label.slice(0, 23) + '…';
    var w = Math.max(60, label.length * 7 + 16);
    root.appendChild(svg('g', { 'class': 'head' }, [
      svg('rect', { x: x - w / 2, y: 6, width: w, height: 24, rx: 4 }),
      svg('text', { x: x, y: 22, 'text-anchor': 'middle' }, [label])
    ]));
  });
  var prev = null;
  order.forEach(function (j, n) {
    var r = s.e[j], y = TOP + n * ROW, from = X[r[5]], to = X[r[6]], tone = r[8];
    var g = svg('g', { 'class': 'step', id: 'step-' + i + '-' + j, 'data-j': j, tabindex: 0, role: 'button',
      'aria-label': D.paths[r[0]] + ':' + r[1] + ' ' + r[7] });
    g.appendChild(svg('title', {}, [D.paths[r[0]] + ':' + r[1] + ' [' + ROLE_IDS[r[2]] + ']\\n' + r[4]]));
    g.appendChild(svg('rect', { 'class': 'hit', x: 0, y: y, width: W, height: ROW }));
    g.appendChild(svg('text', { 'class': 't', x: 6, y: y + 14 }, [clock(r[3])]));
    if (prev !== null && r[3] !== null) {
      var d = (r[3] - prev) / 1000;
      g.appendChild(svg('text', { 'class': 't', x: 6, y: y + 26 }, ['+' + (d < 10 ? d.toFixed(3) : d.toFixed(1)) + ' s']));
    }
    if (r[3] !== null) prev = r[3];
    if (from !== to) {
      var dir = to > from ? 1 : -1;
      g.appendChild(svg('line', { 'class': 'arrow tone-' + tone, x1: from + dir * 4, x2: to - dir * 4, y1: y + 22, y2: y + 22, 'marker-end': 'url(#ah-' + tone + ')' }));
      g.appendChild(svg('text', { 'class': 'label tone-' + tone, x: (from + to) / 2, y: y + 17, 'text-anchor': 'middle' }, [r[7]]));
    } else {
      var w = Math.min(250, r[7].length * 6.2 + 16);
      g.appendChild(svg('rect', { 'class': 'note tone-' + tone, x: from - w / 2, y: y + 7, width: w, height: 20, rx: 3 }));
      g.appendChild(svg('text', { 'class': 'label tone-' + tone, x: from, y: y + 21, 'text-anchor': 'middle' }, [r[7]]));
    }
    g.appendChild(svg('text', { 'class': 'loc', x: W - 6, y: y + 21, 'text-anchor': 'end' }, [base(D.paths[r[0]]) + ':' + r[1]]));
    root.appendChild(g);
  });
  return root;
}

function showDetail(i) {
  var s = S[i], box = $('detail');
  box.textContent = '';
  var keys = [];
  if (s.id !== s.u) keys.push('session ' + s.id);
  if (s.k) keys.push(s.k.split(' ').slice(0, 6).join(' ') + (s.k.split(' ').length > 6 ? ' …' : ''));
  box.appendChild(el('h3', {}, [s.u + ' ', causeChip(s.c)]));
  box.appendChild(el('div', { 'class': 'meta' }, [
    iso(s.f).replace('T', ' ').slice(0, 23) + ' → ' + iso(s.l).slice(11, 23) + ' UTC · confidence ' + s.conf + (s.a ? ' · ' + s.a + ' attempt' + (s.a === 1 ? '' : 's') : '')
  ]));
  box.appendChild(el('p', {}, [D.text[s.x]]));
  box.appendChild(el('p', { 'class': 'small' }, [el('strong', {}, ['What to do: ']), D.text[s.r]]));
  if (keys.length) box.appendChild(el('div', { 'class': 'keys mono' }, [keys.join(' · ')]));
  box.appendChild(ladder(i));
  box.appendChild(el('div', { id: 'pick', 'class': 'pick muted small' }, ['Click an arrow or note to see its log line.']));
  var ol = el('ol', { 'class': 'evidence' });
  s.e.forEach(function (r, j) {
    ol.appendChild(el('li', { id: 'e-' + i + '-' + j, 'data-j': j }, [
      el('a', { 'class': 'loc mono', href: '#e-' + i + '-' + j }, [D.paths[r[0]] + ':' + r[1]]),
      el('span', { 'class': 'loc' }, [' [' + ROLE_IDS[r[2]] + '] ' + (r[3] === null ? '' : clock(r[3]))]),
      el('pre', {}, [r[4]])
    ]));
  });
  box.appendChild(el('h4', {}, ['Evidence']));
  box.appendChild(ol);
}

function pick(i, j, scroll) {
  var r = S[i].e[j];
  document.querySelectorAll('.step.sel, .evidence li.sel').forEach(function (n) { n.classList.remove('sel'); });
  var st = $('step-' + i + '-' + j), li = $('e-' + i + '-' + j);
  if (st) st.classList.add('sel');
  if (li) li.classList.add('sel');
  var p = $('pick');
  p.textContent = '';
  p.className = 'pick';
  p.appendChild(el('a', { 'class': 'mono', href: '#e-' + i + '-' + j }, [D.paths[r[0]] + ':' + r[1]]));
  p.appendChild(el('span', { 'class': 'muted small' }, [' [' + ROLE_IDS[r[2]] + '] ' + (r[3] === null ? '' : iso(r[3]))]));
  p.appendChild(el('pre', {}, [r[4]]));
  history.replaceState(null, '', '#e-' + i + '-' + j);
  if (scroll && li) li.scrollIntoView({ block: 'nearest' });
}

function select(i, scroll) {
  if (!(i >= 0 && i < S.length)) return;
  state.cur = i;
  document.querySelectorAll('.row.sel').forEach(function (n) { n.classList.remove('sel'); });
  var row = document.querySelector('.row[data-i="' + i + '"]');
  if (row) row.classList.add('sel');
  showDetail(i);
  if (scroll) $('detail').scrollIntoView({ block: 'start' });
}

function fromHash() {
  var m = /^#(?:s-(\\d+)|e-(\\d+)-(\\d+))$/.exec(location.hash);
  if (!m) return;
  var i = Number(m[1] || m[2]);
  if (!S[i]) return;
  select(i, true);
  if (m[3] !== undefined && S[i].e[Number(m[3])]) pick(i, Number(m[3]), true);
}

var timer = 0;
$('q').addEventListener('input', function () {
  clearTimeout(timer);
  timer = setTimeout(function () { state.q = $('q').value; state.limit = 200; renderList(); }, 80);
});
$('cause').addEventListener('change', function () { state.cause = $('cause').value; state.limit = 200; renderList(); });
$('more').addEventListener('click', function () { state.limit += 200; renderList(); });
$('list').addEventListener('click', function (ev) {
  var b = ev.target.closest('.row');
  if (!b) return;
  var i = Number(b.getAttribute('data-i'));
  history.replaceState(null, '', '#s-' + i);
  select(i, false);
});
$('detail').addEventListener('click', function (ev) {
  var g = ev.target.closest('.step, .evidence li');
  if (!g || state.cur < 0) return;
  if (ev.target.closest('a')) ev.preventDefault();
  pick(state.cur, Number(g.getAttribute('data-j')), !!g.closest('.step'));
});
$('detail').addEventListener('keydown', function (ev) {
  var g = ev.target.closest && ev.target.closest('.step');
  if (g && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); pick(state.cur, Number(g.getAttribute('data-j')), true); }
});
function setCause(c) {
  $('cause').value = c; state.cause = c; state.limit = 200; renderList();
}
document.querySelectorAll('.cf').forEach(function (b) {
  b.addEventListener('click', function () { setCause(b.getAttribute('data-c')); $('sessions').scrollIntoView({ block: 'start' }); });
});
document.querySelectorAll('#timeline .bar').forEach(function (r) {
  r.addEventListener('click', function () {
    state.a = Number(r.getAttribute('data-a')); state.b = Number(r.getAttribute('data-b'));
    $('window-text').textContent = 'time ' + clock(state.a).slice(0, 8) + '–' + clock(state.b).slice(0, 8) + ' UTC';
    $('window').hidden = false;
    setCause(r.getAttribute('data-c'));
    $('sessions').scrollIntoView({ block: 'start' });
  });
});
$('window-clear').addEventListener('click', function () { state.a = state.b = null; $('window').hidden = true; renderList(); });
window.addEventListener('hashchange', fromHash);
renderList();
fromHash();
})();`;

export function renderHtml(report: Report, opts: HtmlOptions = {}): string {
  const data = buildData(report);
  const timeline = timelineBuckets(report);
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  const s = report.summary;
  const title = s.failedSessions
    ? `logdiag: ${s.failedSessions} of ${s.sessions} sessions failed${s.primaryCause ? `, mostly ${s.primaryCause}` : ''}`
    : 'logdiag: no failure found';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(`${report.tool.name} ${report.tool.version}`)}">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${headerHtml(report, opts)}
<section id="timeline-section"><h2>Timeline</h2>
<p class="muted small">Failing sessions per ${stepText(timeline.stepMs)} (UTC, clock-corrected), stacked by cause, from each session's evidence lines; the line marks sessions failing for the first time. Click a bar to list its sessions.</p>
${timelineSvg(report, data.t0, timeline)}
${legendHtml(report)}
</section>
${causesHtml(report)}
${sessionsHtml(report)}
${inputsHtml(report)}
${ruledOutHtml(report)}
</main>
<script type="application/json" id="logdiag-data">${jsonForScript(data)}</script>
<script type="application/json" id="logdiag-colours">${jsonForScript(CAUSE_COLOURS)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
