/** The shared port-offset reservation that keeps concurrently running test files off each other's ports. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ephemeralLow, releasePortOffset, reservePortOffset } from '../helpers/port-offset.js';

const PORTS = [5001, 5002, 15672];
const RANGE = { min: 1_000, max: 1_020 };

describe('reservePortOffset', () => {
  it('keeps every port below the ephemeral range and never hands one port out twice until released', async () => {
    const first = await reservePortOffset(PORTS, RANGE);
    const second = await reservePortOffset(PORTS, RANGE);
    const third = await reservePortOffset(PORTS, RANGE);
    expect(new Set([first, second, third]).size).toBe(3);
    for (const offset of [first, second, third]) expect(Math.max(...PORTS) + offset).toBeLessThan(ephemeralLow());
    await expect(reservePortOffset(PORTS, RANGE)).rejects.toThrow(/no port offset in 1000-1020/);
    releasePortOffset(PORTS, second);
    expect(await reservePortOffset(PORTS, RANGE)).toBe(second);
    for (const offset of [first, second, third]) releasePortOffset(PORTS, offset);
  });

  it('takes over a reservation whose process has exited', async () => {
    const range = { min: 1_100, max: 1_100 };
    // pid 2^22 + 1 is above Linux's pid_max limit: no process can have it.
    const dir = join(tmpdir(), 'ecom-test-ports');
    mkdirSync(dir, { recursive: true });
    for (const port of PORTS) writeFileSync(join(dir, String(port + 1_100)), String(2 ** 22 + 1));
    expect(await reservePortOffset(PORTS, range)).toBe(1_100);
    releasePortOffset(PORTS, 1_100);
  });
});
