/**
 * The kind e2e's side of the machine: the built CLI run with the stand-ins' PATH (kind
 * on the real engine, helm/istioctl/kubectl recording), the test Docker engine and a
 * state directory of its own; and what "nothing of ours left" means, read from /proc
 * and the engine rather than from ecom's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClusterTools, type ClusterTools } from '../helpers/cluster-tools/index.js';
import { TEST_DOCKER_CLIENT } from '../helpers/docker.js';
import type { FakeKubeApi } from '../helpers/fake-kube-api/index.js';
import { ROOT } from './helpers.js';

const BIN = join(ROOT, 'bin', 'ecom.js');
const KIND_SCRIPT = fileURLToPath(new URL('./kind-harness-kind.mjs', import.meta.url));
/** The forwards' ports before the offset: services, Prometheus, Grafana, RabbitMQ management. */
/** helm, istioctl, kubectl recording (H5's), kind on the real engine (kind-harness-kind.mjs), docker the real client. */
export function kindTools(api: FakeKubeApi): ClusterTools {
  const tools = createClusterTools({ omit: ['docker', 'kind'], kube: { server: api.url, token: api.token } });
  const kind = join(tools.dir, 'kind');
  writeFileSync(kind, `#!/bin/sh\nSTAND_IN_START=$(/bin/date +%s%3N) exec '${process.execPath}' '${KIND_SCRIPT}' "$@"\n`);
  chmodSync(kind, 0o755);
  return tools;
}

/** The environment of a CI runner with the stand-ins first on PATH, then node and the system's tools (the Debian docker client, npm). */
export function kindEnv(tools: ClusterTools, home: string, dockerHost: string): NodeJS.ProcessEnv {
  const env = tools.env({
    PATH: [tools.dir, dirname(process.execPath), '/usr/bin', '/bin'].join(':'),
    DOCKER_HOST: dockerHost,
    ECOM_DOCKER: TEST_DOCKER_CLIENT,
    KIND_STAND_IN_DOCKER: TEST_DOCKER_CLIENT,
    ECOM_HOME: home,
    CI: 'true',
    STAND_IN_SLOW_MS: '0',
  });
  for (const k of ['FORCE_COLOR', 'NO_COLOR', 'ECOM_RUNTIME', 'AMQP_URL', 'DATABASE_URL', 'PORT']) delete env[k];
  return env;
}

/** `ecom <args>` left running (logs --follow): its output so far, and a stop that sends SIGINT as Ctrl-C does. */
export function ecomRunning(env: NodeJS.ProcessEnv, args: string[]): { child: ChildProcess; output(): string; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    stop: async () => {
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Processes whose environment carries ECOM_HOME=<home>: everything ecom started for this test. */
export function processesOf(home: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ECOM_HOME=${home}`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 200)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
