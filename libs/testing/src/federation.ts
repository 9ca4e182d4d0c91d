import { startNatsServer, waitForLeaves, type NatsServerHandle } from './nats.ts';

export interface StartFederationOptions {
  /** Operator tokens; each gets a leaf server whose JetStream domain is the token. */
  operators: readonly string[];
}

/** A hub plus one leaf server per operator, as DESIGN.md's test topology. */
export interface Federation {
  /** JetStream domain `hub`, accepting leaf connections. */
  readonly hub: NatsServerHandle;
  readonly operators: Readonly<Record<string, NatsServerHandle>>;
  /** Stops every server and deletes their folders. Safe to call twice. */
  close(): Promise<void>;
}

export async function startFederation(options: StartFederationOptions): Promise<Federation> {
  const hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
  const operators: Record<string, NatsServerHandle> = {};
  const close = async () => {
    await Promise.all(Object.values(operators).map((server) => server.close()));
    await hub.close();
  };
  try {
    const leafUrl = hub.leafUrl;
    if (!leafUrl) throw new Error('hub started without a leaf port');
    const started = await Promise.all(
      options.operators.map((operator) =>
        startNatsServer({ name: operator, domain: operator, leafRemotes: [leafUrl] }),
      ),
    );
    options.operators.forEach((operator, i) => {
      operators[operator] = started[i] as NatsServerHandle;
    });
    await waitForLeaves(hub, options.operators.length);
  } catch (error) {
    await close();
    throw error;
  }
  return { hub, operators, close };
}
