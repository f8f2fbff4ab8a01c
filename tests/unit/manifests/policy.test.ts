import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../src/kube/types.js';
import { OVERLAYS } from '../../../src/manifests/render.js';
import { find, ofKind, podTemplate, readYaml, rendered, ROOT, SECRETS, selects, WORKLOAD_KINDS, type Container, type PodTemplate, type Selector } from './rendered.js';

/** Every file under these folders, as text. */
function repositoryFiles(...dirs: string[]): { path: string; text: string }[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  return dirs.flatMap((dir) => walk(join(ROOT, dir))).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));
}

const SECRET_LIKE_NAME = /pass|secret|token|credential|private|api[-_]?key/i;

describe('no secret value in the repository manifests', () => {
  const files = repositoryFiles('manifests', 'dashboards');

  it('no file holds a Secret object, a generated value or a credential of the original system', () => {
    const generated = Object.values(SECRETS);
    const originalDefaults = ['adminpassword', 'postgrespass', 'admin/admin'];
    const offending = files.flatMap(({ path, text }) => [
      ...(/^kind:\s*Secret\s*$/m.test(text) ? [`${path}: a Secret object`] : []),
      ...generated.filter((value) => text.includes(value)).map(() => `${path}: a generated secret value`),
      ...originalDefaults.filter((value) => text.toLowerCase().includes(value)).map((value) => `${path}: "${value}"`),
    ]);
    expect(offending).toEqual([]);
  });

  for (const overlay of OVERLAYS) {
    it(`in the ${overlay} overlay, every secret-like variable comes from a Secret and URLs carry credentials only as references`, async () => {
      const offending: string[] = [];
      for (const workload of (await rendered(overlay)).filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
        for (const container of containers(podTemplate(workload))) {
          for (const variable of container.env ?? []) {
            const where = `${workload.metadata.name}/${container.name} ${variable.name}`;
            if (SECRET_LIKE_NAME.test(variable.name) && !variable.valueFrom?.secretKeyRef) offending.push(`${where}: not from a Secret`);
            const credentials = /:\/\/([^@/]*)@/.exec(variable.value ?? '')?.[1];
            if (credentials && !/^(\$\([A-Z_]+\)|[a-z]+):\$\([A-Z_]+\)$/.test(credentials)) offending.push(`${where}: inline credentials`);
          }
        }
      }
      expect(offending).toEqual([]);
    });
  }

  it('Grafana takes its admin password from the generated Secret, never from values', () => {
    const values = readYaml('manifests', 'helm', 'grafana-values.yaml');
    expect(values).not.toHaveProperty('adminPassword');
    expect(values.admin).toEqual({ existingSecret: 'grafana-admin', userKey: 'admin-user', passwordKey: 'admin-password' });
  });
});

function containers(template: PodTemplate): Container[] {
  return [...(template.spec.initContainers ?? []), ...template.spec.containers];
}

/** A field set on the container, or else on the pod (the pod's applies to every container). */
function effective(template: PodTemplate, container: Container, field: string): unknown {
  return container.securityContext?.[field] ?? template.spec.securityContext?.[field];
}

describe.each(OVERLAYS)('security defaults of the %s overlay', (overlay) => {
  it('every container runs as a numeric non-root user, read-only, without capabilities or escalation, with limits', async () => {
    const problems: string[] = [];
    for (const workload of (await rendered(overlay)).filter((o) => WORKLOAD_KINDS.includes(o.kind))) {
      const template = podTemplate(workload);
      if (template.spec.automountServiceAccountToken !== false) problems.push(`${workload.metadata.name}: mounts a service-account token`);
      for (const container of containers(template)) {
        const name = `${workload.kind} ${workload.metadata.name}/${container.name}`;
        const user = effective(template, container, 'runAsUser');
        if (effective(template, container, 'runAsNonRoot') !== true) problems.push(`${name}: runAsNonRoot is not true`);
        if (typeof user !== 'number' || user === 0) problems.push(`${name}: no numeric non-root runAsUser`);
        if (container.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${name}: root filesystem is writable`);
        if (container.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${name}: privilege escalation allowed`);
        if (!container.securityContext?.capabilities?.drop?.includes('ALL')) problems.push(`${name}: capabilities not dropped`);
        if (container.securityContext?.capabilities?.add?.length) problems.push(`${name}: adds capabilities`);
        const seccomp = (effective(template, container, 'seccompProfile') as { type?: string } | undefined)?.type;
        if (seccomp !== 'RuntimeDefault') problems.push(`${name}: seccomp profile is not RuntimeDefault`);
        for (const resource of ['cpu', 'memory']) {
          if (!container.resources?.requests?.[resource]) problems.push(`${name}: no ${resource} request`);
          if (!container.resources?.limits?.[resource]) problems.push(`${name}: no ${resource} limit`);
        }
        if (template.spec.hostNetwork || template.spec.hostPID || template.spec.hostIPC) problems.push(`${name}: shares a host namespace`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every service writes only to an emptyDir at /tmp', async () => {
    for (const deployment of ofKind(await rendered(overlay), 'Deployment')) {
      const template = podTemplate(deployment);
      const mounts = template.spec.containers[0]!.volumeMounts ?? [];
      expect(mounts, deployment.metadata.name).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
      expect(template.spec.volumes?.find((v) => v.name === 'tmp')?.emptyDir, deployment.metadata.name).toBeDefined();
    }
  });

  it('every Deployment has both probes, an HPA and a PDB selecting its pods', async () => {
    const objects = await rendered(overlay);
    const deployments = ofKind(objects, 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['catalog', 'frontend', 'order', 'search']);
    for (const deployment of deployments) {
      const { name, namespace } = deployment.metadata;
      const template = podTemplate(deployment);
      const container = template.spec.containers[0]!;
      expect(container.readinessProbe?.httpGet?.path, name).toBe('/health');
      expect(container.livenessProbe?.httpGet?.path, name).toBe('/health/live');
      const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find(
        (h) => h.metadata.namespace === namespace && (h.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef.name === name,
      );
      expect(hpa?.spec, `${name}: HPA`).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment' } });
      const pdb = ofKind(objects, 'PodDisruptionBudget').find(
        (p) => p.metadata.namespace === namespace && selects((p.spec as { selector: Selector }).selector, template.metadata.labels),
      );
      expect(pdb, `${name}: PDB`).toBeDefined();
      expect((deployment.spec as { replicas?: number }).replicas, `${name}: replicas belong to the HPA`).toBeUndefined();
    }
  });

  it('every namespace enforces Pod Security "restricted", and every object lives in one of ours', async () => {
    const objects = await rendered(overlay);
    const namespaces = ofKind(objects, 'Namespace');
    expect(namespaces.map((n) => n.metadata.name).sort()).toEqual(['database', 'ecommerce', 'logging', 'messaging', 'monitoring']);
    for (const namespace of namespaces) {
      expect(namespace.metadata.labels, namespace.metadata.name).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      });
    }
    const ours = new Set(namespaces.map((n) => n.metadata.name));
    const elsewhere = objects.filter((o) => o.kind !== 'Namespace' && !ours.has(o.metadata.namespace ?? ''));
    // The one exception: the kind overlay publishes its registry where tools look for it.
    expect(elsewhere.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(
      overlay === 'kind' ? ['ConfigMap kube-public/local-registry-hosting'] : [],
    );
  });

  it('every Service port is named for Istio and targets a named port of the pods it selects', async () => {
    const objects = await rendered(overlay);
    const problems: string[] = [];
    for (const service of ofKind(objects, 'Service')) {
      const spec = service.spec as { selector: Record<string, string>; ports: { name?: string; targetPort?: string | number }[] };
      const pods = objects.filter(
        (o) => WORKLOAD_KINDS.includes(o.kind) && o.metadata.namespace === service.metadata.namespace && selects({ matchLabels: spec.selector }, podTemplate(o).metadata.labels),
      );
      if (pods.length === 0) problems.push(`${service.metadata.name}: selects no pods`);
      const portNames = new Set(pods.flatMap((p) => podTemplate(p).spec.containers.flatMap((c) => (c.ports ?? []).map((port) => port.name))));
      for (const port of spec.ports) {
        if (!/^(http|http2|https|grpc|grpc-web|tcp|tls|mongo|mysql|redis)(-[a-z0-9-]+)?$/.test(port.name ?? '')) {
          problems.push(`${service.metadata.name}: port "${port.name}" is not named for Istio`);
        }
        if (!portNames.has(String(port.targetPort))) problems.push(`${service.metadata.name}: targetPort ${port.targetPort} names no container port`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every object carries ecom\'s labels (down on a shared cluster deletes by them), and third-party images no registry host', async () => {
    const objects = await rendered(overlay);
    expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] !== 'ecom').map((o) => o.metadata.name)).toEqual([]);
    expect(objects.filter((o) => o.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE).map((o) => o.metadata.name)).toEqual([]);
    const images = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind)).flatMap((o) => containers(podTemplate(o)).map((c) => c.image));
    const thirdParty = images.filter((image) => !/\/ecom\/[a-z]+:/.test(image));
    expect([...new Set(thirdParty)].sort()).toEqual(['elasticsearch:9.0.4', 'postgres:17-alpine', 'rabbitmq:4-management-alpine']);
  });

  it('the infrastructure runs as StatefulSets with volumes', async () => {
    const objects = await rendered(overlay);
    for (const [namespace, name] of [['database', 'postgres'], ['messaging', 'rabbitmq'], ['logging', 'elasticsearch']] as const) {
      const spec = find(objects, 'StatefulSet', namespace, name).spec as { volumeClaimTemplates?: { metadata: { name: string } }[] };
      expect(spec.volumeClaimTemplates?.map((v) => v.metadata.name), name).toEqual(['data']);
    }
    const elasticsearch = podTemplate(find(objects, 'StatefulSet', 'logging', 'elasticsearch')).spec.containers[0]!;
    expect(elasticsearch.env).toEqual(expect.arrayContaining([{ name: 'node.store.allow_mmap', value: 'false' }, { name: 'discovery.type', value: 'single-node' }]));
  });
});
