import { startNatsServer, waitForLeaves, type NatsServerHandle } from './nats.ts';

export interface StartFederationOptions {
  /** Operator tokens; each gets a leaf server whose JetStream domain is the token. */
  operators: readonly string[];
  /**
   * Subjects an operator's server refuses from the hub (`deny_imports`), per operator;
   * DMF operators deny their own record subjects (`originSubjects(op)`). Default none.
   */
  leafDenyImports?: (operator: string) => readonly string[];
}

/** A hub plus one leaf server per operator, as DESIGN.md's test topology. */
export interface Federation {
  /** JetStream domain `hub`, accepting leaf connections. */
  readonly hub: NatsServerHandle;
  readonly operators: Readonly<Record<string, NatsServerHandle>>;
  /** Stops every server and deletes their folders. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the hub, then every operator's leaf server at once, and waits until all leaves
 * are connected. When anything fails, every server that did start is closed before the
 * error is rethrown: a failed start leaves no process and no folder behind.
 */
export async function startFederation(options: StartFederationOptions): Promise<Federation> {
  const hub = await startNatsServer({ name: 'hub', domain: 'hub', leafListen: true });
  const operators: Record<string, NatsServerHandle> = {};
  const close = async () => {
    await Promise.allSettled(Object.values(operators).map((server) => server.close()));
    await hub.close();
  };
  try {
    const leafUrl = hub.leafUrl;
    if (!leafUrl) throw new Error('hub started without a leaf port');
    // allSettled, not all: when one server fails, the others may still be starting, and
    // each one that started must be known here to be closed.
    const results = await Promise.allSettled(
      options.operators.map((operator) => startNatsServer({
          name: operator,
          domain: operator,
          leafRemotes: [leafUrl],
          leafDenyImports: options.leafDenyImports?.(operator),
        })),
    );
    const failures: unknown[] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') operators[options.operators[i] as string] = result.value;
      else failures.push(result.reason);
    });
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} operator servers failed to start`);
    await waitForLeaves(hub, options.operators.length);
  } catch (error) {
    await close();
    throw error;
  }
  return { hub, operators, close };
}
