/**
 * How the Docker pod backend of the in-test API server runs a rendered pod template
 * (tests/helpers/fake-kube-api/docker-run-args.ts) and how the kind harness discovers
 * Prometheus targets (tests/e2e/kind-harness-prometheus.ts), checked against the
 * rendered kind overlay without an engine: what the e2e tests rely on, each flag where
 * a wrong one would still let a container start.
 */
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { imageTags } from '../../../src/images/tags.js';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { renderSystem } from '../../../src/manifests/render.js';
import { generateClusterSecrets } from '../../../src/manifests/secrets.js';
import { ROOT } from '../../helpers/cli.js';
import { dockerRunArgs, quantityBytes } from '../../helpers/fake-kube-api/docker-run-args.js';
import { podTargets } from '../../e2e/kind-harness-prometheus.js';

async function rendered(kind: string, name: string): Promise<KubeObject> {
  const objects = await renderSystem({ root: ROOT, overlay: 'kind', tags: await imageTags(ROOT), secrets: generateClusterSecrets(), redact: false });
  return objects.find((o) => o.kind === kind && o.metadata.name === name)!;
}

function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('docker run arguments from a rendered pod template', () => {
  it('carry the securityContext, an emptyDir as tmpfs, the published ports, the Service names and the environment by name only', async () => {
    const deployment = await rendered('Deployment', 'search');
    const spec = (deployment.spec as { template: { spec: IPodSpec } }).template.spec;
    const args = dockerRunArgs({
      name: 'c1',
      podName: 'search-abc-x1',
      namespace: 'ecommerce',
      spec,
      container: spec.containers[0]!,
      image: '127.0.0.1:5999/ecom/search:t',
      env: { DATABASE_URL: 'postgres://ecom:secret@postgres-postgresql.database.svc.cluster.local:5432/ecom', PORT: '5002' },
      network: 'pods',
      aliases: ['search-service.ecommerce.svc.cluster.local'],
      hosts: { 'postgres-postgresql.database.svc.cluster.local': '172.18.0.1' },
      labels: { 'ecom.test': 'kind-pods' },
    });
    expect(flagValues(args, '--user')).toEqual(['10001:10001']);
    expect(args).toContain('--read-only');
    expect(flagValues(args, '--cap-drop')).toEqual(['ALL']);
    expect(flagValues(args, '--security-opt')).toEqual(['no-new-privileges']);
    expect(flagValues(args, '--tmpfs')).toEqual([`/tmp:rw,exec,mode=1777,size=${64 * 1024 * 1024}`]);
    expect(flagValues(args, '--publish')).toEqual(['127.0.0.1::5002/tcp']);
    expect(flagValues(args, '--network-alias')).toEqual(['search-service.ecommerce.svc.cluster.local']);
    expect(flagValues(args, '--add-host')).toEqual(['postgres-postgresql.database.svc.cluster.local:172.18.0.1']);
    expect(flagValues(args, '--dns-search')).toEqual(['ecommerce.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    // Values travel in the client's environment: no secret on a command line.
    expect(flagValues(args, '--env')).toEqual(['DATABASE_URL', 'PORT']);
    expect(args.join(' ')).not.toContain('secret');
    expect(args.at(-1)).toBe('127.0.0.1:5999/ecom/search:t');
  });

  it('refuse what a kubelet would not run, and what the backend cannot give', async () => {
    const base = { name: 'c', podName: 'p', namespace: 'ns', image: 'i', env: {}, network: 'n', aliases: [], hosts: {}, labels: {} };
    const root: IPodSpec = { securityContext: { runAsNonRoot: true, runAsUser: 0 }, containers: [{ name: 'x' }] };
    expect(() => dockerRunArgs({ ...base, spec: root, container: root.containers[0]! })).toThrow(/runAsNonRoot/);
    const privileged: IPodSpec = { containers: [{ name: 'x', securityContext: { privileged: true } }] };
    expect(() => dockerRunArgs({ ...base, spec: privileged, container: privileged.containers[0]! })).toThrow(/privileged/);
    const claim: IPodSpec = { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'd' } }], containers: [{ name: 'x', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] };
    expect(() => dockerRunArgs({ ...base, spec: claim, container: claim.containers[0]! })).toThrow(/not an emptyDir/);
    expect(quantityBytes('16Mi')).toBe(16 * 1024 * 1024);
  });
});

describe('Prometheus targets from pods, as its pod role makes them', () => {
  it('one per container port at the pod IP, with the labels the chart relabels from', () => {
    const [target, ...more] = podTargets({
      metadata: { name: 'catalog-abc-x1', namespace: 'ecommerce', labels: { 'app.kubernetes.io/name': 'catalog', 'app.kubernetes.io/part-of': 'ecom' } },
      spec: { containers: [{ name: 'catalog', ports: [{ name: 'http-catalog', containerPort: 5001 }] }] },
      status: { podIP: '172.18.0.4', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(more).toEqual([]);
    expect(target!.targets).toEqual(['172.18.0.4:5001']);
    expect(target!.labels).toMatchObject({
      __meta_kubernetes_namespace: 'ecommerce',
      __meta_kubernetes_pod_name: 'catalog-abc-x1',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'catalog',
      __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'ecom',
      __meta_kubernetes_pod_container_port_name: 'http-catalog',
      __meta_kubernetes_pod_ready: 'true',
    });
    expect(podTargets({ metadata: { name: 'pending' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 1 }] }] } })).toEqual([]);
  });
});
