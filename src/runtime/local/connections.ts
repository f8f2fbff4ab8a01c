/**
 * `ecom env` for the local runtime: the connection URLs and logins of what runs, from
 * the state file, the plan (a given broker URL) and the generated secrets
 * (docs/architecture.md, "local"). Values hold passwords: they go to the user's own
 * terminal, never into a log.
 */
import { readFileSync } from 'node:fs';
import type { SystemAccess } from '../types.js';
import type { StatePaths } from './paths.js';
import { LOCAL_BROKER_URL, amqpUrlFor } from './rabbitmq.js';
import type { Secrets } from './secrets.js';
import { readPlan, type LocalState } from './state.js';
import { anythingAlive, endpointsOf } from './status.js';

/** The secrets `up` generated; undefined when there are none (never creates them, unlike loadOrCreateSecrets). */
export function readSecrets(file: string): Secrets | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
    return parsed.postgresPassword && parsed.brokerUser && parsed.brokerPassword ? (parsed as Secrets) : undefined;
  } catch {
    return undefined;
  }
}

function givenBrokerUrl(paths: StatePaths): string | undefined {
  try {
    return readPlan(paths.planFile).amqpUrl;
  } catch {
    return undefined;
  }
}

/** Undefined when nothing runs. The embedded PostgreSQL's database is `postgres`, as the services use it. */
export function localAccess(paths: StatePaths, state: LocalState | undefined): SystemAccess | undefined {
  if (!state || !anythingAlive(state)) return undefined;
  const endpoints = endpointsOf(state);
  const secrets = readSecrets(paths.secretsFile);
  const access: SystemAccess = { runtime: 'local', endpoints, notes: [] };
  if (!secrets) access.notes.push(`no generated secrets in ${paths.secretsFile}: run \`ecom up\` again`);
  const pg = state.postgres;
  if (secrets && pg.phase === 'running' && pg.port) {
    access.databaseUrl = `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${pg.port}/postgres`;
  } else if (pg.phase !== 'running') {
    access.notes.push(`PostgreSQL is ${pg.phase}${pg.error ? `: ${pg.error}` : ''}`);
  }
  const b = state.broker;
  if (b.kind === 'own' && secrets && b.port) {
    access.amqpUrl = amqpUrlFor({ user: secrets.brokerUser, password: secrets.brokerPassword, amqpPort: b.port });
    if (endpoints.brokerManagement) access.brokerManagement = { url: endpoints.brokerManagement, user: secrets.brokerUser, password: secrets.brokerPassword };
  } else if (b.kind === 'given') {
    access.amqpUrl = givenBrokerUrl(paths);
    access.notes.push('the broker is the one given by --amqp-url/AMQP_URL; its management login is yours');
  } else if (b.kind === 'local') {
    access.amqpUrl = LOCAL_BROKER_URL;
    access.notes.push("the broker is the machine's RabbitMQ on 127.0.0.1:5672 (guest/guest); ecom runs no management UI for it");
  } else if (b.kind === 'none') {
    access.notes.push('no broker runs: install rabbitmq-server (or pass --amqp-url to `ecom up`)');
  }
  return access;
}
