/** What `ecom status` prints (src/cli/commands/status.ts) for a local and a cluster runtime's status. */
import { describe, expect, it } from 'vitest';
import { describeDetail, renderStatus } from '../../../src/cli/commands/status.js';
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
      '  SERVICE  STATE       READY  HEALTH       RESTARTS  URL                    DETAIL',
      '  catalog  running     1/1    ok           0         http://127.0.0.1:5001  pid 4242, up 3m05s',
      '  order    restarting  0/1    unreachable  2         http://127.0.0.1:5003  -',
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

  it('says plainly when nothing runs', () => {
    expect(renderStatus({ runtime: 'local', running: false, services: [], dependencies: [] })).toBe('not running (start it with `ecom up`)');
  });
});
