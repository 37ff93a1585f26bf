/**
 * Reporters by `--format` name; the CLI takes its choices from this map.
 */
import type { Report } from '../model.js';
import { renderJson } from './json.js';
import { renderTable } from './table.js';

export interface RenderOptions {
  color: boolean;
  verbose?: boolean;
}

export const REPORTERS = {
  table: (report: Report, opts: RenderOptions) => renderTable(report, opts),
  json: (report: Report) => renderJson(report),
} satisfies Record<string, (report: Report, opts: RenderOptions) => string>;

export type ReporterName = keyof typeof REPORTERS;
