import { describe, expect, it } from 'vitest';
import { renderJsonl } from '../../src/report/jsonl.js';
import { hostileReport, sampleReport } from './fixture.js';

describe('renderJsonl', () => {
  it('writes one finding per line, each the JSON report finding', () => {
    const report = sampleReport();
    const out = renderJsonl(report);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(report.findings.length);
    expect(lines.map((l) => JSON.parse(l))).toEqual(report.findings);
  });

  it('never lets a finding span lines, even with newlines and line separators in the text', () => {
    const report = hostileReport();
    report.findings[0].evidence[0].text = 'a\nb\r\nc\u2028d\u2029e\u0085f';
    const out = renderJsonl(report);
    expect(out).not.toMatch(/[\u2028\u2029\u0085\r]/);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(report.findings.length);
    expect(JSON.parse(lines[0]).evidence[0].text).toBe('a\nb\r\nc\u2028d\u2029e\u0085f');
    // Python's str.splitlines() would split on these too
    expect(out.trimEnd().split(/\r\n|[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/)).toHaveLength(
      report.findings.length,
    );
  });

  it('is empty when nothing failed', () => {
    const report = sampleReport();
    report.findings = [];
    expect(renderJsonl(report)).toBe('');
  });
});
