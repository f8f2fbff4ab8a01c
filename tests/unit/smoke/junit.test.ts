import { describe, expect, it } from 'vitest';
import { escapeXml, toJUnitXml } from '../../../src/smoke/junit.js';
import type { SmokeReport } from '../../../src/smoke/types.js';

const REPORT: SmokeReport = {
  ok: false,
  passed: 1,
  failed: 1,
  skipped: 1,
  durationMs: 1534,
  startedAt: '2030-01-02T03:04:05.678Z',
  results: [
    { name: 'search "lap" finds <Laptop & Co>', status: 'passed', durationMs: 12 },
    { name: 'order\'s check', status: 'failed', durationMs: 1500, message: 'expected HTTP 200, got 503: {"a":"<b>&c"}\nsecond line \u0007bell' },
    { name: 'Prometheus reports every target up', status: 'skipped', durationMs: 0, message: 'Prometheus is not running' },
  ],
};

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

function unescape(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** A strict little XML reader: throws on anything not well-formed (enough for JUnit). */
function parseXml(xml: string): Element {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why}: ${xml.slice(i, i + 40)}`);
  };
  const checkText = (text: string) => {
    if (/[<]/.test(text)) fail('raw < in text');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(text)) fail('control character');
    for (let k = text.indexOf('&'); k !== -1; k = text.indexOf('&', k + 1)) {
      ENTITY.lastIndex = k;
      if (!ENTITY.test(text)) fail('bare &');
    }
  };
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!decl) fail('missing declaration');
  i = decl![0].length;
  const stack: Element[] = [];
  let root: Element | undefined;
  while (i < xml.length) {
    if (xml[i] === '<') {
      if (xml[i + 1] === '/') {
        const m = /^<\/([\w:-]+)>/.exec(xml.slice(i)) ?? fail('bad end tag');
        const open = stack.pop() ?? fail('end tag without start');
        if (open.name !== m[1]) fail(`</${m[1]}> closes <${open.name}>`);
        i += m[0].length;
        continue;
      }
      const m = /^<([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/.exec(xml.slice(i)) ?? fail('bad start tag');
      const attrs: Record<string, string> = {};
      for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        checkText(a[2]!);
        if (a[1]! in attrs) fail('duplicate attribute');
        attrs[a[1]!] = unescape(a[2]!);
      }
      const el: Element = { name: m[1]!, attrs, children: [], text: '' };
      if (stack.length > 0) stack.at(-1)!.children.push(el);
      else if (root) fail('second root');
      else root = el;
      if (m[3] !== '/') stack.push(el);
      i += m[0].length;
    } else {
      const end = xml.indexOf('<', i);
      const text = xml.slice(i, end === -1 ? xml.length : end);
      checkText(text);
      if (stack.length > 0) stack.at(-1)!.text += unescape(text);
      else if (text.trim() !== '') fail('text outside the root');
      i += text.length;
    }
  }
  if (stack.length > 0 || !root) fail('unclosed element');
  return root!;
}

describe('JUnit XML', () => {
  it('is well-formed and carries suites, cases, failures, skips and times', () => {
    const root = parseXml(toJUnitXml(REPORT, 'ci-runner'));
    expect(root.name).toBe('testsuites');
    const suite = root.children[0]!;
    expect(suite).toMatchObject({ name: 'testsuite', attrs: { name: 'ecom smoke', tests: '3', failures: '1', errors: '0', skipped: '1', time: '1.534', timestamp: '2030-01-02T03:04:05', hostname: 'ci-runner' } });
    const [passed, failed, skipped] = suite.children;
    expect(passed).toMatchObject({ attrs: { name: 'search "lap" finds <Laptop & Co>', classname: 'ecom.smoke', time: '0.012' }, children: [] });
    expect(failed!.attrs.time).toBe('1.500');
    expect(failed!.children[0]).toMatchObject({
      name: 'failure',
      attrs: { message: 'expected HTTP 200, got 503: {"a":"<b>&c"}', type: 'SmokeCheckFailed' },
      text: 'expected HTTP 200, got 503: {"a":"<b>&c"}\nsecond line bell',
    });
    expect(skipped!.children[0]).toMatchObject({ name: 'skipped', attrs: { message: 'Prometheus is not running' } });
  });

  it('escapes <, &, " and \' and drops characters XML forbids', () => {
    expect(escapeXml(`<a href="x">&'</a>\u0000`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  });

  it('the reader used here rejects what is not well-formed', () => {
    const header = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${header}<a>x & y</a>`)).toThrow(/bare &/);
    expect(() => parseXml(`${header}<a b="<"></a>`)).toThrow();
    expect(() => parseXml(`${header}<a><b></a>`)).toThrow(/closes/);
  });
});
