/**
 * Drift between the manifests and the code they run: the environment each Deployment
 * gives its container passes that service's own configuration schema, its URLs reach
 * rendered Services through the NetworkPolicies, the Secrets it reads exist, the metrics
 * port is the one Prometheus scrapes, and the kind files agree with each other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { SERVICE_NAMES, type ServiceName } from '../../../src/core/system.js';
import { resolveContainerEnv } from '../../../src/manifests/container-env.js';
import { LOCAL_REGISTRY } from '../../../src/manifests/local-registry.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { OVERLAYS } from '../../../src/manifests/render.js';
import { catalogConfigSchema } from '../../../src/services/catalog/service.js';
import { ConfigError, parseConfig } from '../../../src/services/common/config.js';
import { frontendConfigSchema } from '../../../src/services/frontend/service.js';
import { orderConfigSchema } from '../../../src/services/order/service.js';
import { searchConfigSchema } from '../../../src/services/search/service.js';
import { networkAllows, type Pod } from './network.js';
import { find, ofKind, podTemplate, readYaml, rendered, ROOT, SECRETS, selects, WORKLOAD_KINDS } from './rendered.js';

const SCHEMAS: Record<ServiceName, z.ZodType> = {
  catalog: catalogConfigSchema,
  search: searchConfigSchema,
  order: orderConfigSchema,
  frontend: frontendConfigSchema,
};
const URL_VARIABLES = ['DATABASE_URL', 'AMQP_URL', 'ELASTICSEARCH_URL', 'CATALOG_URL', 'SEARCH_URL', 'ORDER_URL'];

function servicePod(objects: KubeObject[], service: string): Pod {
  return { namespace: 'ecommerce', labels: podTemplate(find(objects, 'Deployment', 'ecommerce', service)).metadata.labels };
}

/** The pods behind `<name>.<namespace>.svc.cluster.local:<port>`, and the container port the Service sends to. */
function behindUrl(objects: KubeObject[], url: URL): { pods: Pod[]; targetPort: number } {
  const match = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(url.hostname);
  if (!match) throw new Error(`${url.host} is not a cluster Service name`);
  const [, name, namespace] = match as unknown as [string, string, string];
  const service = find(objects, 'Service', namespace, name);
  const spec = service.spec as { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
  const port = spec.ports.find((p) => p.port === Number(url.port));
  if (!port) throw new Error(`Service ${namespace}/${name} has no port ${url.port}`);
  const workloads = objects.filter(
    (o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.namespace === namespace && selects({ matchLabels: spec.selector }, podTemplate(o).metadata.labels),
  );
  const containerPort = workloads
    .flatMap((w) => podTemplate(w).spec.containers.flatMap((c) => c.ports ?? []))
    .find((p) => p.name === port.targetPort)?.containerPort;
  if (containerPort === undefined) throw new Error(`Service ${namespace}/${name}: targetPort ${port.targetPort} names no container port`);
  return { pods: workloads.map((w) => ({ namespace, labels: podTemplate(w).metadata.labels })), targetPort: containerPort };
}

describe.each(OVERLAYS)('the %s overlay against the services', (overlay) => {
  it.each(SERVICE_NAMES)('%s: the environment its Deployment gives passes its configuration schema', async (service) => {
    const objects = await rendered(overlay);
    const deployment = find(objects, 'Deployment', 'ecommerce', service);
    const config = parseConfig(SCHEMAS[service], resolveContainerEnv(deployment, objects)) as { PORT: number; HOST: string };
    const container = podTemplate(deployment).spec.containers[0]!;
    const httpPort = container.ports?.find((p) => p.name === `http-${service}`);
    // It listens where the probes, the Service and Prometheus look.
    expect(config.PORT).toBe(httpPort?.containerPort);
    expect(container.readinessProbe?.httpGet?.port).toBe(httpPort?.name);
    expect(container.livenessProbe?.httpGet?.port).toBe(httpPort?.name);
    expect(config.HOST).toBe('0.0.0.0');
  });

  it('search runs on Elasticsearch in the cluster', async () => {
    const objects = await rendered(overlay);
    const config = parseConfig(searchConfigSchema, resolveContainerEnv(find(objects, 'Deployment', 'ecommerce', 'search'), objects));
    expect(config.SEARCH_BACKEND).toBe('elasticsearch');
    expect(config.ELASTICSEARCH_URL).toBe('http://elasticsearch.logging.svc.cluster.local:9200');
  });

  it.each(SERVICE_NAMES)('%s: every URL it is given names a rendered Service that the NetworkPolicies let it reach', async (service) => {
    const objects = await rendered(overlay);
    const env = resolveContainerEnv(find(objects, 'Deployment', 'ecommerce', service), objects);
    const urls = URL_VARIABLES.filter((v) => env[v]).map((v) => [v, new URL(env[v]!)] as const);
    expect(urls.length).toBeGreaterThan(0);
    for (const [variable, url] of urls) {
      const { pods, targetPort } = behindUrl(objects, url);
      for (const pod of pods) expect(networkAllows(objects, servicePod(objects, service), pod, targetPort), `${service} ${variable}`).toBe(true);
    }
  });

  it('connection URLs carry the generated credentials and the database the PostgreSQL pod creates', async () => {
    const objects = await rendered(overlay);
    const postgresEnv = resolveContainerEnv(find(objects, 'StatefulSet', 'database', 'postgres'), objects);
    const rabbitEnv = resolveContainerEnv(find(objects, 'StatefulSet', 'messaging', 'rabbitmq'), objects);
    expect(postgresEnv.POSTGRES_PASSWORD).toBe(SECRETS.postgresPassword);
    expect(rabbitEnv).toMatchObject({ RABBITMQ_DEFAULT_USER: SECRETS.brokerUser, RABBITMQ_DEFAULT_PASS: SECRETS.brokerPassword });
    for (const service of SERVICE_NAMES) {
      const env = resolveContainerEnv(find(objects, 'Deployment', 'ecommerce', service), objects);
      const database = new URL(env.DATABASE_URL!);
      expect([database.username, database.password, database.pathname]).toEqual([postgresEnv.POSTGRES_USER, SECRETS.postgresPassword, `/${postgresEnv.POSTGRES_DB}`]);
      if (env.AMQP_URL) expect([new URL(env.AMQP_URL).username, new URL(env.AMQP_URL).password]).toEqual([SECRETS.brokerUser, SECRETS.brokerPassword]);
    }
  });

  it('the NetworkPolicies let Prometheus and the ingress gateway in, and keep the rest apart', async () => {
    const objects = await rendered(overlay);
    const prometheus: Pod = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/component': 'server' } };
    const gateway: Pod = { namespace: 'istio-system', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } };
    const rabbitmq: Pod = { namespace: 'messaging', labels: podTemplate(find(objects, 'StatefulSet', 'messaging', 'rabbitmq')).metadata.labels };
    for (const [index, service] of SERVICE_NAMES.entries()) {
      expect(networkAllows(objects, prometheus, servicePod(objects, service), 5001 + index), `prometheus -> ${service}`).toBe(true);
    }
    expect(networkAllows(objects, gateway, servicePod(objects, 'frontend'), 5004)).toBe(true);
    expect(networkAllows(objects, gateway, servicePod(objects, 'catalog'), 5001)).toBe(false);
    expect(networkAllows(objects, servicePod(objects, 'catalog'), rabbitmq, 5672)).toBe(false);
    expect(networkAllows(objects, servicePod(objects, 'search'), servicePod(objects, 'order'), 5003)).toBe(false);
    expect(networkAllows(objects, servicePod(objects, 'frontend'), servicePod(objects, 'catalog'), 5432)).toBe(false);
  });

  it('every Secret a workload reads is rendered, and every rendered Secret is read', async () => {
    const objects = await rendered(overlay);
    const read = new Set<string>();
    for (const workload of objects.filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      for (const container of podTemplate(workload).spec.containers) {
        // Throws naming the Secret or key that a pod would wait for.
        resolveContainerEnv(workload, objects, container.name);
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef as { name: string } | undefined;
          if (ref) read.add(`${workload.metadata.namespace}/${ref.name}`);
        }
      }
    }
    const grafana = readYaml<{ admin: { existingSecret: string; userKey: string; passwordKey: string } }>('manifests', 'helm', 'grafana-values.yaml');
    read.add(`monitoring/${grafana.admin.existingSecret}`);
    const admin = find(objects, 'Secret', 'monitoring', grafana.admin.existingSecret).stringData as Record<string, string>;
    expect(Object.keys(admin).sort()).toEqual([grafana.admin.passwordKey, grafana.admin.userKey].sort());
    expect(ofKind(objects, 'Secret').map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([...read].sort());
  });

  it('a missing variable or Secret is caught, naming it', async () => {
    const objects = await rendered(overlay);
    const deployment = find(objects, 'Deployment', 'ecommerce', 'catalog');
    const container = podTemplate(deployment).spec.containers[0]!;
    container.env = container.env!.filter((v) => v.name !== 'DATABASE_URL');
    expect(() => parseConfig(catalogConfigSchema, resolveContainerEnv(deployment, objects))).toThrow(ConfigError);
    expect(() => parseConfig(catalogConfigSchema, resolveContainerEnv(deployment, objects))).toThrow(/DATABASE_URL is required/);
    const withoutSecret = objects.filter((o) => !(o.kind === 'Secret' && o.metadata.namespace === 'ecommerce' && o.metadata.name === 'postgres-credentials'));
    const search = find(withoutSecret, 'Deployment', 'ecommerce', 'search');
    expect(() => resolveContainerEnv(search, withoutSecret)).toThrow(/key password of Secret ecommerce\/postgres-credentials does not exist/);
  });

  it('Prometheus scrapes /metrics on the port each service listens on', async () => {
    const objects = await rendered(overlay);
    const values = readYaml<{ serverFiles: { 'prometheus.yml': { scrape_configs: ScrapeConfig[] } } }>('manifests', 'helm', 'prometheus-values.yaml');
    const job = values.serverFiles['prometheus.yml'].scrape_configs.find((j) => j.job_name === 'ecom-services')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod', namespaces: { names: ['ecommerce'] } }]);
    const keep = (label: string) => new RegExp(`^(?:${job.relabel_configs.find((r) => r.action === 'keep' && r.source_labels[0] === label)!.regex})$`);
    for (const service of SERVICE_NAMES) {
      const template = podTemplate(find(objects, 'Deployment', 'ecommerce', service));
      const config = parseConfig(SCHEMAS[service], resolveContainerEnv(find(objects, 'Deployment', 'ecommerce', service), objects)) as { PORT: number };
      const scraped = template.spec.containers[0]!.ports!.filter((p) => keep('__meta_kubernetes_pod_container_port_name').test(p.name ?? ''));
      expect(scraped.map((p) => p.containerPort), service).toEqual([config.PORT]);
      expect(keep('__meta_kubernetes_pod_label_app_kubernetes_io_part_of').test(template.metadata.labels['app.kubernetes.io/part-of']!)).toBe(true);
      // Istio must not redirect the scrape to its own merged endpoint.
      expect(template.metadata.annotations?.['prometheus.istio.io/merge-metrics'], service).toBe('false');
    }
  });
});

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  kubernetes_sd_configs?: unknown[];
  relabel_configs: { source_labels: string[]; regex?: string; action?: string }[];
}

describe('the cluster pieces outside the rendered objects', () => {
  it('Elasticsearch runs the major version the search service\'s client speaks', async () => {
    const client = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@elastic', 'elasticsearch', 'package.json'), 'utf8')) as { version: string };
    const image = podTemplate(find(await rendered('kind'), 'StatefulSet', 'logging', 'elasticsearch')).spec.containers[0]!.image;
    expect(image.split(':')[1]!.split('.')[0]).toBe(client.version.split('.')[0]);
  });

  it('each service image runs as the user its Deployment names and exposes the port it declares', async () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const [, user, group] = /^USER (\d+):(\d+)$/m.exec(dockerfile) ?? [];
    const objects = await rendered('kind');
    for (const service of SERVICE_NAMES) {
      const template = podTemplate(find(objects, 'Deployment', 'ecommerce', service));
      expect(template.spec.securityContext, service).toMatchObject({ runAsUser: Number(user), runAsGroup: Number(group) });
      const target = new RegExp(`^FROM \\S+ AS ${service}$[\\s\\S]*?^EXPOSE (\\d+)$`, 'm').exec(dockerfile);
      expect(Number(target?.[1]), service).toBe(template.spec.containers[0]!.ports![0]!.containerPort);
    }
  });

  it('the kind cluster has a control-plane and a worker, maps the gateway, and pulls from the local registry', async () => {
    type Node = { role: string; extraPortMappings?: { containerPort: number; hostPort: number; listenAddress?: string }[] };
    const cluster = readYaml<{ kind: string; nodes: Node[]; containerdConfigPatches: string[] }>('manifests', 'kind', 'cluster.yaml');
    expect(cluster.kind).toBe('Cluster');
    expect(cluster.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker']);
    const mappings = cluster.nodes.flatMap((n) => n.extraPortMappings ?? []);
    const operator = readYaml<{ spec: { components: { ingressGateways: { k8s: { service: { ports: { nodePort: number }[] } } }[] } } }>('manifests', 'istio', 'istio-operator.yaml');
    const nodePorts = operator.spec.components.ingressGateways[0]!.k8s.service.ports.map((p) => p.nodePort);
    expect(mappings.map((m) => m.containerPort).sort()).toEqual(nodePorts.sort());
    for (const mapping of mappings) {
      expect([5001, 5002, 5003, 5004, LOCAL_REGISTRY.hostPort]).not.toContain(mapping.hostPort);
      expect(mapping.listenAddress).toBe('127.0.0.1');
    }
    expect(cluster.containerdConfigPatches.join('\n')).toContain('config_path = "/etc/containerd/certs.d"');
    expect([5001, 5002, 5003, 5004]).not.toContain(LOCAL_REGISTRY.hostPort);
    const objects = await rendered('kind');
    const hosting = find(objects, 'ConfigMap', 'kube-public', 'local-registry-hosting').data as Record<string, string>;
    expect(hosting['localRegistryHosting.v1']).toContain(`host: "${LOCAL_REGISTRY.host}"`);
    const images = ofKind(objects, 'Deployment').map((d) => podTemplate(d).spec.containers[0]!.image);
    for (const image of images) expect(image.startsWith(`${LOCAL_REGISTRY.host}/ecom/`)).toBe(true);
  });

  it('Grafana reads the Prometheus the chart creates and loads every dashboard of dashboards/', async () => {
    const prometheus = readYaml<{ server: { fullnameOverride: string; service: { servicePort: number } } }>('manifests', 'helm', 'prometheus-values.yaml');
    type GrafanaValues = {
      datasources: { 'datasources.yaml': { datasources: { url: string; type: string }[] } };
      sidecar: { dashboards: { enabled: boolean; label: string; labelValue: string; searchNamespace: string } };
    };
    const grafana = readYaml<GrafanaValues>('manifests', 'helm', 'grafana-values.yaml');
    expect(grafana.datasources['datasources.yaml'].datasources[0]).toMatchObject({
      type: 'prometheus',
      url: `http://${prometheus.server.fullnameOverride}.monitoring.svc.cluster.local:${prometheus.server.service.servicePort}`,
    });
    const { enabled, label, labelValue, searchNamespace } = grafana.sidecar.dashboards;
    expect(enabled).toBe(true);
    const dashboards = find(await rendered('kind'), 'ConfigMap', searchNamespace, 'ecom-dashboards');
    expect(dashboards.metadata.labels?.[label]).toBe(labelValue);
    const files = readdirSync(join(ROOT, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    expect(Object.keys(dashboards.data as object).sort()).toEqual(files);
    for (const file of files) expect(JSON.parse((dashboards.data as Record<string, string>)[file]!)).toHaveProperty('uid');
  });
});
