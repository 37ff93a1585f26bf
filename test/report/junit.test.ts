import { describe, expect, it } from 'vitest';
import { escapeXml, renderJunit } from '../../src/report/junit.js';
import { hostileReport, sampleReport } from './fixture.js';

/** A small XML 1.0 well-formedness check: balanced tags, quoted attributes, no stray < or &, legal characters. */
function checkXml(xml: string): {
  root: string;
  elements: { name: string; attrs: Record<string, string>; text: string }[];
} {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
  const body = xml.slice(xml.indexOf('?>') + 2);
  const stack: { name: string; attrs: Record<string, string>; text: string }[] = [];
  const elements: { name: string; attrs: Record<string, string>; text: string }[] = [];
  let root = '';
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < body.length && (m = token.exec(body))) {
    pos = token.lastIndex;
    const [, close, name, attrText, selfClose, text] = m;
    if (text !== undefined) {
      expect(text.replace(/&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, '')).not.toMatch(/[&<>]/);
      if (stack.length) stack[stack.length - 1].text += text;
      else expect(text.trim()).toBe('');
      continue;
    }
    if (close) {
      expect(stack.pop()?.name, `closing ${name}`).toBe(name);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      expect(attrs[a[1]], `duplicate attribute ${a[1]}`).toBeUndefined();
      expect(a[2].replace(/&(?:amp|lt|gt|quot|apos|#\d+);/g, '')).not.toMatch(/[&<]/);
      attrs[a[1]] = a[2];
    }
    const el = { name, attrs, text: '' };
    elements.push(el);
    if (!root) root = name;
    else expect(stack.length, `second root ${name}`).toBeGreaterThan(0);
    if (!selfClose) stack.push(el);
  }
  expect(pos, `unparsed XML at ${body.slice(pos, pos + 60)}`).toBe(body.length);
  expect(stack).toHaveLength(0);
  return { root, elements };
}

const unescape = (s: string) =>
  s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

describe('renderJunit', () => {
  it('is valid JUnit XML: one failed testcase per finding, healthy sessions as one passing testcase', () => {
    const report = sampleReport();
    const { root, elements } = checkXml(renderJunit(report));
    expect(root).toBe('testsuites');
    const suites = elements.filter((e) => e.name === 'testsuite');
    expect(suites).toHaveLength(1);
    const cases = elements.filter((e) => e.name === 'testcase');
    const failures = elements.filter((e) => e.name === 'failure');
    expect(cases).toHaveLength(report.findings.length + 1);
    expect(failures).toHaveLength(report.findings.length);
    expect(suites[0].attrs).toMatchObject({
      tests: String(cases.length),
      failures: String(failures.length),
      errors: '0',
      skipped: '0',
    });
    expect(elements[0].attrs).toMatchObject({
      tests: String(cases.length),
      failures: String(failures.length),
    });
    const healthy = cases.at(-1)!;
    expect(healthy.attrs.name).toBe('healthy sessions (38 of 80)');
    expect(healthy.attrs.classname).toBe('logdiag.healthy');
    expect(new Set(cases.map((c) => c.attrs.name)).size).toBe(cases.length);
  });

  it('gives each failure the cause as type, the explanation as message and the evidence in the body', () => {
    const report = sampleReport();
    const { elements } = checkXml(renderJunit(report));
    const failures = elements.filter((e) => e.name === 'failure');
    report.findings.forEach((f, i) => {
      expect(failures[i].attrs.type).toBe(f.cause);
      expect(unescape(failures[i].attrs.message)).toBe(f.explanation);
      const body = unescape(failures[i].text);
      expect(body).toContain(f.explanation);
      expect(body).toContain(`What to do: ${f.remediation}`);
      for (const e of f.evidence) {
        expect(body).toContain(`${e.path}:${e.line} [${e.role}]`);
        expect(body).toContain(e.text.split('\n')[0]);
      }
    });
    const properties = elements.filter((e) => e.name === 'property');
    expect(properties.find((p) => p.attrs.name === 'primaryCause')?.attrs.value).toBe('sbc-throttling');
  });

  it('stays well-formed with hostile log text', () => {
    const xml = renderJunit(hostileReport());
    const { elements } = checkXml(xml);
    expect(xml).toContain('\\x1b[2J');
    expect(xml).toContain('&lt;script&gt;');
    expect(xml).not.toContain('<script>');
    const failure = elements.find((e) => e.name === 'failure' && e.text.includes('odd|name'))!;
    expect(unescape(failure.text)).toContain(']]> & &amp;');
  });

  it('writes one passing testcase when nothing failed (never an empty suite)', () => {
    const report = sampleReport();
    report.findings = [];
    report.summary = { sessions: 0, failedSessions: 0, byCause: {}, primaryCause: null };
    const { elements } = checkXml(renderJunit(report));
    expect(elements.filter((e) => e.name === 'testcase')).toHaveLength(1);
    expect(elements.filter((e) => e.name === 'failure')).toHaveLength(0);
  });

  it('escapes XML and drops characters XML cannot carry', () => {
    expect(escapeXml('a<b>&"\'\u0001\ud800')).toBe('a&lt;b&gt;&amp;"\'\\x01\\ud800');
    expect(escapeXml('a"\n', true)).toBe('a&quot;&#10;');
  });
});
