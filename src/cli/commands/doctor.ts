/**
 * `ecom doctor`: what is installed, what each tool enables, and the one command that
 * installs what is missing. Every probe runs at once, each with its own timeout, so a
 * hanging `docker info` costs seconds, not the whole report.
 */
import { ExitCode } from '../../core/errors.js';
import { createOutput, type Output } from '../output.js';
import type { Paint } from '../../core/text.js';
import { formatFittedTable, wrapWords } from '../render.js';
import { isRuntimeName, runtimeAvailable } from '../../runtime/registry.js';
import type { RuntimeName } from '../../runtime/types.js';
import { compareVersions, ToolRunner } from '../../tools/tool-runner.js';

export interface DoctorOptions {
  cwd: string;
  json: boolean;
  verbose?: boolean;
  /** The runtime to judge; local when not given. */
  runtime?: string;
}

export interface DoctorDeps {
  output?: Output;
  tools?: ToolRunner;
  /** The Node.js version to judge (the running one by default). */
  nodeVersion?: string;
  probeTimeoutMs?: number;
}

export type ToolStatus = 'ok' | 'missing' | 'too old' | 'client only';

export interface ToolReport {
  name: string;
  status: ToolStatus;
  path?: string;
  version?: string;
  /** Anything worth saying beyond the status (why the engine is not answering, say). */
  detail?: string;
  enables: string;
  /** How to get it working; absent when it already is. */
  install?: string;
  required: boolean;
}

export const MIN_NODE_VERSION = '20.19.0';
const PROBE_TIMEOUT_MS = 5_000;
const KIND_RUNTIME = 'the kind runtime';
const CLUSTER_RUNTIMES = 'the kind and context runtimes';
/** What each cluster runtime needs working (`up` checks the versions too: runtime/cluster/prerequisites.ts). */
const RUNTIME_TOOLS: Partial<Record<RuntimeName, string[]>> = {
  kind: ['docker', 'kind', 'kubectl', 'helm', 'istioctl'],
  context: ['docker', 'helm', 'istioctl'],
};
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

interface Probe {
  name: string;
  enables: string;
  run: (ctx: ProbeContext) => Promise<Omit<ToolReport, 'name' | 'enables' | 'required'>>;
  required?: boolean;
}

interface ProbeContext {
  tools: ToolRunner;
  timeoutMs: number;
  nodeVersion: string;
}

const PROBES: Probe[] = [
  {
    name: 'node',
    enables: 'the CLI, the services and the local runtime',
    required: true,
    run: async ({ tools, nodeVersion }) =>
      compareVersions(nodeVersion, MIN_NODE_VERSION) >= 0
        ? { status: 'ok', path: process.execPath, version: nodeVersion }
        : {
            status: 'too old',
            path: process.execPath,
            version: nodeVersion,
            detail: `ecom needs Node.js ${MIN_NODE_VERSION} or newer`,
            install: tools.installCommand('node'),
          },
  },
  { name: 'docker', enables: `a Docker engine: ${CLUSTER_RUNTIMES} (image builds)`, run: probeDocker },
  { name: 'kind', enables: KIND_RUNTIME, run: versionProbe('kind') },
  { name: 'kubectl', enables: KIND_RUNTIME, run: versionProbe('kubectl') },
  { name: 'helm', enables: CLUSTER_RUNTIMES, run: versionProbe('helm') },
  { name: 'istioctl', enables: CLUSTER_RUNTIMES, run: versionProbe('istioctl') },
  {
    name: 'rabbitmq-server',
    enables: 'local runtime runs its own broker (without it, orders wait in the outbox unless AMQP_URL names one)',
    run: versionProbe('rabbitmq-server'),
  },
  { name: 'prometheus', enables: 'metrics scraping in the local runtime', run: versionProbe('prometheus') },
  { name: 'chromium', enables: 'browser tests', run: versionProbe(CHROMIUM_NAMES) },
];

function versionProbe(names: string | string[]): Probe['run'] {
  const candidates = Array.isArray(names) ? names : [names];
  return async ({ tools, timeoutMs }) => {
    const found = candidates.find((n) => tools.find(n));
    if (!found) return { status: 'missing', install: tools.installCommand(candidates[0]!) };
    const path = tools.find(found);
    try {
      return { status: 'ok', path, version: await tools.version(found, { timeoutMs }) };
    } catch (err) {
      return { status: 'ok', path, detail: `found, but it did not tell its version: ${firstLine(err)}` };
    }
  };
}

/** The client alone is not enough: only an engine answering `docker info` runs containers. */
async function probeDocker({ tools, timeoutMs }: ProbeContext): Promise<Omit<ToolReport, 'name' | 'enables' | 'required'>> {
  const path = tools.find('docker');
  if (!path) return { status: 'missing', install: tools.installCommand('docker') };
  const [client, engine] = await Promise.allSettled([
    tools.version('docker', { timeoutMs }),
    tools.run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs }),
  ]);
  const clientVersion = client.status === 'fulfilled' ? client.value : undefined;
  if (engine.status === 'fulfilled' && engine.value.stdout.trim() !== '') {
    return { status: 'ok', path, version: engine.value.stdout.trim() };
  }
  const why = engine.status === 'rejected' ? firstLine(engine.reason) : 'docker info returned no server version';
  return {
    status: 'client only',
    path,
    version: clientVersion,
    detail: `the engine is not answering: ${why}`,
    install: `start the Docker engine (sudo systemctl start docker), or install one: ${tools.installCommand('docker')}`,
  };
}

function firstLine(err: unknown): string {
  const e = err as { detail?: string; message?: string };
  const text = e.detail?.trim() || e.message || String(err);
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}

export async function diagnose(deps: DoctorDeps = {}): Promise<ToolReport[]> {
  const ctx: ProbeContext = {
    tools: deps.tools ?? new ToolRunner(),
    timeoutMs: deps.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
    nodeVersion: (deps.nodeVersion ?? process.versions.node).replace(/^v/, ''),
  };
  return Promise.all(
    PROBES.map(async (p) => {
      const base = { name: p.name, enables: p.enables, required: p.required ?? false };
      try {
        return { ...base, ...(await p.run(ctx)) };
      } catch (err) {
        return { ...base, status: 'missing' as const, detail: firstLine(err), install: ctx.tools.installCommand(p.name) };
      }
    }),
  );
}

export async function runDoctor(options: DoctorOptions, deps: DoctorDeps = {}): Promise<number> {
  const output = deps.output ?? createOutput({ json: options.json });
  const tools = deps.tools ?? new ToolRunner();
  const reports = await diagnose({ ...deps, tools });
  const nodeOk = reports.find((r) => r.name === 'node')?.status === 'ok';
  const runtime = options.runtime && isRuntimeName(options.runtime) ? options.runtime : 'local';
  // A runtime this version does not have cannot run, whatever is installed.
  const unavailable = runtimeAvailable(runtime) ? undefined : runtime;
  const missing = (RUNTIME_TOOLS[runtime] ?? []).filter((name) => reports.find((r) => r.name === name)?.status !== 'ok');
  const ready = nodeOk && !unavailable && missing.length === 0;
  const paint = await output.paint();
  output.result(renderHuman(reports, nodeOk, paint, { runtime, unavailable, missing }), {
    ok: ready,
    os: tools.os(),
    runtime: { name: runtime, available: !unavailable, ready, ...(missing.length > 0 ? { missing } : {}) },
    localRuntime: { ready: nodeOk },
    tools: reports,
  });
  return ready ? ExitCode.ok : ExitCode.prerequisite;
}

export function statusLabel(r: ToolReport): string {
  if (r.status === 'client only') return 'missing (client only)';
  return r.status;
}

interface Verdict {
  runtime: RuntimeName;
  unavailable?: RuntimeName;
  /** Tools the runtime needs that are not working. */
  missing: string[];
}

/** Which runtime needs a tool: doctor lists them under it. */
const GROUPS = [
  { id: 'local', title: 'local runtime' },
  { id: 'cluster', title: 'kind and context runtimes' },
  { id: 'tests', title: 'tests' },
] as const;
const CLUSTER_TOOLS = ['docker', 'kind', 'kubectl', 'helm', 'istioctl'];
export function toolGroup(name: string): (typeof GROUPS)[number]['id'] {
  if (CLUSTER_TOOLS.includes(name)) return 'cluster';
  return name === 'chromium' ? 'tests' : 'local';
}

/** The fitted table's lines, one entry per row with its wrapped continuation lines. */
function regroup(lines: string[], rows: number): string[][] {
  const grouped: string[][] = [];
  for (const line of lines) {
    if (line.startsWith('   ') && grouped.length > 1) grouped.at(-1)!.push(line);
    else grouped.push([line]);
  }
  return grouped.length === rows + 1 ? grouped : lines.map((l) => [l]);
}

function renderHuman(reports: ToolReport[], nodeOk: boolean, paint: Paint, { runtime, unavailable, missing }: Verdict, width = 80): string {
  const colour = (r: ToolReport) => {
    const label = statusLabel(r);
    if (r.status === 'ok') return paint.ok(label);
    return r.required ? paint.fail(label) : paint.warn(label);
  };
  // One table per runtime that needs the tools, columns aligned across them, within 80 columns.
  const rows = reports.map((r) => [r.name, colour(r), r.version ?? '-', r.enables]);
  const fitted = formatFittedTable(rows, { header: ['TOOL', 'STATUS', 'VERSION', 'ENABLES'], headerStyle: paint.bold, width, minLast: 16 }).split('\n');
  const [header, ...body] = regroup(fitted, reports.length);
  const table = [...header!, ...GROUPS.flatMap((g) => {
    const members = body.filter((_, i) => toolGroup(reports[i]!.name) === g.id).flat();
    return members.length > 0 ? [paint.bold(g.title), ...members] : [];
  })].join('\n');
  const wrap = (name: string, text: string) => wrapWords(`${name}: ${text}`, width - 4).map((l, i) => `${i === 0 ? '  ' : '    '}${l}`);
  const notes = reports.filter((r) => r.detail).flatMap((r) => wrap(r.name, r.detail!));
  // A command on lines of its own, continued with a backslash, so it pastes as one.
  const command = (text: string) => wrapWords(text, width - 6).map((l, i, all) => `    ${l}${i < all.length - 1 ? ' \\' : ''}`);
  const fixes = reports.filter((r) => r.install).flatMap((r) => [`  ${r.name}:`, ...command(r.install!)]);
  const verdict = !nodeOk
    ? paint.fail(`Node.js is too old: ecom needs ${MIN_NODE_VERSION} or newer.`)
    : unavailable
      ? paint.fail(`The ${unavailable} runtime is not available in this version of ecom; the local runtime can run (\`ecom up --runtime local\`).`)
      : missing.length > 0
        ? paint.fail(`The ${runtime} runtime cannot run here: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not working (see above).`)
        : runtime === 'local'
          ? paint.ok('The local runtime can run (`ecom up`).')
          : paint.ok(`The ${runtime} runtime can run (\`ecom up --runtime ${runtime}\`).`);
  return [
    table,
    ...(notes.length > 0 ? ['', 'Notes:', ...notes] : []),
    ...(fixes.length > 0 ? ['', 'To install what is missing:', ...fixes] : []),
    '',
    verdict,
  ].join('\n');
}
