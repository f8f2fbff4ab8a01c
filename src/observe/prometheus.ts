/**
 * What `ecom status` and the console ask a running Prometheus: the recorded RED series
 * of the rules in src/dashboards (one definition for the dashboards, the alerts and
 * status) and the alerts that fire (docs/architecture.md, "Live status").
 */
import { httpGet } from '../core/health-probe.js';
import type { ServiceName } from '../core/system.js';
import { RECORDED, RED_WINDOW } from '../dashboards/rules.js';
import type { FiringAlert, ServiceMetrics } from '../runtime/types.js';
import { P95 } from './scrape-metrics.js';

export const PROMETHEUS_TIMEOUT_MS = 2_000;

/** The recorded series status reads, one query each for every service. */
export const STATUS_SERIES = {
  requestsPerSecond: RECORDED.serviceRequests,
  errorRatio: RECORDED.serviceErrorRatio,
  p95Seconds: RECORDED.serviceLatency(P95),
} as const;

interface VectorAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

interface AlertsAnswer {
  status: 'success' | 'error';
  data?: { alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string>; state: string; activeAt?: string }> };
}

/** GET a Prometheus API path; undefined when it does not answer 200 with JSON in time. */
async function getJson<T>(base: string, path: string, timeoutMs: number): Promise<T | undefined> {
  try {
    const res = await httpGet(`${base}${path}`, timeoutMs);
    return res.status === 200 ? (JSON.parse(res.body) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** `5m` → 300. */
export function windowSeconds(window: string): number {
  const m = /^(\d+)([smh])$/.exec(window);
  if (!m) throw new Error(`not a Prometheus window: ${window}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
}

/** An instant query's value per `service` label; undefined when Prometheus did not answer. */
async function valuesByService(base: string, expr: string, timeoutMs: number): Promise<Map<string, number> | undefined> {
  const answer = await getJson<VectorAnswer>(base, `/api/v1/query?query=${encodeURIComponent(expr)}`, timeoutMs);
  if (answer?.status !== 'success' || answer.data?.resultType !== 'vector') return undefined;
  const values = new Map<string, number>();
  for (const r of answer.data.result) {
    const service = r.metric.service;
    const value = Number(r.value[1]);
    // NaN: no request in the window (0/0); the number is unknown, not zero.
    if (service !== undefined && Number.isFinite(value)) values.set(service, value);
  }
  return values;
}

/**
 * Each service's numbers from the recorded series; undefined when Prometheus does not
 * answer. A service without a series yet (the rules run every few seconds) gets only
 * the source and window.
 */
export async function prometheusMetrics(
  base: string,
  services: readonly ServiceName[],
  timeoutMs = PROMETHEUS_TIMEOUT_MS,
): Promise<Map<ServiceName, ServiceMetrics> | undefined> {
  const fields = Object.keys(STATUS_SERIES) as Array<keyof typeof STATUS_SERIES>;
  const answers = await Promise.all(fields.map((f) => valuesByService(base, STATUS_SERIES[f], timeoutMs)));
  if (answers.some((a) => a === undefined)) return undefined;
  const metrics = new Map<ServiceName, ServiceMetrics>();
  for (const service of services) {
    const m: ServiceMetrics = { source: 'prometheus', windowSeconds: windowSeconds(RED_WINDOW) };
    fields.forEach((field, i) => {
      const value = answers[i]!.get(service);
      if (value !== undefined) m[field] = value;
    });
    metrics.set(service, m);
  }
  return metrics;
}

/** The alerts firing now (pending ones are not yet alerts); undefined when Prometheus does not answer. */
export async function firingAlerts(base: string, timeoutMs = PROMETHEUS_TIMEOUT_MS): Promise<FiringAlert[] | undefined> {
  const answer = await getJson<AlertsAnswer>(base, '/api/v1/alerts', timeoutMs);
  if (answer?.status !== 'success' || !answer.data) return undefined;
  return answer.data.alerts
    .filter((a) => a.state === 'firing')
    .map((a) => {
      const alert: FiringAlert = { name: a.labels.alertname ?? 'unnamed', labels: a.labels };
      if (a.labels.severity) alert.severity = a.labels.severity;
      if (a.labels.service) alert.service = a.labels.service;
      if (a.annotations?.summary) alert.summary = a.annotations.summary;
      if (a.activeAt) alert.activeAt = a.activeAt;
      return alert;
    })
    .sort((a, b) => a.name.localeCompare(b.name) || (a.service ?? '').localeCompare(b.service ?? ''));
}
