/** What `ecom status` prints (src/cli/commands/status.ts) for a local and a cluster runtime's status. */
import { describe, expect, it } from 'vitest';
import { ALTERNATE_SCREEN_OFF, ALTERNATE_SCREEN_ON, describeDetail, renderStatus, watchStatus } from '../../../src/cli/commands/status.js';
import { NO_PAINT } from '../../../src/core/text.js';
import type { ServiceStatus, SystemStatus } from '../../../src/runtime/types.js';

const service = (overrides: Partial<ServiceStatus>): ServiceStatus => ({
  name: 'catalog',
  state: 'running',
  ready: 1,
  desired: 1,
  restarts: 0,
  health: 'ok',
  url: 'http://127.0.0.1:5001',
  detail: { kind: 'process', pid: 4242, uptimeSeconds: 185 },
  ...overrides,
});

describe('ecom status table', () => {
  it('shows READY as ready/desired and the runtime detail last, columns aligned', () => {
    const status: SystemStatus = {
      runtime: 'local',
      running: true,
      services: [
        service({}),
        service({ name: 'order', state: 'restarting', ready: 0, restarts: 2, health: 'unreachable', url: 'http://127.0.0.1:5003', detail: { kind: 'process' } }),
      ],
      dependencies: [{ name: 'postgres', state: 'running', detail: 'embedded PostgreSQL on 127.0.0.1:40000' }],
    };
    expect(renderStatus(status).split('\n')).toEqual([
      'runtime: local',
      '  SERVICE  STATE       READY  HEALTH       RESTARTS  DETAIL',
      '  catalog  running     1/1    ok           0         pid 4242, up 3m05s',
      '  order    restarting  0/1    unreachable  2         -',
      '',
      '  DEPENDENCY  STATE    DETAIL',
      '  postgres    running  embedded PostgreSQL on 127.0.0.1:40000',
    ]);
  });

  it('describes a cluster runtime by its pods: name, phase or reason, readiness and restarts', () => {
    expect(
      describeDetail({
        kind: 'pods',
        pods: [
          { name: 'catalog-7d9f-abcde', phase: 'Running', ready: true, restarts: 0 },
          { name: 'catalog-7d9f-fghij', phase: 'Running', ready: false, restarts: 3, reason: 'CrashLoopBackOff' },
        ],
      }),
    ).toBe('catalog-7d9f-abcde Running; catalog-7d9f-fghij CrashLoopBackOff (not ready), 3 restarts');
    expect(describeDetail({ kind: 'pods', pods: [] })).toBe('no pods');
  });

  it('adds a service autoscaler: current and target replicas, bounds and metrics', () => {
    const autoscaler = { minReplicas: 2, maxReplicas: 5, currentReplicas: 2, desiredReplicas: 3, metrics: 'cpu: 82%/70%' };
    expect(describeDetail({ kind: 'pods', pods: [{ name: 'catalog-7d9f-abcde', phase: 'Running', ready: true, restarts: 0 }], autoscaler })).toBe(
      'catalog-7d9f-abcde Running; hpa current 2, target 3 (min 2, max 5; cpu: 82%/70%)',
    );
  });

  it('prints a cluster runtime\'s forwards as a table: local address, state, reconnects, then the pod or why not', () => {
    const status: SystemStatus = {
      runtime: 'kind',
      running: true,
      services: [],
      dependencies: [{ name: 'postgres', state: 'starting', detail: 'StatefulSet database/postgres: 0/1 ready (postgres-0 Unschedulable)' }],
      forwards: [
        { name: 'frontend', localPort: 5004, state: 'ready', pod: 'frontend-7d9f-b', reconnects: 1, lastError: 'pod frontend-7d9f-a was deleted' },
        { name: 'grafana', localPort: 3000, state: 'connecting', reconnects: 0, waitingFor: 'istio-proxy in pod grafana-5c-x' },
        { name: 'prometheus', localPort: 9090, state: 'backoff', reconnects: 0, lastError: 'service monitoring/prometheus does not exist' },
      ],
    };
    // At 80 columns the DETAIL wraps under itself.
    const lines = renderStatus(status).split('\n');
    expect(lines.slice(lines.indexOf('  FORWARD     LOCAL           STATE       RECONNECTS  DETAIL'))).toEqual([
      '  FORWARD     LOCAL           STATE       RECONNECTS  DETAIL',
      '  frontend    127.0.0.1:5004  ready       1           pod frontend-7d9f-b (last:',
      '                                                      pod frontend-7d9f-a was',
      '                                                      deleted)',
      '  grafana     127.0.0.1:3000  connecting  0           istio-proxy in pod',
      '                                                      grafana-5c-x',
      '  prometheus  127.0.0.1:9090  backoff     0           service',
      '                                                      monitoring/prometheus does',
      '                                                      not exist',
    ]);
  });

  it('adds a traffic table (rate, p95, 5xx share; - where unknown) with its source, and the firing alerts', () => {
    const status: SystemStatus = {
      runtime: 'local',
      running: true,
      services: [
        service({ metrics: { source: 'prometheus', windowSeconds: 300, requestsPerSecond: 12.345, p95Seconds: 0.0042, errorRatio: 0 } }),
        service({ name: 'search', metrics: { source: 'prometheus', windowSeconds: 300, requestsPerSecond: 0 } }),
        service({ name: 'order', health: 'unreachable' }),
        service({ name: 'frontend', metrics: { source: 'prometheus', windowSeconds: 300, requestsPerSecond: 150.2, p95Seconds: 1.5, errorRatio: 0.125 } }),
      ],
      dependencies: [],
      alerts: [
        { name: 'EcomTargetDown', severity: 'page', service: 'order', summary: 'Prometheus cannot scrape order at 127.0.0.1:5003', activeAt: '2030-01-01T00:00:00Z', labels: {} },
        { name: 'EcomOrdersDeadLettered', severity: 'ticket', labels: {} },
      ],
    };
    const lines = renderStatus(status, undefined, new Date('2030-01-01T00:01:05Z')).split('\n');
    expect(lines.slice(lines.indexOf('  TRAFFIC   REQ/S  P95    ERRORS'))).toEqual([
      '  TRAFFIC   REQ/S  P95    ERRORS',
      '  catalog   12.3   4.2ms  0.0%',
      '  search    0      -      -',
      '  order     -      -      -',
      '  frontend  150    1.50s  12.5%',
      "  from Prometheus's recorded series, over the last 5m",
      '',
      '  ALERT                   SEVERITY  SERVICE  FOR    SUMMARY',
      '  EcomTargetDown          page      order    1m05s  Prometheus cannot scrape',
      '                                                    order at 127.0.0.1:5003',
      '  EcomOrdersDeadLettered  ticket    -        -      -',
    ]);
  });

  it('names two scrapes as the source without Prometheus, and says alerts are unknown or none', () => {
    const status: SystemStatus = {
      runtime: 'local',
      running: true,
      services: [service({ metrics: { source: 'scrape', windowSeconds: 1.004, requestsPerSecond: 0.5, p95Seconds: 0.0004, errorRatio: 0 } })],
      dependencies: [],
    };
    expect(renderStatus(status).split('\n').slice(-5)).toEqual([
      '  TRAFFIC  REQ/S  P95    ERRORS',
      '  catalog  0.50   400us  0.0%',
      '  from two /metrics scrapes 1.0 s apart (no Prometheus; the scrapes themselves not counted)',
      '',
      'alerts: unknown (no Prometheus answers)',
    ]);
    expect(renderStatus({ ...status, alerts: [] }).split('\n').at(-1)).toBe('alerts: none firing');
  });

  it('lists the console among the URLs when it runs', () => {
    const services = { catalog: 'http://127.0.0.1:5001', search: 'http://127.0.0.1:5002', order: 'http://127.0.0.1:5003', frontend: 'http://127.0.0.1:5004' };
    const status: SystemStatus = { runtime: 'local', running: true, services: [], dependencies: [], endpoints: { services, console: 'http://127.0.0.1:5005' } };
    expect(renderStatus(status).split('\n').slice(-2)).toEqual(['  frontend  http://127.0.0.1:5004/ (storefront)', '  console   http://127.0.0.1:5005 (ecom open console)']);
  });

  it('says plainly when nothing runs', () => {
    expect(renderStatus({ runtime: 'local', running: false, services: [], dependencies: [] })).toBe('not running (start it with `ecom up`)');
  });

  it('fits 80 columns with realistic long values: no URL split, no column repeating the URL list, details wrapped under themselves', () => {
    const pods = { kind: 'pods' as const, pods: [
      { name: 'frontend-7d9f8b6c5d-x2x4z', phase: 'Running', ready: true, restarts: 0 },
      { name: 'frontend-7d9f8b6c5d-qw8rt', phase: 'Running', ready: false, restarts: 3, reason: 'CrashLoopBackOff' },
    ], autoscaler: { minReplicas: 2, maxReplicas: 5, currentReplicas: 2, desiredReplicas: 3, metrics: 'cpu: 82%/70%' } };
    const status: SystemStatus = {
      runtime: 'kind',
      running: true,
      services: [service({ name: 'frontend', state: 'restarting', health: 'unreachable', restarts: 3, url: 'http://127.0.0.1:25104', detail: pods })],
      dependencies: [
        { name: 'postgres', state: 'running', detail: 'embedded PostgreSQL on 127.0.0.1:38883, data /var/tmp/ecom-842b369fbe/postgres' },
        { name: 'elasticsearch', state: 'starting', detail: 'StatefulSet logging/elasticsearch: 0/1 ready (elasticsearch-0 Unschedulable: 0/2 nodes are available: 2 Insufficient memory.)' },
      ],
      forwards: [{ name: 'frontend', localPort: 25104, state: 'backoff', reconnects: 12, lastError: 'no ready pod behind service ecommerce/frontend-service (frontend-7d9f8b6c5d-qw8rt: CrashLoopBackOff)' }],
      endpoints: { services: { catalog: 'http://127.0.0.1:25101', search: 'http://127.0.0.1:25102', order: 'http://127.0.0.1:25103', frontend: 'http://127.0.0.1:25104' }, prometheus: 'http://127.0.0.1:29190', grafana: 'http://127.0.0.1:23100', brokerManagement: 'http://127.0.0.1:35772', console: 'http://127.0.0.1:25105' },
    };
    const lines = renderStatus(status, NO_PAINT, new Date(), 80).split('\n');
    expect(lines.filter((l) => l.length > 80)).toEqual([]);
    // Each URL whole, and once.
    for (const url of Object.values(status.endpoints!.services)) expect(lines.filter((l) => l.includes(url))).toHaveLength(1);
    expect(lines).toContain('  frontend    http://127.0.0.1:25104/ (storefront)');
    // The wrapped detail reads back as the whole detail.
    const start = lines.findIndex((l) => l.startsWith('  frontend  restarting'));
    const detailColumn = lines[0 + start - 1]!.indexOf('DETAIL');
    const wrapped = [lines[start]!.slice(detailColumn), ...lines.slice(start + 1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith(' '.repeat(detailColumn)))).map((l) => l.trim())];
    expect(wrapped.join(' ')).toBe(describeDetail(pods));
  });

  it('status --watch on a terminal draws in the alternate screen from its top, says when it refreshed, and leaves the screen on exit', async () => {
    const written: string[] = [];
    const stop = new AbortController();
    let calls = 0;
    const runtime = { status: async () => { if (++calls === 2) stop.abort(); return { runtime: 'local' as const, running: false, services: [], dependencies: [] }; } };
    await watchStatus(runtime, { mode: 'tty', paint: NO_PAINT, signal: stop.signal, intervalMs: 1, write: (t) => written.push(t), width: 80 });
    expect(written[0]).toBe(ALTERNATE_SCREEN_ON);
    // eslint-disable-next-line no-control-regex -- the redraw is made of escape codes
    expect(written[1]).toMatch(/^\u001b\[H\u001b\[Jnot running \(start it with `ecom up`\)\n\nrefreshed at \d\d:\d\d:\d\d, every 2 s; Ctrl-C to stop\n$/);
    expect(written.at(-1)).toBe(ALTERNATE_SCREEN_OFF);
  });
});
