import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EcomError } from '../../../src/core/errors.js';
import { assertServicePortsFree, offsetOf, portTakenError, preferredOrFreePort, servicePorts, shiftedPort } from '../../../src/runtime/local/ports.js';
import { listeningInodes, portHolder } from '../../../src/core/processes.js';

const servers: Server[] = [];
const listen = (port = 0) =>
  new Promise<number>((resolve) => {
    const s = createServer();
    servers.push(s);
    s.listen(port, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('port plan', () => {
  it('shifts the four service ports by the offset', () => {
    expect(servicePorts(0)).toEqual({ catalog: 5001, search: 5002, order: 5003, frontend: 5004 });
    expect(servicePorts(100)).toEqual({ catalog: 5101, search: 5102, order: 5103, frontend: 5104 });
  });

  it('recovers the offset from a uniform shift only', () => {
    expect(offsetOf(servicePorts(250))).toBe(250);
    expect(offsetOf({ catalog: 5001, search: 5002, order: 6000, frontend: 5004 })).toBeUndefined();
  });

  it('shifts well-known supporting ports unless that leaves the port range', () => {
    expect(shiftedPort(9090, 10)).toBe(9100);
    expect(shiftedPort(15672, 60_000)).toBeUndefined();
  });

  it('names the port, its service, the holder and a port offset that avoids it', () => {
    const err = portTakenError(5003, 'order', { pid: 4242, command: 'node' }, 0);
    expect(err).toBeInstanceOf(EcomError);
    expect(err.message).toBe('port 5003 (order) is taken by pid 4242 (node)');
    expect(err.hint).toContain('--port-offset 100');
    expect(err.exitCode).toBe(1);
  });

  it('refuses service ports something else listens on, naming this process as the holder', async () => {
    const taken = await listen();
    const ports = { catalog: taken, search: taken + 1, order: taken + 2, frontend: taken + 3 };
    const err = await assertServicePortsFree(ports).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EcomError);
    expect((err as Error).message).toContain(`port ${taken} (catalog) is taken by pid ${process.pid}`);
  });

  it('falls back to a free port when the preferred one is taken', async () => {
    const taken = await listen();
    const port = await preferredOrFreePort(taken);
    expect(port).not.toBe(taken);
    expect(port).toBeGreaterThan(0);
  });
});

describe('port holder lookup', () => {
  it('finds listening sockets in /proc/net/tcp text', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1389 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 99999 1 0000000000000000 100 0 0 10 0',
      '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(listeningInodes(text, 5001)).toEqual(['12345']);
    expect(listeningInodes(text, 8080)).toEqual(['555']);
    expect(listeningInodes(text, 5002)).toEqual([]);
  });

  it('reports the pid and command that listen on a port', async () => {
    const port = await listen();
    expect(portHolder(port)).toEqual({ pid: process.pid, command: expect.any(String) });
  });
});
