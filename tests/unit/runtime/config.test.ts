import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chooseBroker } from '../../../src/runtime/local/broker.js';
import { prometheusArgs, prometheusConfig } from '../../../src/runtime/local/prometheus.js';
import { amqpUrlFor, rabbitConfig, rabbitEnv, type RabbitNodePlan } from '../../../src/runtime/local/rabbitmq.js';
import { serviceEnv } from '../../../src/runtime/local/service-env.js';
import { restartDelayMs } from '../../../src/runtime/local/supervised.js';

const ports = { catalog: 25001, search: 25002, order: 25003, frontend: 25004 };

describe('prometheus config', () => {
  it('scrapes each service /metrics on 127.0.0.1 as its own job', () => {
    const config = parse(prometheusConfig(ports)) as {
      global: { scrape_interval: string };
      scrape_configs: Array<{ job_name: string; metrics_path: string; static_configs: Array<{ targets: string[]; labels: { service: string } }> }>;
    };
    expect(config.global.scrape_interval).toBe('5s');
    expect(config.scrape_configs.map((j) => [j.job_name, j.metrics_path, j.static_configs[0]!.targets])).toEqual([
      ['catalog', '/metrics', ['127.0.0.1:25001']],
      ['search', '/metrics', ['127.0.0.1:25002']],
      ['order', '/metrics', ['127.0.0.1:25003']],
      ['frontend', '/metrics', ['127.0.0.1:25004']],
    ]);
    expect(config.scrape_configs[3]!.static_configs[0]!.labels.service).toBe('frontend');
  });

  it('listens on loopback only and keeps its storage in the state directory', () => {
    expect(prometheusArgs('/s/prometheus', 29090)).toEqual([
      '--config.file=/s/prometheus/prometheus.yml',
      '--storage.tsdb.path=/s/prometheus/data',
      '--web.listen-address=127.0.0.1:29090',
      '--storage.tsdb.retention.time=2d',
    ]);
  });
});

describe('own RabbitMQ node', () => {
  const plan: RabbitNodePlan = {
    dir: '/s/rabbitmq',
    nodeName: 'ecom-abc@localhost',
    amqpPort: 41000,
    distPort: 41001,
    managementPort: 15772,
    epmdPort: 41002,
    user: 'ecom-1a2b3c',
    password: 'pw_-x',
  };

  it('binds listeners to 127.0.0.1 and replaces guest with the generated user', () => {
    const conf = rabbitConfig(plan);
    expect(conf).toContain('listeners.tcp.1 = 127.0.0.1:41000');
    expect(conf).toContain('management.tcp.ip = 127.0.0.1');
    expect(conf).toContain('management.tcp.port = 15772');
    expect(conf).toContain('default_user = ecom-1a2b3c');
    expect(conf).toContain('default_pass = pw_-x');
    expect(conf).not.toContain('guest');
  });

  it('keeps node name, data, logs, config and cookie in its own directory, ignoring inherited RabbitMQ settings', () => {
    const env = rabbitEnv(plan, { PATH: '/usr/bin', RABBITMQ_NODENAME: 'rabbit@localhost', ERL_FLAGS: '-x', HOME: '/root' });
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/s/rabbitmq/home',
      RABBITMQ_NODENAME: 'ecom-abc@localhost',
      RABBITMQ_DIST_PORT: '41001',
      RABBITMQ_MNESIA_BASE: '/s/rabbitmq/mnesia',
      RABBITMQ_LOG_BASE: '/s/rabbitmq/log',
      RABBITMQ_CONFIG_FILE: '/s/rabbitmq/rabbitmq.conf',
      RABBITMQ_CONF_ENV_FILE: '/s/rabbitmq/rabbitmq-env.conf',
      ERL_EPMD_ADDRESS: '127.0.0.1',
    });
    expect(env.ERL_FLAGS).toBeUndefined();
    expect(amqpUrlFor(plan)).toBe('amqp://ecom-1a2b3c:pw_-x@127.0.0.1:41000');
  });
});

describe('own RabbitMQ node epmd', () => {
  it('runs its own epmd on the planned private port, not an inherited one', () => {
    const plan: RabbitNodePlan = { dir: '/s/rabbitmq', nodeName: 'n@localhost', amqpPort: 1, distPort: 2, managementPort: 3, epmdPort: 41777, user: 'u', password: 'p' };
    const env = rabbitEnv(plan, { PATH: '/usr/bin', ERL_EPMD_PORT: '4369' });
    expect(env.ERL_EPMD_PORT).toBe('41777');
    expect(env.ERL_EPMD_ADDRESS).toBe('127.0.0.1');
    expect(rabbitEnv({ ...plan, epmdPort: undefined }, { ERL_EPMD_PORT: '4369' }).ERL_EPMD_PORT).toBeUndefined();
  });
});

describe('broker resolution order', () => {
  const never = async () => {
    throw new Error('must not probe');
  };

  it('prefers the given URL, then an own node, then 127.0.0.1:5672, then none', async () => {
    const own = () => 'amqp://u:p@127.0.0.1:41000';
    expect(await chooseBroker({ givenUrl: 'amqp://h:1', rabbitmqServer: '/x', probeLocal: never }, own)).toMatchObject({ kind: 'given', url: 'amqp://h:1' });
    expect(await chooseBroker({ rabbitmqServer: '/usr/lib/rabbitmq/bin/rabbitmq-server', probeLocal: never }, own)).toMatchObject({ kind: 'own', url: own() });
    expect(await chooseBroker({ probeLocal: async () => true }, own)).toMatchObject({ kind: 'local', url: 'amqp://guest:guest@127.0.0.1:5672' });
    const none = await chooseBroker({ probeLocal: async () => false }, own);
    expect(none.kind).toBe('none');
    expect(none.detail).toContain('orders wait in the outbox');
  });
});

describe('service wiring', () => {
  const wiring = { ports, databaseUrl: 'postgres://postgres:pw@127.0.0.1:40000/postgres', amqpUrl: 'amqp://u:p@127.0.0.1:41000' };

  it('gives each service exactly its variables, bound to 127.0.0.1', () => {
    const base = { PATH: '/usr/bin', PORT: '80', DATABASE_URL: 'postgres://elsewhere', ELASTICSEARCH_URL: 'http://es:9200' };
    expect(serviceEnv('catalog', wiring, base)).toEqual({ PATH: '/usr/bin', PORT: '25001', HOST: '127.0.0.1', DATABASE_URL: wiring.databaseUrl, LOG_LEVEL: 'info' });
    expect(serviceEnv('search', wiring, base)).toMatchObject({ PORT: '25002', SEARCH_BACKEND: 'postgres' });
    expect(serviceEnv('search', wiring, base).ELASTICSEARCH_URL).toBeUndefined();
    expect(serviceEnv('order', wiring, base)).toMatchObject({ PORT: '25003', AMQP_URL: wiring.amqpUrl, ORDERS_QUEUE: 'orders' });
    expect(serviceEnv('frontend', wiring, { LOG_LEVEL: 'debug' })).toMatchObject({
      PORT: '25004',
      AMQP_URL: wiring.amqpUrl,
      CATALOG_URL: 'http://127.0.0.1:25001',
      SEARCH_URL: 'http://127.0.0.1:25002',
      ORDER_URL: 'http://127.0.0.1:25003',
      LOG_LEVEL: 'debug',
    });
    expect(serviceEnv('catalog', wiring, { LOG_LEVEL: 'loud' }).LOG_LEVEL).toBe('info');
  });

  it("takes the plan's log level (up --log-level) over LOG_LEVEL, so a restarted service keeps it", () => {
    expect(serviceEnv('catalog', { ...wiring, logLevel: 'debug' }, { LOG_LEVEL: 'warn' }).LOG_LEVEL).toBe('debug');
    expect(serviceEnv('catalog', { ...wiring, logLevel: undefined }, { LOG_LEVEL: 'warn' }).LOG_LEVEL).toBe('warn');
  });
});

describe('restart back-off', () => {
  it('doubles from 0.5 s and caps at 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => restartDelayMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });
});
