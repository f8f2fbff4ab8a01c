/**
 * A cache of the text of `ecom --help`, `ecom <command> --help`, `ecom help …` and
 * `ecom --version`, so that asking for help costs about what starting Node costs.
 *
 * Building commander's program and formatting its help is most of what `ecom --help`
 * does beyond starting Node (docs/architecture.md, "CLI start-up"); the text depends
 * only on the build, the arguments, the width and whether colours are on. So the first
 * run at a given width writes the text it printed to the user's cache directory, and
 * later runs print that file without loading the CLI. An entry names the build it came
 * from (the size and modification time of dist/cli/main.js, which every build rewrites);
 * an entry of another build is a miss and is replaced.
 *
 * Deliberately free of imports: this runs before anything else is loaded.
 */

const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');

const HELP_FLAGS = new Set(['--help', '-h', '--version', '-V']);
const WORD = /^[a-z]+$/;
const MAX_ARGS = 3;

export interface HelpCacheEntry {
  /** The cache file. */
  file: string;
  /** The first line of the file: the build, arguments, width and colours it is for. */
  header: string;
}

export interface HelpCacheContext {
  args: string[];
  env: NodeJS.ProcessEnv;
  /** dist/cli/main.js, whose size and mtime identify the build. */
  mainPath: string;
  width: () => number;
  colors: () => boolean;
}

/** Help or version asked for with command names only: the forms whose text depends on nothing else. */
export function isHelpRequest(args: string[]): boolean {
  if (args.length === 0 || args.length > MAX_ARGS) return false;
  if (!args.every((a) => WORD.test(a) || HELP_FLAGS.has(a))) return false;
  return args.some((a) => HELP_FLAGS.has(a)) || args[0] === 'help';
}

/** Where the text for this request lives, or undefined when it is not cached (or caching is off). */
export function helpCacheEntry(context: HelpCacheContext): HelpCacheEntry | undefined {
  const { args, env } = context;
  if (env.ECOM_HELP_CACHE === '0' || !isHelpRequest(args)) return undefined;
  const base = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME}/.cache` : undefined);
  if (!base) return undefined;
  let build: string;
  try {
    const stat = statSync(context.mainPath);
    build = `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
  // One file per request, whatever the build: a rebuild replaces entries instead of adding to them.
  const request = JSON.stringify([context.mainPath, args, context.width(), context.colors()]);
  return { file: `${base}/ecom/help/${fnv1a(request)}.txt`, header: `${build} ${request}` };
}

/** The cached text, or undefined when there is none for this build. */
export function readCachedHelp(entry: HelpCacheEntry): string | undefined {
  let content: string;
  try {
    content = readFileSync(entry.file, 'utf8');
  } catch {
    return undefined;
  }
  const newline = content.indexOf('\n');
  return newline >= 0 && content.slice(0, newline) === entry.header ? content.slice(newline + 1) : undefined;
}

/** Writes the entry whole or not at all (rename), so a concurrent reader never sees half of it; failures only cost the next run its speed. */
export function saveHelp(entry: HelpCacheEntry, text: string): void {
  try {
    mkdirSync(entry.file.slice(0, entry.file.lastIndexOf('/')), { recursive: true });
    const temporary = `${entry.file}.${process.pid}`;
    writeFileSync(temporary, `${entry.header}\n${text}`);
    renameSync(temporary, entry.file);
  } catch {
    // a read-only or full cache directory: help still printed, just not cached
  }
}

/** 32-bit FNV-1a, as hex: a file name per request without loading node:crypto. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
