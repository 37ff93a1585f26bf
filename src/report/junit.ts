/**
 * JUnit XML for CI: every failed session is a failed test case (failure type = cause, message =
 * explanation, body = explanation, what to do and the evidence lines); the healthy sessions are one
 * aggregated passing test case, so the CI summary reads "N failed" with the session count beside it.
 */
import type { Finding, Report } from '../model.js';

/** Characters XML 1.0 cannot carry at all, even escaped; shown as \xNN / \uNNNN instead. */
const XML_INVALID =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function escapeXml(text: string, attribute = false): string {
  const clean = text.replace(XML_INVALID, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  const out = clean.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return attribute
    ? out
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&apos;')
        .replace(/\n/g, '&#10;')
        .replace(/\r/g, '&#13;')
        .replace(/\t/g, '&#9;')
    : out;
}

const attr = (text: string | number) => escapeXml(String(text), true);

function failureBody(f: Finding): string {
  const lines = [
    f.explanation,
    '',
    `What to do: ${f.remediation}`,
    '',
    `session ${f.session} · confidence ${f.confidence} · ${f.firstSeen} → ${f.lastSeen}${f.attempts ? ` · ${f.attempts} attempts` : ''}`,
    '',
    'Evidence:',
    ...f.evidence.map(
      (e) =>
        `${e.path}:${e.line} [${e.role}]${e.time ? ` ${e.time}` : ''}\n    ${e.text.replace(/\n/g, '\n    ')}`,
    ),
  ];
  return escapeXml(lines.join('\n'));
}

function testName(f: Finding): string {
  const users = f.keys.user?.join(', ');
  return users && `user:${users}` !== f.session ? `${users} (${f.session})` : f.session;
}

export function renderJunit(report: Report): string {
  const s = report.summary;
  const healthy = s.healthySessions ?? Math.max(0, s.sessions - s.failedSessions);
  const cases: string[] = report.findings.map(
    (f) =>
      `    <testcase classname="logdiag.${attr(f.cause)}" name="${attr(testName(f))}" time="0">\n` +
      `      <failure type="${attr(f.cause)}" message="${attr(f.explanation)}">${failureBody(f)}</failure>\n` +
      `    </testcase>`,
  );
  // the healthy sessions, aggregated; also present when nothing was found so the suite is never empty
  if (healthy > 0 || cases.length === 0) {
    cases.push(
      `    <testcase classname="logdiag.healthy" name="${attr(`healthy sessions (${healthy} of ${s.sessions})`)}" time="0">\n` +
        `      <system-out>${escapeXml(`${healthy} session${healthy === 1 ? '' : 's'} connected without a failure.`)}</system-out>\n` +
        `    </testcase>`,
    );
  }
  const failures = report.findings.length;
  const props: [string, string | number][] = [
    ['sessions', s.sessions],
    ['failedSessions', s.failedSessions],
    ['healthySessions', healthy],
    ['primaryCause', s.primaryCause ?? 'none'],
    ...(s.failuresBegan ? [['failuresBegan', s.failuresBegan] as [string, string]] : []),
    ...(s.attempts !== undefined ? [['attempts', s.attempts] as [string, number]] : []),
    ...Object.entries(s.byCause).map(([c, n]) => [`byCause.${c}`, n ?? 0] as [string, number]),
  ];
  const timestamp = report.findings.map((f) => f.firstSeen).sort()[0];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="logdiag" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="0">`,
    `  <testsuite name="logdiag sessions" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="0"${timestamp && /^\d{4}-\d\d-\d\dT/.test(timestamp) ? ` timestamp="${attr(timestamp.replace(/\.\d+Z$|Z$/, ''))}"` : ''}>`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`),
    '    </properties>',
    ...cases,
    s.verdict ? `    <system-out>${escapeXml(s.verdict)}</system-out>` : '',
    '  </testsuite>',
    '</testsuites>',
    '',
  ]
    .filter((l, i, all) => l !== '' || i === all.length - 1)
    .join('\n');
}
