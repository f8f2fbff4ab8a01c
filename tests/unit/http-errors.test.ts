import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/services/common/http-errors.js';
import { memoryLogger } from '../helpers/services.js';

function appThrowing(err: unknown) {
  const app = express();
  app.get('/', () => {
    throw err;
  });
  app.use(errorHandler(memoryLogger()));
  return app;
}

describe('error handler', () => {
  it('answers a database outage with 503, not 500', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const res = await request(appThrowing(refused)).get('/').expect(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    await request(appThrowing(new Error('timeout exceeded when trying to connect'))).get('/').expect(503);
  });

  it('answers a bug with 500 JSON and no stack', async () => {
    const res = await request(appThrowing(new TypeError('x is undefined'))).get('/').expect(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'internal error', details: [] } });
    expect(res.text).not.toContain('TypeError');
  });
});
