/**
 * Label selectors (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and the field
 * selectors the real server supports for the kinds served (`metadata.name`,
 * `metadata.namespace`, `involvedObject.*` for events, `status.phase` for pods).
 */

type Requirement = (labels: Record<string, string>) => boolean;

/** A matcher for a label selector; an invalid selector throws (the server answers 400). */
export function parseLabelSelector(selector: string | null | undefined): (labels: Record<string, string> | undefined) => boolean {
  if (!selector || selector.trim() === '') return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels ?? {}));
}

function parseRequirement(text: string): Requirement {
  const term = text.trim();
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, list] = set as unknown as [string, string, string, string];
    const values = list.split(',').map((v) => v.trim());
    return op === 'in' ? (l) => key in l && values.includes(l[key]!) : (l) => !(key in l) || !values.includes(l[key]!);
  }
  const compare = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
  if (compare) {
    const [, key, op, value] = compare as unknown as [string, string, string, string];
    return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(term);
  if (exists) {
    const [, not, key] = exists as unknown as [string, string, string];
    return not ? (l) => !(key in l) : (l) => key in l;
  }
  throw new Error(`unable to parse requirement: ${term}`);
}

/** Splits on commas that are not inside `( )`. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== '');
}

/** A matcher for a field selector over the object's JSON; unsupported fields throw (400). */
export function parseFieldSelector(selector: string | null | undefined, kind: string): (object: Record<string, unknown>) => boolean {
  if (!selector || selector.trim() === '') return () => true;
  const terms = selector.split(',').map((term) => {
    const match = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
    if (!match) throw new Error(`invalid field selector: ${term}`);
    const [, field, op, value] = match as unknown as [string, string, string, string];
    if (!fieldSupported(kind, field)) throw new Error(`field label not supported: ${field}`);
    return (object: Record<string, unknown>) => (String(valueAt(object, field) ?? '') === value) !== (op === '!=');
  });
  return (object) => terms.every((t) => t(object));
}

function fieldSupported(kind: string, field: string): boolean {
  if (field === 'metadata.name' || field === 'metadata.namespace') return true;
  if (kind === 'Event') return /^(involvedObject\.(kind|namespace|name|uid|apiVersion|resourceVersion|fieldPath)|reason|type|source|reportingComponent)$/.test(field);
  if (kind === 'Pod') return /^(status\.phase|spec\.nodeName|spec\.restartPolicy|status\.podIP)$/.test(field);
  return false;
}

function valueAt(object: Record<string, unknown>, path: string): unknown {
  let value: unknown = object;
  for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}
