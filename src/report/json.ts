import type { Report } from '../model.js';

/** The JSON contract (schemaVersion 1): one object, stable field names. */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
