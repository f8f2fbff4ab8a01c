/**
 * The kind runtime's `up` and `down` against recording stand-ins for kind, docker, helm,
 * istioctl and kubectl, the in-test API server and the real forwarder: the commands of
 * a cold `up`, their order and concurrency, a second `up` that does nothing, a failing
 * and a missing tool, and `down`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EcomError, ExitCode, PrerequisiteError } from '../../../src/core/errors.js';
import { httpGet } from '../../../src/core/health-probe.js';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { imageTags } from '../../../src/images/tags.js';
import { readForwardStates } from '../../../src/runtime/cluster/forwarder.js';
import { KindRuntime } from '../../../src/runtime/kind/runtime.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { ROOT } from '../../helpers/cli.js';
import { overlapped, type ToolCall } from '../../helpers/cluster-tools/index.js';
import { findResource } from '../../helpers/fake-kube-api/resources.js';
import { changingCalls, useRuntimeFixture, type RuntimeTestContext } from './runtime-setup.js';

const UP_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 180_000;
const fixture = useRuntimeFixture();

function kindRuntime(ctx: RuntimeTestContext, runner = ctx.runner): KindRuntime {
  return new KindRuntime({ stateDir: ctx.stateDir, env: runner.env }, { tools: runner, fetch: ctx.tools.registryFetch, hostsFile: ctx.hostsFile });
}

const find = (calls: ToolCall[], prefix: string) => {
  const found = calls.filter((c) => [c.tool, ...c.args].join(' ').startsWith(prefix));
  if (found.length === 0) throw new Error(`no call starts with "${prefix}"`);
  return found;
};

/** Every call matching `later` started after every call matching `earlier` ended. */
function expectAfter(calls: ToolCall[], earlier: string, later: string): void {
  const end = Math.max(...find(calls, earlier).map((c) => c.end));
  const start = Math.min(...find(calls, later).map((c) => c.start));
  expect(start, `"${later}" started before "${earlier}" ended`).toBeGreaterThanOrEqual(end);
}

describe('kind runtime: up and down', () => {
  it('a cold up runs exactly these commands, dependent ones in order and independent ones at once; a second up runs none', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ctx = fixture;
    // The builds and the helm releases must all be in flight at once before any of them goes on.
    const runner = new ToolRunner({ env: ctx.tools.env({ STAND_IN_RENDEZVOUS: 'docker build =4,helm upgrade --install prometheus |helm upgrade --install grafana =2' }), systemDirs: [] });
    const runtime = kindRuntime(ctx, runner);
    const kubeconfig = join(ctx.stateDir, 'kubeconfig');
    const tags = await imageTags(ROOT);
    const result = await runtime.up({ timeoutMs: UP_TIMEOUT_MS, portOffset: ctx.portOffset, progress: ctx.progress });

    const ref = (s: string) => `localhost:5050/ecom/${s}:${tags[s as keyof typeof tags]}`;
    const kube = `--kubeconfig ${kubeconfig} --kube-context kind-ecom`;
    const hostsDir = '/etc/containerd/certs.d/localhost:5050';
    expect(changingCalls(ctx.tools.lines()).sort()).toEqual(
      [
        `kind create cluster --name ecom --config ${ROOT}manifests/kind/cluster.yaml --kubeconfig ${kubeconfig}`,
        'docker run --detach --restart always --name ecom-registry --publish 127.0.0.1:5050:5000 registry:2',
        'docker network connect kind ecom-registry',
        ...['ecom-control-plane', 'ecom-worker'].map((node) => `docker exec --interactive ${node} sh -c mkdir -p ${hostsDir} && cat > ${hostsDir}/hosts.toml`),
        ...SERVICE_NAMES.flatMap((s) => [
          `docker build --network host --file ${ROOT}Dockerfile --target ${s} --build-arg SERVICE=${s} --label ecom.service=${s} --label ecom.inputs=${tags[s]} --tag ${ref(s)} --progress plain ${ROOT.replace(/\/$/, '')}`,
          `docker push ${ref(s)}`,
        ]),
        `istioctl install --skip-confirmation --filename ${ROOT}manifests/istio/istio-operator.yaml --kubeconfig ${kubeconfig} --context kind-ecom`,
        `helm upgrade --install metrics-server metrics-server --repo https://kubernetes-sigs.github.io/metrics-server/ --version 3.12.2 --namespace kube-system --set args={--kubelet-insecure-tls} ${kube}`,
        `helm upgrade --install prometheus prometheus --repo https://prometheus-community.github.io/helm-charts --version 27.20.0 --namespace monitoring --values ${ROOT}manifests/helm/prometheus-values.yaml ${kube}`,
        `helm upgrade --install grafana grafana --repo https://grafana.github.io/helm-charts --version 9.2.7 --namespace monitoring --values ${ROOT}manifests/helm/grafana-values.yaml ${kube}`,
      ].sort(),
    );
    // Each step asked before it acted.
    for (const check of [
      'kind get clusters',
      'docker container inspect --format {{.State.Status}} ecom-registry',
      'docker container inspect --format {{json .NetworkSettings.Networks}} ecom-registry',
      `docker exec ecom-worker cat ${hostsDir}/hosts.toml`,
      `istioctl version --output json --kubeconfig ${kubeconfig} --context kind-ecom`,
      `helm list --namespace monitoring --filter ^grafana$ --output json ${kube}`,
    ]) {
      expect(ctx.tools.lines()).toContain(check);
    }

    const calls = ctx.tools.calls();
    const prerequisites = ['docker version --format {{.Server.Version}}', 'kind version', 'kubectl version --client', 'helm version --short', 'istioctl version --remote=false'];
    expect(calls.slice(0, 5).map((c) => [c.tool, ...c.args].join(' ')).sort()).toEqual([...prerequisites].sort());
    const lastCheck = Math.max(...calls.slice(0, 5).map((c) => c.end));
    expect(calls.slice(5).every((c) => c.start >= lastCheck), 'something started before the prerequisites passed').toBe(true);
    expectAfter(calls, 'kind create cluster', 'docker network connect');
    expectAfter(calls, 'kind create cluster', 'docker exec');
    expectAfter(calls, 'kind create cluster', 'istioctl install');
    expectAfter(calls, 'kind create cluster', 'helm upgrade');
    expectAfter(calls, 'docker run', 'docker push');
    expectAfter(calls, 'istioctl install', 'helm upgrade --install prometheus');
    const builds = find(calls, 'docker build ');
    const spans = builds.map((b) => `${b.start}-${b.end}`).join(', ');
    expect(builds.every((a) => builds.every((b) => a === b || overlapped(a, b))), `the four builds did not run at the same time: ${spans}`).toBe(true);
    // Prometheus and Grafana wait for the same step (Istio) and then run at once;
    // metrics-server waits for nothing but the cluster, so it may finish before them.
    const [prometheus] = find(calls, 'helm upgrade --install prometheus');
    const [grafana] = find(calls, 'helm upgrade --install grafana');
    expect(overlapped(prometheus!, grafana!), 'the Prometheus and Grafana releases did not run at the same time').toBe(true);

    // What a user observes: every service answers through its forward, objects name the local registry.
    expect(result.alreadyUp).toBe(false);
    expect(result.endpoints.services.frontend).toBe(`http://127.0.0.1:${5004 + ctx.portOffset}`);
    expect(await runtime.endpoints()).toEqual(result.endpoints);
    for (const s of SERVICE_NAMES) expect((await httpGet(`${result.endpoints.services[s]}/health`, 5_000)).status).toBe(200);
    expect(readForwardStates(ctx.stateDir).map((f) => f.name).sort()).toEqual(['catalog', 'frontend', 'grafana', 'order', 'prometheus', 'rabbitmq', 'search']);
    const catalog = ctx.api.store.list(findResource('apps', 'v1', 'deployments')!, 'ecommerce').find((d) => d.metadata.name === 'catalog') as { spec: { template: { spec: { containers: Array<{ image: string }> } } } } | undefined;
    expect(catalog?.spec.template.spec.containers.map((c) => c.image)).toEqual([ref('catalog')]);
    expect(ctx.tools.pushed().sort()).toEqual(SERVICE_NAMES.map(ref).sort());
    expect(statSync(join(ctx.stateDir, 'cluster-secrets.json')).mode & 0o777).toBe(0o600);
    expect(result.notes?.join('\n')).toContain(`curl -H 'Host: ecommerce.local' http://127.0.0.1:8080/`);

    // A second up: every step finds itself done.
    ctx.tools.clearCalls();
    const again = await kindRuntime(ctx).up({ timeoutMs: UP_TIMEOUT_MS, progress: ctx.progress });
    expect(again.alreadyUp).toBe(true);
    expect(again.endpoints).toEqual(result.endpoints);
    expect(changingCalls(ctx.tools.lines())).toEqual([]);
    expect(ctx.tools.lines().filter((l) => /^docker (build|push|tag)/.test(l))).toEqual([]);

    // down stops the forwards and deletes the cluster; the registry stays until --purge.
    ctx.tools.clearCalls();
    const down = await kindRuntime(ctx).down({ purge: false, progress: ctx.progress });
    expect(down.stopped).toEqual(['port-forwards', 'kind cluster ecom']);
    expect(changingCalls(ctx.tools.lines())).toEqual([`kind delete cluster --name ecom --kubeconfig ${kubeconfig}`]);
    expect(ctx.tools.has('containers/ecom-registry')).toBe(true);
    expect(await kindRuntime(ctx).endpoints()).toBeUndefined();
    const purge = await kindRuntime(ctx).down({ purge: true, progress: ctx.progress });
    expect(purge.stopped).toEqual(['registry container ecom-registry']);
    expect(ctx.tools.has('containers/ecom-registry')).toBe(false);
    expect(() => readFileSync(join(ctx.stateDir, 'cluster-secrets.json'))).toThrow();
    expect((await kindRuntime(ctx).down({ purge: true, progress: ctx.progress })).stopped).toEqual([]);
  });

  it('a failing tool stops the up with one line naming it and its last stderr lines, exit 1; nothing after it starts', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ctx = fixture;
    const runner = new ToolRunner({ env: ctx.tools.env({ STAND_IN_FAIL: 'kind create' }), systemDirs: [] });
    const err = (await kindRuntime(ctx, runner).up({ timeoutMs: UP_TIMEOUT_MS, portOffset: ctx.portOffset, progress: ctx.progress }).catch((e: unknown) => e)) as EcomError;

    expect(err).toBeInstanceOf(EcomError);
    expect(err.exitCode).toBe(ExitCode.failed);
    expect(err.message).not.toContain('\n');
    expect(err.message).toMatch(/^kind cluster ecom: kind failed \(exit 1\): kind create cluster --name ecom --config \S+ --kubeconfig \S+: /);
    expect(err.message).toMatch(/ERROR: failed to create cluster: .* \| Command Output: docker: Error response from daemon: .*Bind for 127\.0\.0\.1:8080 failed: port is already allocated\.$/);
    const lines = ctx.tools.lines();
    expect(lines.filter((l) => /^(istioctl install|helm upgrade|docker network connect|docker exec)/.test(l))).toEqual([]);
    expect(readForwardStates(ctx.stateDir)).toEqual([]);
  });
});

describe('kind runtime: a missing tool', () => {
  const missing = useRuntimeFixture({ omit: ['istioctl'] });

  it('is exit 3 with its install command for this OS, and nothing starts', async () => {
    const err = (await kindRuntime(missing).up({ timeoutMs: UP_TIMEOUT_MS, portOffset: missing.portOffset, progress: missing.progress }).catch((e: unknown) => e)) as EcomError;

    expect(err).toBeInstanceOf(PrerequisiteError);
    expect(err.exitCode).toBe(ExitCode.prerequisite);
    expect(err.message).toBe('prerequisites: the kind runtime cannot start: istioctl is not installed');
    expect(err.hint).toBe('install istioctl: curl -sL https://istio.io/downloadIstioctl | sh - && sudo install "$HOME/.istioctl/bin/istioctl" /usr/local/bin/');
    expect(missing.tools.lines().sort()).toEqual(['docker version --format {{.Server.Version}}', 'helm version --short', 'kind version', 'kubectl version --client']);
    expect(missing.events.filter((e) => e.kind === 'start').map((e) => e.task)).toEqual(['prerequisites']);
  });
});
