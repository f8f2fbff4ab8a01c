/**
 * The generated dashboards and rules: committed as generated, well-formed for Grafana
 * (unique ids, a query on every panel, the datasource variable everywhere), and the
 * same rules in the Prometheus chart's values as in dashboards/rules/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERVICE_NAMES } from '../../../src/core/system.js';
import { allDashboards, generatedFiles, ownedFiles, PROMETHEUS_VALUES, RULE_FILES, RULES_DIR } from '../../../src/dashboards/files.js';
import { DATASOURCE, DATASOURCE_VARIABLE, type GridPos } from '../../../src/dashboards/grafana.js';
import { ALERT_GROUPS, LATENCY_OBJECTIVE } from '../../../src/dashboards/rules.js';
import { DURATION_BUCKETS_S } from '../../../src/services/common/metrics.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const GRID_COLUMNS = 24;

/** Every value of a `datasource` key anywhere in the document. */
function datasourceRefs(node: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => datasourceRefs(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') found.push(value);
      datasourceRefs(value, found);
    }
  }
  return found;
}

const overlaps = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('the generated dashboards and rules', () => {
  it('are committed exactly as `npm run dashboards` writes them, with nothing stale beside them', () => {
    const files = generatedFiles(ROOT);
    const differing = files.filter((f) => !existsSync(join(ROOT, f.path)) || readFileSync(join(ROOT, f.path), 'utf8') !== f.content).map((f) => f.path);
    expect(differing, 'run `npm run dashboards` and commit what it writes').toEqual([]);
    const generated = new Set(files.map((f) => f.path));
    expect(ownedFiles(ROOT).filter((path) => !generated.has(path)), 'files the generator no longer makes').toEqual([]);
  });

  it('give every dashboard its own uid, and cover each service, the order pipeline and search', () => {
    const uids = allDashboards().map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids).toEqual(expect.arrayContaining([...SERVICE_NAMES.map((s) => `ecom-red-${s}`), 'ecom-order-pipeline', 'ecom-search', 'ecom-overview']));
  });

  for (const dashboard of allDashboards()) {
    describe(dashboard.uid, () => {
      const committed = JSON.parse(readFileSync(join(ROOT, 'dashboards', `${dashboard.uid}.json`), 'utf8')) as typeof dashboard;

      it('has unique panel ids and a PromQL target on every panel', () => {
        const ids = committed.panels.map((p) => p.id);
        expect(new Set(ids).size, `duplicate ids in ${ids.join(',')}`).toBe(ids.length);
        for (const panel of committed.panels) {
          expect(panel.targets.length, panel.title).toBeGreaterThan(0);
          for (const target of panel.targets) expect(target.expr.trim(), `${panel.title} ${target.refId}`).not.toBe('');
          expect(new Set(panel.targets.map((t) => t.refId)).size, panel.title).toBe(panel.targets.length);
        }
      });

      it('reads the data source only through the ${datasource} variable, which it defines', () => {
        const refs = datasourceRefs(committed);
        // Each panel and each of its targets names one.
        expect(refs.length).toBe(committed.panels.reduce((n, p) => n + 1 + p.targets.length, 0));
        for (const ref of refs) expect(ref).toEqual(DATASOURCE);
        expect(committed.templating.list).toEqual([expect.objectContaining({ name: DATASOURCE_VARIABLE, type: 'datasource', query: 'prometheus' })]);
        // No variable but Grafana's own rate window appears in a query.
        const variables = committed.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1])));
        expect(variables.filter((v) => v !== '__rate_interval')).toEqual([]);
      });

      it('lays its panels out on the 24-column grid without overlap', () => {
        const panels = committed.panels;
        for (const p of panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(GRID_COLUMNS);
        for (const [i, a] of panels.entries()) {
          for (const b of panels.slice(i + 1)) expect(overlaps(a.gridPos, b.gridPos), `${a.title} / ${b.title}`).toBe(false);
        }
      });
    });
  }

  it('puts exactly the generated rule groups into the Prometheus chart values, and loads them there', () => {
    type Values = { serverFiles: Record<string, unknown> & { 'prometheus.yml': { rule_files: string[] } } };
    const values = parse(readFileSync(join(ROOT, PROMETHEUS_VALUES), 'utf8')) as Values;
    const names = Object.keys(RULE_FILES);
    expect(values.serverFiles['prometheus.yml'].rule_files).toEqual(names.map((n) => `/etc/config/${n}`));
    for (const name of names) {
      expect(values.serverFiles[name], name).toEqual(parse(readFileSync(join(ROOT, RULES_DIR, name), 'utf8')));
    }
  });

  it('links every alert to a dashboard that exists', () => {
    const uids = new Set(allDashboards().map((d) => d.uid));
    for (const alert of ALERT_GROUPS.flatMap((g) => g.rules)) {
      const targets = alert.dashboard.includes('{{ $labels.service }}')
        ? SERVICE_NAMES.map((s) => alert.dashboard.replace('{{ $labels.service }}', s))
        : [alert.dashboard];
      for (const uid of targets) expect(uids.has(uid), `${alert.alert} → ${uid}`).toBe(true);
    }
  });

  it('measures the latency objective at a bucket boundary of the request histogram', () => {
    expect(DURATION_BUCKETS_S).toContain(LATENCY_OBJECTIVE.thresholdSeconds);
    expect(String(LATENCY_OBJECTIVE.thresholdSeconds)).toBe(LATENCY_OBJECTIVE.bucket);
  });
});
