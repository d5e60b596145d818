/**
 * True when a parsed JSON value nests arrays and objects deeper than `limit` (the value itself
 * is level 1). Iterative, so a hostile body nested 100 000 levels deep (which `JSON.parse` reads
 * without trouble) is measured without recursion and refused before a worker's
 * `JSON.stringify` meets it. Costs one visit per array or object, stopping at the first too deep.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  // Pairs of (node, depth) on one array: no allocation per node on the common, shallow body.
  const stack: unknown[] = [value, 1];
  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const node = stack.pop() as Record<string, unknown> | unknown[];
    if (depth > limit) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child = node[i];
        if (child !== null && typeof child === 'object') stack.push(child, depth + 1);
      }
    } else {
      for (const key in node) {
        const child = node[key];
        if (child !== null && typeof child === 'object') stack.push(child, depth + 1);
      }
    }
  }
  return false;
}
