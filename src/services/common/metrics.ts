import type { Request, Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The request histogram's buckets; the latency objective's threshold is one of them. */
export const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface HttpMetrics {
  registry: Registry;
  /** Records one answered request. */
  observe: (req: Request, res: Response, seconds: number) => void;
}

/**
 * A registry per service (never the global one, so tests can build many apps in one
 * process) with the RED series of docs/architecture.md ("Metrics") and the process defaults.
 */
export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: DURATION_BUCKETS_S,
    registers: [registry],
  });

  // prom-client hashes the label object on every call; binding each label set once
  // keeps the per-request cost to a map lookup (the set is small: routes × methods × codes).
  const bound = new Map<string, { count: () => void; time: (s: number) => void }>();
  const observe = (req: Request, res: Response, seconds: number) => {
    const route = routePattern(req, res);
    const key = `${req.method} ${route} ${res.statusCode}`;
    let series = bound.get(key);
    if (!series) {
      const counter = requests.labels(req.method, route, String(res.statusCode));
      const histogram = duration.labels(req.method, route);
      series = { count: () => counter.inc(), time: (s) => histogram.observe(s) };
      bound.set(key, series);
    }
    series.count();
    series.time(seconds);
  };
  return { registry, observe };
}

/** The matched pattern (`/catalog/:id`), never the raw URL, so label cardinality stays bounded. */
function routePattern(req: Request, res: Response): string {
  // Set when the request was answered before Express (see answerEarly in app-factory.ts).
  const answered = res.locals?.route as string | undefined;
  if (answered !== undefined) return answered;
  const path = req.route?.path as string | undefined;
  if (path === undefined) return 'unmatched';
  return (req.baseUrl || '') + path;
}
