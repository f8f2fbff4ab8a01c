import { describe, expect, it } from 'vitest';
import { findSamples, parseMetrics } from '../../src/smoke/prometheus-text.js';

const TEXT = `# HELP http_request_duration_seconds d
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",route="/catalog/:id",service="catalog"} 3
http_request_duration_seconds_bucket{le="+Inf",route="/catalog/:id",service="catalog"} 4
http_request_duration_seconds_sum{route="/catalog/:id",service="catalog"} 0.5
http_request_duration_seconds_count{route="/catalog/:id",service="catalog"} 4
# TYPE up gauge
up{msg="a \\"quoted\\", value"} 1
nodejs_eventloop_lag_p50_seconds Nan
`;

describe('Prometheus text parser', () => {
  it('keeps histogram labels and groups samples under their family', () => {
    const m = parseMetrics(TEXT);
    expect(m.get('http_request_duration_seconds')?.type).toBe('histogram');
    expect(findSamples(m, 'http_request_duration_seconds', { route: '/catalog/:id' }, 'http_request_duration_seconds_count')).toEqual([
      { name: 'http_request_duration_seconds_count', labels: { route: '/catalog/:id', service: 'catalog' }, value: 4 },
    ]);
    expect(findSamples(m, 'up')[0]?.labels.msg).toBe('a "quoted", value');
    expect(findSamples(m, 'nodejs_eventloop_lag_p50_seconds')[0]?.value).toBeNaN();
  });

  it.each([['garbage here {'], ['x{a="b"} notanumber'], ['x{a=b} 1'], ['# TYPE x colour']])('rejects %j', (line) => {
    expect(() => parseMetrics(line)).toThrow(/line 1/);
  });
});
