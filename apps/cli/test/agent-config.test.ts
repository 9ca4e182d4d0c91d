import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadAgentConfig, parseBytes, type AgentFlags } from '../src/agent/config.ts';
import { CliError, EXIT } from '../src/exit-codes.ts';

/** Runs `f` and returns the CliError it throws (fails the test when it throws nothing or something else). */
function cliError(f: () => unknown): CliError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('expected a CliError, nothing was thrown');
}

const minimal: AgentFlags = { capacity: '1GB', coordinator: ['https://coordinator.example:8443/'] };

describe('parseBytes', () => {
  it('reads plain bytes, decimal and binary units, case-insensitively and with or without the B', () => {
    expect(parseBytes('--capacity', '500000000')).toBe(500_000_000);
    expect(parseBytes('--capacity', '500MB')).toBe(5e8);
    expect(parseBytes('--capacity', '500mb')).toBe(5e8);
    expect(parseBytes('--capacity', '500 M')).toBe(5e8);
    expect(parseBytes('--capacity', '10GiB')).toBe(10 * 2 ** 30);
    expect(parseBytes('--capacity', '10gi')).toBe(10 * 2 ** 30);
    expect(parseBytes('--capacity', '1.5TB')).toBe(1.5e12);
    expect(parseBytes('--capacity', '2KiB')).toBe(2048);
    expect(parseBytes('--capacity', '3kb')).toBe(3000);
    expect(parseBytes('--capacity', '1TiB')).toBe(2 ** 40);
    expect(parseBytes('--capacity', '7')).toBe(7);
    expect(parseBytes('--capacity', '7B')).toBe(7);
    expect(parseBytes('--capacity', '  1GB  ')).toBe(1e9);
  });

  it('reads every whole number of every unit as that many times the unit (property)', () => {
    const units: [string, number][] = [['', 1], ['B', 1], ['KB', 1e3], ['MB', 1e6], ['GB', 1e9], ['TB', 1e12], ['KiB', 2 ** 10], ['MiB', 2 ** 20], ['GiB', 2 ** 30], ['TiB', 2 ** 40]];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.constantFrom(...units), (n, [suffix, unit]) => {
        expect(parseBytes('--capacity', `${n}${suffix}`)).toBe(n * unit);
      }),
    );
  });

  it('refuses what is not a positive size, with a usage error naming the field and quoting the value', () => {
    for (const raw of ['', ' ', '0', '0GB', '0.4', '-1', '-1GB', '12 parsecs', 'GB', '1e9', '1,000', '1.GB', '.5GB', '10 GiBs', '10PB', '9007199254740993', '9000000TB']) {
      const error = cliError(() => parseBytes('--capacity', raw));
      expect(error.message.startsWith('--capacity: ')).toBe(true);
      expect(error.message).toContain(JSON.stringify(raw));
      expect(error.exitCode).toBe(EXIT.usage);
    }
    // The field named is the one given.
    expect(cliError(() => parseBytes('DMF_AGENT_CAPACITY', 'lots')).message).toMatch(/^DMF_AGENT_CAPACITY: "lots" is not a whole number of bytes/);
  });
});

describe('loadAgentConfig', () => {
  it('defaults to 127.0.0.1:9443, a .dmf-agent folder under the working directory and an audit an hour', () => {
    const config = loadAgentConfig(minimal, {}, '/home/me/agent');
    expect(config).toEqual({
      dataDir: '/home/me/agent/.dmf-agent',
      host: '127.0.0.1',
      port: 9443,
      publicUrl: 'https://127.0.0.1:9443',
      region: 'unspecified',
      capacityBytes: 1e9,
      // Trailing slash removed.
      coordinators: ['https://coordinator.example:8443'],
      allowAddresses: [],
      trustCaFiles: [],
      auditIntervalSeconds: 3600,
      logLevel: 'info',
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      operator: 'storage-agent',
      operatorKeyFile: undefined,
    });
  });

  it('requires a capacity, naming --capacity', () => {
    const error = cliError(() => loadAgentConfig({ coordinator: ['https://c.example'] }, {}, '/'));
    expect(error.message).toMatch(/^--capacity: required/);
    expect(error.message).toContain('DMF_AGENT_CAPACITY');
    expect(error.exitCode).toBe(EXIT.usage);
    expect(loadAgentConfig({ coordinator: ['https://c.example'] }, { DMF_AGENT_CAPACITY: '10GiB' }, '/').capacityBytes).toBe(10 * 2 ** 30);
  });

  it('requires a coordinator, naming --coordinator (an empty list in the environment is none)', () => {
    for (const [flags, env] of [
      [{ capacity: '1GB' }, {}],
      [{ capacity: '1GB', coordinator: [] }, {}],
      [{ capacity: '1GB' }, { DMF_AGENT_COORDINATORS: ' , ,' }],
    ] as [AgentFlags, NodeJS.ProcessEnv][]) {
      const error = cliError(() => loadAgentConfig(flags, env, '/'));
      expect(error.message).toMatch(/^--coordinator: required/);
      expect(error.exitCode).toBe(EXIT.usage);
    }
  });

  it('takes only https coordinator URLs, naming where the bad one came from', () => {
    for (const url of ['http://coordinator.example', 'nats://127.0.0.1:4222', 'coordinator.example', 'https://']) {
      const error = cliError(() => loadAgentConfig({ capacity: '1GB', coordinator: ['https://ok.example', url] }, {}, '/'));
      expect(error.message.startsWith('--coordinator: ')).toBe(true);
      expect(error.message).toContain(JSON.stringify(url));
    }
    expect(cliError(() => loadAgentConfig({ capacity: '1GB' }, { DMF_AGENT_COORDINATORS: 'https://ok.example,http://bad.example' }, '/')).message).toMatch(/^DMF_AGENT_COORDINATORS: "http:\/\/bad.example" must use https:/);
  });

  it('reads the environment when no flag is given', () => {
    const config = loadAgentConfig(
      {},
      {
        DMF_AGENT_CAPACITY: '2TB',
        DMF_AGENT_COORDINATORS: 'https://a.example:8443/, https://b.example',
        DMF_AGENT_HOST: '0.0.0.0',
        DMF_AGENT_PORT: '7443',
        DMF_AGENT_REGION: 'eu-west-1',
        DMF_AGENT_DATA_DIR: 'shards',
        DMF_AGENT_AUDIT_INTERVAL: '60',
        DMF_LOG_LEVEL: 'debug',
        DMF_ALLOW_ADDRESSES: '10.0.0.0/8, 192.168.1.1',
        DMF_TRUST_CA: 'ca.pem',
        DMF_TLS_CERT: 'tls/cert.pem',
        DMF_TLS_KEY: '/etc/dmf/key.pem',
      },
      '/srv/dmf',
    );
    expect(config).toMatchObject({
      capacityBytes: 2e12,
      coordinators: ['https://a.example:8443', 'https://b.example'],
      host: '0.0.0.0',
      port: 7443,
      // Listening on every address: the URL others use names localhost.
      publicUrl: 'https://localhost:7443',
      region: 'eu-west-1',
      dataDir: '/srv/dmf/shards',
      auditIntervalSeconds: 60,
      logLevel: 'debug',
      allowAddresses: ['10.0.0.0/8', '192.168.1.1'],
      trustCaFiles: ['/srv/dmf/ca.pem'],
      tlsCertFile: '/srv/dmf/tls/cert.pem',
      tlsKeyFile: '/etc/dmf/key.pem',
    });
  });

  it('lets flags win over the environment', () => {
    const env = {
      DMF_AGENT_CAPACITY: '1GB',
      DMF_AGENT_COORDINATORS: 'https://env.example',
      DMF_AGENT_HOST: '10.1.1.1',
      DMF_AGENT_PORT: '1234',
      DMF_AGENT_PUBLIC_URL: 'https://env-public.example',
      DMF_AGENT_REGION: 'env-region',
      DMF_AGENT_DATA_DIR: '/env/data',
      DMF_AGENT_AUDIT_INTERVAL: '60',
      DMF_LOG_LEVEL: 'debug',
      DMF_ALLOW_ADDRESSES: '10.0.0.1',
      DMF_TRUST_CA: '/env/ca.pem',
    };
    const config = loadAgentConfig(
      {
        capacity: '2GB',
        coordinator: ['https://flag-1.example', 'https://flag-2.example/'],
        host: '127.0.0.2',
        port: '9000',
        publicUrl: 'https://flag-public.example:9000/',
        region: 'flag-region',
        data: 'flag-data',
        auditInterval: '120',
        logLevel: 'warn',
        allowAddress: ['127.0.0.1'],
        trustCa: ['flag-ca.pem'],
      },
      env,
      '/work',
    );
    expect(config).toMatchObject({
      capacityBytes: 2e9,
      coordinators: ['https://flag-1.example', 'https://flag-2.example'],
      host: '127.0.0.2',
      port: 9000,
      publicUrl: 'https://flag-public.example:9000',
      region: 'flag-region',
      dataDir: resolve('/work', 'flag-data'),
      auditIntervalSeconds: 120,
      logLevel: 'warn',
      allowAddresses: ['127.0.0.1'],
      trustCaFiles: ['/work/flag-ca.pem'],
    });
    // A bad environment value is not looked at when the flag is given...
    expect(loadAgentConfig({ ...minimal, port: '9000' }, { DMF_AGENT_PORT: 'not a port' }, '/').port).toBe(9000);
    expect(loadAgentConfig({ ...minimal, capacity: '5GB' }, { DMF_AGENT_CAPACITY: 'lots' }, '/').capacityBytes).toBe(5e9);
    // ...and when it is used, the error names the variable, not the flag.
    expect(cliError(() => loadAgentConfig({ coordinator: ['https://c.example'] }, { DMF_AGENT_CAPACITY: 'lots' }, '/')).message).toMatch(/^DMF_AGENT_CAPACITY: /);
    expect(cliError(() => loadAgentConfig({ ...minimal, capacity: 'lots' }, {}, '/')).message).toMatch(/^--capacity: /);
  });

  it('refuses bad values of the other settings, naming each', () => {
    const bad: [AgentFlags, NodeJS.ProcessEnv, RegExp][] = [
      [{ ...minimal, port: '0' }, {}, /^--port: /],
      [{ ...minimal, port: '65536' }, {}, /^--port: /],
      [minimal, { DMF_AGENT_PORT: 'http' }, /^DMF_AGENT_PORT: /],
      [{ ...minimal, host: '999.1.1.1' }, {}, /^--host: /],
      [{ ...minimal, publicUrl: 'http://agent.example' }, {}, /^--public-url: /],
      [minimal, { DMF_AGENT_PUBLIC_URL: 'https://user:pw@agent.example' }, /^DMF_AGENT_PUBLIC_URL: /],
      [{ ...minimal, region: '-starts-with-dash' }, {}, /^--region: /],
      [{ ...minimal, auditInterval: '0' }, {}, /^--audit-interval: /],
      [{ ...minimal, auditInterval: '1.5' }, {}, /^--audit-interval: /],
      [{ ...minimal, auditInterval: '99999999' }, {}, /^--audit-interval: /],
      [minimal, { DMF_AGENT_AUDIT_INTERVAL: '-5' }, /^DMF_AGENT_AUDIT_INTERVAL: /],
      [{ ...minimal, logLevel: 'loud' }, {}, /^--log-level: /],
      [minimal, { DMF_TLS_CERT: 'cert.pem' }, /^DMF_TLS_CERT\/DMF_TLS_KEY: set both or neither/],
      [minimal, { DMF_TLS_KEY: 'key.pem' }, /^DMF_TLS_CERT\/DMF_TLS_KEY: set both or neither/],
    ];
    for (const [flags, env, message] of bad) {
      const error = cliError(() => loadAgentConfig(flags, env, '/'));
      expect(error.message).toMatch(message);
      expect(error.exitCode).toBe(EXIT.usage);
    }
  });

  it('brackets an IPv6 host in the default public URL', () => {
    expect(loadAgentConfig({ ...minimal, host: '::1', port: '9444' }, {}, '/').publicUrl).toBe('https://[::1]:9444');
  });
});
