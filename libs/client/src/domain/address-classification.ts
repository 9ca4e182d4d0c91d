/**
 * What kind of address an IP is, for the SSRF guard. Allow-list reasoning: an address
 * is public only if ipaddr.js calls it plain `unicast` (and, for IPv6, it lies in
 * global unicast 2000::/3); every named special range (loopback, private, link-local,
 * CGNAT, multicast, reserved, documentation, benchmarking...) and any range a later
 * ipaddr.js release names is therefore refused without a change here. IPv6 forms that
 * carry an IPv4 address (mapped, translated, NAT64, 6to4) are judged by that address.
 * Pure.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

export interface AddressClass {
  /** The address as classified: IPv4-mapped IPv6 addresses are given as their IPv4 form. */
  address: IpAddress;
  /** ipaddr.js range name (`unicast`, `loopback`, `private`...) or one of ours (`cloudMetadata`, `nat64LocalUse`, `ipv6NonGlobal`). */
  range: string;
  /** Whether the address may be fetched without an explicit allowance. */
  public: boolean;
  /** For an IPv6 form that carries an IPv4 address (NAT64, 6to4, rfc6145): that address's class. */
  embedded?: AddressClass;
}

/**
 * Well-known instance-metadata and cloud host-service addresses. Most lie in ranges
 * refused anyway; they are listed so that a broad allowance (169.254.0.0/16, fd00::/8)
 * does not open them, and because some (Azure's 168.63.129.16) are public unicast.
 */
export const CLOUD_METADATA_ADDRESSES: readonly string[] = Object.freeze([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean... instance metadata
  '169.254.170.2', // AWS ECS task metadata
  '169.254.169.253', // AWS VPC DNS resolver
  '169.254.169.123', // AWS time sync
  'fd00:ec2::254', // AWS instance metadata over IPv6
  'fd00:ec2::23', // AWS VPC DNS resolver over IPv6
  '100.100.100.200', // Alibaba Cloud metadata
  '192.0.0.192', // Oracle Cloud metadata
  '168.63.129.16', // Azure wire server (public unicast)
]);

const metadataAddresses = CLOUD_METADATA_ADDRESSES.map((text) => ipaddr.parse(text));
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16');
const RFC6145 = ipaddr.parseCIDR('::ffff:0:0:0/96');

/** Parses a textual IPv4 or IPv6 address (zone id allowed), or undefined. Only the canonical forms `net.isIP` accepts. */
export function parseIp(text: string): IpAddress | undefined {
  // ipaddr.js also reads `0x7f.1` and other legacy spellings; DNS answers and URL
  // hosts (which the URL parser normalises) never have them, so refuse them here.
  if (isIP(text) === 0) return undefined;
  try {
    return ipaddr.parse(text);
  } catch {
    return undefined;
  }
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it is on the wire. */
export function normalizeIp(address: IpAddress): IpAddress {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

/** Whether the address is one of CLOUD_METADATA_ADDRESSES (after normalisation). */
export function isCloudMetadataAddress(address: IpAddress): boolean {
  const normalized = normalizeIp(address);
  return metadataAddresses.some((known) => known.kind() === normalized.kind() && sameBytes(known, normalized));
}

/** Classifies an address; see the module comment for the rule. */
export function classifyAddress(input: IpAddress): AddressClass {
  const address = normalizeIp(input);
  if (isCloudMetadataAddress(address)) return { address, range: 'cloudMetadata', public: false };
  if (address.kind() === 'ipv4') {
    const range = (address as ipaddr.IPv4).range();
    return { address, range, public: range === 'unicast' };
  }
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIpv4(v6);
  const range = v6.range();
  if (embedded !== undefined) {
    const inner = classifyAddress(embedded);
    return { address, range, public: inner.public, embedded: inner };
  }
  if (range === 'rfc6052') return { address, range: 'nat64LocalUse', public: false }; // 64:ff9b:1::/48, RFC 8215
  if (range !== 'unicast') return { address, range, public: false };
  // Outside 2000::/3 nothing is assigned for global unicast (::/96 IPv4-compatible, unallocated space).
  if (!v6.match(GLOBAL_UNICAST_V6)) return { address, range: 'ipv6NonGlobal', public: false };
  return { address, range, public: true };
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96), 6to4 or RFC 6145 address; Teredo is left out (refused whole). */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  if (address.match(NAT64_WELL_KNOWN) || address.match(RFC6145)) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (address.match(SIX_TO_FOUR)) return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

function sameBytes(a: IpAddress, b: IpAddress): boolean {
  const x = a.toByteArray();
  const y = b.toByteArray();
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
}
