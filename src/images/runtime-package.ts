/**
 * Assembles what one service's runtime image holds, inside the Dockerfile's build stage
 * (docs/architecture.md, "Images"):
 *
 *   tsx src/images/runtime-package.ts <service> <out-dir>
 *
 * out-dir gets the built dist/, the data files the service reads from src/ (migrations,
 * the catalogue, the storefront's static files: everything under common and the
 * service's folder that is not TypeScript), the lockfile, and a package.json whose
 * dependencies are only the packages the service's bundle imports. `npm ci --omit=dev`
 * against it installs exactly those, at the lockfile's versions, instead of every
 * dependency of the CLI (the Kubernetes client, embedded PostgreSQL's binaries).
 *
 * Runs with nothing but Node's own modules: the build stage copies this file alone.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

export interface PackageJson {
  name: string;
  version: string;
  type?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** `@elastic/elasticsearch/lib/x` → `@elastic/elasticsearch`, `pg` → `pg`, `node:fs` → undefined. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('node:') || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtinModules.includes(name) ? undefined : name;
}

/** The packages the bundle loads at run time, sorted. */
export function importedPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      const name = imported.external ? packageOf(imported.path) : undefined;
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * The runtime package.json: the project's own, with only the dependencies the bundle
 * imports and no scripts or dev dependencies. A service importing a package that is
 * not a production dependency is a build failure, not a crash at start.
 */
export function runtimePackageJson(project: PackageJson, imported: string[], service: string): PackageJson {
  const declared = project.dependencies ?? {};
  const undeclared = imported.filter((name) => !(name in declared));
  if (undeclared.length > 0) {
    throw new Error(`${service} imports ${undeclared.join(', ')}, not in package.json "dependencies"`);
  }
  return {
    name: project.name,
    version: project.version,
    private: true,
    type: project.type,
    engines: project.engines,
    dependencies: Object.fromEntries(imported.map((name) => [name, declared[name]!])),
  };
}

/** Copies every file under from that is not TypeScript source, keeping relative paths. */
function copyDataFiles(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(to, source.slice(from.length));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(source, target);
  }
}

export function assembleRuntime(root: string, service: string, outDir: string): PackageJson {
  const metafile = JSON.parse(readFileSync(join(root, 'dist', 'metafile-esm.json'), 'utf8')) as Metafile;
  const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const runtime = runtimePackageJson(project, importedPackages(metafile), service);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), JSON.stringify(runtime, null, 2) + '\n');
  cpSync(join(root, 'package-lock.json'), join(outDir, 'package-lock.json'));
  cpSync(join(root, 'dist'), join(outDir, 'dist'), { recursive: true, filter: (path) => !path.endsWith('metafile-esm.json') });
  for (const folder of ['common', service]) {
    copyDataFiles(join(root, 'src', 'services', folder), join(outDir, 'src', 'services', folder));
  }
  return runtime;
}

const invokedAsScript = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (invokedAsScript) {
  const [service, outDir] = process.argv.slice(2);
  if (!service || !outDir) {
    process.stderr.write('usage: tsx src/images/runtime-package.ts <service> <out-dir>\n');
    process.exit(2);
  }
  const runtime = assembleRuntime(process.cwd(), service, outDir);
  process.stdout.write(`${service}: runtime dependencies ${Object.keys(runtime.dependencies ?? {}).join(', ')}\n`);
}
