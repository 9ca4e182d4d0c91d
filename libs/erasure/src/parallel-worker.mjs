// A thread of parallel.ts. DMF runs its TypeScript through tsx, whose loader worker
// threads do not inherit, so this plain module registers it first.
import { register } from 'tsx/esm/api';
import { move } from 'piscina';

register();
const { encodeRange } = await import('./parallel-range.ts');

// The block goes back without a copy (transferred), as it came.
export default function task(job) {
  return move(encodeRange(job));
}
