/**
 * The loop on the kind runtime, against the recording stand-ins (docker, kind, helm,
 * istioctl), the in-test API server and the real forwarder, in a copy of the project
 * so a source can change: after `up`, nothing to build; an edit to order rebuilds and
 * pushes order's image alone, by its new input-hash tag, and rolls order's Deployment
 * onto it (new pod, /health through the forward); a restart with no new image stamps
 * the pod template under its own field manager, and a later `up` still does nothing.
 */
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { imageTags } from '../../../src/images/tags.js';
import { RESTART_ANNOTATION, RESTART_FIELD_MANAGER } from '../../../src/runtime/cluster/reload.js';
import { KindRuntime } from '../../../src/runtime/kind/runtime.js';
import type { Reloader } from '../../../src/runtime/types.js';
import { ToolRunner } from '../../../src/tools/tool-runner.js';
import { ROOT } from '../../helpers/cli.js';
import { findResource } from '../../helpers/fake-kube-api/resources.js';
import { changingCalls, useRuntimeFixture } from './runtime-setup.js';

const TEST_TIMEOUT_MS = 180_000;
/** What `up` and the image tags read from the project. */
const PROJECT_FILES = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsup.config.ts', 'src', 'manifests', 'dashboards'];
const fixture = useRuntimeFixture();

interface DeploymentJson {
  metadata: { managedFields?: Array<{ manager?: string }> };
  spec: { template: { metadata?: { annotations?: Record<string, string> }; spec: { containers: Array<{ image: string }> } } };
}

describe('kind runtime: the loop', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ecom-reload-root-'));
    for (const entry of PROJECT_FILES) {
      if (existsSync(join(ROOT, entry))) cpSync(join(ROOT, entry), join(root, entry), { recursive: true });
    }
    mkdirSync(join(root, 'bin'), { recursive: true });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('rebuilds, pushes and rolls out the changed service alone; restarts an unchanged one in place', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ctx = fixture;
    const runtime = new KindRuntime({ stateDir: ctx.stateDir, env: ctx.runner.env }, { tools: ctx.runner, fetch: ctx.tools.registryFetch, hostsFile: ctx.hostsFile, root });
    await runtime.up({ timeoutMs: 90_000, portOffset: ctx.portOffset, progress: ctx.progress });
    const deployment = (name: string) => ctx.api.store.get(findResource('apps', 'v1', 'deployments')!, 'ecommerce', name) as unknown as DeploymentJson;
    const podsBefore = Object.fromEntries(SERVICE_NAMES.map((s) => [s, ctx.api.pods('ecommerce', s)]));
    let reloader: Reloader | undefined;
    try {
      reloader = await runtime.reloader();
      expect(reloader.watchPaths).toEqual(expect.arrayContaining([join(root, 'src', 'services'), join(root, 'Dockerfile'), join(root, 'package-lock.json')]));

      ctx.tools.clearCalls();
      expect(await reloader.build()).toMatchObject({ ok: true, changed: [] });
      expect(changingCalls(ctx.tools.lines())).toEqual([]);

      const before = await imageTags(root);
      appendFileSync(join(root, 'src', 'services', 'order', 'app.ts'), '\n// edited by the loop test\n');
      const tags = await imageTags(root);
      expect(tags.order).not.toBe(before.order);
      const build = await reloader.build([join(root, 'src', 'services', 'order', 'app.ts')]);
      expect(build).toMatchObject({ ok: true, changed: ['order'] });
      const reference = `localhost:5050/ecom/order:${tags.order}`;
      expect(changingCalls(ctx.tools.lines())).toEqual([
        `docker build --network host --file ${join(root, 'Dockerfile')} --target order --build-arg SERVICE=order --label ecom.service=order --label ecom.inputs=${tags.order} --tag ${reference} --progress plain ${root}`,
        `docker push ${reference}`,
      ]);

      const [order] = await reloader.restart(['order'], { timeoutMs: 60_000 });
      expect(order).toMatchObject({ service: 'order', ok: true, detail: `image ${reference}` });
      expect(order!.healthyMs).toBeGreaterThanOrEqual(order!.restartMs);
      expect(deployment('order').spec.template.spec.containers[0]!.image).toBe(reference);
      expect(ctx.api.pods('ecommerce', 'order')).not.toEqual(podsBefore.order);
      for (const other of ['catalog', 'search', 'frontend']) {
        expect(deployment(other).spec.template.spec.containers[0]!.image, other).toBe(`localhost:5050/ecom/${other}:${before[other as keyof typeof before]}`);
        expect(ctx.api.pods('ecommerce', other), other).toEqual(podsBefore[other]);
      }

      ctx.tools.clearCalls();
      const unchanged = await reloader.build();
      expect(unchanged).toMatchObject({ ok: true, changed: [] });
      const [catalog] = await reloader.restart(['catalog'], { timeoutMs: 60_000 });
      expect(catalog).toMatchObject({ service: 'catalog', ok: true });
      expect(changingCalls(ctx.tools.lines())).toEqual([]);
      expect(ctx.api.pods('ecommerce', 'catalog')).not.toEqual(podsBefore.catalog);
      const stamped = deployment('catalog');
      expect(stamped.spec.template.metadata?.annotations?.[RESTART_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(stamped.metadata.managedFields?.map((f) => f.manager)).toContain(RESTART_FIELD_MANAGER);
    } finally {
      await reloader?.close();
    }

    // `up` renders no restart annotation, yet owns nothing of it: it changes nothing and rolls nothing.
    const changes = ctx.api.store.changesSince(0).length;
    const podsAfter = ctx.api.pods('ecommerce', 'catalog');
    ctx.tools.clearCalls();
    const again = await runtime.up({ timeoutMs: 90_000, portOffset: ctx.portOffset, progress: ctx.progress });
    expect(again.alreadyUp).toBe(true);
    expect(ctx.api.store.changesSince(0).slice(changes).filter((c) => c.object.kind === 'Deployment')).toEqual([]);
    expect(ctx.api.pods('ecommerce', 'catalog')).toEqual(podsAfter);
    expect(deployment('catalog').spec.template.metadata?.annotations?.[RESTART_ANNOTATION]).toBeDefined();
  });

  it('reports a failed image build as a value with the command, pushes nothing and leaves the Deployment as it was', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ctx = fixture;
    await new KindRuntime({ stateDir: ctx.stateDir, env: ctx.runner.env }, { tools: ctx.runner, fetch: ctx.tools.registryFetch, hostsFile: ctx.hostsFile, root }).up({
      timeoutMs: 90_000,
      portOffset: ctx.portOffset,
      progress: ctx.progress,
    });
    const image = () => (ctx.api.store.get(findResource('apps', 'v1', 'deployments')!, 'ecommerce', 'search') as unknown as DeploymentJson).spec.template.spec.containers[0]!.image;
    const running = image();
    const runner = new ToolRunner({ env: ctx.tools.env({ STAND_IN_FAIL: 'docker build' }), systemDirs: [] });
    const reloader = await new KindRuntime({ stateDir: ctx.stateDir, env: runner.env }, { tools: runner, fetch: ctx.tools.registryFetch, hostsFile: ctx.hostsFile, root }).reloader();
    try {
      appendFileSync(join(root, 'src', 'services', 'search', 'app.ts'), '\n// edited by the loop test\n');
      ctx.tools.clearCalls();
      const build = await reloader.build();
      expect(build.ok).toBe(false);
      expect(!build.ok && build.error).toMatch(/^\S*docker failed \(exit 1\): \S*docker build .*--target search .*\n.*ERROR: failed to solve/s);
      expect(changingCalls(ctx.tools.lines()).filter((l) => l.startsWith('docker push'))).toEqual([]);
      expect(image()).toBe(running);
    } finally {
      await reloader.close();
    }
  });
});
