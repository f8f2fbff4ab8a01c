/**
 * The console's charts (src/console/charts.ts): the dashboards' own time-series panels
 * and queries, legends filled like Grafana's, and query_range answers (from an HTTP
 * server answering as Prometheus does) aligned on one grid with gaps kept as gaps.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { chartData, chartRange, consoleCharts, CONSOLE_RATE_WINDOW, formatLegend, PrometheusQueryError } from '../../../src/console/charts.js';
import { orderPipelineDashboard } from '../../../src/dashboards/domain.js';
import { overviewDashboard } from '../../../src/dashboards/red.js';

describe('console charts', () => {
  it("are the overview's and order pipeline's time-series panels, with their queries at a fixed rate window", () => {
    const panels = [overviewDashboard(), orderPipelineDashboard()].flatMap((d) => d.panels.filter((p) => p.type === 'timeseries'));
    const charts = consoleCharts();
    expect(charts.map((c) => c.title)).toEqual(panels.map((p) => p.title));
    expect(charts.map((c) => c.queries.map((q) => q.expr))).toEqual(panels.map((p) => p.targets.map((t) => t.expr.replaceAll('$__rate_interval', CONSOLE_RATE_WINDOW))));
    expect(charts.flatMap((c) => c.queries).some((q) => q.expr.includes('$__'))).toBe(false);
    expect(new Set(charts.map((c) => c.id)).size).toBe(charts.length);
    expect(charts.map((c) => c.title)).toEqual(expect.arrayContaining(['Requests per second by service', 'Error ratio by service', 'Latency by service', 'Created, published and consumed']));
  });

  it("fills Grafana's legend format from the labels, or names the labels when it is empty", () => {
    expect(formatLegend('{{service}} p95', { service: 'catalog' })).toBe('catalog p95');
    expect(formatLegend('{{ service }} {{route}}', { service: 'order', route: '/orders/:id' })).toBe('order /orders/:id');
    expect(formatLegend('', { __name__: 'up', service: 'search', job: 'search' })).toBe('service=search, job=search');
    expect(formatLegend('{{missing}}', {})).toBe('value');
  });

  it('takes a range on whole steps, so every query answers on the same grid', () => {
    // 1,000,007 s rounds down to 1,000,000; fifteen minutes before it.
    expect(chartRange(1_000_007_000, 15, 10)).toEqual({ start: 999_100, end: 1_000_000, step: 10 });
  });
});

describe('chart data from query_range', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function prometheus(answer: (query: string, params: URLSearchParams) => { status: number; body: unknown }): Promise<string> {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const { status, body } = answer(url.searchParams.get('query')!, url.searchParams);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('aligns every series on the range grid, keeping query order and leaving gaps and NaN as null', async () => {
    const chart = consoleCharts().find((c) => c.title === 'Created, published and consumed')!;
    const seen: string[] = [];
    const base = await prometheus((query, params) => {
      seen.push(`${params.get('start')} ${params.get('end')} ${params.get('step')}`);
      const i = chart.queries.findIndex((q) => q.expr === query);
      const values = i === 0 ? [[100, '1'], [120, 'NaN']] : i === 1 ? [[110, '2.5']] : [];
      return { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: i === 2 ? [] : [{ metric: {}, values }] } } };
    });
    const data = await chartData(base, chart, { start: 100, end: 130, step: 10 });
    expect(seen).toEqual(['100 130 10', '100 130 10', '100 130 10']);
    expect(data).toEqual({
      id: chart.id,
      xs: [100, 110, 120, 130],
      series: [
        { name: 'created', values: [1, null, null, null] },
        { name: 'published', values: [null, 2.5, null, null] },
      ],
      dropped: 0,
    });
  });

  it('says when Prometheus refuses a query or does not answer', async () => {
    const chart = consoleCharts()[0]!;
    const base = await prometheus(() => ({ status: 400, body: { status: 'error', error: 'parse error: unexpected end of input' } }));
    await expect(chartData(base, chart, chartRange(Date.now()))).rejects.toThrow(new PrometheusQueryError('Prometheus refused a query: parse error: unexpected end of input'));
    await expect(chartData('http://127.0.0.1:1', chart, chartRange(Date.now()))).rejects.toThrow(/Prometheus at http:\/\/127\.0\.0\.1:1 does not answer/);
  });
});
