import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/services/common/config.js';
import { orderConfigSchema } from '../../../src/services/order/service.js';

const required = { DATABASE_URL: 'postgres://u@127.0.0.1/db', AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' };

describe('order configuration', () => {
  it('defaults the port, queue, batch size and poll interval', () => {
    expect(parseConfig(orderConfigSchema, required)).toMatchObject({
      PORT: 5003,
      ORDERS_QUEUE: 'orders',
      RELAY_BATCH_SIZE: 500,
      RELAY_POLL_MS: 1000,
    });
  });

  it.each([
    [{ DATABASE_URL: required.DATABASE_URL }, 'AMQP_URL', 'is required but not set'],
    [{ ...required, AMQP_URL: 'http://broker' }, 'AMQP_URL', 'must be an amqp:// URL'],
    [{ ...required, RELAY_BATCH_SIZE: '0' }, 'RELAY_BATCH_SIZE', ''],
    [{ ...required, ORDERS_QUEUE: 'has space' }, 'ORDERS_QUEUE', ''],
    [{ ...required, RELAY_POLL_MS: 'soon' }, 'RELAY_POLL_MS', ''],
  ])('refuses %o naming %s', (env, variable, problem) => {
    try {
      parseConfig(orderConfigSchema, env);
      expect.unreachable('accepted a bad environment');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe(variable);
      expect((err as ConfigError).message).toContain(problem);
    }
  });
});
