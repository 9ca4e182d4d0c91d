/**
 * The SSRF policy: which addresses the client may connect to. Default: public unicast
 * only. A caller widens it with CIDRs (tests allow `127.0.0.1/32`; a private
 * federation allows its own `10.0.0.0/8`). Cloud metadata addresses stay refused
 * unless a CIDR names exactly that one address, so a broad allowance such as
 * 169.254.0.0/16 never opens the instance metadata service by accident. Pure.
 */
import ipaddr from 'ipaddr.js';
import { classifyAddress, isCloudMetadataAddress, normalizeIp, parseIp, type IpAddress } from './address-classification.ts';

/** A parsed allowance: a CIDR and the text it came from. */
interface Allowance {
  network: [IpAddress, number];
  text: string;
  /** Whether the CIDR is one single address (/32, /128). */
  single: boolean;
}

export interface AddressPolicy {
  /** CIDRs as given, for messages. */
  readonly allow: readonly string[];
  readonly allowances: readonly Allowance[];
}

export type AddressVerdict =
  | { allowed: true; address: string; why: string }
  | { allowed: false; address: string; why: string };

/**
 * Builds a policy from CIDRs (`127.0.0.1/32`, `fd12::/16`); a bare address is taken
 * as a single-address CIDR. Throws TypeError naming an entry that is neither.
 */
export function createAddressPolicy(allow: readonly string[] = []): AddressPolicy {
  const allowances = allow.map((text, index): Allowance => {
    if (typeof text !== 'string') throw new TypeError(`allow[${index}]: must be a CIDR string`);
    const network = parseAllowance(text);
    if (network === undefined) throw new TypeError(`allow[${index}]: ${JSON.stringify(text)} is not a CIDR (address/prefix)`);
    const full = network[0].kind() === 'ipv4' ? 32 : 128;
    return { network, text, single: network[1] === full };
  });
  return Object.freeze({ allow: Object.freeze([...allow]), allowances: Object.freeze(allowances) });
}

/** Judges one textual IP address (a DNS answer or a literal URL host) against the policy. */
export function checkAddress(text: string, policy: AddressPolicy): AddressVerdict {
  const parsed = parseIp(text);
  if (parsed === undefined) return { allowed: false, address: text, why: 'is not an IP address' };
  const address = normalizeIp(parsed);
  const shown = address.toString();
  const allowance = policy.allowances.find((a) => a.network[0].kind() === address.kind() && address.match(a.network));
  if (isCloudMetadataAddress(address)) {
    return allowance?.single === true
      ? { allowed: true, address: shown, why: `allowed by ${allowance.text}` }
      : { allowed: false, address: shown, why: 'is a cloud metadata address' };
  }
  if (allowance !== undefined) return { allowed: true, address: shown, why: `allowed by ${allowance.text}` };
  const cls = classifyAddress(address);
  if (cls.public) return { allowed: true, address: shown, why: 'is public unicast' };
  const inner = cls.embedded === undefined ? '' : ` carrying ${cls.embedded.address.toString()} (${cls.embedded.range})`;
  return { allowed: false, address: shown, why: `is ${cls.range}${inner}, not in the allowed CIDRs${describeAllow(policy)}` };
}

function describeAllow(policy: AddressPolicy): string {
  return policy.allow.length === 0 ? ' (none)' : ` (${policy.allow.join(', ')})`;
}

/** A CIDR or bare address; an IPv4-mapped IPv6 CIDR of /96 or longer becomes its IPv4 CIDR, as addresses are normalised the same way. */
function parseAllowance(text: string): [IpAddress, number] | undefined {
  const slash = text.indexOf('/');
  const base = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (base === undefined) return undefined;
  let prefix = base.kind() === 'ipv4' ? 32 : 128;
  if (slash !== -1) {
    const digits = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(digits) || !ipaddr.isValidCIDR(text)) return undefined;
    prefix = Number(digits);
  }
  if (base.kind() === 'ipv6' && (base as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    return [(base as ipaddr.IPv6).toIPv4Address(), prefix - 96];
  }
  return [base, prefix];
}
