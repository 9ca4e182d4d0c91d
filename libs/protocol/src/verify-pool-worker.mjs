// A verification thread of verify-pool.ts. DMF runs its TypeScript through tsx, whose
// loader worker threads do not inherit, so this plain module registers it first.
import { register } from 'tsx/esm/api';

register();
const { loadRecordCheck, verifyPacked } = await import('./verify-many.ts');

// Verdicts without documents: the caller parses them from the bytes it still has
// (withDocuments in verify-many.ts says why).
export default async function verifyTask({ packed, check }) {
  return verifyPacked(packed, check ? await loadRecordCheck(check) : undefined, { documents: false });
}
