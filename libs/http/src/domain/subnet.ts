/**
 * Subnet buckets for rate limiting (spec 6.2: "rate limits based only on IP/subnet
 * heuristic, not identification").
 *
 * A bucket is the network a client address belongs to: IPv4 /24, IPv6 /48. One home,
 * office or small provider network shares a bucket, so a limit never singles out one
 * device, and an attacker cannot escape it by rotating through the addresses of one
 * allocation. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket
 * reports for an IPv4 client) count as the IPv4 address they carry.
 *
 * Pure functions, no I/O. The bucket text is never stored or logged: the rate limiter
 * hashes it with a rotating in-memory salt first (see ../bucket-hasher.ts).
 */

/** Thrown for input that is not an IPv4 or IPv6 address. */
export class InvalidAddressError extends Error {
  readonly code = 'ERR_INVALID_ADDRESS';

  constructor(reason: string) {
    // The address itself is deliberately left out of the message: messages end up in logs.
    super(`address: ${reason}`);
    this.name = 'InvalidAddressError';
  }
}

/** IPv4 prefix length of a bucket. */
export const IPV4_BUCKET_PREFIX = 24;
/** IPv6 prefix length of a bucket. */
export const IPV6_BUCKET_PREFIX = 48;

/**
 * The subnet bucket of an address, as CIDR text: `203.0.113.0/24` or `2001:db8:0::/48`
 * (each of the three leading IPv6 groups in lowercase hex without leading zeros).
 * Accepts dotted-quad IPv4 and any RFC 4291 IPv6 text form (zero compression, embedded
 * IPv4 tail, `%zone` suffix). Throws {@link InvalidAddressError} otherwise.
 */
export function subnetBucket(address: string): string {
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidAddressError('must be a non-empty string');
  }
  if (!address.includes(':')) {
    const octets = parseIPv4(address);
    if (octets === undefined) throw new InvalidAddressError('is not a dotted-quad IPv4 address');
    return ipv4Bucket(octets);
  }
  const groups = parseIPv6(address);
  if (groups === undefined) throw new InvalidAddressError('is not an IPv6 address');
  if (isIPv4Mapped(groups)) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return ipv4Bucket([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  }
  const prefix = groups.slice(0, 3).map((g) => g.toString(16)).join(':');
  return `${prefix}::/${IPV6_BUCKET_PREFIX}`;
}

function ipv4Bucket(octets: readonly number[]): string {
  return `${octets[0]}.${octets[1]}.${octets[2]}.0/${IPV4_BUCKET_PREFIX}`;
}

/** `::ffff:0:0/96`. */
function isIPv4Mapped(groups: readonly number[]): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Four decimal octets. Leading zeros are refused: some parsers read `010` as octal 8,
 * and an address that two parsers read differently must not pick a bucket.
 */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Eight 16-bit groups, or undefined for text that is not an IPv6 address. */
export function parseIPv6(text: string): number[] | undefined {
  // A zone index (`fe80::1%eth0`) names a local interface, not part of the address.
  const zoneAt = text.indexOf('%');
  if (zoneAt === 0 || zoneAt === text.length - 1) return undefined;
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);

  const halves = bare.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroupList(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseGroupList(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;

  const explicit = head.length + tail.length;
  if (halves.length === 1) {
    return explicit === 8 ? head : undefined;
  }
  // `::` stands for at least one zero group.
  if (explicit > 7) return undefined;
  const zeros: number[] = new Array<number>(8 - explicit).fill(0);
  return [...head, ...zeros, ...tail];
}

/**
 * Colon-separated hex groups. The last one may be a dotted-quad IPv4 address (two
 * groups) when the list ends the address (`mayEndWithIPv4`).
 */
function parseGroupList(text: string, mayEndWithIPv4: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    if (part.includes('.')) {
      if (!mayEndWithIPv4 || i !== parts.length - 1) return undefined;
      const octets = parseIPv4(part);
      if (octets === undefined) return undefined;
      const [a = 0, b = 0, c = 0, d = 0] = octets;
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      if (!HEX_GROUP.test(part)) return undefined;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}
