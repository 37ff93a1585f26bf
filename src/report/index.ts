/**
 * Reporters by `--format` name; the CLI takes its choices from this map.
 * Reporters are pure: they print the report they are given. Redaction happens before
 * (`redactReport` in ./redact.ts), so every format shows the same pseudonyms.
 */
import type { Report } from '../model.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJsonl } from './jsonl.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color: boolean;
  verbose?: boolean;
  /** secrets were redacted (true) or redaction was turned off (false); stated in markdown and html */
  redacted?: boolean;
}

export const REPORTERS = {
  table: (report: Report, opts: RenderOptions) => renderTable(report, opts),
  json: (report: Report) => renderJson(report),
  jsonl: (report: Report) => renderJsonl(report),
  markdown: (report: Report, opts: RenderOptions) => renderMarkdown(report, { redacted: opts.redacted }),
  html: (report: Report, opts: RenderOptions) => renderHtml(report, { redacted: opts.redacted }),
  junit: (report: Report) => renderJunit(report),
} satisfies Record<string, (report: Report, opts: RenderOptions) => string>;

export type ReporterName = keyof typeof REPORTERS;
