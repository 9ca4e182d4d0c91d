import { describe, expect, it } from 'vitest';
import { checkAddress, createAddressPolicy } from '../src/domain/address-policy.ts';

describe('checkAddress', () => {
  it('allows public unicast and refuses everything else by default', () => {
    const policy = createAddressPolicy();
    expect(checkAddress('8.8.8.8', policy)).toMatchObject({ allowed: true, why: 'is public unicast' });
    expect(checkAddress('127.0.0.1', policy)).toMatchObject({ allowed: false, address: '127.0.0.1' });
    expect(checkAddress('127.0.0.1', policy).why).toBe('is loopback, not in the allowed CIDRs (none)');
    expect(checkAddress('::1', policy).allowed).toBe(false);
    expect(checkAddress('10.0.0.1', policy).allowed).toBe(false);
  });

  it('allows exactly what the CIDRs cover', () => {
    const policy = createAddressPolicy(['127.0.0.1/32']);
    expect(checkAddress('127.0.0.1', policy)).toMatchObject({ allowed: true, why: 'allowed by 127.0.0.1/32' });
    expect(checkAddress('127.0.0.2', policy)).toMatchObject({ allowed: false });
    expect(checkAddress('127.0.0.2', policy).why).toContain('(127.0.0.1/32)');
    expect(checkAddress('::1', policy).allowed).toBe(false);
    const wide = createAddressPolicy(['127.0.0.0/8', 'fd00::/8']);
    expect(checkAddress('127.0.0.2', wide).allowed).toBe(true);
    expect(checkAddress('fd12::1', wide).allowed).toBe(true);
    expect(checkAddress('fe80::1', wide).allowed).toBe(false);
  });

  it('matches IPv4-mapped IPv6 addresses and CIDRs as IPv4', () => {
    expect(checkAddress('::ffff:127.0.0.1', createAddressPolicy(['127.0.0.1/32']))).toMatchObject({ allowed: true, address: '127.0.0.1' });
    const mapped = createAddressPolicy(['::ffff:10.0.0.0/104']);
    expect(checkAddress('10.9.9.9', mapped).allowed).toBe(true);
    expect(checkAddress('11.0.0.1', mapped).why).toBe('is public unicast');
    expect(checkAddress('192.168.0.1', mapped).allowed).toBe(false);
  });

  it('a bare address in the list is a single-address CIDR', () => {
    const policy = createAddressPolicy(['10.0.0.5']);
    expect(checkAddress('10.0.0.5', policy).allowed).toBe(true);
    expect(checkAddress('10.0.0.6', policy).allowed).toBe(false);
  });

  it('opens a cloud metadata address only for a CIDR that names it alone', () => {
    const broad = createAddressPolicy(['169.254.0.0/16', 'fd00::/8', '100.64.0.0/10']);
    expect(checkAddress('169.254.1.1', broad).allowed).toBe(true);
    expect(checkAddress('169.254.169.254', broad)).toMatchObject({ allowed: false, why: 'is a cloud metadata address' });
    expect(checkAddress('fd00:ec2::254', broad).allowed).toBe(false);
    expect(checkAddress('100.100.100.200', broad).allowed).toBe(false);
    expect(checkAddress('168.63.129.16', createAddressPolicy()).allowed).toBe(false);
    expect(checkAddress('169.254.169.254', createAddressPolicy(['169.254.169.254/32'])).allowed).toBe(true);
  });

  it('refuses what is not an address', () => {
    expect(checkAddress('localhost', createAddressPolicy(['127.0.0.0/8']))).toMatchObject({ allowed: false, why: 'is not an IP address' });
  });
});

describe('createAddressPolicy', () => {
  it.each([['nonsense'], ['10.0.0.0/33'], ['::/129'], ['10.0.0.0/'], ['10.0.0.0/8/8'], ['10.0.0.0/ 8'], ['0x0a.0.0.0/8']])(
    'refuses %j, naming the entry',
    (cidr) => {
      expect(() => createAddressPolicy(['127.0.0.1/32', cidr])).toThrow(/^allow\[1\]: .* is not a CIDR/);
    },
  );

  it('keeps its own copy of the list', () => {
    const list = ['127.0.0.1/32'];
    const policy = createAddressPolicy(list);
    list.push('10.0.0.0/8');
    expect(policy.allow).toEqual(['127.0.0.1/32']);
    expect(checkAddress('10.0.0.1', policy).allowed).toBe(false);
  });
});
