/**
 * The smoke report as JUnit XML, the format CI systems (GitHub Actions reporters,
 * GitLab, Jenkins) show as a test list.
 */
import type { SmokeReport } from './types.js';

const SUITE_NAME = 'ecom smoke';
const CLASS_NAME = 'ecom.smoke';

/** Text safe inside an XML attribute or element; characters XML 1.0 forbids are dropped. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** In attributes, line breaks are kept as references so parsers do not fold them. */
function attr(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function toJUnitXml(report: SmokeReport, hostname = 'localhost'): string {
  const counts = `tests="${report.results.length}" failures="${report.failed}" errors="0" skipped="${report.skipped}" time="${seconds(report.durationMs)}"`;
  const cases = report.results.map((r) => {
    const open = `    <testcase name="${attr(r.name)}" classname="${CLASS_NAME}" time="${seconds(r.durationMs)}"`;
    if (r.status === 'passed') return `${open}/>`;
    const message = r.message ?? '';
    const inner =
      r.status === 'failed'
        ? `      <failure message="${attr(firstLine(message))}" type="SmokeCheckFailed">${escapeXml(message)}</failure>`
        : `      <skipped message="${attr(message)}"/>`;
    return `${open}>\n${inner}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${SUITE_NAME}" ${counts}>`,
    `  <testsuite name="${SUITE_NAME}" ${counts} timestamp="${report.startedAt.replace(/\.\d+Z$/, '')}" hostname="${attr(hostname)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
