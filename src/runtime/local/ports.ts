/**
 * Which ports the local runtime uses. Service ports are fixed (5001-5004 plus the
 * offset) because users and other services know them; a taken one is an error named
 * before anything starts. Supporting ports prefer a well-known number and fall back to
 * any free one.
 */
import { EcomError } from '../../core/errors.js';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '../../core/system.js';
import { freePort } from './embedded-postgres.js';
import { portHolder, portIsFree } from '../../core/processes.js';

export const PROMETHEUS_BASE_PORT = 9090;
export const RABBITMQ_MANAGEMENT_BASE_PORT = 15672;
export const MAX_PORT = 65535;

export function servicePorts(offset: number): Record<ServiceName, number> {
  return Object.fromEntries(SERVICE_NAMES.map((s) => [s, DEFAULT_PORTS[s] + offset])) as Record<ServiceName, number>;
}

/** The offset that produced `ports`, or undefined when they are not a uniform shift. */
export function offsetOf(ports: Record<ServiceName, number>): number | undefined {
  const offsets = new Set(SERVICE_NAMES.map((s) => ports[s] - DEFAULT_PORTS[s]));
  return offsets.size === 1 ? [...offsets][0] : undefined;
}

/** `base + offset` when it is a valid port, else undefined (then a free one is used). */
export function shiftedPort(base: number, offset: number): number | undefined {
  const port = base + offset;
  return port > 0 && port <= MAX_PORT ? port : undefined;
}

export function portTakenError(
  port: number,
  service: string,
  holder: { pid: number; command: string } | undefined,
  offset: number,
): EcomError {
  const by = holder ? ` by pid ${holder.pid} (${holder.command})` : '';
  const next = offset + 100;
  return new EcomError(
    `port ${port} (${service}) is taken${by}`,
    `stop it or use --port-offset ${next} (services on ${5001 + next}-${5004 + next})`,
  );
}

/** Throws a one-line EcomError naming the first service port something else holds. */
export async function assertServicePortsFree(ports: Record<ServiceName, number>): Promise<void> {
  const offset = offsetOf(ports) ?? 0;
  const free = await Promise.all(SERVICE_NAMES.map((s) => portIsFree(ports[s])));
  const taken = SERVICE_NAMES.find((_, i) => !free[i]);
  if (taken) throw portTakenError(ports[taken], taken, portHolder(ports[taken]), offset);
}

/** `preferred` when it can be bound now, otherwise a free port from the kernel. */
export async function preferredOrFreePort(preferred: number | undefined, avoid: number[] = []): Promise<number> {
  if (preferred !== undefined && !avoid.includes(preferred) && (await portIsFree(preferred))) return preferred;
  for (;;) {
    const port = await freePort();
    if (!avoid.includes(port)) return port;
  }
}
