/**
 * The context runtime's guards (src/runtime/context/): which contexts are local, the
 * kubeconfig's current context, asking before changing a cluster that is not local,
 * and the kinds `down` deletes (every kind ecom applies but Namespace).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/core/errors.js';
import { imageTags } from '../../../src/images/tags.js';
import { APPLY_PHASES } from '../../../src/manifests/objects.js';
import { renderSystem } from '../../../src/manifests/render.js';
import { confirmContext, currentContextOf, isLocalContext, type ConfirmOptions } from '../../../src/runtime/context/locality.js';
import { KIND_API_VERSIONS, deletionOrder } from '../../../src/runtime/context/teardown.js';
import { ROOT } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ecom-context-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isLocalContext', () => {
  it.each(['kind-ecom', 'k3d-dev', 'minikube', 'docker-desktop', 'rancher-desktop', 'orbstack'])('%s is local', (name) => {
    expect(isLocalContext(name)).toBe(true);
  });
  it.each(['team-prod', 'gke_project_zone_cluster', 'arn:aws:eks:eu-west-1:1:cluster/x', 'kind', 'my-minikube'])('%s is not', (name) => {
    expect(isLocalContext(name)).toBe(false);
  });
});

describe('currentContextOf', () => {
  it('reads kubectl YAML and JSON kubeconfigs, and says none when there is none', () => {
    const yaml = join(dir, 'config.yaml');
    writeFileSync(yaml, 'apiVersion: v1\nclusters: []\ncurrent-context: team-prod\nkind: Config\n');
    const json = join(dir, 'config.json');
    writeFileSync(json, '{\n  "apiVersion": "v1",\n  "current-context": "kind-ecom",\n  "kind": "Config"\n}\n');
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, 'apiVersion: v1\ncurrent-context: ""\n');
    expect([currentContextOf(yaml), currentContextOf(json), currentContextOf(empty), currentContextOf(join(dir, 'none'))]).toEqual(['team-prod', 'kind-ecom', undefined, undefined]);
  });
});

describe('confirmContext', () => {
  const questions: string[] = [];
  const options = (extra: Partial<ConfirmOptions>): ConfirmOptions => ({
    context: 'team-prod',
    assumeYes: false,
    terminal: { env: {}, stdinIsTTY: true, stderrIsTTY: true },
    ask: async (q) => (questions.push(q), false),
    ...extra,
  });

  it('lets a local context and --yes through without asking', async () => {
    questions.length = 0;
    await confirmContext(options({ context: 'kind-ecom' }));
    await confirmContext(options({ assumeYes: true, terminal: { env: { CI: 'true' }, stdinIsTTY: false, stderrIsTTY: false } }));
    expect(questions).toEqual([]);
  });

  it('refuses without a terminal or under CI, exit 2 with the hint, never asking', async () => {
    questions.length = 0;
    for (const terminal of [{ env: { CI: 'true' }, stdinIsTTY: true, stderrIsTTY: true }, { env: {}, stdinIsTTY: false, stderrIsTTY: true }]) {
      const err = (await confirmContext(options({ terminal })).catch((e: unknown) => e)) as UsageError;
      expect(err).toBeInstanceOf(UsageError);
      expect(err.exitCode).toBe(ExitCode.usage);
      expect(err.message).toBe('context "team-prod" is not a local cluster, and there is no terminal to ask on');
      expect(err.hint).toBe('rerun with --yes to change context "team-prod", or pick a local one with --context');
    }
    expect(questions).toEqual([]);
  });

  it('asks on a terminal: yes goes on, anything else is exit 2', async () => {
    questions.length = 0;
    await confirmContext(options({ ask: async (q) => (questions.push(q), true) }));
    expect(questions).toEqual([
      'ecom up will install Istio, Prometheus and Grafana and apply the ecom system to context "team-prod", which is not a local cluster. Go on?',
    ]);
    const err = (await confirmContext(options({})).catch((e: unknown) => e)) as UsageError;
    expect([err.message, err.exitCode]).toEqual(['not changing context "team-prod": not confirmed', ExitCode.usage]);
  });
});

describe('what the context runtime deletes', () => {
  it('names an API version for every kind ecom applies, the same as the rendered objects use', async () => {
    const kinds = APPLY_PHASES.flatMap((p) => [...p.kinds]);
    expect(Object.keys(KIND_API_VERSIONS).sort()).toEqual([...kinds].sort());
    const rendered = await renderSystem({ root: ROOT, overlay: 'context', registry: '127.0.0.1:5999/team', tags: await imageTags(ROOT), redact: true });
    for (const object of rendered) expect(`${object.kind} ${object.apiVersion}`).toBe(`${object.kind} ${KIND_API_VERSIONS[object.kind]}`);
  });

  it('deletes the last-applied kinds first and never a Namespace by label', () => {
    const order = deletionOrder().map((k) => k.kind);
    expect(order[0]).toBe('VirtualService');
    expect(order.at(-1)).toBe('ServiceAccount');
    expect(order).not.toContain('Namespace');
    expect(order.indexOf('Deployment')).toBeLessThan(order.indexOf('Secret'));
  });
});
