import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/services/common/server.js';

describe('listen', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    server = await listen(app, 0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it('answers requests the HTTP parser refuses with JSON, not an empty body', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`, { headers: { 'X-Big': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('headers_too_large');
  });

  it('still serves ordinary requests', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(await res.json()).toEqual({ ok: true });
  });
});
