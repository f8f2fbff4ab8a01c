/**
 * NetworkPolicy as the API defines it, for the flows the tests ask about: a connection
 * from pod A to port P of pod B passes when A's namespace has no policy selecting A for
 * egress or one of them allows it, and likewise for B's ingress.
 */
import type { KubeObject } from '../../../src/manifests/objects.js';
import { ofKind, selects, type Selector } from './rendered.js';

export interface Pod {
  namespace: string;
  labels: Record<string, string>;
}

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface PolicyRule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number; protocol?: string }[];
}
interface PolicySpec {
  podSelector: Selector;
  policyTypes: ('Ingress' | 'Egress')[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** Namespaces carry kubernetes.io/metadata.name; that is the only namespace label the policies use. */
function peerMatches(peer: Peer, ownNamespace: string, other: Pod): boolean {
  if (peer.ipBlock) return true;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': other.namespace })
    : other.namespace === ownNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
  return namespaceOk && podOk;
}

function sideAllows(objects: KubeObject[], self: Pod, other: Pod, port: number, direction: 'Ingress' | 'Egress'): boolean {
  const policies = ofKind(objects, 'NetworkPolicy')
    .filter((p) => p.metadata.namespace === self.namespace)
    .map((p) => p.spec as PolicySpec)
    .filter((spec) => spec.policyTypes.includes(direction) && selects(spec.podSelector, self.labels));
  if (policies.length === 0) return true;
  return policies.some((spec) =>
    ((direction === 'Ingress' ? spec.ingress : spec.egress) ?? []).some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.some((peer) => peerMatches(peer, self.namespace, other));
      const portOk = !rule.ports || rule.ports.some((p) => p.port === undefined || p.port === port);
      return peerOk && portOk;
    }),
  );
}

export function networkAllows(objects: KubeObject[], from: Pod, to: Pod, port: number): boolean {
  return sideAllows(objects, from, to, port, 'Egress') && sideAllows(objects, to, from, port, 'Ingress');
}
