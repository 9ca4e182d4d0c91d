/** commander helper for repeatable options: `--peer a --peer b` → ['a', 'b']. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
