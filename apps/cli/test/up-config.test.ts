import { describe, expect, it } from 'vitest';
import { loadUpConfig } from '../src/up/config.ts';

describe('loadUpConfig', () => {
  it('defaults to an embedded local node under ./.dmf', () => {
    const config = loadUpConfig({}, {}, '/home/me/dmf');
    expect(config).toMatchObject({
      dataDir: '/home/me/dmf/.dmf',
      host: '127.0.0.1',
      port: 8443,
      operator: 'local',
      domain: 'local',
      region: 'unspecified',
      natsUrl: undefined,
      redisUrl: undefined,
      peers: [],
      leafRemotes: [],
      logLevel: 'info',
    });
  });

  it('lets flags win over the environment', () => {
    const config = loadUpConfig(
      { port: '9443', operator: 'opb', peer: ['opa', 'opc@dom_C'] },
      { DMF_PORT: '1234', DMF_OPERATOR: 'zzz', DMF_PEERS: 'x', DMF_NATS_URL: 'nats://127.0.0.1:4222' },
      '/',
    );
    expect(config.port).toBe(9443);
    expect(config.operator).toBe('opb');
    expect(config.peers).toEqual([
      { operator: 'opa', domain: 'opa' },
      { operator: 'opc', domain: 'dom_C' },
    ]);
    expect(config.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(config.domain).toBe('opb');
    expect(loadUpConfig({}, { DMF_DOMAIN: 'federation-a' }, '/').domain).toBe('federation-a');
  });

  it('reads the head view budget in MiB, 0 turning it off', () => {
    expect(loadUpConfig({}, { DMF_METADATA_HEAD_CACHE_MB: '64' }, '/').metadataHeadCacheBytes).toBe(64 * 1024 * 1024);
    expect(loadUpConfig({}, { DMF_METADATA_HEAD_CACHE_MB: '0' }, '/').metadataHeadCacheBytes).toBe(0);
    expect(loadUpConfig({}, {}, '/').metadataHeadCacheBytes).toBeGreaterThan(0);
  });

  it.each([
    [{ port: '70000' }, {}, /--port: "70000" is not a TCP port/],
    [{}, { DMF_PORT: 'http' }, /DMF_PORT: "http" is not a TCP port/],
    [{ operator: 'Op A' }, {}, /--operator: "Op A" is not an operator token/],
    [{ domain: 'a.b' }, {}, /--domain: "a.b" is not a JetStream domain/],
    [{ region: 'eu west' }, {}, /--region: "eu west" must be 1-64 of/],
    [{ peer: ['opa@b@c'] }, {}, /--peer: "opa@b@c" must be OPERATOR or OPERATOR@DOMAIN/],
    [{ peer: ['local'] }, {}, /cannot be its own peer/],
    [{ natsUrl: 'http://x' }, {}, /--nats-url: "http:\/\/x" must use nats: or tls:/],
    [{}, { DMF_REDIS_URL: 'redis://' }, /DMF_REDIS_URL: "redis:\/\/" has no host/],
    [{ logLevel: 'loud' }, {}, /--log-level: "loud" is not one of/],
    [{}, { DMF_TLS_CERT: 'a.pem' }, /set both or neither/],
    [{ host: '127.0.0.999' }, {}, /--host: "127.0.0.999" is not an IP address or host name/],
    [{ operator: '' }, { DMF_OPERATOR: 'fine' }, /--operator: "" is not an operator token/],
    [{ data: '/etc/hostname' }, {}, /--data: \/etc\/hostname exists and is not a folder/],
    [{}, { DMF_METADATA_HEAD_CACHE_MB: '2GB' }, /DMF_METADATA_HEAD_CACHE_MB: must be a whole number of MiB/],
  ])('rejects %o %o naming the field', (flags, env, message) => {
    expect(() => loadUpConfig(flags, env, '/')).toThrow(message);
  });

  it('reads the federation settings, flags over the environment', () => {
    const config = loadUpConfig(
      { bootstrap: ['https://a.example:8443/'], allowAddress: ['127.0.0.0/8'], trustCa: ['ca.pem'], probeInterval: '2', probeWindow: '10', operatorKey: 'op.key' },
      { DMF_BOOTSTRAP: 'https://ignored.example', DMF_QUARANTINE: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', DMF_CHURN_LIMIT: '50', DMF_RATE_LIMIT: '5000' },
      '/srv',
    );
    expect(config.federation).toMatchObject({
      bootstrap: ['https://a.example:8443'],
      allowAddresses: ['127.0.0.0/8'],
      trustCaFiles: ['/srv/ca.pem'],
      quarantined: ['did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'],
      probeIntervalSeconds: 2,
      probeWindowSeconds: 10,
      thresholds: { churnLimit: 50 },
    });
    expect(config.operatorKeyFile).toBe('/srv/op.key');
    expect(config.rateLimitPerTenSeconds).toBe(5000);
    const defaults = loadUpConfig({}, {}, '/');
    expect(defaults.federation).toMatchObject({ bootstrap: [], allowAddresses: [], probeIntervalSeconds: 60, probeWindowSeconds: 600, thresholds: {} });
    expect(defaults.rateLimitPerTenSeconds).toBe(1200);
  });

  it('names the federation setting that is wrong', () => {
    const bad: [Parameters<typeof loadUpConfig>[0], NodeJS.ProcessEnv, RegExp][] = [
      [{ bootstrap: ['http://a.example'] }, {}, /^--bootstrap: "http:\/\/a.example" must use https:/],
      [{}, { DMF_ALLOW_ADDRESSES: '10.0.0.0/99' }, /^DMF_ALLOW_ADDRESSES: "10.0.0.0\/99" is not a CIDR/],
      [{}, { DMF_QUARANTINE: 'someone' }, /^DMF_QUARANTINE: "someone" is not an Ed25519 did:key/],
      [{ probeInterval: '60', probeWindow: '30' }, {}, /^--probe-window: 30 s is shorter than the probe interval \(60 s\)/],
      [{ probeInterval: '0' }, {}, /^--probe-interval: "0" must be a whole number of seconds, at least 1/],
      [{}, { DMF_RATE_LIMIT: 'lots' }, /^DMF_RATE_LIMIT: "lots" must be a whole number/],
      [{}, { DMF_CHURN_LIMIT: '-3' }, /^DMF_CHURN_LIMIT: "-3" must be a whole number, at least 1/],
    ];
    for (const [flags, env, message] of bad) expect(() => loadUpConfig(flags, env, '/')).toThrow(message);
  });
});
