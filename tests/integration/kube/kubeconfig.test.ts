import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcomError, ExitCode, PrerequisiteError, UsageError } from '../../../src/core/errors.js';
import { connectKube } from '../../../src/kube/connect.js';
import { defaultKubeconfigPath } from '../../../src/kube/kubeconfig.js';
import { writeKubeconfig } from '../../helpers/fake-kube-api/kubeconfig.js';
import { startFakeKubeApi, type FakeKubeApi } from '../../helpers/fake-kube-api/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecom-kubeconfig-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function failure(run: () => Promise<unknown>): Promise<EcomError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EcomError);
  const ecom = error as EcomError;
  // One line and a hint: what main.ts prints, never a stack trace.
  expect(ecom.message).not.toContain('\n');
  expect(ecom.hint).not.toBe('');
  return ecom;
}

describe('connecting to a cluster through a kubeconfig', () => {
  it('a missing kubeconfig is a prerequisite error (exit 3) naming the file', async () => {
    const path = join(dir, 'nope', 'config');
    const error = await failure(() => connectKube({ kubeconfigPath: path }));

    expect(error).toBeInstanceOf(PrerequisiteError);
    expect(error.exitCode).toBe(ExitCode.prerequisite);
    expect(error.message).toBe(`no kubeconfig at ${path}`);
    expect(error.hint).toMatch(/KUBECONFIG/);
  });

  it('an unknown context is a usage error (exit 2) listing the known ones', async () => {
    const path = writeKubeconfig(join(dir, 'config'), { server: 'http://127.0.0.1:1', token: 't', context: 'kind-ecom' });
    const error = await failure(() => connectKube({ kubeconfigPath: path, context: 'prod' }));

    expect(error).toBeInstanceOf(UsageError);
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`no context "prod" in ${path}`);
    expect(error.hint).toBe('pick one with --context (known: kind-ecom)');
  });

  it('a kubeconfig without a current context, and none asked for, is a usage error', async () => {
    const path = writeKubeconfig(join(dir, 'config'), { server: 'http://127.0.0.1:1', token: 't', current: false });
    const error = await failure(() => connectKube({ kubeconfigPath: path }));

    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`kubeconfig ${path} names no current context`);
  });

  it('a kubeconfig that is not YAML is a prerequisite error', async () => {
    const path = join(dir, 'config');
    writeFileSync(path, 'clusters: [unclosed\n');
    const error = await failure(() => connectKube({ kubeconfigPath: path }));

    expect(error.exitCode).toBe(ExitCode.prerequisite);
    expect(error.message).toMatch(new RegExp(`^kubeconfig ${path} is not valid: `));
  });

  it('an API server that does not answer is a prerequisite error naming it and the context', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const path = writeKubeconfig(join(dir, 'config'), { server: `http://127.0.0.1:${port}`, token: 't' });
    const client = await connectKube({ kubeconfigPath: path });
    const error = await failure(() => client.list('pods', { namespace: 'ecom' }));

    expect(error.exitCode).toBe(ExitCode.prerequisite);
    expect(error.message).toBe(`cannot reach the Kubernetes API at http://127.0.0.1:${port} (context kind-ecom): ECONNREFUSED`);
    expect(error.hint).toBe('is the cluster running? check with `kubectl cluster-info --context kind-ecom`');
  });

  describe('against the fake API server', () => {
    let api: FakeKubeApi;
    beforeEach(async () => {
      api = await startFakeKubeApi();
    });
    afterEach(() => api.close());

    it('a wrong token is refused with the server Status message (401)', async () => {
      const path = writeKubeconfig(join(dir, 'config'), { server: api.url, token: 'not-the-token' });
      const client = await connectKube({ kubeconfigPath: path });
      const error = await failure(() => client.list('pods', { namespace: 'default' }));

      expect(error.message).toBe('the Kubernetes API refused to list pods (401): Unauthorized');
    });

    it('the default kubeconfig is KUBECONFIG first, then ~/.kube/config', () => {
      expect(defaultKubeconfigPath({ KUBECONFIG: `${dir}/a:${dir}/b`, HOME: '/home/x' })).toBe(`${dir}/a`);
      expect(defaultKubeconfigPath({ HOME: '/home/x' })).toBe('/home/x/.kube/config');
    });
  });
});
