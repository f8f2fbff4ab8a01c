/**
 * A kubeconfig pointing at the fake API server: plain http (which the client accepts
 * only with insecure-skip-tls-verify), a bearer token, one context.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface KubeconfigOptions {
  server: string;
  token: string;
  /** Default `kind-ecom`. */
  context?: string;
  /** The context's default namespace. */
  namespace?: string;
  /** Set false to write a file without a current context. */
  current?: boolean;
}

export function writeKubeconfig(path: string, options: KubeconfigOptions): string {
  const context = options.context ?? 'kind-ecom';
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: `${context}-cluster`, cluster: { server: options.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${context}-user`, user: { token: options.token } }],
    contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user`, ...(options.namespace ? { namespace: options.namespace } : {}) } }],
    ...(options.current === false ? {} : { 'current-context': context }),
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  // JSON is YAML: the client reads it as a kubeconfig like any other.
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}
