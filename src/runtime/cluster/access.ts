/**
 * `ecom env` for the kind and context runtimes: the forwarded URLs, the logins made
 * from the generated cluster secrets (docs/architecture.md, "Manifests"), and, for
 * PostgreSQL and AMQP, which the forwarder does not carry, the kubectl port-forward
 * that makes DATABASE_URL and AMQP_URL answer on this machine.
 */
import { clusterSecretsFile, readClusterSecrets } from '../../manifests/secrets.js';
import type { Endpoints } from '../../core/system.js';
import type { SystemAccess } from '../types.js';
import type { ClusterRecord } from './context.js';

/** Local ports for the port-forwards `ecom env` suggests (plus the offset): clear of 5432 and 5672 on this machine. */
export const DATABASE_FORWARD_PORT = 25432;
export const AMQP_FORWARD_PORT = 25672;

/** The ecom database and user of manifests/base/infra/postgres.yaml. */
const DATABASE = 'ecom';

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function portForwardCommand(record: Pick<ClusterRecord, 'kubeconfigPath' | 'context'>, namespace: string, service: string, local: number, remote: number): string {
  return ['kubectl', '--kubeconfig', record.kubeconfigPath, '--context', record.context, '--namespace', namespace, 'port-forward', `service/${service}`, `${local}:${remote}`]
    .map(shellQuote)
    .join(' ');
}

export async function clusterAccess(runtime: SystemAccess['runtime'], stateDir: string, record: ClusterRecord, endpoints: Endpoints): Promise<SystemAccess> {
  const secrets = await readClusterSecrets(stateDir);
  const access: SystemAccess = { runtime, endpoints, notes: [] };
  const dbPort = DATABASE_FORWARD_PORT + record.portOffset;
  const amqpPort = AMQP_FORWARD_PORT + record.portOffset;
  if (!secrets) {
    const secret = (ns: string, name: string, key: string) =>
      `kubectl --kubeconfig ${shellQuote(record.kubeconfigPath)} --context ${shellQuote(record.context)} -n ${ns} get secret ${name} -o jsonpath='{.data.${key}}' | base64 -d`;
    access.notes.push(`${clusterSecretsFile(stateDir)} is missing (\`ecom up\` ran elsewhere); read the secrets from the cluster:`);
    access.notes.push(`  ${secret('messaging', 'rabbitmq-credentials', 'password')}`);
    access.notes.push(`  ${secret('database', 'postgres-credentials', 'password')}`);
    return access;
  }
  access.databaseUrl = `postgres://${DATABASE}:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${dbPort}/${DATABASE}`;
  access.amqpUrl = `amqp://${encodeURIComponent(secrets.brokerUser)}:${encodeURIComponent(secrets.brokerPassword)}@127.0.0.1:${amqpPort}`;
  if (endpoints.brokerManagement) access.brokerManagement = { url: endpoints.brokerManagement, user: secrets.brokerUser, password: secrets.brokerPassword };
  if (endpoints.grafana) access.grafana = { url: endpoints.grafana, user: 'admin', password: secrets.grafanaAdminPassword };
  access.notes.push('DATABASE_URL and AMQP_URL answer while these port-forwards run:');
  access.notes.push(`  ${portForwardCommand(record, 'database', 'postgres-postgresql', dbPort, 5432)}`);
  access.notes.push(`  ${portForwardCommand(record, 'messaging', 'rabbitmq', amqpPort, 5672)}`);
  return access;
}
