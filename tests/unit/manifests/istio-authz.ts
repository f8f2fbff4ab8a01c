/**
 * Istio's verdict on a request to a workload in ecommerce, from the rendered
 * AuthorizationPolicies: an ALLOW policy that selects the workload must have a rule
 * whose source and operation both match; a namespace's empty policy allows nothing.
 */
import type { KubeObject } from '../../../src/manifests/objects.js';
import { find, ofKind, podTemplate, selects } from './rendered.js';

export interface Rule {
  from?: { source: { principals?: string[] } }[];
  to?: { operation: { methods?: string[]; paths?: string[] } }[];
}
export interface PolicySpec {
  selector?: { matchLabels: Record<string, string> };
  action?: string;
  rules?: Rule[];
}

export const FRONTEND = 'cluster.local/ns/ecommerce/sa/frontend';
export const PROMETHEUS = 'cluster.local/ns/monitoring/sa/prometheus';
export const INGRESS = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
const OTHERS: Record<string, string> = {
  catalog: 'cluster.local/ns/ecommerce/sa/catalog',
  search: 'cluster.local/ns/ecommerce/sa/search',
  order: 'cluster.local/ns/ecommerce/sa/order',
};
export const CALLER: Record<string, string> = { frontend: FRONTEND, prometheus: PROMETHEUS, ingress: INGRESS, ...OTHERS };

/** Istio's path match: exact, `prefix*`, `*suffix` or `*`; the query string is not part of the path. */
function pathMatches(pattern: string, path: string): boolean {
  const bare = path.split('?')[0]!;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return bare.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return bare.endsWith(pattern.slice(1));
  return bare === pattern;
}

export function isAllowed(objects: KubeObject[], caller: string, callee: string, method: string, path: string): boolean {
  const labels = podTemplate(find(objects, 'Deployment', 'ecommerce', callee)).metadata.labels;
  const applying = ofKind(objects, 'AuthorizationPolicy').filter((p) => {
    const spec = p.spec as PolicySpec;
    return p.metadata.namespace === 'ecommerce' && (!spec.selector || selects(spec.selector, labels));
  });
  if (applying.some((p) => (p.spec as PolicySpec).action && (p.spec as PolicySpec).action !== 'ALLOW')) throw new Error('only ALLOW policies are judged here');
  return applying.some((p) =>
    ((p.spec as PolicySpec).rules ?? []).some(
      (rule) =>
        (rule.from ?? [{ source: {} }]).some(({ source }) => !source.principals || source.principals.includes(CALLER[caller]!)) &&
        (rule.to ?? [{ operation: {} }]).some(
          ({ operation }) =>
            (!operation.methods || operation.methods.includes(method)) &&
            (!operation.paths || operation.paths.some((pattern) => pathMatches(pattern, path))),
        ),
    ),
  );
}
