import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { CliError, EXIT } from './exit-codes.ts';
import { redactUrl } from './redact-url.ts';

/**
 * Connects to NATS and opens the JetStream API, retrying for a few seconds: right
 * after a (re)start JetStream may not answer yet (DESIGN.md). Failure is one line.
 */
export async function connectJetStream(url: string, name: string, timeoutMs = 10_000): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const deadline = Date.now() + timeoutMs;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (cause) {
    throw new CliError(`cannot connect to NATS at ${redactUrl(url)}: ${(cause as Error).message}`, EXIT.failed, { cause });
  }
  for (;;) {
    try {
      return { nc, jsm: await jetstreamManager(nc, { timeout: 2_000 }) };
    } catch (cause) {
      if (Date.now() >= deadline) {
        await nc.close();
        throw new CliError(`NATS at ${redactUrl(url)} has no JetStream: ${(cause as Error).message}`, EXIT.failed, { cause });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
