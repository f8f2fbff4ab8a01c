/**
 * Port offsets for tests that run a system on shifted ports, shared by every test file
 * that picks one, so that two files running at once never pick ports that meet.
 *
 * Two hazards, both seen in CI: an offset that pushes a port into the kernel's
 * ephemeral range (where any outgoing connection or `listen(0)` of another test may
 * hold it a moment later), and two files choosing overlapping ports between one's
 * "is it free?" and its bind. So every port of the chosen offset stays below the
 * ephemeral range, and each port is reserved by a lock file that names its owner's pid
 * (a lock whose owner is gone is taken over).
 */
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, portIsFree } from '../../src/core/processes.js';

const LOCK_DIR = join(tmpdir(), 'ecom-test-ports');
const STEP = 10;
const ATTEMPTS = 100;

export interface OffsetRange {
  /** The lowest offset to try. */
  min: number;
  /** The highest offset to try; lowered further so that every port stays below the ephemeral range. */
  max: number;
}

/** The first port the kernel hands out on its own (/proc/sys/net/ipv4/ip_local_port_range). */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // not Linux: the IANA range
  }
  return 49_152;
}

/** Takes the lock of one port, or takes over a lock whose owner has exited; false when another live process holds it. */
function lockPort(port: number): boolean {
  const file = join(LOCK_DIR, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner === process.pid || (owner > 0 && isAlive(owner))) return false;
      try {
        unlinkSync(file);
      } catch {
        // another process took it over first; the next write tells
      }
    }
  }
  return false;
}

function unlockPorts(ports: number[]): void {
  for (const port of ports) {
    try {
      unlinkSync(join(LOCK_DIR, String(port)));
    } catch {
      // already gone
    }
  }
}

/**
 * An offset at which every one of `ports` is free now and reserved for this process
 * until `releasePortOffset` (or until it exits).
 */
export async function reservePortOffset(ports: number[], range: OffsetRange): Promise<number> {
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o1777 });
  const max = Math.min(range.max, ephemeralLow() - 1 - Math.max(...ports));
  if (max < range.min) throw new Error(`no port offset in ${range.min}-${range.max} keeps port ${Math.max(...ports)} below the ephemeral range`);
  const steps = Math.floor((max - range.min) / STEP) + 1;
  for (let i = 0; i < ATTEMPTS; i++) {
    const offset = range.min + STEP * Math.floor(Math.random() * steps);
    const shifted = ports.map((p) => p + offset);
    const locked: number[] = [];
    for (const port of shifted) {
      if (!lockPort(port)) break;
      locked.push(port);
    }
    if (locked.length === shifted.length && (await Promise.all(shifted.map((port) => portIsFree(port)))).every(Boolean)) return offset;
    unlockPorts(locked);
  }
  throw new Error(`no port offset in ${range.min}-${max} with ports ${ports.join(', ')} all free`);
}

export function releasePortOffset(ports: number[], offset: number): void {
  unlockPorts(ports.map((p) => p + offset));
}

/** The local ports of a cluster runtime's forwards (services, Prometheus, Grafana, the broker's UI) and its console. */
export const CLUSTER_FORWARD_PORTS = [5001, 5002, 5003, 5004, 9090, 3000, 15672, 5005];

/** An offset in 1000-17000 at which every forward of a cluster runtime has its port; see reservePortOffset. */
export function reserveForwardOffset(): Promise<number> {
  return reservePortOffset(CLUSTER_FORWARD_PORTS, { min: 1_000, max: 17_000 });
}
