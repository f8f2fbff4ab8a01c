/**
 * What a cluster runtime needs before it starts anything (docs/architecture.md,
 * "kind"): a Docker engine that answers and the tools, each at least at the version
 * ecom was written against. Every tool is asked at once; all that are missing or too
 * old are named together, exit 3, with the commands that install them on this OS.
 */
import { PrerequisiteError } from '../../core/errors.js';
import { compareVersions, parseVersion, type ToolRunner } from '../../tools/tool-runner.js';
import type { PlannedAction } from '../types.js';
import type { Step, StepContext } from './plan.js';

export type ClusterTool = 'docker' | 'kind' | 'kubectl' | 'helm' | 'istioctl';

/**
 * The oldest versions supported, and why:
 * - Docker engine 20.10: the first with cgroup v2, which current Linux hosts and kind's nodes use;
 * - kind 0.23: its default node image runs Kubernetes 1.30, the oldest Istio 1.24 supports;
 * - kubectl 1.29: within one minor version of the oldest cluster ecom creates;
 * - helm 3.14: `upgrade --install --repo` and `list -o json` as used here (helm 4 works too);
 * - istioctl 1.24: installs the CNI plugin that Pod Security "restricted" needs, from the
 *   IstioOperator file without an in-cluster operator.
 */
export const MIN_VERSIONS: Record<ClusterTool, string> = {
  docker: '20.10.0',
  kind: '0.23.0',
  kubectl: '1.29.0',
  helm: '3.14.0',
  istioctl: '1.24.0',
};

/** How each tool tells its version without touching a cluster. */
export const VERSION_COMMANDS: Record<ClusterTool, string[]> = {
  // The server's version: it answers only when an engine runs.
  docker: ['version', '--format', '{{.Server.Version}}'],
  kind: ['version'],
  kubectl: ['version', '--client'],
  helm: ['version', '--short'],
  istioctl: ['version', '--remote=false'],
};

const VERSION_TIMEOUT_MS = 15_000;

/**
 * The version in a tool's answer to VERSION_COMMANDS:
 * `kind v0.29.0 go1.24.2 linux/amd64`, `Client Version: v1.33.1`, `v3.18.3+g6838ebc`,
 * `client version: 1.26.2`, `27.5.1`. Undefined when it says none.
 */
export function parseToolVersion(tool: ClusterTool, output: string): string | undefined {
  if (tool === 'kubectl') {
    // Old clients print version.Info{Major:"1", Minor:"27", GitVersion:"v1.27.3", …}.
    const git = /GitVersion:"v?([^"]+)"/.exec(output)?.[1];
    const client = /Client Version:\s*v?(\S+)/.exec(output)?.[1];
    return parseVersion(git ?? client ?? output);
  }
  if (tool === 'istioctl') {
    const client = /client version:\s*(\S+)/i.exec(output)?.[1];
    return parseVersion(client ?? output);
  }
  return parseVersion(output);
}

export interface ToolCheck {
  tool: ClusterTool;
  state: 'ok' | 'missing' | 'too old' | 'not answering';
  version?: string;
  /** Why an engine does not answer, or what a tool printed instead of a version. */
  reason?: string;
}

export async function checkTool(tools: ToolRunner, tool: ClusterTool): Promise<ToolCheck> {
  if (!tools.find(tool)) return { tool, state: 'missing' };
  let output: string;
  try {
    const result = await tools.run(tool, VERSION_COMMANDS[tool], { timeoutMs: VERSION_TIMEOUT_MS });
    output = `${result.stdout}\n${result.stderr}`;
  } catch (err) {
    const said = String((err as { detail?: string }).detail ?? (err as Error).message);
    const reason = said.split('\n').map((l) => l.trim()).find(Boolean) ?? 'no answer';
    return { tool, state: 'not answering', reason };
  }
  const version = parseToolVersion(tool, output);
  if (!version) return { tool, state: 'not answering', reason: `\`${tool} ${VERSION_COMMANDS[tool].join(' ')}\` printed no version` };
  return compareVersions(version, MIN_VERSIONS[tool]) >= 0 ? { tool, state: 'ok', version } : { tool, state: 'too old', version };
}

/**
 * Checks every tool at once and throws one PrerequisiteError for all that fail, or
 * returns the versions found.
 */
export async function requireTools(tools: ToolRunner, needed: readonly ClusterTool[], runtime: string): Promise<ToolCheck[]> {
  const checks = await Promise.all(needed.map((tool) => checkTool(tools, tool)));
  const failed = checks.filter((c) => c.state !== 'ok');
  if (failed.length === 0) return checks;
  const problems = failed.map((c) => describeProblem(c, tools.env));
  const fixes = failed.map((c) => fixFor(c, tools));
  throw new PrerequisiteError(
    `the ${runtime} runtime cannot start: ${problems.join('; ')}`,
    fixes.join('; then '),
    failed.map((c) => `${c.tool}: ${c.state}${c.version ? ` (${c.version})` : ''}${c.reason ? `: ${c.reason}` : ''}`).join('\n'),
  );
}

function describeProblem(check: ToolCheck, env: NodeJS.ProcessEnv): string {
  switch (check.state) {
    case 'missing':
      return `${check.tool} is not installed`;
    case 'too old':
      return `${check.tool} ${check.version} is older than ${MIN_VERSIONS[check.tool]}`;
    default: {
      if (check.tool === 'docker') {
        const where = env.DOCKER_HOST ? `at DOCKER_HOST=${env.DOCKER_HOST}` : 'on the default socket';
        return `no Docker engine answers ${where} (${check.reason})`;
      }
      return `${check.tool} does not tell its version (${check.reason})`;
    }
  }
}

function fixFor(check: ToolCheck, tools: ToolRunner): string {
  if (check.tool === 'docker' && check.state === 'not answering') {
    return tools.os() === 'macos'
      ? 'start Docker Desktop (or point DOCKER_HOST at an engine that runs)'
      : 'start the Docker engine (sudo systemctl start docker), or point DOCKER_HOST at one that runs';
  }
  const verb = check.state === 'too old' ? 'upgrade' : 'install';
  return `${verb} ${check.tool}: ${tools.installCommand(check.tool)}`;
}

/** What the prerequisites step shows in a plan: each version command it asks. */
export function plannedVersionChecks(needed: readonly ClusterTool[]): PlannedAction[] {
  return needed.map((tool) => ({ kind: 'command', argv: [tool, ...VERSION_COMMANDS[tool]] }));
}

/** The first step of every cluster `up`: every other step needs it, so nothing starts before it passes. */
export function prerequisitesStep<C extends StepContext>(needed: readonly ClusterTool[], runtime: string): Step<C> {
  return {
    id: 'prerequisites',
    title: 'prerequisites',
    needs: [],
    changes: false,
    actions: [
      {
        planned: plannedVersionChecks(needed),
        run: async (ctx) => (await requireTools(ctx.tools, needed, runtime)).map((c) => `${c.tool} ${c.version}`).join(', '),
      },
    ],
  };
}
