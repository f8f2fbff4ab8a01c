/**
 * Every PromQL expression the dashboards and rules hold, named by where it lives, so
 * tests can ask a real Prometheus for each one (docs/architecture.md, "Dashboards and rules").
 */
import { allDashboards } from './files.js';
import { GRAFANA_RATE_WINDOW } from './promql.js';
import { alertExpr, ALERT_GROUPS, RECORDING_GROUPS } from './rules.js';

export interface NamedQuery {
  /** `dashboard uid / panel title / refId`, `record <name>`, `alert <name> signal n`. */
  where: string;
  expr: string;
  /** Must return samples on a running system with traffic; false for an alert's full expression (quiet when healthy). */
  mustReturnData: boolean;
}

/** Grafana's `$__rate_interval` as Prometheus needs it: a concrete window. */
export const withRateWindow = (expr: string, window: string): string => expr.replaceAll(GRAFANA_RATE_WINDOW, window);

export function panelQueries(rateWindow: string): NamedQuery[] {
  return allDashboards().flatMap((d) =>
    d.panels.flatMap((p) =>
      p.targets.map((t) => ({ where: `${d.uid} / ${p.title} / ${t.refId}`, expr: withRateWindow(t.expr, rateWindow), mustReturnData: true })),
    ),
  );
}

/**
 * Each recording rule's expression and the series it records (proof that Prometheus
 * evaluates the rule), each alert's signals without their thresholds, and each
 * alert's whole expression, which must evaluate but is empty while all is well.
 */
export function ruleQueries(): NamedQuery[] {
  const recording = RECORDING_GROUPS.flatMap((g) =>
    g.rules.flatMap((r) => [
      { where: `record ${r.record} (expression)`, expr: r.expr, mustReturnData: true },
      { where: `record ${r.record} (recorded series)`, expr: r.record, mustReturnData: true },
    ]),
  );
  const alerts = ALERT_GROUPS.flatMap((g) =>
    g.rules.flatMap((a) => [
      ...a.conditions.map((c, i) => ({ where: `alert ${a.alert} signal ${i + 1}`, expr: c.signal, mustReturnData: true })),
      { where: `alert ${a.alert} (whole expression)`, expr: alertExpr(a), mustReturnData: false },
    ]),
  );
  return [...recording, ...alerts];
}
