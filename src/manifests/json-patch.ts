/**
 * RFC 6902 JSON Patch, the operations kustomize's `patches` use in manifests/ (add,
 * replace, remove). Returns a patched copy; the input is left alone.
 */

export interface JsonPatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

type Container = Record<string, unknown> | unknown[];

export function applyJsonPatch<T>(document: T, operations: JsonPatchOperation[]): T {
  const copy = structuredClone(document) as unknown;
  for (const operation of operations) applyOperation(copy, operation);
  return copy as T;
}

function applyOperation(document: unknown, { op, path, value }: JsonPatchOperation): void {
  if (!['add', 'replace', 'remove'].includes(op)) throw new Error(`JSON patch: unsupported op "${op}"`);
  const tokens = parsePointer(path);
  const last = tokens.pop();
  if (last === undefined) throw new Error('JSON patch: the whole document cannot be patched');
  let parent = document as Container;
  for (const token of tokens) {
    const next = (parent as Record<string, unknown>)[token];
    if (next === null || typeof next !== 'object') throw new Error(`JSON patch: ${path} does not exist`);
    parent = next as Container;
  }
  if (Array.isArray(parent)) return patchArray(parent, last, op, value, path);
  const exists = Object.hasOwn(parent, last);
  if (op !== 'add' && !exists) throw new Error(`JSON patch: ${path} does not exist`);
  if (op === 'remove') delete parent[last];
  else parent[last] = value;
}

function patchArray(array: unknown[], token: string, op: JsonPatchOperation['op'], value: unknown, path: string): void {
  const index = token === '-' ? array.length : Number(token);
  const limit = op === 'add' ? array.length : array.length - 1;
  if (!Number.isInteger(index) || index < 0 || index > limit) throw new Error(`JSON patch: ${path} is out of range`);
  if (op === 'add') array.splice(index, 0, value);
  else if (op === 'remove') array.splice(index, 1);
  else array[index] = value;
}

/** `/spec/minReplicas` → ['spec', 'minReplicas'], with ~1 and ~0 unescaped. */
function parsePointer(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON patch: "${path}" is not a JSON pointer`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}
