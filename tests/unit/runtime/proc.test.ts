import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isOurs, stopOwned, type ProcReader } from '../../../src/runtime/local/proc.js';

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
