/**
 * Finding and checking a kubeconfig before any request is made, so a missing file, an
 * unreadable one or an unknown context is one line and a hint (exit 3 or 2), never a
 * library's stack trace (docs/architecture.md, "Kubernetes layer").
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { PrerequisiteError, UsageError } from '../core/errors.js';

/** Which cluster to talk to: a kubeconfig file and one of its contexts. */
export interface KubeTarget {
  /** Default: the first file in KUBECONFIG, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** Default: the file's current context. */
  context?: string;
}

const NO_KUBECONFIG_HINT =
  "set KUBECONFIG to the file that holds your cluster's context, or create a cluster (`ecom up --runtime kind`)";

/** The kubeconfig file kubectl would read: the first entry of KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  return first ?? join(env.HOME ?? homedir(), '.kube', 'config');
}

/** Throws PrerequisiteError unless `path` is a readable file. */
export function checkKubeconfigFile(path: string): void {
  if (!existsSync(path)) throw new PrerequisiteError(`no kubeconfig at ${path}`, NO_KUBECONFIG_HINT);
  if (!statSync(path).isFile()) throw new PrerequisiteError(`kubeconfig ${path} is not a file`, NO_KUBECONFIG_HINT);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new PrerequisiteError(`cannot read kubeconfig ${path}: permission denied`, `give your user read access to it (chmod u+r ${path})`);
  }
}

/**
 * Loads the file into `kc` and makes `target.context` (or the file's current one) the
 * context in use. `kc` is a fresh KubeConfig from the lazily loaded library.
 */
export function loadKubeconfig(kc: KubeConfig, target: KubeTarget): { path: string; context: string } {
  const path = target.kubeconfigPath ?? defaultKubeconfigPath();
  checkKubeconfigFile(path);
  try {
    kc.loadFromFile(path);
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new PrerequisiteError(`kubeconfig ${path} is not valid: ${reason}`, 'fix the file or point KUBECONFIG at a valid one');
  }
  const known = (kc.getContexts() ?? []).map((c) => c.name);
  const knownText = known.length > 0 ? known.join(', ') : 'none';
  const context = target.context ?? (kc.getCurrentContext() || undefined);
  if (!context) {
    throw new UsageError(`kubeconfig ${path} names no current context`, `pick one with --context (known: ${knownText})`);
  }
  const entry = kc.getContextObject(context);
  if (!entry) throw new UsageError(`no context "${context}" in ${path}`, `pick one with --context (known: ${knownText})`);
  kc.setCurrentContext(context);
  const cluster = kc.getCluster(entry.cluster);
  if (!cluster?.server) {
    throw new PrerequisiteError(
      `context "${context}" names cluster "${entry.cluster}", which ${path} does not define`,
      'fix the kubeconfig (kubectl config view) or pick another context with --context',
    );
  }
  return { path, context };
}
