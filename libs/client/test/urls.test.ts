import { describe, expect, it } from 'vitest';
import { createAddressPolicy } from '../src/domain/address-policy.ts';
import { isFollowedRedirect, redirectedRequest } from '../src/domain/redirect.ts';
import { joinPath, requestPathProblem, wellKnownUrl } from '../src/domain/request-path.ts';
import { checkTargetUrl, literalHost } from '../src/domain/target-url.ts';
import { ClientError } from '../src/errors.ts';

const none = createAddressPolicy();
const loopback = createAddressPolicy(['127.0.0.1/32']);

function refusal(run: () => unknown): ClientError {
  try {
    run();
  } catch (error) {
    if (error instanceof ClientError) return error;
    throw error;
  }
  throw new Error('expected a ClientError');
}

describe('checkTargetUrl', () => {
  it('accepts https URLs with a name or an allowed address, without the fragment', () => {
    expect(checkTargetUrl('https://node.example/api#x', none, 'entrypoint').href).toBe('https://node.example/api');
    expect(checkTargetUrl('https://127.0.0.1:4433/', loopback, 'entrypoint').host).toBe('127.0.0.1:4433');
  });

  it('refuses other schemes and credentials as url.invalid', () => {
    const http = refusal(() => checkTargetUrl('http://node.example/', none, 'entrypoint'));
    expect(http.code).toBe('url.invalid');
    expect(http.message).toBe('url.invalid: http://node.example/: entrypoint must be https (got http:)');
    const creds = refusal(() => checkTargetUrl('https://user:secret@node.example/', none, 'mirror'));
    expect(creds.code).toBe('url.invalid');
    expect(creds.message).not.toContain('secret');
    expect(refusal(() => checkTargetUrl('not a url', none, 'node URL')).code).toBe('url.invalid');
    expect(refusal(() => checkTargetUrl('file:///etc/passwd', none, 'schema.url')).code).toBe('url.invalid');
  });

  it('refuses literal addresses outside the policy, however they are spelt', () => {
    for (const url of ['https://127.0.0.1/', 'https://[::1]/', 'https://2130706433/', 'https://0x7f.1/', 'https://[::ffff:127.0.0.1]/', 'https://169.254.169.254/']) {
      const error = refusal(() => checkTargetUrl(url, none, 'entrypoint'));
      expect(error.code, url).toBe('address.refused');
    }
    expect(refusal(() => checkTargetUrl('https://127.0.0.2/', loopback, 'entrypoint')).reason).toMatch(/^entrypoint address 127\.0\.0\.2 is loopback/);
  });

  it('resolves a relative redirect location against the current URL', () => {
    const base = new URL('https://127.0.0.1:8443/a/b');
    expect(checkTargetUrl('/c', loopback, 'redirect target', base).href).toBe('https://127.0.0.1:8443/c');
    expect(refusal(() => checkTargetUrl('//127.0.0.2:8443/c', loopback, 'redirect target', base)).code).toBe('address.refused');
  });

  it('literalHost strips IPv6 brackets and ignores names', () => {
    expect(literalHost(new URL('https://[::1]:1/'))).toBe('::1');
    expect(literalHost(new URL('https://10.0.0.1/'))).toBe('10.0.0.1');
    expect(literalHost(new URL('https://localhost/'))).toBeUndefined();
  });
});

describe('joinPath and wellKnownUrl', () => {
  it('appends the path and query to the base path', () => {
    expect(joinPath(new URL('https://h.example/api/'), '/search?q=sea').href).toBe('https://h.example/api/search?q=sea');
    expect(joinPath(new URL('https://h.example'), '/x').href).toBe('https://h.example/x');
    expect(joinPath(new URL('https://h.example/api?old=1'), '/x').href).toBe('https://h.example/api/x');
  });

  it('refuses paths that could change the host or be rewritten', () => {
    expect(requestPathProblem('/ok/path?x=1')).toBeUndefined();
    expect(requestPathProblem('relative')).toBe('must start with /');
    expect(requestPathProblem('//evil.example/x')).toMatch(/another host/);
    expect(requestPathProblem('/a\\b')).toBeDefined();
    expect(requestPathProblem('/a b')).toBeDefined();
    expect(requestPathProblem('/a#b')).toBeDefined();
    expect(() => joinPath(new URL('https://h.example/'), 'https://evil.example/')).toThrow(TypeError);
  });

  it('puts well-known paths at the origin root', () => {
    expect(wellKnownUrl(new URL('https://h.example:8443/some/path'), '/.well-known/dmf/node').href).toBe('https://h.example:8443/.well-known/dmf/node');
  });
});

describe('redirects', () => {
  it('follows 301, 302, 303, 307 and 308 only', () => {
    expect([300, 301, 302, 303, 304, 305, 306, 307, 308].filter(isFollowedRedirect)).toEqual([301, 302, 303, 307, 308]);
  });

  it('repeats the request on 307/308 and turns POST into GET on 301/302/303', () => {
    expect(redirectedRequest(307, 'POST')).toEqual({ method: 'POST', keepBody: true });
    expect(redirectedRequest(308, 'PUT')).toEqual({ method: 'PUT', keepBody: true });
    expect(redirectedRequest(303, 'PUT')).toEqual({ method: 'GET', keepBody: false });
    expect(redirectedRequest(303, 'HEAD')).toEqual({ method: 'HEAD', keepBody: false });
    expect(redirectedRequest(302, 'POST')).toEqual({ method: 'GET', keepBody: false });
    expect(redirectedRequest(301, 'GET')).toEqual({ method: 'GET', keepBody: false });
    expect(redirectedRequest(301, 'DELETE')).toEqual({ method: 'DELETE', keepBody: true });
  });
});
