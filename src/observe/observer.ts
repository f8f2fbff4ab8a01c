/**
 * Adds what a running system does to what it is: each service's request rate, p95 and
 * 5xx ratio, and the alerts that fire. The same for every runtime, computed from the
 * status the runtime gives (its service URLs and its Prometheus), so `ecom status`
 * and the console show the same numbers (docs/architecture.md, "Live status").
 *
 * From Prometheus's recorded series when it answers; otherwise from two /metrics
 * scrapes of each service a short gap apart. An observer that lives on (status
 * --watch, the console) keeps each service's last scrape, so a refresh needs one
 * scrape and no wait.
 */
import { httpGet } from '../core/health-probe.js';
import { systemClock, type Clock } from '../core/poll.js';
import type { ServiceMetrics, ServiceStatus, SystemStatus } from '../runtime/types.js';
import { firingAlerts, prometheusMetrics } from './prometheus.js';
import { redBetween, redSnapshot, type RedSnapshot } from './scrape-metrics.js';

/** The gap between the two scrapes of a one-off status: long enough for a rate, short enough to wait for. */
export const SCRAPE_GAP_MS = 1_000;
/** Below this since the last scrape, the last numbers stand (several console tabs refreshing at once). */
export const MIN_SCRAPE_WINDOW_MS = 500;
/** Above this, the last scrape is too old to stand for "now": scrape twice again. */
export const MAX_SCRAPE_AGE_MS = 60_000;
export const SCRAPE_TIMEOUT_MS = 1_500;

export interface ObserverDeps {
  /** GET <service url>/metrics → the text; rejects when it does not answer 200. */
  scrape?: (serviceUrl: string) => Promise<string>;
  clock?: Clock;
}

async function scrapeMetrics(serviceUrl: string): Promise<string> {
  const res = await httpGet(`${serviceUrl}/metrics`, SCRAPE_TIMEOUT_MS);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return res.body;
}

interface LastScrape {
  snapshot: RedSnapshot;
  metrics?: ServiceMetrics;
}

export class StatusObserver {
  private readonly last = new Map<string, LastScrape>();
  private readonly scrape: (serviceUrl: string) => Promise<string>;
  private readonly clock: Clock;

  constructor(deps: ObserverDeps = {}) {
    this.scrape = deps.scrape ?? scrapeMetrics;
    this.clock = deps.clock ?? systemClock;
  }

  /** The status with `metrics` on each service that answered and `alerts` when Prometheus answered. */
  async observe(status: SystemStatus): Promise<SystemStatus> {
    if (!status.running) return status;
    const prometheus = status.endpoints?.prometheus;
    const names = status.services.map((s) => s.name);
    const [fromPrometheus, alerts] = prometheus ? await Promise.all([prometheusMetrics(prometheus, names), firingAlerts(prometheus)]) : [];
    const metrics = fromPrometheus ?? (await this.scrapeServices(status.services));
    const services = status.services.map((s) => {
      const m = metrics.get(s.name);
      return m ? { ...s, metrics: m } : s;
    });
    return { ...status, services, ...(alerts ? { alerts } : {}) };
  }

  /** One scrape each, then (when a service has no recent one to compare with) one gap and a second scrape. */
  private async scrapeServices(services: ServiceStatus[]): Promise<Map<string, ServiceMetrics>> {
    const reachable = services.filter((s) => s.health !== 'unreachable');
    const result = new Map<string, ServiceMetrics>();
    const again: ServiceStatus[] = [];
    await Promise.all(
      reachable.map(async (s) => {
        const now = await this.snapshot(s.url);
        if (!now) return;
        const previous = this.last.get(s.url);
        const age = previous ? now.at - previous.snapshot.at : Infinity;
        if (previous && age < MIN_SCRAPE_WINDOW_MS) {
          if (previous.metrics) result.set(s.name, previous.metrics);
          return;
        }
        const metrics = previous && age <= MAX_SCRAPE_AGE_MS ? redBetween(previous.snapshot, now) : undefined;
        this.remember(s.url, now, metrics);
        if (metrics) result.set(s.name, metrics);
        else again.push(s);
      }),
    );
    if (again.length === 0) return result;
    await this.clock.sleep(SCRAPE_GAP_MS);
    await Promise.all(
      again.map(async (s) => {
        const first = this.last.get(s.url)!.snapshot;
        const second = await this.snapshot(s.url);
        if (!second) return;
        const metrics = redBetween(first, second);
        this.remember(s.url, second, metrics);
        if (metrics) result.set(s.name, metrics);
      }),
    );
    return result;
  }

  private remember(url: string, snapshot: RedSnapshot, metrics: ServiceMetrics | undefined): void {
    this.last.set(url, metrics ? { snapshot, metrics } : { snapshot });
  }

  /** A scrape read into counters; undefined when the service does not answer or answers garbage. */
  private async snapshot(url: string): Promise<RedSnapshot | undefined> {
    try {
      const text = await this.scrape(url);
      return redSnapshot(text, this.clock.now());
    } catch {
      return undefined;
    }
  }
}

/** One status, observed once: what `ecom status` prints and the console serves. */
export async function observedStatus(runtime: { status(): Promise<SystemStatus> }, observer = new StatusObserver()): Promise<SystemStatus> {
  return observer.observe(await runtime.status());
}
