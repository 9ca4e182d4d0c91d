import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from '../src/domain/address-policy.ts';
import { ClientError } from '../src/errors.ts';
import { createGuardedConnector, guardedLookup, type ResolveAll } from '../src/guarded-connector.ts';

/** A resolver that answers every name with `addresses`, as a rebinding DNS server would. */
function resolverOf(addresses: string[]): ResolveAll {
  return (_hostname, _options, callback) =>
    callback(
      null,
      addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
}

function lookupAll(addresses: string[], allow: string[] = [], all = true): Promise<{ error: unknown; result: unknown }> {
  const lookup = guardedLookup(createAddressPolicy(allow), resolverOf(addresses));
  return new Promise((resolve) => {
    lookup('node.example', { all }, (error, address, family) => resolve({ error, result: all ? address : { address, family } }));
  });
}

describe('guardedLookup', () => {
  it('drops refused answers and keeps the allowed ones', async () => {
    const { error, result } = await lookupAll(['127.0.0.1', '93.184.216.34', '10.0.0.1', '2606:4700::1']);
    expect(error).toBeNull();
    expect(result).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]);
  });

  it('answers one address when not asked for all', async () => {
    const { error, result } = await lookupAll(['169.254.169.254', '93.184.216.34'], [], false);
    expect(error).toBeNull();
    expect(result).toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('fails with address.refused, naming each address, when nothing is left', async () => {
    const { error } = await lookupAll(['127.0.0.1', '169.254.169.254', '::1']);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('address.refused');
    expect((error as ClientError).message).toBe(
      'address.refused: node.example: resolves only to refused addresses: 127.0.0.1 is loopback, not in the allowed CIDRs (none); 169.254.169.254 is a cloud metadata address; ::1 is loopback, not in the allowed CIDRs (none)',
    );
  });

  it('lets the policy open private answers', async () => {
    const { error, result } = await lookupAll(['127.0.0.1', '::1'], ['127.0.0.0/8']);
    expect(error).toBeNull();
    expect(result).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('passes resolver errors through', async () => {
    const failing: ResolveAll = (_h, _o, callback) => callback(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), []);
    const lookup = guardedLookup(createAddressPolicy(), failing);
    const error = await new Promise((resolve) => lookup('x', { all: true }, (e) => resolve(e)));
    expect((error as { code: string }).code).toBe('ENOTFOUND');
  });
});

describe('createGuardedConnector', () => {
  /** Connects with the connector itself, as undici would; resolves with its error (null when it connected). */
  function connect(hostname: string, protocol = 'https:', allow: string[] = []): Promise<{ error: Error | null }> {
    const connector = createGuardedConnector({ policy: createAddressPolicy(allow), ca: undefined, timeoutMs: 1000 });
    return new Promise((resolve) => {
      connector({ hostname, protocol, port: '9' }, (error, socket) => {
        socket?.destroy();
        resolve({ error });
      });
    });
  }

  it('refuses a literal address itself (Node skips lookup for addresses), before any socket', async () => {
    const { error } = await connect('127.0.0.2');
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('address.refused');
    expect(error?.message).toBe('address.refused: 127.0.0.2: address 127.0.0.2 is loopback, not in the allowed CIDRs (none)');
    expect(((await connect('::1')).error as ClientError).code).toBe('address.refused');
  });

  it('refuses plain http', async () => {
    expect(((await connect('93.184.216.34', 'http:')).error as ClientError).code).toBe('url.invalid');
  });
});
