/**
 * Prometheus for the fake kind cluster: when the `prometheus` Deployment (the Helm
 * release) gets a pod, a real Prometheus starts with the chart's own scrape
 * configuration from manifests/helm/prometheus-values.yaml - its relabelling
 * unchanged (keep ecom's pods and their http-<service> ports, the `service` label from
 * app.kubernetes.io/name), scraping each pod's IP, which the Docker pod backend makes
 * the container's real address - and the pod's port 9090 points at it. What differs
 * from the chart, and why:
 * - Debian's Prometheus is built without Kubernetes service discovery, so the
 *   harness discovers instead: each `kubernetes_sd_configs` becomes a `file_sd_configs`
 *   file it keeps current from the API server's pods, one target per container port
 *   with the labels Prometheus's pod role gives (`__meta_kubernetes_pod_…`);
 * - the services are scraped over plain HTTP: the chart scrapes through the Istio
 *   sidecar's mutual-TLS certificates, and no Istio runs here;
 * - its own target is the address it listens on here instead of localhost:9090.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../src/core/poll.js';
import { findExecutable } from '../../src/tools/which.js';
import type { PodScenario } from '../helpers/fake-kube-api/index.js';
import { findResource } from '../helpers/fake-kube-api/resources.js';
import type { ObjectStore } from '../helpers/fake-kube-api/store.js';
import { freePort } from './kind-harness-infra.js';

const VALUES_FILE = new URL('../../manifests/helm/prometheus-values.yaml', import.meta.url).pathname;
/** The chart's defaults for server.global, under what the values set there. */
const CHART_GLOBAL = { scrape_interval: '1m', scrape_timeout: '10s', evaluation_interval: '1m' };
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

type ScrapeConfig = Record<string, unknown> & {
  job_name: string;
  scheme?: string;
  tls_config?: Record<string, unknown>;
  static_configs?: Array<{ targets: string[] }>;
  kubernetes_sd_configs?: Array<{ role: string; namespaces?: { names?: string[] } }>;
  file_sd_configs?: Array<{ files: string[] }>;
};

/** A file the harness keeps current with the pods of these namespaces, as the pod role would discover them. */
export interface PodDiscovery {
  file: string;
  namespaces: string[];
}

/** The chart's prometheus.yml and rule files, adapted to run here (see the file comment). */
export async function prometheusFiles(dir: string, listen: string): Promise<{ files: Record<string, string>; discovery: PodDiscovery[] }> {
  const { parse, stringify } = await import('yaml');
  const values = parse(readFileSync(VALUES_FILE, 'utf8')) as { server?: { global?: Record<string, string> }; serverFiles: Record<string, Record<string, unknown>> };
  const config = structuredClone(values.serverFiles['prometheus.yml']!) as { scrape_configs: ScrapeConfig[]; rule_files?: string[] };
  const discovery: PodDiscovery[] = [];
  for (const scrape of config.scrape_configs) {
    for (const group of scrape.static_configs ?? []) group.targets = group.targets.map((t) => (t === 'localhost:9090' ? listen : t));
    if (!scrape.kubernetes_sd_configs) continue;
    const sd = scrape.kubernetes_sd_configs.map((c, i) => {
      if (c.role !== 'pod') throw new Error(`job ${scrape.job_name}: the harness discovers the pod role only, not ${c.role}`);
      const found = { file: join(dir, `pods-${scrape.job_name}-${i}.json`), namespaces: c.namespaces?.names ?? [] };
      discovery.push(found);
      return { files: [found.file] };
    });
    delete scrape.kubernetes_sd_configs;
    scrape.file_sd_configs = sd;
    if (scrape.scheme === 'https') {
      scrape.scheme = 'http';
      delete scrape.tls_config;
    }
  }
  const files: Record<string, string> = {};
  const rules = (config.rule_files ?? []).map((path) => path.split('/').pop()!);
  for (const name of rules) files[name] = stringify(values.serverFiles[name] ?? {});
  files['prometheus.yml'] = stringify({ global: { ...CHART_GLOBAL, ...values.server?.global }, ...config, rule_files: rules.map((name) => join(dir, name)) });
  return { files, discovery };
}

const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

interface PodObject {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> };
  spec?: { nodeName?: string; containers?: Array<{ name: string; image?: string; ports?: Array<{ name?: string; containerPort: number; protocol?: string }> }> };
  status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }> };
}

/** The targets Prometheus's pod role makes of a pod: one per container port, with its __meta_kubernetes_* labels. */
export function podTargets(pod: PodObject): Array<{ targets: string[]; labels: Record<string, string> }> {
  const ip = pod.status?.podIP;
  if (!ip) return [];
  const m = '__meta_kubernetes_';
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  const podLabels: Record<string, string> = {
    [`${m}namespace`]: pod.metadata.namespace ?? 'default',
    [`${m}pod_name`]: pod.metadata.name,
    [`${m}pod_ip`]: ip,
    [`${m}pod_uid`]: pod.metadata.uid ?? '',
    [`${m}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${m}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${m}pod_phase`]: pod.status?.phase ?? '',
    [`${m}pod_ready`]: String(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false),
    ...(owner ? { [`${m}pod_controller_kind`]: owner.kind, [`${m}pod_controller_name`]: owner.name } : {}),
  };
  for (const [key, value] of Object.entries(pod.metadata.labels ?? {})) Object.assign(podLabels, { [`${m}pod_label_${sanitize(key)}`]: value, [`${m}pod_labelpresent_${sanitize(key)}`]: 'true' });
  for (const [key, value] of Object.entries(pod.metadata.annotations ?? {})) Object.assign(podLabels, { [`${m}pod_annotation_${sanitize(key)}`]: value, [`${m}pod_annotationpresent_${sanitize(key)}`]: 'true' });
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((port) => ({
      targets: [`${ip}:${port.containerPort}`],
      labels: {
        ...podLabels,
        [`${m}pod_container_name`]: c.name,
        [`${m}pod_container_image`]: c.image ?? '',
        [`${m}pod_container_init`]: 'false',
        [`${m}pod_container_port_name`]: port.name ?? '',
        [`${m}pod_container_port_number`]: String(port.containerPort),
        [`${m}pod_container_port_protocol`]: port.protocol ?? 'TCP',
      },
    })),
  );
}

const PODS = findResource('', 'v1', 'pods')!;

export class PrometheusPlayer {
  private child: ChildProcess | undefined;
  private started: Promise<PodScenario> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ecom-kind-prometheus-'));
  url: string | undefined;

  constructor(private readonly store: () => ObjectStore) {}

  play = (): Promise<PodScenario> => (this.started ??= this.start());

  /** Rewrites each discovery file from the pods now (atomically: Prometheus watches the files). */
  private discover(discovery: PodDiscovery[]): void {
    const pods = this.store().list(PODS) as unknown as PodObject[];
    for (const { file, namespaces } of discovery) {
      const groups = pods.filter((p) => namespaces.length === 0 || namespaces.includes(p.metadata.namespace ?? '')).flatMap(podTargets);
      writeFileSync(`${file}.tmp`, JSON.stringify(groups, null, 1));
      renameSync(`${file}.tmp`, file);
    }
  }

  private async start(): Promise<PodScenario> {
    const binary = findExecutable('prometheus', process.env, ['/usr/bin']);
    if (!binary) throw new Error('prometheus is not installed (apt-get install -y prometheus): it plays the Helm release prometheus');
    const port = await freePort();
    const listen = `127.0.0.1:${port}`;
    const { files, discovery } = await prometheusFiles(this.dir, listen);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(this.dir, name), text);
    this.discover(discovery);
    let queued = false;
    this.unsubscribe = this.store().subscribe((change) => {
      if (change.resource.kind !== 'Pod' || queued) return;
      queued = true;
      setImmediate(() => ((queued = false), this.discover(discovery)));
    });
    mkdirSync(join(this.dir, 'data'));
    const log = openSync(join(this.dir, 'prometheus.log'), 'a');
    try {
      this.child = spawn(binary, ['--config.file', join(this.dir, 'prometheus.yml'), '--storage.tsdb.path', join(this.dir, 'data'), '--web.listen-address', listen], {
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.url = `http://${listen}`;
    const exited = () => this.child?.exitCode !== null;
    await pollUntil(
      async () => {
        if (exited()) throw new Error(`prometheus exited: ${readFileSync(join(this.dir, 'prometheus.log'), 'utf8').slice(-2000)}`);
        const answer = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        return answer?.status === 200 ? true : undefined;
      },
      { what: `Prometheus ready on ${listen}`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 250 },
    );
    return { ports: { 9090: { host: '127.0.0.1', port } } };
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
