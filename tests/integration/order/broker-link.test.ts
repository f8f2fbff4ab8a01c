/**
 * The services' broker link against a broker that accepts the connection but never
 * answers the handshake (a node still booting behind a Service, a proxy holding the
 * reply): the attempt gives up after the handshake timeout and the next one connects.
 * The broker is real; a TCP proxy in front of it holds back its answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, type BrokerLink } from '../../../src/services/common/amqp.js';
import { connectTestBroker, testAmqpUrl } from '../../helpers/broker.js';
import { eventually, memoryLogger } from '../../helpers/services.js';
import { amqpTarget, createTcpProxy, viaProxy, type TcpProxy } from './tcp-proxy.js';

const HANDSHAKE_TIMEOUT_MS = 500;

describe('broker link', () => {
  let proxy: TcpProxy;
  let link: BrokerLink | undefined;

  beforeAll(async () => {
    // Fails naming RabbitMQ when no test broker answers.
    await (await connectTestBroker()).close();
    proxy = await createTcpProxy(amqpTarget(testAmqpUrl()));
  });
  afterAll(async () => {
    await link?.close();
    await proxy?.stop();
  });

  it('retries a handshake the broker never answers, and connects once it does', async () => {
    proxy.holdReplies();
    link = await connectBroker(viaProxy(testAmqpUrl(), proxy), memoryLogger('order'), async () => {}, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
    await eventually(() => (proxy.connections > 0 ? true : undefined), 5_000, 'the first connection attempt');
    // The first attempt's handshake is under way and its answer was dropped: it can only time out.
    proxy.releaseReplies();
    expect(link.connected).toBe(false);

    await eventually(() => (link!.connected ? true : undefined), 10 * HANDSHAKE_TIMEOUT_MS, 'the link to connect on a later attempt');
    await expect(link.ping()).resolves.toBeUndefined();
  });
});
