import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  declaredCapacity,
  holderStatuses,
  placeableNodes,
  STORAGE_ROLE,
  storageCandidates,
  subnetOfUrl,
  type RegistryNodeLike,
} from '../src/domain/storage-nodes.ts';

const GB = 1e9;

function view(nodeId: string, o: Partial<RegistryNodeLike> = {}, capabilities: Record<string, unknown> = { storage: { capacity_bytes: 10 * GB }, region: 'eu-west' }): RegistryNodeLike {
  return {
    nodeId,
    state: 'admitted',
    manifest: { services: ['relay', STORAGE_ROLE], capabilities },
    services: [
      { type: 'metadata', entrypoints: ['https://10.0.0.1:8443/'] },
      { type: STORAGE_ROLE, entrypoints: ['https://127.0.12.1:9443/', 'https://10.9.9.9:9443'] },
    ],
    uptimePpm: [990_000],
    ...o,
  };
}

const none = new Map<string, number>();

describe('declaredCapacity', () => {
  it('reads capabilities.storage.capacity_bytes when it is a non-negative safe integer', () => {
    expect(declaredCapacity({ storage: { capacity_bytes: 500_000_000 } })).toBe(500_000_000);
    expect(declaredCapacity({ storage: { capacity_bytes: 0 } })).toBe(0);
    expect(declaredCapacity({ storage: { capacity_bytes: Number.MAX_SAFE_INTEGER } })).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('gives undefined for anything else', () => {
    for (const capabilities of [
      {},
      { storage: null },
      { storage: 5 },
      { storage: {} },
      { storage: { capacity_bytes: '500000000' } },
      { storage: { capacity_bytes: -1 } },
      { storage: { capacity_bytes: 1.5 } },
      { storage: { capacity_bytes: Number.MAX_SAFE_INTEGER + 1 } },
      { storage: { capacity_bytes: Number.NaN } },
      { storage: { capacity_bytes: Number.POSITIVE_INFINITY } },
      { capacity_bytes: 100 },
    ]) {
      expect(declaredCapacity(capabilities)).toBeUndefined();
    }
  });
});

describe('subnetOfUrl', () => {
  it('groups an IPv4 address by its /24', () => {
    expect(subnetOfUrl('https://127.0.12.1:9443/')).toBe('127.0.12.0/24');
    expect(subnetOfUrl('https://127.0.12.200/')).toBe(subnetOfUrl('https://127.0.12.1:9443/'));
    expect(subnetOfUrl('https://127.0.13.1:9443/')).not.toBe(subnetOfUrl('https://127.0.12.1:9443/'));
  });

  it('groups an IPv6 literal by its /48, an IPv4-mapped one as its IPv4 address', () => {
    expect(subnetOfUrl('https://[2001:db8:1234:5678::1]:9443/')).toBe('2001:db8:1234::/48');
    expect(subnetOfUrl('https://[2001:db8:1234:ffff::2]/')).toBe('2001:db8:1234::/48');
    expect(subnetOfUrl('https://[2001:db8:1235::1]/')).not.toBe('2001:db8:1234::/48');
    expect(subnetOfUrl('https://[::ffff:127.0.12.1]:9443/')).toBe('127.0.12.0/24');
  });

  it('names a host name (lower-cased) instead, and an unparsable URL by itself', () => {
    expect(subnetOfUrl('https://storage.example.org:9443/')).toBe('host:storage.example.org');
    expect(subnetOfUrl('https://Storage.Example.ORG/')).toBe('host:storage.example.org');
    expect(subnetOfUrl('not a url')).toBe('url:not a url');
  });

  it('puts every address of one /24 in one group and addresses of two /24s apart (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, octet, octet, (a, b, c, d, e) => {
        expect(subnetOfUrl(`https://${a}.${b}.${c}.${d}:9443/`)).toBe(`${a}.${b}.${c}.0/24`);
        expect(subnetOfUrl(`https://${a}.${b}.${c}.${e}/`)).toBe(subnetOfUrl(`https://${a}.${b}.${c}.${d}/`));
        expect(subnetOfUrl(`https://${a}.${b}.${(c + 1) % 256}.${d}/`)).not.toBe(subnetOfUrl(`https://${a}.${b}.${c}.${d}/`));
      }),
    );
  });
});

describe('storageCandidates', () => {
  it('takes an admitted storage node with its region, subnet, url, free bytes and uptime', () => {
    const [c, ...rest] = storageCandidates([view('did:key:a')], new Map([['did:key:a', 3 * GB]]), none);
    expect(rest).toEqual([]);
    expect(c).toEqual({
      node: { nodeId: 'did:key:a', region: 'eu-west', subnet: '127.0.12.0/24', freeBytes: 7 * GB, uptimePpm: 990_000 },
      capacityBytes: 10 * GB,
      // The first entrypoint of the storage service, without its trailing slash.
      url: 'https://127.0.12.1:9443',
      status: { subnet: '127.0.12.0/24', region: 'eu-west' },
    });
    // No region declared: 'unknown'.
    const [noRegion] = storageCandidates([view('did:key:a', {}, { storage: { capacity_bytes: 1 } })], none, none);
    expect(noRegion?.node.region).toBe('unknown');
  });

  it('leaves out nodes not admitted, not listing the storage role, without a capacity or without a storage service', () => {
    const leftOut: RegistryNodeLike[] = [
      ...['quarantined', 'delisted', 'expired', 'pending'].map((state) => view(`did:key:${state}`, { state })),
      view('did:key:nomanifest', { manifest: undefined }),
      view('did:key:norole', { manifest: { services: ['relay'], capabilities: { storage: { capacity_bytes: GB } } } }),
      view('did:key:nocap', {}, { region: 'eu-west' }),
      view('did:key:strcap', {}, { storage: { capacity_bytes: '1000' } }),
      view('did:key:bigcap', {}, { storage: { capacity_bytes: 2 ** 60 } }),
      view('did:key:noservice', { services: [{ type: 'metadata', entrypoints: ['https://10.0.0.1/'] }] }),
      view('did:key:noentry', { services: [{ type: STORAGE_ROLE, entrypoints: [] }] }),
    ];
    const kept = view('did:key:kept');
    expect(storageCandidates([...leftOut, kept], none, none).map((c) => c.node.nodeId)).toEqual(['did:key:kept']);
  });

  it('computes free bytes as capacity less used, never below 0 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.option(fc.integer({ min: 0, max: 2 ** 51 }), { nil: undefined }), (capacity, used) => {
        const usedBytes = used === undefined ? none : new Map([['did:key:n', used]]);
        const [c] = storageCandidates([view('did:key:n', {}, { storage: { capacity_bytes: capacity } })], usedBytes, none);
        expect(c?.capacityBytes).toBe(capacity);
        expect(c?.node.freeBytes).toBe(Math.max(0, capacity - (used ?? 0)));
        expect(c?.node.freeBytes).toBeGreaterThanOrEqual(0);
      }),
    );
    // Used bytes of another node do not count against this one.
    const [c] = storageCandidates([view('did:key:n')], new Map([['did:key:other', 10 * GB]]), none);
    expect(c?.node.freeBytes).toBe(10 * GB);
  });

  it('takes the median of the attesters\' uptimes, 1,000,000 ppm when none attested', () => {
    const uptime = (uptimePpm: number[]) => storageCandidates([view('did:key:n', { uptimePpm })], none, none)[0]?.node.uptimePpm;
    expect(uptime([])).toBe(1_000_000);
    expect(uptime([800_000])).toBe(800_000);
    expect(uptime([999_000, 100_000, 950_000])).toBe(950_000);
    // Even count: the mean of the middle two (rounded down), not one outlier.
    expect(uptime([1_000_000, 900_000, 0, 950_000])).toBe(925_000);
    expect(uptime([1, 2])).toBe(1);
  });

  it('gives a median between the lowest and highest uptime that at least half lie on each side of (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 15 }), (values) => {
        const m = storageCandidates([view('did:key:n', { uptimePpm: values })], none, none)[0]?.node.uptimePpm as number;
        expect(m).toBeGreaterThanOrEqual(Math.min(...values));
        expect(m).toBeLessThanOrEqual(Math.max(...values));
        expect(values.filter((v) => v <= m).length * 2).toBeGreaterThanOrEqual(values.length);
        expect(values.filter((v) => v >= m).length * 2).toBeGreaterThanOrEqual(values.length);
        // The attesters' order does not matter.
        expect(storageCandidates([view('did:key:n', { uptimePpm: [...values].reverse() })], none, none)[0]?.node.uptimePpm).toBe(m);
      }),
    );
  });

  it('marks an unreachable node down since then; placeableNodes leaves it out, holderStatuses keeps it', () => {
    const since = Date.parse('2026-11-29T00:00:00.000Z');
    const ipv6 = view('did:key:c', { services: [{ type: STORAGE_ROLE, entrypoints: ['https://[2001:db8:aa::1]:9443'] }] });
    const named = view('did:key:b', { services: [{ type: STORAGE_ROLE, entrypoints: ['https://b.example.net:9443'] }] });
    const candidates = storageCandidates([ipv6, named, view('did:key:a')], none, new Map([['did:key:b', since]]));
    expect(candidates.find((c) => c.node.nodeId === 'did:key:b')?.status).toEqual({ subnet: 'host:b.example.net', region: 'eu-west', downSince: since });
    expect(candidates.find((c) => c.node.nodeId === 'did:key:a')?.status).toEqual({ subnet: '127.0.12.0/24', region: 'eu-west' });
    expect(candidates.find((c) => c.node.nodeId === 'did:key:c')?.status).toEqual({ subnet: '2001:db8:aa::/48', region: 'eu-west' });
    expect(candidates.find((c) => c.node.nodeId === 'did:key:a')?.status).not.toHaveProperty('downSince');

    expect(placeableNodes(candidates).map((n) => n.nodeId)).toEqual(['did:key:a', 'did:key:c']);
    const statuses = holderStatuses(candidates);
    expect([...statuses.keys()]).toEqual(['did:key:a', 'did:key:b', 'did:key:c']);
    expect(statuses.get('did:key:b')?.downSince).toBe(since);
    expect(statuses.get('did:key:a')?.downSince).toBeUndefined();
  });

  it('sorts by node id whatever order the registry gives (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 0, maxLength: 12 }), (ids) => {
        const out = storageCandidates(ids.map((id) => view(id)), none, none).map((c) => c.node.nodeId);
        const expected = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(out).toEqual(expected);
        for (let i = 1; i < out.length; i++) expect((out[i - 1] as string) < (out[i] as string)).toBe(true);
      }),
    );
  });
});
