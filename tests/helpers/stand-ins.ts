/**
 * Recording stand-ins for external tools (docs/architecture.md, "Testing"): tiny shell scripts in a
 * temporary directory that log their argv and answer like the real tool. Put the
 * directory on PATH (alone, to hide the machine's real tools) and assert the calls.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface StandInAnswer {
  /** A shell `case` pattern matched against all arguments joined by spaces ("$*"), e.g. `info*`. */
  args: string;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Seconds to sleep before answering (for timeouts). */
  sleepSeconds?: number;
}

export interface StandInSpec {
  /** The executable's name, or a path relative to the stand-in directory (`opt/x/sbin/tool`). */
  name: string;
  /** Answers tried in order; the first matching pattern wins. */
  answers?: StandInAnswer[];
  /** What it does when no answer matches (default: exit 0 silently). */
  otherwise?: Omit<StandInAnswer, 'args'>;
}

export interface Call {
  tool: string;
  args: string[];
}

export interface StandIns {
  /** The directory holding the stand-ins; put it on PATH. */
  dir: string;
  /** An environment whose PATH is only the stand-in directory (plus `extraPath`). */
  env(extra?: NodeJS.ProcessEnv, extraPath?: string[]): NodeJS.ProcessEnv;
  /** Every invocation so far, in order. */
  calls(): Call[];
  path(name: string): string;
  cleanup(): void;
}

const SEP = '\u001f';

function shellString(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A case pattern whose literal parts are quoted (spaces!) and whose * and ? still glob. */
function casePattern(pattern: string): string {
  return pattern
    .split(/([*?])/)
    .map((part) => (part === '*' || part === '?' ? part : part === '' ? '' : shellString(part)))
    .join('') || "''";
}

function answerScript(a: Omit<StandInAnswer, 'args'>): string {
  const lines: string[] = [];
  // In the background without our pipes, so a killed stand-in closes them at once.
  if (a.sleepSeconds) lines.push(`sleep ${a.sleepSeconds} </dev/null >/dev/null 2>&1 & wait $!`);
  if (a.stdout !== undefined) lines.push(`printf '%s\\n' ${shellString(a.stdout)}`);
  if (a.stderr !== undefined) lines.push(`printf '%s\\n' ${shellString(a.stderr)} >&2`);
  lines.push(`exit ${a.exitCode ?? 0}`);
  return lines.join('\n    ');
}

export function createStandIns(specs: StandInSpec[]): StandIns {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-stand-ins-'));
  const log = join(dir, '.calls.log');
  writeFileSync(log, '');
  for (const spec of specs) {
    const file = join(dir, spec.name);
    const tool = spec.name.split('/').pop()!;
    mkdirSync(dirname(file), { recursive: true });
    const cases = (spec.answers ?? []).map((a) => `  ${casePattern(a.args)})\n    ${answerScript(a)}\n    ;;`).join('\n');
    const script = [
      '#!/bin/sh',
      // The test's PATH holds only stand-ins; sleep and friends come from the system.
      'PATH=/usr/bin:/bin; export PATH',
      `{ printf '%s' ${shellString(tool)}; for a in "$@"; do printf '${SEP}%s' "$a"; done; printf '\\n'; } >> ${shellString(log)}`,
      'case "$*" in',
      cases,
      `  *)\n    ${answerScript(spec.otherwise ?? {})}\n    ;;`,
      'esac',
      '',
    ].join('\n');
    writeFileSync(file, script);
    chmodSync(file, 0o755);
  }
  return {
    dir,
    env: (extra = {}, extraPath = []) => ({ ...process.env, ...extra, PATH: [dir, ...extraPath].join(':') }),
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [tool, ...args] = l.split(SEP);
          return { tool: tool!, args };
        }),
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
