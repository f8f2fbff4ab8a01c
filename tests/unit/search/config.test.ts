import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/services/common/config.js';
import { searchConfigSchema } from '../../../src/services/search/service.js';

const DATABASE_URL = 'postgres://search@127.0.0.1:5432/ecom';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(searchConfigSchema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('search configuration', () => {
  it('defaults to port 5002, PostgreSQL search and the "products" index', () => {
    const config = parseConfig(searchConfigSchema, { DATABASE_URL });
    expect(config).toMatchObject({ PORT: 5002, HOST: '127.0.0.1', SEARCH_BACKEND: 'postgres', ELASTICSEARCH_INDEX: 'products' });
    expect(config.ELASTICSEARCH_URL).toBeUndefined();
  });

  it('accepts the Elasticsearch backend with its URL', () => {
    const config = parseConfig(searchConfigSchema, {
      DATABASE_URL,
      SEARCH_BACKEND: 'elasticsearch',
      ELASTICSEARCH_URL: 'http://elasticsearch:9200',
    });
    expect(config).toMatchObject({ SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'http://elasticsearch:9200' });
  });

  it('names ELASTICSEARCH_URL when the Elasticsearch backend has none', () => {
    for (const missing of [undefined, '']) {
      const err = configError({ DATABASE_URL, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: missing });
      expect(err.variable).toBe('ELASTICSEARCH_URL');
      expect(err.message).toBe('invalid environment: ELASTICSEARCH_URL is required but not set');
    }
  });

  it.each([
    [{ ELASTICSEARCH_URL: 'elasticsearch:9200' }, 'ELASTICSEARCH_URL', /must be an http\(s\):\/\/ URL \(got "elasticsearch:9200"\)/],
    [{ SEARCH_BACKEND: 'solr' }, 'SEARCH_BACKEND', /got "solr"/],
    [{ ELASTICSEARCH_INDEX: 'Products!' }, 'ELASTICSEARCH_INDEX', /lowercase index name/],
    [{ PORT: '70000' }, 'PORT', /got "70000"/],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', /postgres:\/\//],
  ])('names the bad variable in %o', (env, variable, message) => {
    const err = configError({ DATABASE_URL, SEARCH_BACKEND: 'elasticsearch', ELASTICSEARCH_URL: 'http://es:9200', ...env });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
  });

  it('requires DATABASE_URL', () => {
    expect(configError({}).variable).toBe('DATABASE_URL');
  });
});
