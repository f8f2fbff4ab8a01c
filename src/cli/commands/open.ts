/**
 * `ecom open [shop|console|prometheus|grafana|rabbitmq]`: prints the URL of a part of
 * the running system and opens it in a browser where one can be (a desktop session
 * and xdg-open, or macOS's open). In CI, or without a display or an opener, it only
 * prints: a script can take the URL from stdout either way.
 */
import { spawn } from 'node:child_process';
import { EcomError, UsageError } from '../../core/errors.js';
import { unknownNameMessage } from '../../core/names.js';
import { OPEN_TARGETS, type Endpoints, type OpenTarget } from '../../core/system.js';
import { detectRuntime } from '../../runtime/detect.js';
import type { Runtime, RuntimeName } from '../../runtime/types.js';
import { ToolRunner } from '../../tools/tool-runner.js';
import { createOutput, type Output } from '../output.js';

export interface OpenCommandOptions {
  cwd: string;
  target?: string;
  runtime?: string;
  verbose?: boolean;
}

/** How a browser would be opened, or why none is. */
export type BrowserChoice = { opener: string; path: string } | { reason: string };

export interface OpenDeps {
  runtime?: Pick<Runtime, 'name' | 'endpoints'>;
  output?: Output;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Where an opener is installed (ToolRunner.find by default). */
  find?: (tool: string) => string | undefined;
  /** Starts the opener; detached by default, since the browser outlives the command. */
  launch?: (path: string, url: string) => void;
}

export const DEFAULT_OPEN_TARGET: OpenTarget = 'console';

export function isOpenTarget(value: string): value is OpenTarget {
  return (OPEN_TARGETS as readonly string[]).includes(value);
}

/** The target's URL, or undefined when it is not running. */
export function targetUrl(endpoints: Endpoints, target: OpenTarget): string | undefined {
  switch (target) {
    case 'shop':
      return `${endpoints.services.frontend}/`;
    case 'console':
      return endpoints.console;
    case 'prometheus':
      return endpoints.prometheus;
    case 'grafana':
      return endpoints.grafana;
    case 'rabbitmq':
      return endpoints.brokerManagement;
  }
}

/** What to do when a target is not running, in this runtime. */
export function notRunningHint(target: OpenTarget, runtime: RuntimeName): string {
  const local = runtime === 'local';
  switch (target) {
    case 'shop':
      return 'see `ecom status`';
    case 'console':
      return 'the supervisor serves it: `ecom status` shows what runs; `ecom down` then `ecom up` starts it again';
    case 'prometheus':
      return local ? 'install Prometheus (apt-get install -y prometheus), then run `ecom down` and `ecom up`' : 'see `ecom status` (its forward and its pod)';
    case 'grafana':
      return local ? 'Grafana runs in the cluster runtimes only (`ecom up --runtime kind`); the console shows the same charts' : 'see `ecom status` (its forward and its pod)';
    case 'rabbitmq':
      return local
        ? 'the management UI is there when ecom runs its own RabbitMQ node (install rabbitmq-server, then `ecom down` and `ecom up`)'
        : 'see `ecom status` (its forward and its pod)';
  }
}

const isTrue = (value: string | undefined) => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';

/** A browser can open where CI is not set and a display is (Linux) or on macOS, and an opener is installed. */
export function chooseBrowser(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, find: (tool: string) => string | undefined): BrowserChoice {
  if (isTrue(env.CI)) return { reason: 'CI is set' };
  if (platform !== 'darwin' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return { reason: 'no display (DISPLAY and WAYLAND_DISPLAY are unset)' };
  const opener = platform === 'darwin' ? 'open' : 'xdg-open';
  const path = find(opener);
  return path ? { opener, path } : { reason: `${opener} is not installed` };
}

function launchDetached(path: string, url: string): void {
  const child = spawn(path, [url], { detached: true, stdio: 'ignore' });
  // A missing browser behind the opener is the opener's to report; ecom has printed the URL.
  child.on('error', () => {});
  child.unref();
}

export async function runOpen(options: OpenCommandOptions, deps: OpenDeps = {}): Promise<number> {
  const target = options.target ?? DEFAULT_OPEN_TARGET;
  if (!isOpenTarget(target)) throw new UsageError(unknownNameMessage('target', target, OPEN_TARGETS), `use one of ${OPEN_TARGETS.join(', ')}`);
  const out = deps.output ?? createOutput({});
  const runtime = deps.runtime ?? (await detectRuntime({ cwd: options.cwd, name: options.runtime })).runtime;
  const endpoints = await runtime.endpoints();
  if (!endpoints) throw new EcomError('nothing is running', 'start the system with `ecom up`');
  const url = targetUrl(endpoints, target);
  if (!url) throw new EcomError(`${target} is not running (${runtime.name} runtime)`, notRunningHint(target, runtime.name));
  out.result(url, { target, url });
  const runner = new ToolRunner({ env: deps.env ?? process.env });
  const browser = chooseBrowser(deps.env ?? process.env, deps.platform ?? process.platform, deps.find ?? ((tool) => runner.find(tool)));
  if ('reason' in browser) {
    out.info(`not opening a browser: ${browser.reason}`);
    return 0;
  }
  (deps.launch ?? launchDetached)(browser.path, url);
  out.info(`opening ${target} in a browser (${browser.opener})`);
  return 0;
}
