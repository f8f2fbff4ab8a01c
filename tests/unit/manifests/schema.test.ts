import { describe, expect, it } from 'vitest';
import { OVERLAYS } from '../../../src/manifests/render.js';
import { find, readYaml, rendered } from './rendered.js';
import { schemaViolations, validateObject } from './schemas.js';

describe('rendered objects against the Kubernetes and Istio schemas', () => {
  for (const overlay of OVERLAYS) {
    it(`every object of the ${overlay} overlay validates`, async () => {
      const objects = await rendered(overlay);
      expect(objects.length).toBeGreaterThan(60);
      expect(schemaViolations(objects)).toEqual([]);
    });
  }

  it('the istioctl input (IstioOperator) validates too', () => {
    expect(() => validateObject(readYaml('manifests', 'istio', 'istio-operator.yaml'))).not.toThrow();
  });

  it('an object of a kind no schema knows fails', () => {
    const widget = { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'w' } };
    expect(() => validateObject(widget)).toThrow(/Widget .*\/w: unknown kind example\.test\/v1\/Widget/);
  });

  it('a field of the wrong type fails, naming the object and the field', async () => {
    const deployment = find(await rendered('kind'), 'Deployment', 'ecommerce', 'catalog');
    const spec = deployment.spec as { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
    spec.template.spec.containers[0]!.ports[0]!.containerPort = 'http';
    expect(() => validateObject(deployment)).toThrow(/Deployment ecommerce\/catalog: .*containerPort must be integer/);
  });

  it('a missing required field fails', async () => {
    const service = find(await rendered('kind'), 'Service', 'ecommerce', 'catalog-service');
    delete (service.spec as { ports: { port?: number }[] }).ports[0]!.port;
    expect(() => validateObject(service)).toThrow(/Service ecommerce\/catalog-service: .*port/);
  });
});
