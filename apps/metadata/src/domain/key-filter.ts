/**
 * A set of strings that answers "certainly not here" or "perhaps here" (a Bloom filter),
 * in a few bits a key. The projector records every key it writes, so that when it began
 * on an empty bucket a key the filter has never seen is known to be absent without asking
 * the server (decisions.md, "Known-absent keys").
 *
 * It grows as keys come (a new, twice as large filter when one is full: "scalable Bloom
 * filters", Almeida et al. 2007): each filter is near 1% false positives, so at a
 * million keys (five filters) it stays under 5%; a false positive costs one read, never
 * a wrong answer. Hashing: two FNV-1a 32-bit
 * hashes of the UTF-16 code units (different offset bases), combined by double hashing
 * (Kirsch and Mitzenmacher 2006).
 */

const HASHES = 7; // optimal for 1% at 9.6 bits a key
const BITS_PER_KEY = 10;
const FIRST_CAPACITY = 1 << 16;

class Filter {
  readonly bits: Uint32Array;
  readonly size: number;
  count = 0;
  constructor(readonly capacity: number) {
    this.size = capacity * BITS_PER_KEY;
    this.bits = new Uint32Array(Math.ceil(this.size / 32));
  }
  add(h1: number, h2: number): void {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.size;
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
    this.count++;
  }
  has(h1: number, h2: number): boolean {
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.size;
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

function fnv1a(key: string, basis: number): number {
  let hash = basis;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class KeyFilter {
  #filters: Filter[] = [new Filter(FIRST_CAPACITY)];

  add(key: string): void {
    const h1 = fnv1a(key, 0x811c9dc5);
    const h2 = (fnv1a(key, 0x050c5d1f) | 1) >>> 0; // odd: the probes never cycle early
    let last = this.#filters.at(-1) as Filter;
    if (last.count >= last.capacity) {
      last = new Filter(last.capacity * 2);
      this.#filters.push(last);
    }
    last.add(h1, h2);
  }

  /** False: the key was never added. True: it probably was. */
  mightHold(key: string): boolean {
    const h1 = fnv1a(key, 0x811c9dc5);
    const h2 = (fnv1a(key, 0x050c5d1f) | 1) >>> 0;
    return this.#filters.some((f) => f.has(h1, h2));
  }

  /** Bytes of memory the bits take. */
  get bytes(): number {
    return this.#filters.reduce((n, f) => n + f.bits.byteLength, 0);
  }
}
