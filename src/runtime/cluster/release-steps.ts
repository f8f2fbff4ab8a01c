/**
 * What the cluster runtimes install beside the rendered objects (docs/architecture.md,
 * "kind"): Istio through istioctl, and Helm releases (Prometheus, Grafana, and on kind
 * metrics-server), each skipped when the cluster already has the wanted version.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MeshMode } from '../types.js';
import type { ClusterStepContext } from './context.js';
import { commandAction, commandCheck, type Step } from './plan.js';

export interface HelmRelease {
  name: string;
  namespace: string;
  chart: string;
  /** The chart repository, given with --repo so no `helm repo add` changes the user's Helm. */
  repo: string;
  version: string;
  /** Under the package root. */
  valuesFile?: string;
  /** Further arguments (--set …). */
  args?: string[];
  /** The Deployment the release runs, awaited with the system's own. */
  deployment: string;
}

/** Chart versions ecom was written against; a release at another version is upgraded. */
export const PROMETHEUS_RELEASE: HelmRelease = {
  name: 'prometheus',
  namespace: 'monitoring',
  chart: 'prometheus',
  repo: 'https://prometheus-community.github.io/helm-charts',
  version: '27.20.0',
  valuesFile: 'manifests/helm/prometheus-values.yaml',
  deployment: 'prometheus',
};

export const GRAFANA_RELEASE: HelmRelease = {
  name: 'grafana',
  namespace: 'monitoring',
  chart: 'grafana',
  repo: 'https://grafana.github.io/helm-charts',
  version: '9.2.7',
  valuesFile: 'manifests/helm/grafana-values.yaml',
  deployment: 'grafana',
};

/** kind ships no metrics-server, and its kubelets serve self-signed certificates. */
export const METRICS_SERVER_RELEASE: HelmRelease = {
  name: 'metrics-server',
  namespace: 'kube-system',
  chart: 'metrics-server',
  repo: 'https://kubernetes-sigs.github.io/metrics-server/',
  version: '3.12.2',
  args: ['--set', 'args={--kubelet-insecure-tls}'],
  deployment: 'metrics-server',
};

const HELM_TIMEOUT_MS = 5 * 60_000;
const ISTIO_TIMEOUT_MS = 10 * 60_000;
const QUERY_TIMEOUT_MS = 60_000;
export const ISTIO_OPERATOR_FILE = 'manifests/istio/istio-operator.yaml';

export function releaseStepId(release: HelmRelease): string {
  return `helm-${release.name}`;
}

interface HelmListEntry {
  name?: string;
  chart?: string;
  status?: string;
}

/** `helm upgrade --install`, skipped when `helm list` shows the release deployed at the wanted chart version. */
export function helmReleaseStep(root: string, release: HelmRelease, kubeFlags: string[], needs: string[]): Step<ClusterStepContext> {
  const wanted = `${release.chart}-${release.version}`;
  const list = { tool: 'helm', args: ['list', '--namespace', release.namespace, '--filter', `^${release.name}$`, '--output', 'json', ...kubeFlags], timeoutMs: QUERY_TIMEOUT_MS };
  const values = release.valuesFile ? ['--values', join(root, release.valuesFile)] : [];
  const install = {
    tool: 'helm',
    args: [
      'upgrade', '--install', release.name, release.chart,
      '--repo', release.repo,
      '--version', release.version,
      '--namespace', release.namespace,
      ...values,
      ...(release.args ?? []),
      ...kubeFlags,
    ],
    timeoutMs: HELM_TIMEOUT_MS,
    hint: `check that ${release.repo} is reachable and the values in ${release.valuesFile ?? 'the command'} fit chart ${wanted}`,
  };
  return {
    id: releaseStepId(release),
    title: `helm release ${release.namespace}/${release.name}`,
    needs,
    check: commandCheck(list, `helm list shows ${release.name} deployed at ${wanted}`, (result) => {
      const found = parseHelmList(result?.stdout).find((r) => r.name === release.name);
      return found?.chart === wanted && found.status === 'deployed' ? `${wanted} is deployed` : undefined;
    }),
    actions: [commandAction(install), recordRelease(release)],
  };
}

function recordRelease(release: HelmRelease): Step<ClusterStepContext>['actions'][number] {
  return {
    planned: [],
    run: async (ctx) => {
      ctx.created.helmReleases.add(`${release.namespace}/${release.name}`);
    },
  };
}

function parseHelmList(stdout: string | undefined): HelmListEntry[] {
  try {
    const parsed = JSON.parse(stdout ?? '[]') as unknown;
    return Array.isArray(parsed) ? (parsed as HelmListEntry[]) : [];
  } catch {
    return [];
  }
}

interface IstioVersions {
  clientVersion?: { version?: string };
  meshVersion?: Array<{ Component?: string; Info?: { version?: string } }>;
}

/** The control plane's versions when every one is istioctl's own; undefined otherwise. */
export function installedIstio(stdout: string | undefined): string | undefined {
  let parsed: IstioVersions;
  try {
    parsed = JSON.parse(stdout ?? '') as IstioVersions;
  } catch {
    return undefined;
  }
  const client = parsed.clientVersion?.version;
  const mesh = (parsed.meshVersion ?? []).map((m) => m.Info?.version);
  return client && mesh.length > 0 && mesh.every((v) => v === client) ? client : undefined;
}

/** `istioctl install` from manifests/istio/istio-operator.yaml, skipped when istioctl's own version runs. */
export function istioStep(root: string, kubeFlags: string[], needs: string[]): Step<ClusterStepContext> {
  const version = { tool: 'istioctl', args: ['version', '--output', 'json', ...kubeFlags], timeoutMs: QUERY_TIMEOUT_MS };
  const install = {
    tool: 'istioctl',
    args: ['install', '--skip-confirmation', '--filename', join(root, ISTIO_OPERATOR_FILE), ...kubeFlags],
    timeoutMs: ISTIO_TIMEOUT_MS,
    hint: '`kubectl get pods -n istio-system` shows what did not start',
  };
  return {
    id: 'istio',
    title: 'Istio (sidecar mode)',
    needs,
    check: commandCheck(version, "istioctl version shows the control plane at istioctl's own version", (result) => {
      const installed = installedIstio(result?.stdout);
      return installed ? `Istio ${installed} is installed` : undefined;
    }),
    actions: [commandAction(install)],
  };
}

/**
 * Without a mesh Prometheus has no sidecar certificates to scrape with: the services
 * are scraped in plain HTTP instead, and Prometheus gets no sidecar. The scrape list is
 * replaced whole (Helm replaces lists), derived from the values file so the two agree.
 */
export async function prometheusArgsFor(root: string, mesh: MeshMode): Promise<string[]> {
  if (mesh !== 'none') return [];
  const { parse } = await import('yaml');
  const values = parse(await readFile(join(root, PROMETHEUS_RELEASE.valuesFile!), 'utf8')) as {
    serverFiles: { 'prometheus.yml': { scrape_configs: Array<Record<string, unknown>> } };
  };
  const scrapes = values.serverFiles['prometheus.yml'].scrape_configs.map((job) => {
    if (!('tls_config' in job)) return job;
    const { tls_config: _tls, ...plain } = job;
    return { ...plain, scheme: 'http' };
  });
  return [
    '--set-json', `serverFiles.prometheus\\.yml.scrape_configs=${JSON.stringify(scrapes)}`,
    '--set-string', 'server.podLabels.sidecar\\.istio\\.io/inject=false',
  ];
}
