/**
 * The kind runtime's local image registry (docs/architecture.md, "Manifests"): a
 * container on the kind network that the host pushes to and the nodes pull from under
 * the same name. Its host port is never one of the service ports 5001-5004.
 * manifests/kind/cluster.yaml and manifests/overlays/kind/ spell the same values; a test
 * keeps them in step.
 */
export const LOCAL_REGISTRY = {
  /** The registry container's name, also its host name on the kind network. */
  containerName: 'ecom-registry',
  /** The port the registry listens on inside its container. */
  containerPort: 5000,
  /** Published on the host's loopback. */
  hostPort: 5050,
  /** The image prefix host and nodes share: `localhost:5050/ecom/catalog:<tag>`. */
  host: 'localhost:5050',
} as const;
