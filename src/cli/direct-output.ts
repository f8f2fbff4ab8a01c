/**
 * Writes `ecom --help` and `--version` text straight to file descriptor 1. Touching
 * `process.stdout` makes Node build a stream for it, which loads and compiles some
 * twenty internal stream modules: about a tenth of the whole start of `ecom --help`
 * (bench/cli-startup.ts, measured with callgrind). A short write to a pipe, file or
 * terminal completes in one call; should the descriptor be non-blocking and full, the
 * rest goes through process.stdout as before.
 */

// Not `import … from 'node:fs'`: an ES import of a built-in reads every export, and
// fs's lazy ones (ReadStream, promises) load the stream modules this file avoids.
const { fstatSync, statSync, writeSync } = process.getBuiltinModule('node:fs') as typeof import('node:fs');

export function writeOutDirect(text: string, fd = 1): void {
  const bytes = Buffer.from(text);
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The reader went away (`ecom --help | head`): its choice, not a failure.
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw err;
    process.stdout.write(bytes.subarray(written));
  }
}

/**
 * Whether stdout is a terminal, without node:tty (which loads net and the streams):
 * a character device other than /dev/null.
 */
function stdoutIsTerminal(): boolean {
  try {
    const out = fstatSync(1);
    return out.isCharacterDevice() && out.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

// On globalThis, not in this module: the launcher is a CommonJS bundle of its own
// (tsup.config.ts), so it and main.js each have a copy of this module.
const CAPTURE = Symbol.for('ecom.help-output');
type Capturing = typeof globalThis & { [CAPTURE]?: string[] };

/** From now on, keeps what help and version print; the function returned gives it (src/cli/help-cache.ts stores it). */
export function captureHelpOutput(): () => string {
  const captured: string[] = [];
  (globalThis as Capturing)[CAPTURE] = captured;
  return () => captured.join('');
}

/**
 * Help width and colours as commander decides them (its defaults read
 * process.stdout.isTTY), creating the stream only when stdout is a terminal.
 */
export const directHelpOutput = {
  writeOut: (text: string) => {
    (globalThis as Capturing)[CAPTURE]?.push(text);
    writeOutDirect(text);
  },
  // 80 is commander's own width when stdout is not a terminal.
  getOutHelpWidth: (): number => (stdoutIsTerminal() ? process.stdout.columns : 80),
  getOutHasColors: (): boolean => stdoutIsTerminal() && Boolean(process.stdout.hasColors?.()),
};
