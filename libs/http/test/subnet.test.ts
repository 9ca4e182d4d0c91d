import { BlockList, isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidAddressError, subnetBucket } from '../src/domain/subnet.ts';

describe('subnetBucket', () => {
  it('puts IPv4 addresses in their /24', () => {
    expect(subnetBucket('203.0.113.7')).toBe('203.0.113.0/24');
    expect(subnetBucket('203.0.113.255')).toBe('203.0.113.0/24');
    expect(subnetBucket('0.0.0.0')).toBe('0.0.0.0/24');
    expect(subnetBucket('127.0.0.1')).toBe(subnetBucket('127.0.0.2'));
    expect(subnetBucket('127.0.0.1')).not.toBe(subnetBucket('127.0.1.1'));
  });

  it('puts IPv6 addresses in their /48, whatever the text form', () => {
    const forms = [
      '2001:db8:abcd:12::1',
      '2001:0db8:abcd:0012:0000:0000:0000:0001',
      '2001:DB8:ABCD:12:0:0:0:1',
      '2001:db8:abcd::ffff',
      '2001:db8:abcd:ffff:ffff:ffff:ffff:ffff',
      '2001:db8:abcd::1%eth0',
      '2001:db8:abcd::1.2.3.4',
    ];
    for (const form of forms) expect(subnetBucket(form)).toBe('2001:db8:abcd::/48');
    expect(subnetBucket('2001:db8:abce::1')).toBe('2001:db8:abce::/48');
  });

  it('expands zero compression at any position', () => {
    expect(subnetBucket('::')).toBe('0:0:0::/48');
    expect(subnetBucket('::1')).toBe('0:0:0::/48');
    expect(subnetBucket('1::')).toBe('1:0:0::/48');
    expect(subnetBucket('1:2::')).toBe('1:2:0::/48');
    expect(subnetBucket('1:2:3:4:5:6:7::')).toBe('1:2:3::/48');
    expect(subnetBucket('::2:3:4:5:6:7:8')).toBe('0:2:3::/48');
    expect(subnetBucket('fe80::1')).toBe('fe80:0:0::/48');
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address it carries', () => {
    expect(subnetBucket('::ffff:198.51.100.20')).toBe('198.51.100.0/24');
    expect(subnetBucket('::FFFF:198.51.100.20')).toBe('198.51.100.0/24');
    expect(subnetBucket('::ffff:c633:6414')).toBe('198.51.100.0/24');
    expect(subnetBucket('0:0:0:0:0:ffff:198.51.100.20')).toBe('198.51.100.0/24');
    // Not mapped: the ffff is in another group, so this is an ordinary IPv6 address.
    expect(subnetBucket('::ffff:0:198.51.100.20')).toBe('0:0:0::/48');
  });

  it('refuses what is not an address, without echoing it', () => {
    const bad = [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.256',
      '01.2.3.4',
      '1.2.3.-1',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '0x1.2.3.4',
      '1::2::3',
      ':::',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'g::1',
      '1.2.3.4::',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3',
      'fe80::1%',
      '%eth0',
      'secret-host.example',
    ];
    for (const text of bad) {
      expect(() => subnetBucket(text), text).toThrow(InvalidAddressError);
    }
    let caught: unknown;
    try {
      subnetBucket('secret-host.example');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidAddressError);
    expect((caught as InvalidAddressError).code).toBe('ERR_INVALID_ADDRESS');
    expect((caught as Error).message).not.toContain('secret');
    expect(() => subnetBucket(undefined as unknown as string)).toThrow(InvalidAddressError);
  });

  it('agrees with Node on which texts are addresses (zone-free forms)', () => {
    const candidates = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.stringMatching(/^[0-9a-fA-F:.]{0,45}$/),
    );
    fc.assert(
      fc.property(candidates, (text) => {
        const nodeSays = isIP(text) !== 0;
        let weSay = true;
        try {
          subnetBucket(text);
        } catch {
          weSay = false;
        }
        expect(weSay).toBe(nodeSays);
      }),
      { numRuns: 3000 },
    );
  });

  it('every address lies inside its bucket, by Node BlockList (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
        const bucket = subnetBucket(address);
        const [network = '', prefix = ''] = bucket.split('/');
        const list = new BlockList();
        if (prefix === '24') {
          expect(network).toMatch(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.0$/);
          list.addSubnet(network, 24, 'ipv4');
          const v4 = address.includes(':') ? address.slice(address.lastIndexOf(':') + 1) : address;
          // Mapped forms written in hex are covered by the example tests above.
          if (v4.includes('.')) expect(list.check(v4, 'ipv4')).toBe(true);
        } else {
          expect(prefix).toBe('48');
          list.addSubnet(network, 48, 'ipv6');
          expect(list.check(address, 'ipv6')).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reads the leading groups of full-form IPv6 exactly, padded or not (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.boolean(), (groups, padded) => {
        fc.pre(!(groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)); // mapped IPv4: other test
        const text = groups.map((g) => (padded ? g.toString(16).padStart(4, '0') : g.toString(16))).join(':');
        expect(subnetBucket(text)).toBe(`${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}::/48`);
        expect(subnetBucket(text.toUpperCase())).toBe(subnetBucket(text));
      }),
    );
  });

  it('refuses zone ids Node accepts but no parser can agree on', () => {
    expect(isIP('fe80::1%a:b')).toBe(6);
    expect(() => subnetBucket('fe80::1%a:b')).toThrow(InvalidAddressError);
  });
});
