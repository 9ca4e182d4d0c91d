// A RecordCheck for verify-pool.test.ts: runs on the verification thread.
import type { VerifiedRecord } from '../src/mod.ts';
import { threadId } from 'node:worker_threads';

export default function titleLength(record: VerifiedRecord): { titleLength: number; threadId: number } {
  return { titleLength: String((record.document as { title?: string }).title ?? '').length, threadId };
}
