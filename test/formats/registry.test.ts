/**
 * Walks the format registry: every format's own sample lines (real lines, sources cited in each
 * format file) parse, and detection names that format for them. The peer corpus (real files from
 * other projects' test suites, ../shared/peer-corpus/MANIFEST.md) is detected as its family.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/formats/detect.js';
import { FORMATS } from '../../src/formats/index.js';
import { utcContext } from '../../src/formats/time.js';
import type { LogEvent } from '../../src/model.js';

describe('format registry', () => {
  it('has unique names and at least two cited samples per format', () => {
    expect(new Set(FORMATS.map((f) => f.name)).size).toBe(FORMATS.length);
    for (const f of FORMATS) {
      expect(f.samples.length, f.name).toBeGreaterThanOrEqual(2);
      for (const s of f.samples) expect(s.source.length, `${f.name}: ${s.line}`).toBeGreaterThan(5);
    }
  });

  for (const format of FORMATS) {
    it(`${format.name}: every sample parses into an event`, () => {
      for (const sample of format.samples) {
        const parser = format.createParser(utcContext(2026));
        const events: LogEvent[] = [];
        const outcome = parser.push(sample.line, 1, (e) => events.push(e));
        parser.end((e) => events.push(e));
        expect(outcome, sample.line).not.toBe('unparsed');
        if (outcome === 'event') expect(events.length, sample.line).toBeGreaterThan(0);
      }
    });

    it(`${format.name}: detection names it for its own samples (no confusion)`, () => {
      const d = detectFormat(
        format.samples.map((s) => s.line),
        FORMATS,
      );
      expect(d.format?.name).toBe(format.name);
    });
  }
});

const CORPUS = new URL('../../../shared/peer-corpus/', import.meta.url);

describe.skipIf(!existsSync(CORPUS))('peer corpus (real files from lnav and Wireshark test suites)', () => {
  const detect = (name: string) =>
    detectFormat(readFileSync(new URL(name, CORPUS), 'utf8').split('\n'), FORMATS);

  it('detects lnav’s access log as nginx-access', () => {
    expect(detect('lnav-access.log').format?.name).toBe('nginx-access');
  });

  it('detects lnav’s HAProxy log as haproxy', () => {
    expect(detect('lnav-haproxy.log').format?.name).toBe('haproxy');
  });

  it('does not take ordinary syslog for a SIP server', () => {
    expect(detect('lnav-syslog.log').format?.role).not.toBe('sbc');
  });
});
