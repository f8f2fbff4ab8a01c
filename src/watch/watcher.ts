/**
 * Watching source folders with chokidar (native fs.watch underneath, editors' atomic
 * saves and new folders handled), behind a small interface so the loop can be driven
 * by tests without touching files.
 */

export interface FileWatcher {
  close(): Promise<void>;
}

/** Editors' swap, backup and lock files are not sources. */
const NOT_SOURCES = /(^|[\\/])(\.#[^\\/]*|[^\\/]*~|[^\\/]*\.sw[a-p]|4913|node_modules)$/;

/** Calls `onChange` with the absolute path of every file added, changed or removed under `paths`; resolves once watching. */
export async function watchFiles(paths: string[], onChange: (file: string) => void): Promise<FileWatcher> {
  const { watch } = await import('chokidar');
  const watcher = watch(paths, { ignoreInitial: true, ignored: (path: string) => NOT_SOURCES.test(path) });
  watcher.on('all', (event, path) => {
    if (event === 'add' || event === 'change' || event === 'unlink') onChange(path);
  });
  await new Promise<void>((resolve, reject) => {
    watcher.once('ready', () => resolve());
    watcher.once('error', reject);
  });
  return { close: () => watcher.close() };
}
