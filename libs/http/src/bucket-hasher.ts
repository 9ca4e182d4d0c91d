import { createHmac, randomBytes } from 'node:crypto';
import { subnetBucket } from './domain/subnet.ts';

/**
 * Turns a client address into the rate-limit key of its subnet bucket:
 * HMAC-SHA256(salt, bucket). The salt is random, lives only in this object's memory and
 * is replaced every `saltRotationMs`, so a key cannot be linked back to a network (no
 * one can precompute the 2^24 IPv4 buckets without the salt) nor to the same network
 * after the next rotation. Neither salt nor bucket is ever written anywhere.
 *
 * Rotation starts every bucket's count afresh; at worst a client gets one extra window
 * per rotation, which is the price of keys that expire.
 */
export interface BucketHasherOptions {
  /** How long one salt is used, in milliseconds. Default 3,600,000 (one hour). */
  saltRotationMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  now?: () => number;
}

export interface BucketHasher {
  /** The rate-limit key for the bucket of `address` (base64url, 43 characters). */
  keyFor(address: string): string;
}

/** Default salt lifetime: one hour. */
export const DEFAULT_SALT_ROTATION_MS = 3_600_000;

/** Key used for addresses that are not parseable (a closed socket reports none). */
const UNKNOWN_BUCKET = 'unknown';

export function createBucketHasher(options: BucketHasherOptions = {}): BucketHasher {
  const saltRotationMs = options.saltRotationMs ?? DEFAULT_SALT_ROTATION_MS;
  if (!Number.isSafeInteger(saltRotationMs) || saltRotationMs <= 0) {
    throw new RangeError(`saltRotationMs: must be a positive integer, got ${String(saltRotationMs)}`);
  }
  const now = options.now ?? Date.now;
  let salt = randomBytes(32);
  let saltBornAt = now();

  return {
    keyFor(address: string): string {
      const at = now();
      // Rotated lazily on use: no timer to clean up, and an idle server has nothing to rotate.
      if (at - saltBornAt >= saltRotationMs || at < saltBornAt) {
        salt = randomBytes(32);
        saltBornAt = at;
      }
      let bucket: string;
      try {
        bucket = subnetBucket(address);
      } catch {
        bucket = UNKNOWN_BUCKET;
      }
      return createHmac('sha256', salt).update(bucket).digest('base64url');
    },
  };
}
