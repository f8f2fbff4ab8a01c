/**
 * Whether a kubeconfig context is a cluster on this machine, and asking before
 * changing one that is not (docs/architecture.md, "context"). On a terminal `up`
 * asks; anywhere else (a pipe, CI) it needs --yes, and never prompts.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../core/errors.js';

/** Context names the local cluster tools write: kind-*, k3d-*, minikube, Docker Desktop, Rancher Desktop, OrbStack. */
const LOCAL_CONTEXT = /^(kind-.+|k3d-.+|minikube|docker-desktop|docker-for-desktop|rancher-desktop|orbstack)$/;

export function isLocalContext(name: string): boolean {
  return LOCAL_CONTEXT.test(name);
}

/**
 * The file's current-context, read without a YAML parser (kubectl writes it as a
 * top-level `current-context: name`; a JSON kubeconfig as `"current-context": "name"`).
 */
export function currentContextOf(kubeconfigPath: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(kubeconfigPath, 'utf8');
  } catch {
    return undefined;
  }
  const value = /^\s*"?current-context"?\s*:\s*["']?([^"'\n,]*)["']?\s*,?\s*$/m.exec(text)?.[1]?.trim();
  return value ? value : undefined;
}

export interface TerminalCheck {
  env: NodeJS.ProcessEnv;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
}

/** A person can answer: both ends are a terminal and this is not CI. */
export function canAsk({ env, stdinIsTTY, stderrIsTTY }: TerminalCheck): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';
  return stdinIsTTY && stderrIsTTY && !ci;
}

/** y/yes (any case) is consent; anything else, including an empty line, is not. */
export async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export interface ConfirmOptions {
  context: string;
  server?: string;
  assumeYes: boolean;
  terminal: TerminalCheck;
  ask: (question: string) => Promise<boolean>;
}

/** Throws UsageError (exit 2) unless the context is local, --yes was given, or the person says yes. */
export async function confirmContext(options: ConfirmOptions): Promise<void> {
  if (isLocalContext(options.context) || options.assumeYes) return;
  const where = `context "${options.context}"${options.server ? ` (${options.server})` : ''}`;
  const hint = `rerun with --yes to change ${where}, or pick a local one with --context`;
  if (!canAsk(options.terminal)) {
    throw new UsageError(`${where} is not a local cluster, and there is no terminal to ask on`, hint);
  }
  const question = `ecom up will install Istio, Prometheus and Grafana and apply the ecom system to ${where}, which is not a local cluster. Go on?`;
  if (!(await options.ask(question))) throw new UsageError(`not changing ${where}: not confirmed`, hint);
}
