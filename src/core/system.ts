/**
 * The names, ports and endpoint shapes of the system, shared by every layer (CLI,
 * runtimes, smoke, manifests): see docs/architecture.md, "Core".
 */

export const SERVICE_NAMES = ['catalog', 'search', 'order', 'frontend'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The ports of the original system, kept by every runtime (plus an offset locally). */
export const DEFAULT_PORTS: Record<ServiceName, number> = { catalog: 5001, search: 5002, order: 5003, frontend: 5004 };

/** Where the running system answers. */
export interface Endpoints {
  services: Record<ServiceName, string>;
  /** Prometheus base URL when it runs. */
  prometheus?: string;
  /** Grafana base URL when it runs. */
  grafana?: string;
  /** RabbitMQ management UI, when known. */
  brokerManagement?: string;
  /** The console the detached supervisor (or forwarder) serves, when it runs (docs/architecture.md, "Console"). */
  console?: string;
}

/** What `ecom open` opens: the storefront and the running system's web UIs. */
export const OPEN_TARGETS = ['shop', 'console', 'prometheus', 'grafana', 'rabbitmq'] as const;
export type OpenTarget = (typeof OPEN_TARGETS)[number];

/** The console's port before the offset: beside the services' 5001-5004. */
export const CONSOLE_BASE_PORT = 5005;
