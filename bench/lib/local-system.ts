/**
 * Driving the built CLI's local runtime from a benchmark: running `ecom` as a child
 * process, a free port offset, and the memory and descriptors of the processes it
 * started (read from /proc, as `ecom status` itself does).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ECOM_BIN = join(ROOT, 'bin', 'ecom.js');

export function runEcom(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ECOM_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - started, stdout, stderr });
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** An offset whose service, console and Prometheus ports are all free, from `from` on. */
export async function freeOffset(from = 24_000, to = 27_000): Promise<number> {
  for (let offset = from; offset < to; offset += 10) {
    const ports = [1, 2, 3, 4, 5].map((n) => 5000 + n + offset).concat(9090 + offset);
    const free = await Promise.all(ports.map(portFree));
    if (free.every(Boolean)) return offset;
  }
  throw new Error(`no free port offset in ${from}-${to}`);
}

export interface ProcessUsage {
  rssMB: number;
  fds: number;
}

/** Resident memory (VmRSS) and open descriptors of a live process; undefined once it is gone. */
export function processUsage(pid: number): ProcessUsage | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    return { rssMB: kb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
