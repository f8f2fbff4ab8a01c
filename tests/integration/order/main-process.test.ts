import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestBroker, deleteQueues, testAmqpUrl, uniqueQueues } from '../../helpers/broker.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const MAIN = 'src/services/order/main.ts';

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  return { child, exited, stderr: () => stderr };
}

describe('order service as a plain node process', () => {
  let db: TestDatabase;
  const queues = uniqueQueues();
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    const broker = await connectTestBroker();
    await deleteQueues(broker, queues);
    await broker.close();
    await db.drop();
  });

  it('stops with one line naming AMQP_URL when it is missing', async () => {
    const { exited, stderr } = startMain({ DATABASE_URL: db.url });
    expect(await exited).toBe(1);
    expect(stderr().trim()).toBe('order: invalid environment: AMQP_URL is required but not set');
  });

  it('serves orders and exits 0 on SIGTERM', async () => {
    const { child, exited } = startMain({
      DATABASE_URL: db.url,
      AMQP_URL: testAmqpUrl(),
      ORDERS_QUEUE: queues.orders,
      PORT: '0',
    });
    const lines = createInterface({ input: child.stdout });
    let port: number | undefined;
    for await (const line of lines) {
      const entry = JSON.parse(line) as { msg?: string; port?: number };
      if (entry.msg === 'order listening') {
        port = entry.port;
        break;
      }
    }
    child.stdout.resume();
    const res = await fetch(`http://127.0.0.1:${port}/create-order`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: { email: 'proc@example.com', name: 'Proc' }, items: [{ productId: 1, quantity: 1 }] }),
    });
    expect(res.status).toBe(201);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
