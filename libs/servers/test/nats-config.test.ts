import { describe, expect, it } from 'vitest';
import { renderNatsConfig } from '@dmf/servers';

describe('renderNatsConfig', () => {
  it('renders a leaf operator with its own JetStream domain', () => {
    const text = renderNatsConfig({
      name: 'opa',
      port: -1,
      httpPort: -1,
      storeDir: '/tmp/x/jetstream',
      domain: 'opa',
      leafRemotes: ['nats-leaf://127.0.0.1:7422'],
      leafDenyImports: ['dmf.origin.opa.>'],
      portsFileDir: '/tmp/x/ports',
    });
    expect(text).toContain('server_name: opa');
    expect(text).toContain('listen: "127.0.0.1:-1"');
    expect(text).toContain('jetstream { store_dir: "/tmp/x/jetstream", domain: opa }');
    expect(text).toContain('remotes: [ { url: "nats-leaf://127.0.0.1:7422", deny_imports: ["dmf.origin.opa.>"] } ]');
    expect(text).not.toContain('listen: "127.0.0.1:-1"\n  ');
  });

  it('leaves JetStream off without a store and adds a leaf listener for hubs', () => {
    const text = renderNatsConfig({ name: 'hub', port: 4222, httpPort: 8222, leafListenPort: 7422 });
    expect(text).not.toContain('jetstream');
    expect(text).toContain('leafnodes {\n  listen: "127.0.0.1:7422"\n}');
  });

  it('refuses names that would break the config file', () => {
    expect(() => renderNatsConfig({ name: 'a b', port: 1, httpPort: 2 })).toThrow(/name: "a b" is not a valid server name/);
    expect(() => renderNatsConfig({ name: 'a', domain: 'x}', port: 1, httpPort: 2 })).toThrow(/domain: "x}"/);
  });
});
