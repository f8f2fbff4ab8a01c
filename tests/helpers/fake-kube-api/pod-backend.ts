/**
 * What stands behind the fake cluster's pods. The manual backend plays the scenarios
 * a test sets per workload (ready, crash loop, image pull error...) and points pod
 * ports at listeners the test started. A backend running each pod template as a real
 * container implements the same interface: admit the pod, start it, report its
 * condition, log and ports through the PodHandle, stop it.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { FakeCluster } from './cluster.js';
import type { PodHandle, PodScenario } from './pod-runtime.js';
import type { StoredObject } from './store.js';

export interface PodBackend {
  /** Once, when the cluster is made: a backend that reads objects (Secrets, Services) or other pods keeps it. */
  attach?(cluster: FakeCluster): void;
  /** Before the pod is stored, as an admission webhook: may change its spec (inject a sidecar). */
  admit?(pod: StoredObject, workload: string | undefined): void;
  /** The pod was created: run it and report through `pod`. */
  started(pod: PodHandle, object: StoredObject): void | Promise<void>;
  /** The pod was deleted. */
  stopped(pod: PodHandle): void | Promise<void>;
}

const ISTIO_PROXY: IContainer = {
  name: 'istio-proxy',
  image: 'istio/proxyv2:1.24.2',
  args: ['proxy', 'sidecar'],
  ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
  readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
};

export class ManualPodBackend implements PodBackend {
  private readonly scenarios = new Map<string, PodScenario>();
  private readonly nextPod = new Map<string, PodScenario[]>();

  /** The scenario of the workload's pods from now on (`Deployment/ns/name`). */
  setScenario(workload: string, scenario: PodScenario): void {
    this.scenarios.set(workload, scenario);
  }

  scenarioOf(workload: string | undefined): PodScenario {
    const base = (workload && this.scenarios.get(workload)) || (workload?.startsWith('Job/') ? { default: { state: 'completed' as const } } : {});
    const override = workload ? this.nextPod.get(workload)?.[0] : undefined;
    return override ? { ...base, ...override, containers: { ...base.containers, ...override.containers } } : base;
  }

  /** Changes for the workload's next pod only (a replacement that answers elsewhere). */
  overrideNextPod(workload: string, scenario: PodScenario): void {
    this.nextPod.set(workload, [...(this.nextPod.get(workload) ?? []), scenario]);
  }

  admit(pod: StoredObject, workload: string | undefined): void {
    if (!this.scenarioOf(workload).istioProxy) return;
    const spec = pod.spec as { containers: IContainer[] };
    if (!spec.containers.some((c) => c.name === ISTIO_PROXY.name)) spec.containers.push(structuredClone(ISTIO_PROXY));
  }

  started(pod: PodHandle, _object?: StoredObject): void | Promise<void> {
    const scenario = this.scenarioOf(pod.workload);
    if (pod.workload) this.nextPod.get(pod.workload)?.shift();
    pod.setScenario(scenario);
  }

  stopped(_pod?: PodHandle): void | Promise<void> {}
}
