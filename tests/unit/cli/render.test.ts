import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../../src/core/text.js';
import { formatTable, loadPaint, stripAnsi, visibleWidth } from '../../../src/cli/render.js';

describe('tables', () => {
  it('aligns columns by what is visible, whatever the colouring, with no trailing spaces', async () => {
    const paint = await loadPaint(true, { FORCE_COLOR: '1' });
    const table = formatTable(
      [
        ['node', paint.ok('ok'), '20.19.0'],
        ['rabbitmq-server', paint.warn('missing'), '-'],
      ],
      { header: ['TOOL', 'STATUS', 'VERSION'] },
    );
    expect(table).toContain('\u001b[');
    expect(stripAnsi(table).split('\n')).toEqual([
      'TOOL             STATUS   VERSION',
      'node             ok       20.19.0',
      'rabbitmq-server  missing  -',
    ]);
  });

  it('measures width without escape codes', () => {
    expect(visibleWidth('\u001b[32m✔ ok\u001b[39m')).toBe(4);
  });
});

describe('colour', () => {
  it('returns identity functions without loading chalk when colour is off', async () => {
    const paint = await loadPaint(false);
    expect(paint.fail('x')).toBe('x');
    expect(paint.nth(0, 'catalog')).toBe('catalog');
  });

  it('gives the four services four different colours', async () => {
    const paint = await loadPaint(true, {});
    const coloured = [0, 1, 2, 3].map((i) => paint.nth(i, 'x'));
    expect(new Set(coloured).size).toBe(4);
    expect(coloured[0]).toContain('\u001b[');
  });
});

describe('durations', () => {
  it('uses the unit a person would', () => {
    expect(formatDuration(12)).toBe('12 ms');
    expect(formatDuration(3_200)).toBe('3.2 s');
    expect(formatDuration(125_000)).toBe('2 m 5 s');
  });
});
