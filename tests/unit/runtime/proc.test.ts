import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../../src/runtime/local/embedded-postgres.js';
import { describe, expect, it } from 'vitest';
import { isOurs, portHolder, stopOwned, type ProcReader } from '../../../src/core/processes.js';
import { isEpmdFor, stopEpmdOn } from '../../../src/runtime/local/proc.js';

const fakeProc = (pid: number, cmdline: string, environ = ''): ProcReader => ({
  read: (p, file) => {
    if (p !== pid) return undefined;
    if (file === 'cmdline') return cmdline.split(' ').join('\0');
    if (file === 'environ') return environ;
    if (file === 'stat') return `${pid} (node) S 1 2 3`;
    return 'node';
  },
});

describe('pid verification', () => {
  it('accepts a pid whose command line carries every marker', () => {
    const proc = fakeProc(4242, 'node /app/dist/runtime/local/supervisor.js --state-dir /home/u/.ecom');
    expect(isOurs({ pid: 4242, markers: ['/app/dist/runtime/local/supervisor.js', '/home/u/.ecom'] }, proc)).toBe(true);
  });

  it('rejects a recycled pid running something else', () => {
    const proc = fakeProc(4242, 'vim notes.txt');
    expect(isOurs({ pid: 4242, markers: ['/app/dist/runtime/local/supervisor.js', '/home/u/.ecom'] }, proc)).toBe(false);
  });

  it('rejects our program started for another state directory', () => {
    const proc = fakeProc(4242, 'node /app/dist/runtime/local/supervisor.js --state-dir /other/.ecom');
    expect(isOurs({ pid: 4242, markers: ['/app/dist/runtime/local/supervisor.js', '/home/u/.ecom'] }, proc)).toBe(false);
  });

  it('accepts a wrapper script through its environment', () => {
    const proc = fakeProc(77, '/bin/sh /usr/lib/rabbitmq/bin/rabbitmq-server', 'HOME=/s/rabbitmq/home\0RABBITMQ_MNESIA_BASE=/s/rabbitmq/mnesia');
    expect(isOurs({ pid: 77, markers: ['/s/rabbitmq'] }, proc)).toBe(true);
  });

  it('rejects dead pids, pid 1, ourselves and empty markers', () => {
    expect(isOurs({ pid: 5, markers: ['x'] }, fakeProc(4, 'x'))).toBe(false);
    expect(isOurs({ pid: 1, markers: ['init'] }, fakeProc(1, 'init'))).toBe(false);
    expect(isOurs({ pid: process.pid, markers: ['node'] })).toBe(false);
    expect(isOurs({ pid: 9, markers: [] }, fakeProc(9, 'anything'))).toBe(false);
    expect(isOurs(undefined)).toBe(false);
  });

  it('stops a real process of ours and leaves one with other markers alone', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '/marker/dir']);
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    expect(await stopOwned({ pid, markers: ['/not/ours'] }, { graceMs: 1_000 })).toBe(false);
    expect(child.exitCode).toBeNull();
    const exited = new Promise((r) => child.once('exit', r));
    expect(await stopOwned({ pid, markers: ['/marker/dir'] }, { graceMs: 5_000 })).toBe(true);
    await exited;
    expect(isOurs({ pid, markers: ['/marker/dir'] })).toBe(false);
  });
});

/** A stand-in epmd: a node process whose cmdline is `... epmd -port <port>`, listening on that port. */
async function fakeEpmd(port: number, ignoreTerm = false): Promise<ChildProcess> {
  const script = `${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''}require('net').createServer().listen(Number(process.argv.at(-1)), '127.0.0.1', () => console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', script, '--', 'epmd', '-port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

describe('stopping our epmd', () => {
  it('recognises an epmd by -port or by ERL_EPMD_PORT in its environment, and nothing else', () => {
    expect(isEpmdFor(50, 41777, fakeProc(50, '/usr/lib/erlang/bin/epmd -port 41777'))).toBe(true);
    expect(isEpmdFor(50, 41777, fakeProc(50, '/usr/lib/erlang/erts-13/bin/epmd -daemon', 'HOME=/x\0ERL_EPMD_PORT=41777\0'))).toBe(true);
    expect(isEpmdFor(50, 41777, fakeProc(50, '/usr/lib/erlang/erts-13/bin/epmd -daemon', 'HOME=/x'))).toBe(false);
    expect(isEpmdFor(50, 41777, fakeProc(50, '/usr/lib/erlang/erts-13/bin/epmd -daemon', 'ERL_EPMD_PORT=417770'))).toBe(false);
    expect(isEpmdFor(50, 41777, fakeProc(50, '/usr/lib/erlang/bin/epmd -port 4369'))).toBe(false);
    expect(isEpmdFor(50, 41777, fakeProc(50, 'nc -l -port 41777', 'ERL_EPMD_PORT=41777'))).toBe(false);
    expect(isEpmdFor(1, 41777, fakeProc(1, 'epmd -port 41777'))).toBe(false);
  });

  it('sends nothing when the port holder is not an epmd for that port', async () => {
    const proc = fakeProc(process.pid + 100_000, 'sshd -D');
    expect(await stopEpmdOn(41777, { graceMs: 100 }, { holder: () => process.pid + 100_000, proc })).toBeUndefined();
    expect(await stopEpmdOn(41777, { graceMs: 100 }, { holder: () => undefined, proc })).toBeUndefined();
    expect(await stopEpmdOn(undefined, { graceMs: 100 })).toBeUndefined();
  });

  it('stops the epmd on our port and leaves an epmd on another port running', async () => {
    const [ours, other] = [await freePort(), await freePort()];
    const mine = await fakeEpmd(ours);
    const theirs = await fakeEpmd(other);
    try {
      expect(portHolder(ours)?.pid).toBe(mine.pid);
      const exited = new Promise((r) => mine.once('exit', r));
      expect(await stopEpmdOn(ours, { graceMs: 5_000 })).toBe(mine.pid);
      await exited;
      expect(mine.signalCode).toBe('SIGTERM');
      expect(portHolder(ours)).toBeUndefined();
      expect(theirs.exitCode).toBeNull();
      expect(theirs.signalCode).toBeNull();
      expect(portHolder(other)?.pid).toBe(theirs.pid);
    } finally {
      mine.kill('SIGKILL');
      theirs.kill('SIGKILL');
    }
  });

  it('SIGKILLs an epmd that ignores SIGTERM after the grace period', async () => {
    const port = await freePort();
    const stubborn = await fakeEpmd(port, true);
    try {
      const exited = new Promise((r) => stubborn.once('exit', r));
      expect(await stopEpmdOn(port, { graceMs: 300 })).toBe(stubborn.pid);
      await exited;
      expect(stubborn.signalCode).toBe('SIGKILL');
    } finally {
      stubborn.kill('SIGKILL');
    }
  });
});
