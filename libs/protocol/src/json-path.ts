/**
 * JSON paths in error messages: `$`, `.member` for identifier-like names,
 * `["odd name"]` otherwise, `[3]` for array items.
 */

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '$';
  for (const segment of segments) out += formatSegment(segment);
  return out;
}

export function formatSegment(segment: PathSegment): string {
  if (typeof segment === 'number') return `[${segment}]`;
  return IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
}

/**
 * Turns a JSON pointer (`/chunks/1`, as TypeBox reports it) into a path, using the
 * value to tell array indexes from member names.
 */
export function pathFromPointer(pointer: string, root: unknown): string {
  if (pointer === '') return '$';
  const segments: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(name)) {
      segments.push(Number(name));
      node = node[Number(name)];
    } else {
      segments.push(name);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[name] : undefined;
    }
  }
  return formatPath(segments);
}
