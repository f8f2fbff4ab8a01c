/**
 * The one way ecom runs external programs (docs/architecture.md, "External tools"):
 * presence is checked first, and a failure becomes an error naming the tool, the
 * command as a line that can be pasted into a shell, the last lines of its stderr and
 * what to do.
 */
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { PrerequisiteError, TimeoutError, ToolError } from '../core/errors.js';
import { findExecutable, SYSTEM_BIN_DIRS } from './which.js';

export interface RunOptions {
  cwd?: string;
  /** Added to the runner's environment. */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
  signal?: AbortSignal;
  /** What to do when the command fails; a generic hint otherwise. */
  hint?: string;
}

export interface ToolResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ToolRunnerOptions {
  env?: NodeJS.ProcessEnv;
  /** Searched after PATH, for daemons Debian installs outside a user's PATH. */
  systemDirs?: string[];
  /** Where the OS is described (tests point this at a fixture). */
  osReleasePath?: string;
  platform?: NodeJS.Platform;
  arch?: string;
}

export type OsFamily = 'debian' | 'ubuntu' | 'macos' | 'other';

const STDERR_TAIL_LINES = 10;
const DEFAULT_VERSION_TIMEOUT_MS = 5_000;

/** How each tool tells its version without side effects (rabbitmq-server has no such flag). */
const VERSION_ARGS: Record<string, string[]> = {
  node: ['--version'],
  docker: ['--version'],
  kind: ['version'],
  kubectl: ['version', '--client'],
  helm: ['version', '--short'],
  istioctl: ['version', '--remote=false'],
  prometheus: ['--version'],
  chromium: ['--version'],
  'chromium-browser': ['--version'],
  'google-chrome': ['--version'],
};

const VERSION_PATTERN = /(\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?)/;

/** The first version-looking token: `kind v0.29.0 go1.24` → `0.29.0`. */
export function parseVersion(text: string): string | undefined {
  return VERSION_PATTERN.exec(text)?.[1];
}

/** Compares dotted versions numerically; a pre-release suffix is ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, '').split(/[-+]/)[0]!.split('.').map(Number);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** `kind create cluster --name 'my cluster'`: safe to paste into a POSIX shell. */
export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_/.,:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export function tail(text: string, lines = STDERR_TAIL_LINES): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export class ToolRunner {
  readonly env: NodeJS.ProcessEnv;
  private readonly systemDirs: string[];
  private readonly osReleasePath: string;
  private readonly platform: NodeJS.Platform;
  private readonly arch: string;
  private osCache: OsFamily | undefined;

  constructor(options: ToolRunnerOptions = {}) {
    this.env = options.env ?? process.env;
    this.systemDirs = options.systemDirs ?? SYSTEM_BIN_DIRS;
    this.osReleasePath = options.osReleasePath ?? '/etc/os-release';
    this.platform = options.platform ?? process.platform;
    this.arch = options.arch ?? process.arch;
  }

  /** Absolute path of the tool, or undefined. */
  find(tool: string): string | undefined {
    return findExecutable(tool, this.env, this.systemDirs);
  }

  /** Absolute path of the tool, or a PrerequisiteError with the command that installs it. */
  require(tool: string, why?: string): string {
    const path = this.find(tool);
    if (path) return path;
    throw new PrerequisiteError(`${tool} is not installed${why ? ` (needed ${why})` : ''}`, `install it: ${this.installCommand(tool)}`);
  }

  /** Runs the tool; a non-zero exit is a ToolError, running past timeoutMs a TimeoutError. */
  async run(tool: string, args: string[], options: RunOptions = {}): Promise<ToolResult> {
    const path = this.require(tool);
    const command = shellQuote([this.displayName(tool, path), ...args]);
    const { execa } = await import('execa');
    const result = await execa(path, args, {
      cwd: options.cwd,
      env: { ...this.env, ...options.env },
      extendEnv: false,
      reject: false,
      timeout: options.timeoutMs,
      cancelSignal: options.signal,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : 'pipe',
    });
    const stdout = String(result.stdout ?? '');
    const stderr = String(result.stderr ?? '');
    if (result.timedOut) {
      throw new TimeoutError(
        `${tool} did not finish within ${formatMs(options.timeoutMs ?? 0)}: ${command}`,
        options.hint ?? `run the command yourself to see where it hangs`,
        tail(stderr),
      );
    }
    if (result.failed) {
      throw new ToolError(
        tool,
        command,
        result.exitCode,
        tail(stderr || stdout || result.shortMessage || ''),
        options.hint ?? `run the command yourself to see the whole output; rerun ecom with --verbose for the last lines of stderr`,
      );
    }
    return { command, stdout, stderr, exitCode: result.exitCode ?? 0 };
  }

  /** The tool's version, or undefined when it is missing or says nothing parseable. */
  async version(tool: string, options: { timeoutMs?: number } = {}): Promise<string | undefined> {
    const path = this.find(tool);
    if (!path) return undefined;
    if (tool === 'rabbitmq-server') return rabbitmqVersion(path);
    const args = VERSION_ARGS[tool] ?? ['--version'];
    const result = await this.run(tool, args, { timeoutMs: options.timeoutMs ?? DEFAULT_VERSION_TIMEOUT_MS });
    return parseVersion(result.stdout) ?? parseVersion(result.stderr);
  }

  os(): OsFamily {
    if (this.osCache) return this.osCache;
    this.osCache = detectOs(this.platform, this.osReleasePath);
    return this.osCache;
  }

  /** The one command that installs the tool on this OS. */
  installCommand(tool: string): string {
    return installCommand(tool, this.os(), this.arch === 'arm64' ? 'arm64' : 'amd64');
  }

  /** The name as typed when PATH finds it, the absolute path otherwise. */
  private displayName(tool: string, path: string): string {
    const onPath = (this.env.PATH ?? '').split(delimiter).includes(dirname(path));
    return onPath && basename(path) === tool ? tool : path;
  }
}

function detectOs(platform: NodeJS.Platform, osReleasePath: string): OsFamily {
  if (platform === 'darwin') return 'macos';
  if (platform !== 'linux') return 'other';
  let text: string;
  try {
    text = readFileSync(osReleasePath, 'utf8');
  } catch {
    return 'other';
  }
  const field = (name: string) => new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1]?.toLowerCase() ?? '';
  const ids = [field('ID'), ...field('ID_LIKE').split(/\s+/)];
  if (ids[0] === 'ubuntu' || (ids.includes('ubuntu') && ids[0] !== 'debian')) return 'ubuntu';
  if (ids.includes('debian')) return 'debian';
  return 'other';
}

/**
 * rabbitmq-server starts a node when run, so the version comes from where it is
 * installed: Debian's /usr/lib/rabbitmq/lib/rabbitmq_server-X, or the generic tarball's
 * rabbitmq_server-X/sbin.
 */
function rabbitmqVersion(path: string): string | undefined {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // keep the path as found
  }
  const fromDir = (name: string) => /^rabbitmq_server-(.+)$/.exec(name)?.[1];
  const parent = fromDir(basename(dirname(dirname(real))));
  if (parent) return parent;
  const root = dirname(dirname(real));
  for (const lib of [join(root, 'lib', 'rabbitmq', 'lib'), join(root, 'lib')]) {
    try {
      const found = readdirSync(lib).map(fromDir).filter((v): v is string => v !== undefined);
      if (found.length > 0) return found.sort(compareVersions).at(-1);
    } catch {
      // not this layout
    }
  }
  return undefined;
}

const GENERIC: Record<string, string> = {
  node: 'install Node.js 20.19 or newer from https://nodejs.org (or `nvm install 22`)',
  docker: 'install Docker Engine: https://docs.docker.com/engine/install/',
  kind: 'go install sigs.k8s.io/kind@v0.29.0 (or see https://kind.sigs.k8s.io/docs/user/quick-start/#installation)',
  kubectl: 'see https://kubernetes.io/docs/tasks/tools/',
  helm: 'curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash',
  istioctl: 'curl -sL https://istio.io/downloadIstioctl | sh -',
  'rabbitmq-server': 'see https://www.rabbitmq.com/docs/download',
  prometheus: 'see https://prometheus.io/download/',
  chromium: 'install Chromium or Google Chrome: https://www.chromium.org/getting-involved/download-chromium/',
};

export function installCommand(tool: string, os: OsFamily, arch: 'amd64' | 'arm64' = 'amd64'): string {
  const apt = (pkg: string) => `sudo apt-get update && sudo apt-get install -y ${pkg}`;
  const linuxBinary: Record<string, string> = {
    kind: `curl -Lo kind https://kind.sigs.k8s.io/dl/v0.29.0/kind-linux-${arch} && sudo install kind /usr/local/bin/`,
    kubectl: `curl -LO "https://dl.k8s.io/release/$(curl -Ls https://dl.k8s.io/release/stable.txt)/bin/linux/${arch}/kubectl" && sudo install kubectl /usr/local/bin/`,
    helm: GENERIC.helm!,
    istioctl: `${GENERIC.istioctl!} && sudo install "$HOME/.istioctl/bin/istioctl" /usr/local/bin/`,
  };
  if (os === 'debian' || os === 'ubuntu') {
    const debs: Record<string, string> = {
      node: 'curl -fsSL https://deb.nodesource.com/setup_22.x | sudo -E bash - && sudo apt-get install -y nodejs',
      docker: apt('docker.io'),
      'rabbitmq-server': apt('rabbitmq-server'),
      prometheus: apt('prometheus'),
      chromium: os === 'ubuntu' ? 'sudo snap install chromium' : apt('chromium'),
    };
    return debs[tool] ?? linuxBinary[tool] ?? GENERIC[tool] ?? `install ${tool}`;
  }
  if (os === 'macos') {
    const casks: Record<string, string> = { docker: 'brew install --cask docker', chromium: 'brew install --cask chromium' };
    const formula: Record<string, string> = { node: 'node@22', 'rabbitmq-server': 'rabbitmq', istioctl: 'istioctl' };
    return casks[tool] ?? `brew install ${formula[tool] ?? tool}`;
  }
  return GENERIC[tool] ?? `install ${tool}`;
}
