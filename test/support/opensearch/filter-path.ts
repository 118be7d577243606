/**
 * OpenSearch's `filter_path` response filtering, as the test server applies it to every JSON
 * response (errors included, as OpenSearch does): comma-separated dotted paths whose segments are
 * names or `*` globs, arrays looked through, `**` not supported. What no path reaches is left out;
 * a response of which nothing is left is `{}`.
 *
 * @see https://opensearch.org/docs/latest/api-reference/common-parameters/
 */
import { globMatches } from './mapping';

/** `value` with only what the paths of `expression` reach. */
export function filterPath(value: unknown, expression: string): unknown {
  const paths = expression
    .split(',')
    .map((path) => path.trim())
    .filter((path) => path !== '')
    .map((path) => path.split('.'));
  return filtered(value, paths) ?? {};
}

/** What `paths` (the segments still to match, relative to `value`) reach of it, or undefined. */
function filtered(value: unknown, paths: readonly string[][]): unknown {
  // A path that ends here takes the whole value.
  if (paths.some((path) => path.length === 0)) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => filtered(item, paths)).filter((item) => item !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const below = paths.filter(([segment]) => globMatches(segment ?? '', key)).map((path) => path.slice(1));
    const result = below.length === 0 ? undefined : filtered(child, below);
    if (result !== undefined) kept[key] = result;
  }
  return Object.keys(kept).length === 0 ? undefined : kept;
}
