import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { candidateBases, failureCode, servicesOfType } from '../src/domain/candidates.ts';
import { requestHeaders } from '../src/domain/request-headers.ts';
import { judgeVersion, nodeVersionKey, serviceVersionKey } from '../src/domain/version-judgement.ts';
import { ClientError, type Attempt } from '../src/errors.ts';
import { createMemoryKnownVersions } from '../src/known-versions.ts';
import { CLIENT_VERSION, USER_AGENT } from '../src/version.ts';
import type { NodeManifest, ServiceManifest } from '@dmf/protocol';

describe('judgeVersion', () => {
  it('orders by seq and tells equivocation from the same version', () => {
    expect(judgeVersion(undefined, { seq: 3, recordId: 'a' })).toBe('first');
    expect(judgeVersion({ seq: 3, recordId: 'a' }, { seq: 4, recordId: 'b' })).toBe('newer');
    expect(judgeVersion({ seq: 3, recordId: 'a' }, { seq: 3, recordId: 'a' })).toBe('same');
    expect(judgeVersion({ seq: 3, recordId: 'a' }, { seq: 2, recordId: 'c' })).toBe('rollback');
    expect(judgeVersion({ seq: 3, recordId: 'a' }, { seq: 3, recordId: 'b' })).toBe('equivocation');
  });

  it('keys versions by signer too, so a stranger cannot occupy a subject', () => {
    expect(nodeVersionKey('did:key:z6MkA', 'did:key:z6MkA')).not.toBe(nodeVersionKey('did:key:z6MkA', 'did:key:z6MkB'));
    expect(serviceVersionKey('did:key:z6MkA', 'u', 'did:key:z6MkA')).not.toBe(serviceVersionKey('did:key:z6MkB', 'u', 'did:key:z6MkA'));
  });
});

describe('createMemoryKnownVersions', () => {
  it('never lowers a remembered seq', () => {
    const known = createMemoryKnownVersions();
    known.remember('s', { seq: 5, recordId: 'five' });
    known.remember('s', { seq: 4, recordId: 'four' });
    expect(known.get('s')).toEqual({ seq: 5, recordId: 'five' });
    known.remember('s', { seq: 6, recordId: 'six' });
    expect(known.get('s')).toEqual({ seq: 6, recordId: 'six' });
  });

  it('forgets the least recently updated key past maxKeys', () => {
    const known = createMemoryKnownVersions({ maxKeys: 2 });
    known.remember('a', { seq: 1, recordId: 'a' });
    known.remember('b', { seq: 1, recordId: 'b' });
    known.remember('a', { seq: 2, recordId: 'a2' });
    known.remember('c', { seq: 1, recordId: 'c' });
    expect(known.get('b')).toBeUndefined();
    expect(known.get('a')).toEqual({ seq: 2, recordId: 'a2' });
    expect(known.get('c')).toEqual({ seq: 1, recordId: 'c' });
    expect(() => createMemoryKnownVersions({ maxKeys: 0 })).toThrow(RangeError);
  });
});

describe('requestHeaders', () => {
  it('adds the fixed user-agent and a JSON content type for bodies', () => {
    expect(requestHeaders(USER_AGENT, { Accept: 'application/json' }, true)).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': `dmf-client/${CLIENT_VERSION}`,
    });
    expect(requestHeaders(USER_AGENT, { 'content-type': 'application/cbor' }, true)['content-type']).toBe('application/cbor');
    expect(requestHeaders(USER_AGENT)).toEqual({ 'user-agent': USER_AGENT });
  });

  it.each([['Cookie'], ['authorization'], ['X-Forwarded-For'], ['user-agent'], ['Host'], ['content-length'], ['referer']])(
    'refuses a caller-set %s header',
    (name) => {
      expect(() => requestHeaders(USER_AGENT, { [name]: 'x' })).toThrow(ClientError);
      expect(() => requestHeaders(USER_AGENT, { [name]: 'x' })).toThrow(/^request\.invalid: headers\./);
    },
  );

  it('refuses header values with line breaks and names twice given', () => {
    expect(() => requestHeaders(USER_AGENT, { 'x-a': 'one\r\nset-cookie: x' })).toThrow(/control characters/);
    expect(() => requestHeaders(USER_AGENT, { 'X-A': '1', 'x-a': '2' })).toThrow(/given twice/);
    expect(() => requestHeaders(USER_AGENT, { 'bad name': '1' })).toThrow(/not a header name/);
  });
});

describe('candidates', () => {
  const service = (type: string, entrypoints: string[]): ServiceManifest => ({ type, entrypoints }) as unknown as ServiceManifest;
  const node = { mirrors: ['https://mirror.example/', 'https://a.example/'] } as unknown as NodeManifest;

  it('selects services by type in served order, all without a type', () => {
    const list = [service('metadata_index', ['https://m.example/']), service('discovery', ['https://d.example/'])];
    expect(servicesOfType(list, 'discovery').map((s) => s.type)).toEqual(['discovery']);
    expect(servicesOfType(list, undefined)).toHaveLength(2);
    expect(servicesOfType(list, 'storage_coord')).toEqual([]);
  });

  it('lists entrypoints then mirrors, each once', () => {
    const list = [service('x', ['https://a.example/', 'https://b.example/']), service('x', ['https://b.example/'])];
    expect(candidateBases(list, node)).toEqual(['https://a.example/', 'https://b.example/', 'https://mirror.example/']);
  });

  it('failureCode is the common failure code, else unreachable', () => {
    const attempt = (result: Attempt['result']): Attempt => ({ url: 'https://x.example/', result, detail: '' });
    expect(failureCode([attempt('answered'), attempt('address.refused'), attempt('address.refused')])).toBe('address.refused');
    expect(failureCode([attempt('manifest.expired'), attempt('unreachable')])).toBe('unreachable');
    expect(failureCode([])).toBe('unreachable');
  });
});

describe('version', () => {
  it('the user-agent names the release in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CLIENT_VERSION).toBe(pkg.version);
    expect(USER_AGENT).toBe(`dmf-client/${pkg.version}`);
  });
});
