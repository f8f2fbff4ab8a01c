/** Choosing the runtime (src/runtime/detect.ts): flag or ECOM_RUNTIME, then the recorded choice, then Docker, then local. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcomError, UsageError } from '../../../src/core/errors.js';
import {
  chooseRuntimeName,
  detectRuntime,
  dockerEngineAnswers,
  forgetRuntimeChoice,
  readRecordedRuntime,
  recordRuntimeChoice,
} from '../../../src/runtime/detect.js';

let cwd: string;
const stateDir = () => join(cwd, '.ecom');
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'ecom-detect-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

/** A Docker stand-in that must (or must not) be asked. */
function docker(answers: boolean) {
  const calls = { count: 0 };
  return { calls, dockerAnswers: async () => (calls.count++, answers) };
}

const record = (runtime: string) => {
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(join(stateDir(), 'runtime.json'), JSON.stringify({ runtime }));
};

describe('detectRuntime', () => {
  it('uses local when no Docker engine answers, and says so', async () => {
    const choice = await detectRuntime({ cwd, env: {}, ...docker(false) });
    expect([choice.name, choice.source, choice.reason, choice.runtime.name]).toEqual(['local', 'detected', 'no Docker engine answers', 'local']);
    expect(choice.stateDir).toBe(stateDir());
  });

  it('picks kind when a Docker engine answers, and says so', async () => {
    const choice = await detectRuntime({ cwd, env: {}, ...docker(true) });
    expect([choice.name, choice.source, choice.reason, choice.runtime.name]).toEqual(['kind', 'detected', 'a Docker engine answers', 'kind']);
  });

  it('takes --runtime or ECOM_RUNTIME over everything else, without asking Docker', async () => {
    record('kind');
    const flag = docker(true);
    expect(await detectRuntime({ cwd, env: {}, name: 'local', dockerAnswers: flag.dockerAnswers })).toMatchObject({ name: 'local', source: 'explicit' });
    expect(await detectRuntime({ cwd, env: { ECOM_RUNTIME: 'local' }, dockerAnswers: flag.dockerAnswers })).toMatchObject({
      name: 'local',
      source: 'explicit',
      reason: 'chosen by --runtime/ECOM_RUNTIME',
    });
    expect(flag.calls.count).toBe(0);
  });

  it('uses the runtime `up` recorded over what Docker says', async () => {
    record('local');
    const asked = docker(true);
    const choice = await detectRuntime({ cwd, env: {}, dockerAnswers: asked.dockerAnswers });
    expect([choice.name, choice.source]).toEqual(['local', 'recorded']);
    expect(choice.reason).toBe(`recorded by \`ecom up\` in ${join(stateDir(), 'runtime.json')}`);
    expect(asked.calls.count).toBe(0);
  });

  it('finds the record in ECOM_HOME when it is set', async () => {
    const home = join(cwd, 'elsewhere');
    recordRuntimeChoice({ name: 'local', reason: 'test', stateDir: home });
    expect(await detectRuntime({ cwd, env: { ECOM_HOME: home }, ...docker(true) })).toMatchObject({ source: 'recorded', stateDir: home });
  });

  it('refuses a damaged record rather than guessing (down would otherwise stop nothing and say so)', async () => {
    mkdirSync(stateDir(), { recursive: true });
    writeFileSync(join(stateDir(), 'runtime.json'), '{not json');
    await expect(detectRuntime({ cwd, env: {}, ...docker(false) })).rejects.toThrow(/runtime\.json is damaged \(not JSON\)/);
    record('docker-desktop');
    await expect(detectRuntime({ cwd, env: {}, ...docker(false) })).rejects.toThrow(/is damaged \(no known runtime in it/);
  });

  it('refuses an unknown name with a usage error (exit 2), from the flag or the environment', async () => {
    for (const opts of [{ name: 'minikube' }, { env: { ECOM_RUNTIME: 'minikube' } }]) {
      const err = await detectRuntime({ cwd, env: {}, ...docker(false), ...opts }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as EcomError).exitCode).toBe(2);
      expect((err as EcomError).message).toBe('unknown runtime "minikube"; valid: kind, context, local');
    }
  });

  it('loads kind and context when named, and the recorded one without asking Docker', async () => {
    for (const name of ['kind', 'context'] as const) {
      const choice = await detectRuntime({ cwd, env: {}, name, ...docker(false) });
      expect([choice.name, choice.source, choice.runtime.name]).toEqual([name, 'explicit', name]);
    }
    record('kind');
    const asked = docker(false);
    expect(await detectRuntime({ cwd, env: {}, dockerAnswers: asked.dockerAnswers })).toMatchObject({ name: 'kind', source: 'recorded' });
    expect(asked.calls.count).toBe(0);
  });
});

describe('the recorded choice', () => {
  it('is written private to the user, read back, and forgotten with the emptied state directory', () => {
    recordRuntimeChoice({ name: 'local', reason: 'no Docker engine answers', stateDir: stateDir() }, new Date('2026-01-01T00:00:00Z'));
    const file = join(stateDir(), 'runtime.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ runtime: 'local', reason: 'no Docker engine answers', chosenAt: '2026-01-01T00:00:00.000Z' });
    expect(readRecordedRuntime(stateDir())).toBe('local');
    forgetRuntimeChoice(stateDir());
    expect(existsSync(stateDir())).toBe(false);
    expect(readRecordedRuntime(stateDir())).toBeUndefined();
  });

  it.each([
    ['garbage{', 'not JSON'],
    ['{"runtime":"bogus"}', 'no known runtime in it'],
    ['"local"', 'no known runtime in it'],
  ])('a damaged record %j is an error naming the file and --runtime, never a silent guess', async (content, why) => {
    mkdirSync(stateDir(), { recursive: true });
    writeFileSync(join(stateDir(), 'runtime.json'), content);
    const file = join(stateDir(), 'runtime.json');
    expect(() => readRecordedRuntime(stateDir())).toThrow(`the runtime record ${file} is damaged (${why}`);
    await expect(chooseRuntimeName({ cwd, env: {}, dockerAnswers: async () => false })).rejects.toMatchObject({
      exitCode: 1,
      hint: expect.stringContaining('--runtime kind|context|local'),
    });
    // Naming the runtime does not need the record.
    expect(await chooseRuntimeName({ cwd, env: {}, name: 'local' })).toMatchObject({ name: 'local', source: 'explicit' });
  });

  it('leaves a state directory that still holds other files', () => {
    recordRuntimeChoice({ name: 'local', reason: 'x', stateDir: stateDir() });
    writeFileSync(join(stateDir(), 'notes.txt'), 'mine');
    forgetRuntimeChoice(stateDir());
    expect(existsSync(join(stateDir(), 'runtime.json'))).toBe(false);
    expect(readFileSync(join(stateDir(), 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('dockerEngineAnswers', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('is true when GET /_ping on DOCKER_HOST answers 200, false when nothing listens there', async () => {
    const socket = join(cwd, 'docker.sock');
    server = createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
    await new Promise<void>((resolve) => server!.listen(socket, resolve));
    expect(await dockerEngineAnswers({ DOCKER_HOST: `unix://${socket}` })).toBe(true);
    expect(await dockerEngineAnswers({ DOCKER_HOST: `unix://${join(cwd, 'none.sock')}` })).toBe(false);
    expect(await dockerEngineAnswers({ DOCKER_HOST: 'tcp://127.0.0.1:1' })).toBe(false);
  });
});
