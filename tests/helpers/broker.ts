import { randomBytes } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { assertOrderTopology, orderQueues, type OrderQueues } from '../../src/services/common/amqp.js';

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

export interface TestBroker {
  connection: ChannelModel;
  channel: Channel;
  queues: OrderQueues;
  /** Deletes the test's queues and closes the connection. */
  close: () => Promise<void>;
}

/** A broker connection with a channel and this test's own queues, declared like the services declare them. */
export async function openTestQueues(): Promise<TestBroker> {
  const connection = await connectTestBroker();
  const channel = await connection.createChannel();
  const queues = uniqueQueues();
  await assertOrderTopology(channel, queues);
  return {
    connection,
    channel,
    queues,
    close: async () => {
      await deleteQueues(connection, queues);
      await connection.close();
    },
  };
}
