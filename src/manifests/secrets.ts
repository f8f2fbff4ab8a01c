/**
 * The cluster's credentials (docs/architecture.md, "Manifests"): generated once from a
 * cryptographic random source, kept in the state directory with mode 0600, and turned
 * into Secret objects at apply time. No file in the repository holds a value; `render`
 * shows them redacted.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EcomError } from '../core/errors.js';
import type { KubeObject } from './objects.js';

/** Kept apart from the local runtime's secrets.json: a cluster's data has its own. */
export const CLUSTER_SECRETS_FILE = 'cluster-secrets.json';
/** What `render` shows in place of every secret value. */
export const REDACTED = '<redacted>';
const SECRET_BYTES = 24;

/** URL-safe (base64url), so the values go into connection URLs unescaped. */
const secretText = z.string().regex(/^[A-Za-z0-9_-]{16,}$/);
const clusterSecretsSchema = z.object({
  postgresPassword: secretText,
  brokerUser: z.string().regex(/^ecom-[a-f0-9]{6}$/),
  brokerPassword: secretText,
  grafanaAdminPassword: secretText,
});
export type ClusterSecrets = z.infer<typeof clusterSecretsSchema>;

export function generateClusterSecrets(): ClusterSecrets {
  const secret = () => randomBytes(SECRET_BYTES).toString('base64url');
  return {
    postgresPassword: secret(),
    brokerUser: `ecom-${randomBytes(3).toString('hex')}`,
    brokerPassword: secret(),
    grafanaAdminPassword: secret(),
  };
}

export function clusterSecretsFile(stateDir: string): string {
  return join(stateDir, CLUSTER_SECRETS_FILE);
}

/** The secrets kept in stateDir, or undefined when none were generated yet. */
export async function readClusterSecrets(stateDir: string): Promise<ClusterSecrets | undefined> {
  const file = clusterSecretsFile(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: ClusterSecrets;
  try {
    parsed = clusterSecretsSchema.parse(JSON.parse(text));
  } catch {
    // Regenerating would lock the cluster out of data made with the old values.
    throw new EcomError(
      `the cluster secrets file ${file} is damaged`,
      `restore it, or remove it and run \`ecom down --purge\` first: data created with the old secrets cannot be opened with new ones`,
    );
  }
  // Tighten a file whose mode was loosened by hand or by a copy.
  await chmod(file, 0o600);
  return parsed;
}

/** The kept secrets; generated and stored (mode 0600) on first use. */
export async function loadOrCreateClusterSecrets(stateDir: string): Promise<{ secrets: ClusterSecrets; created: boolean }> {
  const existing = await readClusterSecrets(stateDir);
  if (existing) return { secrets: existing, created: false };
  const secrets = generateClusterSecrets();
  await mkdir(stateDir, { recursive: true });
  const file = clusterSecretsFile(stateDir);
  const temporary = `${file}.${process.pid}.tmp`;
  // Created 0600 from the start, never readable by others even for a moment.
  await writeFile(temporary, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await rename(temporary, file);
  return { secrets, created: true };
}

interface SecretSpec {
  namespace: string;
  name: string;
  data: (secrets: ClusterSecrets) => Record<string, string>;
}

/** Every Secret the manifests refer to; a copy per namespace, since a pod reads only its own. */
const SECRET_SPECS: SecretSpec[] = [
  { namespace: 'database', name: 'postgres-credentials', data: (s) => ({ password: s.postgresPassword }) },
  { namespace: 'ecommerce', name: 'postgres-credentials', data: (s) => ({ password: s.postgresPassword }) },
  {
    namespace: 'messaging',
    name: 'rabbitmq-credentials',
    data: (s) => ({ username: s.brokerUser, password: s.brokerPassword }),
  },
  {
    namespace: 'ecommerce',
    name: 'rabbitmq-credentials',
    data: (s) => ({ username: s.brokerUser, password: s.brokerPassword }),
  },
  {
    namespace: 'monitoring',
    name: 'grafana-admin',
    data: (s) => ({ 'admin-user': 'admin', 'admin-password': s.grafanaAdminPassword }),
  },
];

/** The Secret objects, with the real values or every value replaced by REDACTED. */
export function secretObjects(secrets: ClusterSecrets | 'redacted'): KubeObject[] {
  return SECRET_SPECS.map(({ namespace, name, data }) => {
    const values =
      secrets === 'redacted'
        ? Object.fromEntries(Object.keys(data(PLACEHOLDER)).map((key) => [key, REDACTED]))
        : data(secrets);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'ecom', 'app.kubernetes.io/managed-by': 'ecom' } },
      type: 'Opaque',
      stringData: values,
    };
  });
}

/** Only for listing the keys of each Secret when redacting. */
const PLACEHOLDER: ClusterSecrets = {
  postgresPassword: '',
  brokerUser: '',
  brokerPassword: '',
  grafanaAdminPassword: '',
};
