import { describe, expect, it } from 'vitest';
import { editDistance, nearestName, unknownNameMessage } from '../../../src/core/names.js';
import { OPEN_TARGETS, SERVICE_NAMES } from '../../../src/core/system.js';

describe('nearestName', () => {
  it.each([
    ['ordr', 'order'],
    ['oder', 'order'],
    ['odrer', 'order'],
    ['orders', 'order'],
    ['Order', 'order'],
    ['serch', 'search'],
    ['catlog', 'catalog'],
    ['fronted', 'frontend'],
    ['front', 'frontend'],
    ['cat', 'catalog'],
  ])('%s → %s', (typed, expected) => {
    expect(nearestName(typed, SERVICE_NAMES)).toBe(expected);
  });

  it.each(['x', 'nosuch', 'billing', '', 'postgres'])('%j is close to no service', (typed) => {
    expect(nearestName(typed, SERVICE_NAMES)).toBeUndefined();
  });

  it('guesses among open targets too', () => {
    expect(nearestName('shpo', OPEN_TARGETS)).toBe('shop');
    expect(nearestName('prom', OPEN_TARGETS)).toBe('prometheus');
    expect(nearestName('rabbit', OPEN_TARGETS)).toBe('rabbitmq');
  });
});

describe('unknownNameMessage', () => {
  it('is one sentence with the guess', () => {
    expect(unknownNameMessage('service', 'ordr', SERVICE_NAMES)).toBe("unknown service 'ordr'; did you mean order?");
  });

  it('lists the valid names when nothing is close', () => {
    expect(unknownNameMessage('service', 'nosuch', SERVICE_NAMES)).toBe("unknown service 'nosuch'; valid services: catalog, search, order, frontend");
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps as one each', () => {
    expect(editDistance('order', 'order')).toBe(0);
    expect(editDistance('ordr', 'order')).toBe(1);
    expect(editDistance('orderx', 'order')).toBe(1);
    expect(editDistance('ordar', 'order')).toBe(1);
    expect(editDistance('odrer', 'order')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
