/** Reference: a minimal Express 5 handler sending fixed JSON bytes (BODY_FILE). */
import { readFileSync } from 'node:fs';
import express from 'express';

const body = readFileSync(process.env.BODY_FILE!);
const app = express();
app.get('/catalog', (_req, res) => {
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(body);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
