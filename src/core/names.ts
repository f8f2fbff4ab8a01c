/**
 * Names a user types (services, open targets): when one is unknown, say which known
 * name was probably meant, in one sentence (docs/architecture.md, "Core").
 */

/**
 * The known name closest to `value`: the same name in other letter case, one that
 * starts with it, or one within a small edit distance (a letter missing, extra, wrong
 * or two swapped); undefined when nothing is close enough to be a good guess.
 */
export function nearestName(value: string, names: readonly string[]): string | undefined {
  const typed = value.trim().toLowerCase();
  if (typed === '') return undefined;
  const exact = names.find((name) => name.toLowerCase() === typed);
  if (exact) return exact;
  const prefixed = names.filter((name) => name.toLowerCase().startsWith(typed));
  if (prefixed.length === 1) return prefixed[0];
  // One slip per three letters: "ordr" → order, "serch" → search, but "x" → nothing.
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(typed, name.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/**
 * "unknown service 'ordr'; did you mean order?" or, with no close name,
 * "unknown service 'xyz'; valid services: catalog, search, order, frontend".
 */
export function unknownNameMessage(kind: string, value: string, names: readonly string[]): string {
  const guess = nearestName(value, names);
  const shown = `unknown ${kind} '${value}'`;
  return guess ? `${shown}; did you mean ${guess}?` : `${shown}; valid ${kind}s: ${names.join(', ')}`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
