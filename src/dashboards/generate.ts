/**
 * `npm run dashboards`: writes the generated dashboards, rules, kustomization and
 * chart values (files.ts), and removes dashboards and rule files it no longer makes.
 * Prints one line per file it changed; the tests fail when a committed file differs.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../services/common/paths.js';
import { generatedFiles, ownedFiles } from './files.js';

function main(): void {
  const root = packageRoot();
  const files = generatedFiles(root);
  const wanted = new Set(files.map((f) => f.path));
  let changed = 0;
  for (const file of files) {
    const path = join(root, file.path);
    if (existsSync(path) && readFileSync(path, 'utf8') === file.content) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    process.stderr.write(`wrote ${file.path}\n`);
    changed++;
  }
  for (const stale of ownedFiles(root).filter((path) => !wanted.has(path))) {
    rmSync(join(root, stale));
    process.stderr.write(`removed ${stale}\n`);
    changed++;
  }
  process.stderr.write(`${files.length} generated files, ${changed} changed\n`);
}

main();
