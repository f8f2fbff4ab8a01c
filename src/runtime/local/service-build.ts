/**
 * Rebuilding the services' part of dist/ for the loop (docs/architecture.md, "The
 * loop"): one incremental esbuild context over the four service entries, with the
 * options tsup uses for them (ESM, node20, code splitting, packages external). Each
 * build is kept in memory; only the files of services whose code changed are written,
 * each atomically, so a service that is not restarted keeps the files it was started
 * from, and a failed build writes nothing.
 *
 * A service's code is its entry plus every chunk it imports (from esbuild's metafile),
 * hashed: the hash changes exactly when what that service would load changes, so a
 * change in common/ restarts all four and one in order/ restarts order alone.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { BuildContext, Message, Metafile, OutputFile } from 'esbuild';
import { PrerequisiteError } from '../../core/errors.js';
import { SERVICE_NAMES, type ServiceName } from '../../core/system.js';

export interface ServiceCode {
  /** sha256 of the entry and the chunks it imports, in load order. */
  hash: string;
  /** Output files (absolute, .js and their .map). */
  files: string[];
  /** Source files (absolute) the bundle was made from. */
  inputs: string[];
}

export type ServiceBuildResult = { ok: true; code: Record<ServiceName, ServiceCode> } | { ok: false; error: string };

const entryOutput = (service: ServiceName) => `dist/services/${service}/main.js`;

export class ServiceBuilder {
  private context: Promise<BuildContext> | undefined;
  private outputs = new Map<string, Uint8Array>();
  /** Files this builder wrote, so files only an older build used can be removed. */
  private readonly written = new Set<string>();

  constructor(private readonly root: string) {}

  /** Builds all four in memory; writes nothing. */
  async build(): Promise<ServiceBuildResult> {
    const context = await (this.context ??= this.createContext());
    let result;
    try {
      result = await context.rebuild();
    } catch (err) {
      const errors = (err as { errors?: Message[] }).errors;
      if (!errors) throw err;
      return { ok: false, error: await formatErrors(errors) };
    }
    this.outputs = new Map(result.outputFiles!.map((f: OutputFile) => [f.path, f.contents]));
    const metafile = result.metafile!;
    const code = Object.fromEntries(SERVICE_NAMES.map((s) => [s, this.serviceCode(metafile, s)])) as Record<ServiceName, ServiceCode>;
    return { ok: true, code };
  }

  /**
   * Writes the files of `services` from the last build (those that differ from the
   * disk), then removes files an earlier write made that no service of this build uses.
   */
  write(code: Record<ServiceName, ServiceCode>, services: readonly ServiceName[]): void {
    const wanted = new Set(services.flatMap((s) => code[s].files));
    for (const file of wanted) {
      const contents = this.outputs.get(file);
      if (!contents) continue;
      if (sameContents(file, contents)) continue;
      mkdirSync(dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, contents);
      renameSync(temp, file);
      this.written.add(file);
    }
    const current = new Set(Object.values(code).flatMap((c) => c.files));
    for (const file of this.written) {
      if (current.has(file)) continue;
      rmSync(file, { force: true });
      this.written.delete(file);
    }
  }

  async dispose(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    if (context) await (await context).dispose();
  }

  private serviceCode(metafile: Metafile, service: ServiceName): ServiceCode {
    const order: string[] = [];
    const visit = (output: string) => {
      if (order.includes(output) || !metafile.outputs[output]) return;
      order.push(output);
      for (const imported of metafile.outputs[output].imports) {
        if (!imported.external && (imported.kind === 'import-statement' || imported.kind === 'dynamic-import')) visit(imported.path);
      }
    };
    visit(entryOutput(service));
    const hash = createHash('sha256');
    const files: string[] = [];
    const inputs = new Set<string>();
    for (const output of order) {
      const file = join(this.root, output);
      const contents = this.outputs.get(file) ?? new Uint8Array();
      hash.update(`${output}\0${contents.length}:`).update(contents);
      files.push(file);
      if (this.outputs.has(`${file}.map`)) files.push(`${file}.map`);
      for (const input of Object.keys(metafile.outputs[output]!.inputs)) inputs.add(join(this.root, input));
    }
    return { hash: hash.digest('hex'), files, inputs: [...inputs] };
  }

  private async createContext(): Promise<BuildContext> {
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      throw new PrerequisiteError('esbuild is not installed, so the services cannot be rebuilt', 'run `npm ci` in the ecom repository (esbuild comes with its development dependencies)');
    }
    return esbuild.context({
      absWorkingDir: this.root,
      entryPoints: Object.fromEntries(SERVICE_NAMES.map((s) => [`services/${s}/main`, `src/services/${s}/main.ts`])),
      outdir: join(this.root, 'dist'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      splitting: true,
      sourcemap: 'linked',
      packages: 'external',
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
  }
}

function sameContents(file: string, contents: Uint8Array): boolean {
  try {
    return Buffer.compare(readFileSync(file), contents) === 0;
  } catch {
    return false;
  }
}

/** esbuild's own rendering (`file:line:col: ERROR: …` with the source line), without colour. */
async function formatErrors(errors: Message[]): Promise<string> {
  const { formatMessages } = await import('esbuild');
  const lines = await formatMessages(errors, { kind: 'error', color: false, terminalWidth: 100 });
  return lines.join('').trimEnd();
}

/** The service a source path belongs to; `all` for common/; undefined outside src/services. */
export function ownerOf(root: string, file: string): ServiceName | 'all' | undefined {
  const parts = relative(root, file).split(sep);
  if (parts[0] !== 'src' || parts[1] !== 'services') return undefined;
  if (parts[2] === 'common') return 'all';
  return (SERVICE_NAMES as readonly string[]).includes(parts[2] ?? '') ? (parts[2] as ServiceName) : undefined;
}
