/**
 * `ecom build` as a user runs it (the built CLI as a child process), against a
 * recording stand-in docker: what stdout, stderr and the exit code say. The real
 * engine is exercised by tests/integration/images/images.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { imageTags } from '../../src/images/tags.js';
import { cleanEnv, runCli, ROOT } from '../helpers/cli.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecom-build-cli-'));
  // Answers the probes; every image "exists" with a size unless STAND_IN_ABSENT is set.
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh
echo "$*" >> '${dir}/calls.log'
case "$1" in
  version) echo 20.10.24 ;;
  buildx) exit 1 ;;
  image) [ -z "$STAND_IN_ABSENT" ] || [ -f '${dir}/built' ] || { echo "Error: No such image: $5" >&2; exit 1; }; echo 231456789 ;;
  build) touch '${dir}/built' ;;
esac
`,
  );
  chmodSync(join(dir, 'docker'), 0o755);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ PATH: `${dir}:/usr/bin:/bin`, CI: 'true', ...extra });

describe('ecom build', () => {
  it('prints each image with its tag, size and what was done', async () => {
    const tags = await imageTags(ROOT);
    const run = runCli(['build', 'order', 'catalog'], { env: env({ STAND_IN_ABSENT: '1' }), timeoutMs: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    // Both were absent when checked (concurrently), so both were built.
    expect(run.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^SERVICE\s+IMAGE\s+SIZE\s+RESULT$/),
      expect.stringMatching(new RegExp(`^order\\s+ecom/order:${tags.order}\\s+231 MB\\s+built$`)),
      expect.stringMatching(new RegExp(`^catalog\\s+ecom/catalog:${tags.catalog}\\s+231 MB\\s+built$`)),
    ]);
    expect(run.stderr).toContain(`order image: building ecom/order:${tags.order}`);
  });

  it('--json prints one document; an existing tag is skipped', async () => {
    const tags = await imageTags(ROOT);
    const run = runCli(['build', '--json'], { env: env(), timeoutMs: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as { ok: boolean; images: { service: string; tag: string; action: string; sizeBytes: number }[] };
    expect(doc.ok).toBe(true);
    expect(doc.images.map((i) => [i.service, i.tag, i.action, i.sizeBytes])).toEqual([
      ['catalog', tags.catalog, 'skipped', 231_456_789],
      ['search', tags.search, 'skipped', 231_456_789],
      ['order', tags.order, 'skipped', 231_456_789],
      ['frontend', tags.frontend, 'skipped', 231_456_789],
    ]);
    expect(readFileSync(join(dir, 'calls.log'), 'utf8')).not.toMatch(/^build /m);
  });

  it('exits 2 for an unknown service or --push without --registry, 3 when the client is missing', () => {
    const unknown = runCli(['build', 'billing'], { env: env() });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown service 'billing'");

    const noRegistry = runCli(['build', '--push'], { env: env() });
    expect(noRegistry.status).toBe(2);
    expect(noRegistry.stderr).toContain('error: --push needs the registry to push to');

    const missing = runCli(['build'], { env: env({ ECOM_DOCKER: join(dir, 'no-such-docker') }) });
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/^error: ECOM_DOCKER=.*no-such-docker is not an executable docker client\n {2}hint: /);
  });
});
