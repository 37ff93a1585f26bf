import { describe, expect, it } from 'vitest';
import { renderMarkdown, strongestByCause } from '../../src/report/markdown.js';
import { hostileReport, sampleReport } from './fixture.js';

describe('renderMarkdown', () => {
  const report = sampleReport();
  const md = renderMarkdown(report, { redacted: true });

  it('puts the verdict first: primary cause, share of sessions, when failures began', () => {
    const lines = md.split('\n');
    expect(lines[0]).toBe('# logdiag: 42 of 80 sessions failed');
    expect(lines[2]).toMatch(/^> \*\*Verdict:\*\* 42 of 80 sessions failed; primary cause sbc-throttling/);
    expect(md).toContain(
      '- **Primary cause:** `sbc-throttling`: The SBC refused (flood, rate or capacity protection). 12 sessions, 29% of failed sessions (15% of all sessions)',
    );
    expect(md).toContain(
      `- **Failures began:** ${report.summary.failuresBegan!.replace('T', ' ').replace('Z', ' UTC')}`,
    );
    expect(md.indexOf('Verdict')).toBeLessThan(md.indexOf('## Causes'));
    expect(md.indexOf('## Causes')).toBeLessThan(md.indexOf('## Evidence'));
  });

  it('has a table by cause with counts, shares and remediation', () => {
    expect(md).toContain('| Cause | Sessions | Share of failures | First seen | What to do |');
    expect(md).toMatch(
      /\| `edge-rate-limit` The load balancer \/ edge refused before the SBC \(rate or connection limit\) \| 9 \| 21% \| [^|]+ \| Raise the edge limit/,
    );
    const rows = md.split('\n').filter((l) => /^\| `[a-z-]+` /.test(l));
    expect(rows).toHaveLength(7);
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(7);
  });

  it('shows the strongest evidence of each cause with path:line and the line', () => {
    const best = strongestByCause(report);
    expect(best.size).toBe(7);
    for (const f of best.values()) {
      expect(md).toContain(`${f.evidence[0].path}:${f.evidence[0].line} [${f.evidence[0].role}]`);
      expect(md).toContain(f.evidence[0].text.split('\n')[0]);
    }
    expect(md).toMatch(/Also 11 more sessions with this cause: agent-\d+/);
  });

  it('lists each input with its format and clock offset, and what was ruled out with the reason', () => {
    expect(md).toContain('| `logs/client.log` | jssip | client | 9000 | 1200 | 2 | +743 ms |');
    expect(md).toContain('| `logs/lb.log` | nginx-access | lb | 104 | 104 | 0 | -769 ms |');
    expect(md).toContain('## Ruled out');
    expect(md).toContain(
      '- **the custom header X-Genesys-KeepAlive broke the handshake**: it was set on 41 sessions and 29 of them are healthy',
    );
    expect(md).toContain('Secrets in log lines are replaced by pseudonyms');
  });

  it('says when nothing failed', () => {
    const clean = sampleReport();
    clean.findings = [];
    clean.summary = {
      sessions: 10,
      failedSessions: 0,
      byCause: {},
      primaryCause: null,
      verdict: 'No failure found.',
    };
    const out = renderMarkdown(clean);
    expect(out.split('\n')[0]).toBe('# logdiag: no failure found');
    expect(out).not.toContain('## Causes');
    expect(out).toContain('## Inputs');
  });

  it('keeps hostile log text inert: HTML escaped in prose, fences longer than any backticks, no control characters', () => {
    const out = renderMarkdown(hostileReport());
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(out).toContain('Odd text \\<b\\>bold\\</b\\> \\| pipe \\`tick\\` \\\\x1b\\[31m');
    // the evidence block of the hostile session is fenced with more backticks than it contains
    const block = out.slice(out.indexOf('logs/odd|name`.log:9000') - 200);
    const fence = /(`{4,})text\n/.exec(block);
    expect(fence).not.toBeNull();
    expect(block).toContain('\\x1b[2J\\x1b[31mred');
    expect(block).toContain('<script>window.__xss = 1</script>');
  });
});
