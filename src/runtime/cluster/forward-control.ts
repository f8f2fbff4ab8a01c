/**
 * `up` and `down` drive the detached forwarder (runtime/cluster/forwarder.ts) through
 * this: whether it already holds the asked forwards, start it, stop it
 * (docs/architecture.md, "Port-forwards").
 */
import type { KubeTarget } from '../../kube/kubeconfig.js';
import type { ForwarderControl, ForwardSpec } from './context.js';
import { forwarderPid, startForwarder, stopForwarder } from './forwarder.js';
import { readForwarderRecord } from './forwarder-files.js';

export function forwarderControl(stateDir: string, kube: () => KubeTarget): ForwarderControl {
  const plan = (forwards: ForwardSpec[]) => ({ kubeconfigPath: kube().kubeconfigPath, context: kube().context, forwards });
  return {
    alreadyRunning: async (forwards) => {
      const pid = forwarderPid(stateDir);
      const record = readForwarderRecord(stateDir);
      if (pid === undefined || !record) return undefined;
      const same = JSON.stringify(record.plan) === JSON.stringify(plan(forwards));
      return same ? `the forwarder (pid ${pid}) holds all ${forwards.length} forwards` : undefined;
    },
    start: async (forwards) => {
      await startForwarder({ stateDir, ...plan(forwards) });
    },
    stop: () => stopForwarder(stateDir),
  };
}
