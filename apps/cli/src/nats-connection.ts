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
    // noAsyncTraces: nats.js otherwise makes an Error per request to keep the caller's
    // stack for a failure; with projector and reads that was 13% of the node's CPU and
    // 1.3 to 1.9x its throughput (docs/benchmarks.md). Our errors name their operation.
    nc = await connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: true });
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
