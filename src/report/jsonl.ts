/**
 * JSON Lines: one finding per line (the `Finding` shape of the JSON report), for grep, jq and log
 * pipelines. A report without findings is empty.
 */
import type { Report } from '../model.js';

/**
 * JSON.stringify escapes every character below U+0020, so no finding can span two lines; U+0085,
 * U+2028 and U+2029 are escaped too, because some line splitters (Python's splitlines) break on them.
 */
export function renderJsonl(report: Report): string {
  return report.findings
    .map(
      (f) =>
        `${JSON.stringify(f).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`,
    )
    .join('');
}
