/**
 * The Istio policies allow exactly the flows the system uses, by workload identity.
 * Checked twice: the allow rules as a table, and requests judged the way Istio judges
 * them (an ALLOW policy selecting the workload must have a rule whose source and
 * operation both match; the namespace's empty policy allows nothing on its own).
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/manifests/objects.js';
import { OVERLAYS } from '../../../src/manifests/render.js';
import { CALLER, INGRESS, isAllowed, PROMETHEUS, type PolicySpec } from './istio-authz.js';
import { find, ofKind, podTemplate, readYaml, rendered } from './rendered.js';

/** caller, callee, methods, paths ('*' for any): every allow rule there is, and no other. */
const ALLOWED_FLOWS = [
  ['ingress', 'frontend', 'GET HEAD POST', '*'],
  ['prometheus', 'frontend', 'GET', '/metrics'],
  ['frontend', 'catalog', 'GET', '/catalog /catalog/* /health/live'],
  ['prometheus', 'catalog', 'GET', '/metrics'],
  ['frontend', 'search', 'GET', '/search /health/live'],
  ['prometheus', 'search', 'GET', '/metrics'],
  ['frontend', 'order', 'POST', '/create-order /orders'],
  ['frontend', 'order', 'GET', '/orders/* / /health/live'],
  ['prometheus', 'order', 'GET', '/metrics'],
];

function allowRules(policies: KubeObject[]): string[][] {
  return policies.flatMap((policy) => {
    const spec = policy.spec as PolicySpec;
    const callee = spec.selector?.matchLabels['app.kubernetes.io/name'] ?? '(namespace)';
    return (spec.rules ?? []).flatMap((rule) =>
      (rule.from ?? [{ source: {} }]).flatMap(({ source }) =>
        (source.principals ?? ['*']).flatMap((principal) =>
          (rule.to ?? [{ operation: {} }]).map(({ operation }) => [
            Object.entries(CALLER).find(([, p]) => p === principal)?.[0] ?? principal,
            callee,
            (operation.methods ?? ['*']).join(' '),
            (operation.paths ?? ['*']).join(' '),
          ]),
        ),
      ),
    );
  });
}

/** caller, callee, method, path, allowed. */
const REQUESTS: [string, string, string, string, boolean][] = [
  ['ingress', 'frontend', 'GET', '/', true],
  ['ingress', 'frontend', 'POST', '/api/orders', true],
  ['ingress', 'frontend', 'GET', '/api/orders/stream', true],
  ['ingress', 'frontend', 'DELETE', '/api/orders/1', false],
  ['catalog', 'frontend', 'GET', '/', false],
  ['prometheus', 'frontend', 'GET', '/metrics', true],
  ['prometheus', 'frontend', 'GET', '/', false],
  ['frontend', 'catalog', 'GET', '/catalog?limit=5', true],
  ['frontend', 'catalog', 'GET', '/catalog/7', true],
  ['frontend', 'catalog', 'GET', '/health/live', true],
  ['frontend', 'catalog', 'POST', '/catalog', false],
  ['order', 'catalog', 'GET', '/catalog', false],
  ['search', 'catalog', 'GET', '/catalog', false],
  ['ingress', 'catalog', 'GET', '/catalog', false],
  ['prometheus', 'catalog', 'GET', '/metrics', true],
  ['prometheus', 'catalog', 'GET', '/catalog', false],
  ['frontend', 'search', 'GET', '/search?q=laptop', true],
  ['frontend', 'search', 'POST', '/search', false],
  ['order', 'search', 'GET', '/search', false],
  ['ingress', 'search', 'GET', '/search', false],
  ['frontend', 'order', 'POST', '/create-order', true],
  ['frontend', 'order', 'POST', '/orders', true],
  ['frontend', 'order', 'GET', '/orders/42', true],
  ['frontend', 'order', 'GET', '/', true],
  ['frontend', 'order', 'DELETE', '/orders/42', false],
  ['frontend', 'order', 'PUT', '/create-order', false],
  ['frontend', 'order', 'GET', '/create-order', false],
  ['catalog', 'order', 'POST', '/create-order', false],
  ['ingress', 'order', 'POST', '/create-order', false],
  ['prometheus', 'order', 'POST', '/create-order', false],
  ['prometheus', 'order', 'GET', '/metrics', true],
];

describe.each(OVERLAYS)('Istio policies of the %s overlay', (overlay) => {
  it('allow exactly the listed flows, by principal, method and path', async () => {
    const rules = allowRules(ofKind(await rendered(overlay), 'AuthorizationPolicy'));
    expect(rules.sort()).toEqual([...ALLOWED_FLOWS].sort());
  });

  it('deny everything else: the namespace-wide policy allows nothing and mutual TLS is STRICT', async () => {
    const objects = await rendered(overlay);
    expect(find(objects, 'AuthorizationPolicy', 'ecommerce', 'deny-all').spec).toEqual({});
    expect(find(objects, 'PeerAuthentication', 'ecommerce', 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  it.each(REQUESTS)('%s -> %s %s %s: allowed %s', async (caller, callee, method, path, allowed) => {
    expect(isAllowed(await rendered(overlay), caller, callee, method, path)).toBe(allowed);
  });

  it('name principals that are the callers\' real service accounts', async () => {
    const objects = await rendered(overlay);
    expect(podTemplate(find(objects, 'Deployment', 'ecommerce', 'frontend')).spec.serviceAccountName).toBe('frontend');
    find(objects, 'ServiceAccount', 'ecommerce', 'frontend');
    const prometheus = readYaml<{ serviceAccounts: { server: { name: string } } }>('manifests', 'helm', 'prometheus-values.yaml');
    expect(`cluster.local/ns/monitoring/sa/${prometheus.serviceAccounts.server.name}`).toBe(PROMETHEUS);
    // istioctl names the gateway's account after the gateway.
    const operator = readYaml<{ spec: { components: { ingressGateways: { name: string }[] } } }>('manifests', 'istio', 'istio-operator.yaml');
    expect(`cluster.local/ns/istio-system/sa/${operator.spec.components.ingressGateways[0]!.name}-service-account`).toBe(INGRESS);
  });

  it('give each service a DestinationRule with connection limits and outlier detection', async () => {
    const objects = await rendered(overlay);
    for (const service of ['catalog', 'search', 'order', 'frontend']) {
      const rule = find(objects, 'DestinationRule', 'ecommerce', service).spec as { host: string; trafficPolicy: Record<string, unknown> };
      expect(rule.host).toBe(`${service}-service.ecommerce.svc.cluster.local`);
      expect(rule.trafficPolicy).toMatchObject({
        tls: { mode: 'ISTIO_MUTUAL' },
        connectionPool: { tcp: { maxConnections: expect.any(Number) }, http: { http1MaxPendingRequests: expect.any(Number) } },
        outlierDetection: { consecutive5xxErrors: expect.any(Number), baseEjectionTime: expect.any(String) },
      });
    }
  });

  it('route ecommerce.local through the gateway to the frontend', async () => {
    const objects = await rendered(overlay);
    expect(find(objects, 'Gateway', 'ecommerce', 'ecommerce-gateway').spec).toMatchObject({ servers: [{ hosts: ['ecommerce.local'] }] });
    expect(find(objects, 'VirtualService', 'ecommerce', 'ecommerce').spec).toMatchObject({
      hosts: ['ecommerce.local'],
      gateways: ['ecommerce-gateway'],
      http: [{ route: [{ destination: { host: 'frontend-service.ecommerce.svc.cluster.local', port: { number: 5004 } } }] }],
    });
  });
});
