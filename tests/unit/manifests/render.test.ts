import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import { APPLY_PHASES, applyPhase } from '../../../src/manifests/objects.js';
import { renderSystem, requireRegistry } from '../../../src/manifests/render.js';
import { REGISTRY, rendered, ROOT, SECRETS, TAGS } from './rendered.js';

describe('renderSystem', () => {
  it('gives the objects in apply order: namespaces, infrastructure, config, secrets, workloads, Istio', async () => {
    const objects = await rendered('kind');
    const phases = objects.map(applyPhase);
    expect([...new Set(phases)]).toEqual(APPLY_PHASES.map((p) => p.phase));
    // Phases never interleave.
    expect(phases).toEqual([...phases].sort((a, b) => APPLY_PHASES.findIndex((p) => p.phase === a) - APPLY_PHASES.findIndex((p) => p.phase === b)));
    expect(objects.slice(0, 5).map((o) => o.kind)).toEqual(Array(5).fill('Namespace'));
    expect(objects.at(-1)?.kind).toBe('VirtualService');
  });

  it('is deterministic: the same tree gives the same output', async () => {
    const options = { root: ROOT, overlay: 'context' as const, registry: REGISTRY, tags: TAGS, secrets: SECRETS, redact: false };
    expect(JSON.stringify(await renderSystem(options))).toBe(JSON.stringify(await renderSystem(options)));
  });

  it('fails on an object of a kind no apply phase names, rather than applying it at a guess', () => {
    expect(() => applyPhase({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'x' } })).toThrow(/no apply phase for kind Job/);
  });

  it('needs a valid registry for the context overlay', async () => {
    await expect(renderSystem({ root: ROOT, overlay: 'context', tags: TAGS, redact: true })).rejects.toThrow(UsageError);
    expect(() => requireRegistry('https://registry.test')).toThrow(/not a registry reference/);
    expect(() => requireRegistry('Registry.Test')).toThrow(/not a registry reference/);
    expect(requireRegistry('registry.test:5000/team/')).toBe('registry.test:5000/team');
    expect(requireRegistry('10.0.0.7:5000')).toBe('10.0.0.7:5000');
  });

  it('gives the context overlay at least two replicas of each service', async () => {
    const minimum = (objects: Awaited<ReturnType<typeof rendered>>) =>
      objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => (o.spec as { minReplicas: number }).minReplicas);
    expect(minimum(await rendered('context'))).toEqual([2, 2, 2, 2]);
    expect(minimum(await rendered('kind'))).toEqual([1, 1, 1, 1]);
  });
});
