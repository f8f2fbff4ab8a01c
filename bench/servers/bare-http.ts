/** Reference: a bare node:http server sending fixed JSON bytes (BODY_FILE) for GET /catalog. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.env.BODY_FILE!);
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/catalog')) {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(body);
  } else {
    res.statusCode = 404;
    res.end();
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
