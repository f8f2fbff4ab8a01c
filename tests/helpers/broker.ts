import { randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import { orderQueues, type OrderQueues } from '../../src/services/common/amqp.js';

export const testAmqpUrl = () => process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A connection to the test broker, failing loudly (not skipping) when none answers.
 */
export async function connectTestBroker(): Promise<ChannelModel> {
  const url = testAmqpUrl();
  try {
    return await amqp.connect(url);
  } catch (err) {
    throw new Error(
      `RabbitMQ is not reachable at ${redact(url)} (${(err as Error).message}). ` +
        'Start one (apt-get install -y rabbitmq-server && rabbitmq-server -detached) or set TEST_AMQP_URL.',
    );
  }
}

/** Queue names of this test's own, so parallel tests never share messages. */
export function uniqueQueues(): OrderQueues {
  return orderQueues(`test.orders.${randomBytes(4).toString('hex')}`);
}

/** Deletes the test's queues and exchange. */
export async function deleteQueues(connection: ChannelModel, queues: OrderQueues): Promise<void> {
  const ch = await connection.createChannel();
  await ch.deleteQueue(queues.orders);
  await ch.deleteQueue(queues.deadLetterQueue);
  await ch.deleteExchange(queues.deadLetterExchange);
  await ch.close();
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
