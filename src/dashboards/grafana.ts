/**
 * The part of Grafana's dashboard JSON model (schema 39) the ecom dashboards use, as
 * typed objects, and builders that lay panels out in rows and number them. Every
 * panel and query reads the data source chosen in the `datasource` variable, so the
 * same file works in any Grafana (docs/architecture.md, "Dashboards and rules").
 */

export const DASHBOARD_SCHEMA_VERSION = 39;
/** Grafana's dashboard grid is 24 columns wide. */
const GRID_COLUMNS = 24;
const STAT_HEIGHT = 4;
const CHART_HEIGHT = 8;

export const DATASOURCE_VARIABLE = 'datasource';
export interface DataSourceRef {
  type: 'prometheus';
  uid: string;
}
/** Never a data source's id: the variable, resolved by Grafana to whichever Prometheus is chosen. */
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` };

/** Grafana units (https://grafana.com/docs: "Standard options"). */
export type Unit = 'reqps' | 'ops' | 'percentunit' | 's' | 'short' | 'none';

export interface Target {
  refId: string;
  datasource: DataSourceRef;
  editorMode: 'code';
  expr: string;
  legendFormat: string;
  range: true;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

interface Threshold {
  color: string;
  value: number | null;
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'stat';
  title: string;
  description: string;
  datasource: DataSourceRef;
  gridPos: GridPos;
  fieldConfig: {
    defaults: { unit: Unit; min?: number; max?: number; thresholds: { mode: 'absolute'; steps: Threshold[] } };
    overrides: [];
  };
  options: Record<string, unknown>;
  targets: Target[];
}

export interface DatasourceVariable {
  name: typeof DATASOURCE_VARIABLE;
  label: string;
  type: 'datasource';
  query: 'prometheus';
  current: Record<string, never>;
  hide: 0;
  includeAll: false;
  multi: false;
  options: [];
  refresh: 1;
  regex: '';
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'browser';
  editable: true;
  graphTooltip: 1;
  schemaVersion: number;
  version: 1;
  time: { from: string; to: 'now' };
  refresh: string;
  annotations: { list: [] };
  links: Array<{ type: 'dashboards'; title: string; tags: string[]; asDropdown: true; includeVars: true; keepTime: true }>;
  templating: { list: [DatasourceVariable] };
  panels: Panel[];
}

/** One PromQL query of a panel; `legend` is Grafana's legend format (`{{route}}`). */
export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  kind: 'timeseries' | 'stat';
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  /** A value from which a stat turns red (an alert's threshold, say). */
  redFrom?: number;
  max?: number;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** Panels row by row; a row's panels share its width equally. */
  rows: PanelSpec[][];
}

export const stat = (spec: Omit<PanelSpec, 'kind'>): PanelSpec => ({ kind: 'stat', ...spec });
export const timeseries = (spec: Omit<PanelSpec, 'kind'>): PanelSpec => ({ kind: 'timeseries', ...spec });

export function dashboard(spec: DashboardSpec): Dashboard {
  const panels: Panel[] = [];
  let y = 0;
  for (const row of spec.rows) {
    const width = GRID_COLUMNS / row.length;
    if (!Number.isInteger(width)) throw new Error(`${spec.uid}: a row of ${row.length} panels does not divide ${GRID_COLUMNS} columns`);
    const height = row.every((p) => p.kind === 'stat') ? STAT_HEIGHT : CHART_HEIGHT;
    row.forEach((p, i) => panels.push(panel(p, panels.length + 1, { h: height, w: width, x: i * width, y })));
    y += height;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['ecom', ...spec.tags],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    time: { from: 'now-30m', to: 'now' },
    refresh: '10s',
    annotations: { list: [] },
    links: [{ type: 'dashboards', title: 'ecom dashboards', tags: ['ecom'], asDropdown: true, includeVars: true, keepTime: true }],
    templating: { list: [datasourceVariable()] },
    panels,
  };
}

function datasourceVariable(): DatasourceVariable {
  return {
    name: DATASOURCE_VARIABLE,
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    includeAll: false,
    multi: false,
    options: [],
    refresh: 1,
    regex: '',
  };
}

function panel(spec: PanelSpec, id: number, gridPos: GridPos): Panel {
  const steps: Threshold[] = [{ color: 'green', value: null }];
  if (spec.redFrom !== undefined) steps.push({ color: 'red', value: spec.redFrom });
  return {
    id,
    type: spec.kind,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: {
      defaults: { unit: spec.unit, min: 0, ...(spec.max !== undefined ? { max: spec.max } : {}), thresholds: { mode: 'absolute', steps } },
      overrides: [],
    },
    options: spec.kind === 'stat' ? STAT_OPTIONS : TIMESERIES_OPTIONS,
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode('A'.charCodeAt(0) + i),
      datasource: DATASOURCE,
      editorMode: 'code',
      expr: q.expr,
      legendFormat: q.legend,
      range: true,
    })),
  };
}

const STAT_OPTIONS = {
  reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
  colorMode: 'value',
  graphMode: 'area',
  justifyMode: 'auto',
  orientation: 'auto',
  textMode: 'auto',
};

const TIMESERIES_OPTIONS = {
  legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
  tooltip: { mode: 'multi', sort: 'desc' },
};
