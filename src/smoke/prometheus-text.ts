/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): enough to
 * prove that /metrics parses and to look series up by labels. The npm parsers we
 * tried drop histogram labels and accept garbage, which would make the check lie.
 */

export interface MetricSample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram `x`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: string;
  samples: MetricSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export class MetricsParseError extends Error {}

export function parseMetrics(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const fail = (why: string) => new MetricsParseError(`line ${index + 1}: ${why}: ${line.slice(0, 120)}`);
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (m?.[1] === 'TYPE') {
        const type = (m[3] ?? '').trim();
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type)) throw fail('unknown metric type');
        family(families, m[2]!).type = type;
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw fail('not a sample');
    const value = parseValue(m[4]!);
    if (value === undefined) throw fail('value is not a number');
    const labels = parseLabels(m[3] ?? '');
    if (!labels) throw fail('malformed labels');
    const name = m[1]!;
    family(families, familyName(families, name)).samples.push({ name, labels, value });
  });
  return families;
}

/** The samples of family `name` (optionally only sample `sampleName`) whose labels include every pair given. */
export function findSamples(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
  sampleName = name,
): MetricSample[] {
  const f = families.get(name);
  if (!f) return [];
  return f.samples.filter(
    (s) => (s.name === sampleName || sampleName === '*') && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

function family(families: Map<string, MetricFamily>, name: string): MetricFamily {
  let f = families.get(name);
  if (!f) {
    f = { name, type: 'untyped', samples: [] };
    families.set(name, f);
  }
  return f;
}

/** `x_bucket` belongs to histogram `x` when `x` was declared; otherwise it is its own family. */
function familyName(families: Map<string, MetricFamily>, sample: string): string {
  if (families.has(sample)) return sample;
  for (const suffix of SUFFIXES) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (families.has(base)) return base;
    }
  }
  return sample;
}

/** Go's ParseFloat rules, which Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m || m.index !== start) return text.slice(start).trim() === '' ? labels : undefined;
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    if (m[3] === '') break;
  }
  return labels;
}
