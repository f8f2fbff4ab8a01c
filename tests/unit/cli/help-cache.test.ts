/**
 * The help cache (src/cli/help-cache.ts): `ecom --help` and friends print the text this
 * build printed before at this width, and never text of another build or of a request
 * that failed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helpCacheEntry, isHelpRequest } from '../../../src/cli/help-cache.js';
import { ensureBuilt } from '../../helpers/build.js';
import { cleanEnv, ROOT } from '../../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ecom-help-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ecom(args: string[], cache: string, extra: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [`${ROOT}bin/ecom.js`, ...args], { env: cleanEnv({ XDG_CACHE_HOME: cache, ...extra }), encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const entries = (cache: string) => {
  try {
    return readdirSync(join(cache, 'ecom', 'help')).map((name) => join(cache, 'ecom', 'help', name));
  } catch {
    return [];
  }
};

describe('which requests are cached', () => {
  it('help and version with command names only', () => {
    for (const args of [['--help'], ['-h'], ['-V'], ['--version'], ['up', '--help'], ['help'], ['help', 'logs'], ['logs', 'order', '-h']]) {
      expect(isHelpRequest(args), args.join(' ')).toBe(true);
    }
    for (const args of [[], ['status'], ['up', '--json'], ['--help', '--verbose'], ['-C', '/tmp', '--help'], ['logs', 'order-x', '--help'], ['a', 'b', 'c', '--help']]) {
      expect(isHelpRequest(args), args.join(' ')).toBe(false);
    }
  });

  it('one entry per arguments, width and colours; none when ECOM_HELP_CACHE=0 or there is no cache directory', () => {
    const mainPath = join(ROOT, 'package.json');
    const at = (args: string[], width: number, colors: boolean, env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: dir }) =>
      helpCacheEntry({ args, env, mainPath, width: () => width, colors: () => colors })?.file;
    const files = [at(['--help'], 80, false), at(['--help'], 120, false), at(['--help'], 80, true), at(['up', '--help'], 80, false)];
    expect(new Set(files).size).toBe(4);
    expect(at(['--help'], 80, false)).toBe(files[0]);
    expect(at(['--help'], 80, false, { XDG_CACHE_HOME: dir, ECOM_HELP_CACHE: '0' })).toBeUndefined();
    expect(at(['--help'], 80, false, {})).toBeUndefined();
    expect(at(['--help'], 80, false, { HOME: dir })).toMatch(new RegExp(`^${dir}/\\.cache/ecom/help/`));
  });
});

describe('ecom --help through the cache', () => {
  it('the second run prints what the first printed, from the entry the first wrote', () => {
    ensureBuilt();
    const cache = join(dir, 'second-run');
    const first = ecom(['--help'], cache);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toContain('Usage: ecom');
    const [file] = entries(cache);
    expect(file, 'an entry after the first run').toBeDefined();
    expect(ecom(['--help'], cache)).toEqual(first);
    // The entry is what the second run printed: change its text and the next run shows the change.
    const [header] = readFileSync(file!, 'utf8').split('\n');
    writeFileSync(file!, `${header}\nfrom the cache\n`);
    expect(ecom(['--help'], cache).stdout).toBe('from the cache\n');
  });

  it('an entry of another build is not used but replaced', () => {
    ensureBuilt();
    const cache = join(dir, 'other-build');
    const fresh = ecom(['up', '--help'], cache);
    const [file] = entries(cache);
    const [header] = readFileSync(file!, 'utf8').split('\n');
    writeFileSync(file!, `${header!.replace(/^\S+/, '1:1')}\nstale help\n`);
    expect(ecom(['up', '--help'], cache).stdout).toBe(fresh.stdout);
    expect(readFileSync(file!, 'utf8')).toBe(`${header}\n${fresh.stdout}`);
    expect(entries(cache)).toEqual([file]);
  });

  it('a request that fails is not cached, and its next run fails the same way', () => {
    ensureBuilt();
    const cache = join(dir, 'failed');
    const first = ecom(['help', 'stauts'], cache);
    // Answered as `ecom stauts` is, not with the whole help on stderr.
    expect(first).toEqual({ status: 2, stdout: '', stderr: "error: unknown command 'stauts' (Did you mean status?)\n  hint: run `ecom --help` (or `ecom <command> --help`) for usage\n" });
    expect(entries(cache)).toEqual([]);
    expect(ecom(['help', 'stauts'], cache)).toEqual(first);
  });

  it('a cache directory that cannot be written still gets the help, and nothing on stderr', () => {
    ensureBuilt();
    const cache = join(dir, 'read-only');
    mkdirSync(cache);
    chmodSync(cache, 0o500);
    // root writes anyway: a file where the directory should be stops anyone.
    writeFileSync(join(dir, 'not-a-dir'), '');
    for (const where of [cache, join(dir, 'not-a-dir')]) {
      const run = ecom(['--version'], where);
      expect(run).toEqual({ status: 0, stdout: `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`, stderr: '' });
    }
  });
});
