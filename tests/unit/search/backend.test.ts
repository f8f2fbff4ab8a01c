import { describe, expect, it } from 'vitest';
import { hasSearchableText, MAX_TOKEN_CHARS, MAX_TOKENS, searchTokens } from '../../../src/services/search/backend.js';
import { buildSearchRequest } from '../../../src/services/search/elasticsearch-backend.js';

describe('searchTokens', () => {
  it('keeps lowercase words and drops everything a query language could read as syntax', () => {
    expect(searchTokens(`Lap' & !SLEEVE | (14):* <-> "x" \\ ; -- %`)).toEqual(['lap', 'sleeve', '14', 'x']);
    expect(searchTokens("'; DROP TABLE products; --")).toEqual(['drop', 'table', 'products']);
  });

  it('splits on NUL and control characters', () => {
    expect(searchTokens('lap\u0000top\u202Ex')).toEqual(['lap', 'top', 'x']);
  });

  it('normalizes Unicode so the same text gives the same tokens', () => {
    expect(searchTokens('cafe\u0301')).toEqual(searchTokens('café'));
    expect(searchTokens('ＬＡＰ²')).toEqual(['lap2']);
    expect(searchTokens('किताब 💻 Ωmega')).toEqual(['किताब', 'ωmega']);
  });

  it('drops repeats and caps the number and length of tokens', () => {
    expect(searchTokens('lap LAP lap')).toEqual(['lap']);
    expect(searchTokens(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))).toHaveLength(MAX_TOKENS);
    expect(searchTokens('\uFDFA'.repeat(200)).every((t) => [...t].length <= MAX_TOKEN_CHARS)).toBe(true);
    expect([...searchTokens('y'.repeat(500))[0]!]).toHaveLength(MAX_TOKEN_CHARS);
  });

  it('tells searchable text from punctuation', () => {
    expect(hasSearchableText('&|!:*()<>')).toBe(false);
    expect(hasSearchableText('  -- ')).toBe(false);
    expect(hasSearchableText('!x!')).toBe(true);
  });
});

describe('backend query builders', () => {
  it('puts one bool_prefix clause per token into the Elasticsearch request', () => {
    const request = buildSearchRequest('products', ['lap', 'sl'], 3);
    expect(request).toMatchObject({ index: 'products', size: 3 });
    expect(request.query?.bool?.must).toHaveLength(2);
  });
});
