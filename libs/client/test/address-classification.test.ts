import { describe, expect, it } from 'vitest';
import { classifyAddress, CLOUD_METADATA_ADDRESSES, parseIp } from '../src/domain/address-classification.ts';

function classify(text: string): { range: string; public: boolean } {
  const address = parseIp(text);
  if (address === undefined) throw new Error(`test input ${text} is not an address`);
  const { range, public: isPublic } = classifyAddress(address);
  return { range, public: isPublic };
}

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8'],
    ['1.1.1.1'],
    ['93.184.216.34'],
    ['2606:4700:4700::1111'],
    ['2a00:1450:4001:80b::200e'],
  ])('%s is public unicast', (address) => {
    expect(classify(address)).toEqual({ range: 'unicast', public: true });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['203.0.113.5', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['64:ff9b:1::a00:1', 'nat64LocalUse'],
    ['::7f00:1', 'ipv6NonGlobal'],
    ['100::1', 'discard'],
  ])('%s is refused as %s', (address, range) => {
    expect(classify(address)).toEqual({ range, public: false });
  });

  it('judges IPv4-mapped IPv6 addresses as the IPv4 address they are', () => {
    expect(classify('::ffff:127.0.0.1')).toEqual({ range: 'loopback', public: false });
    expect(classify('::ffff:7f00:1')).toEqual({ range: 'loopback', public: false });
    expect(classify('::ffff:10.0.0.1')).toEqual({ range: 'private', public: false });
    expect(classify('::ffff:8.8.8.8')).toEqual({ range: 'unicast', public: true });
    expect(classifyAddress(parseIp('::ffff:127.0.0.1')!).address.toString()).toBe('127.0.0.1');
  });

  it('judges NAT64, RFC 6145 and 6to4 addresses by the IPv4 address they carry', () => {
    expect(classify('64:ff9b::7f00:1').public).toBe(false); // NAT64 of 127.0.0.1
    expect(classify('64:ff9b::a9fe:a9fe').public).toBe(false); // NAT64 of 169.254.169.254
    expect(classify('64:ff9b::808:808').public).toBe(true); // NAT64 of 8.8.8.8
    expect(classify('::ffff:0:7f00:1').public).toBe(false); // RFC 6145 of 127.0.0.1
    expect(classify('2002:c0a8:101::1').public).toBe(false); // 6to4 of 192.168.1.1
    expect(classify('2002:808:808::1').public).toBe(true); // 6to4 of 8.8.8.8
    const nat64 = classifyAddress(parseIp('64:ff9b::7f00:1')!);
    expect(nat64.embedded?.range).toBe('loopback');
    expect(nat64.embedded?.address.toString()).toBe('127.0.0.1');
  });

  it('refuses every cloud metadata address, including public-unicast ones', () => {
    for (const address of CLOUD_METADATA_ADDRESSES) {
      expect(classify(address), address).toEqual({ range: 'cloudMetadata', public: false });
    }
    expect(CLOUD_METADATA_ADDRESSES).toEqual(expect.arrayContaining(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200', '168.63.129.16']));
    expect(classify('::ffff:169.254.169.254').range).toBe('cloudMetadata');
  });
});

describe('parseIp', () => {
  it('reads canonical IPv4 and IPv6, with a zone id', () => {
    expect(parseIp('192.0.2.1')?.toString()).toBe('192.0.2.1');
    expect(parseIp('2001:db8::1')?.kind()).toBe('ipv6');
    expect(parseIp('fe80::1%eth0')?.kind()).toBe('ipv6');
  });

  it.each([['0x7f.1'], ['127.1'], ['2130706433'], ['localhost'], [''], ['1.2.3.4.5'], ['[::1]']])(
    'refuses %j, which is not a canonical address',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});
