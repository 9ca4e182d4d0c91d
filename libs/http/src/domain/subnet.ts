import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

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
 * Parsing is ipaddr.js (the library Fastify's proxy-addr uses to read the same
 * addresses). Node's `isIP` decides what is an address first: ipaddr.js also reads
 * forms inet_pton refuses (`010.0.0.1` as octal, `0x7f.1`), and an address that two
 * parsers read differently must not pick a bucket.
 *
 * Pure functions, no I/O. The bucket text is never stored or logged: the rate limiter
 * hashes it with a rotating in-memory salt first (see ../bucket-hasher.ts).
 */

/** Thrown for input that is not an IPv4 or IPv6 address. */
export class InvalidAddressError extends Error {
  readonly code = 'ERR_INVALID_ADDRESS';

  constructor(reason: string, options?: { cause?: unknown }) {
    // The address itself is deliberately left out of the message: messages end up in logs.
    super(`address: ${reason}`, options);
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
  const version = isIP(address);
  if (version === 0) throw new InvalidAddressError('is not an IPv4 or IPv6 address');
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = version === 4 ? ipaddr.IPv4.parse(address) : ipaddr.IPv6.parse(address);
  } catch (error) {
    // Node accepts zone ids ipaddr.js does not (`fe80::1%a:b`); such a text picks no bucket.
    throw new InvalidAddressError(`is not an IPv${version} address`, { cause: error });
  }
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') {
    const [a, b, c] = (parsed as ipaddr.IPv4).octets;
    return `${a}.${b}.${c}.0/${IPV4_BUCKET_PREFIX}`;
  }
  const prefix = (parsed as ipaddr.IPv6).parts.slice(0, 3).map((group) => group.toString(16)).join(':');
  return `${prefix}::/${IPV6_BUCKET_PREFIX}`;
}
