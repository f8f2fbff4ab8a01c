import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statePaths, type StatePaths } from '../../../src/runtime/local/paths.js';
import { readState, writeState } from '../../../src/runtime/local/state.js';
import { restoreStateDir } from '../../../src/runtime/local/state-guard.js';
import { sampleState } from './fixtures.js';

let paths: StatePaths;
let stopping: boolean;
let logged: string[];

const options = () => ({
  paths,
  writeState: () => writeState(paths.stateFile, sampleState(paths.stateDir)),
  stopping: () => stopping,
  log: (message: string) => logged.push(message),
});

beforeEach(() => {
  paths = statePaths(join(mkdtempSync(join(tmpdir(), 'ecom-guard-')), '.ecom'));
  stopping = false;
  logged = [];
  restoreStateDir(options());
});
afterEach(() => rmSync(join(paths.stateDir, '..'), { recursive: true, force: true }));

describe('the supervisor guarding its state directory', () => {
  it('leaves a readable state alone', () => {
    expect(restoreStateDir(options())).toEqual([]);
  });

  it('writes state.json and the runtime record back after the directory was removed, and says so', () => {
    rmSync(paths.stateDir, { recursive: true });
    expect(restoreStateDir(options())).toEqual(['state.json', 'runtime.json']);
    expect(readState(paths.stateFile)?.runtime).toBe('local');
    expect(JSON.parse(readFileSync(join(paths.stateDir, 'runtime.json'), 'utf8'))).toMatchObject({ runtime: 'local' });
    expect(logged.at(-1)).toMatch(/was removed or damaged; wrote state\.json and runtime\.json again/);
  });

  it('rewrites a damaged state.json', () => {
    writeFileSync(paths.stateFile, '\u0000garbage{');
    expect(restoreStateDir(options())).toEqual(['state.json']);
    expect(readState(paths.stateFile)).toBeDefined();
  });

  it('writes nothing once shutdown began (down removes the files then)', () => {
    rmSync(paths.stateDir, { recursive: true });
    stopping = true;
    expect(restoreStateDir(options())).toEqual([]);
    expect(() => readFileSync(paths.stateFile)).toThrow();
  });
});
