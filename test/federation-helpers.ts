/**
 * Shared set-up of the federation tests: a hub plus operator leaf servers (from
 * @dmf/testing), each operator's streams applied with every other operator as a peer.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { waitFor, type Federation } from '@dmf/testing';
import { applyDefinitions, parseStreamSource, STREAM_SOURCE_HEADER } from '@dmf/bus';
import { definitionsFor, parseOriginStreamName } from '@dmf/streams';

export interface OperatorClient {
  operator: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export const TEST_LIMITS = { originMaxBytes: 64 << 20, federatedMaxBytes: 256 << 20 };

/** Connects to an operator's server, retrying while it (re)starts. */
export async function connectOperator(fed: Federation, operator: string): Promise<OperatorClient> {
  const server = fed.operators[operator];
  if (!server) throw new Error(`no server for operator ${operator}`);
  return waitFor(
    async () => {
      const nc = await connect({ servers: server.url });
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.getAccountInfo();
        return { operator, nc, js: jetstream(nc), jsm };
      } catch (error) {
        await nc.close();
        throw error;
      }
    },
    { timeoutMs: 15_000, description: `JetStream of ${operator}` },
  );
}

/** Applies every operator's definitions, each with all the others as peers. */
export async function applyFederation(clients: readonly OperatorClient[], consumers?: { ackWaitMs?: number }): Promise<void> {
  for (const c of clients) {
    const peers = clients.filter((p) => p !== c).map((p) => ({ operator: p.operator }));
    await applyDefinitions(c.jsm, definitionsFor({ operator: c.operator, peers, limits: TEST_LIMITS, consumers }));
  }
}

/** The Nats-Msg-Id of every message in a stream, in stream order. */
export async function msgIds(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const info = await jsm.streams.info(stream);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    const id = m?.header.get('Nats-Msg-Id');
    if (id) ids.push(id);
  }
  return ids;
}

/** Waits until `stream` holds every msg-id in `expected`. */
export async function waitForMsgIds(jsm: JetStreamManager, stream: string, expected: readonly string[], timeoutMs = 20_000): Promise<string[]> {
  return waitFor(
    async () => {
      const have = await msgIds(jsm, stream);
      const set = new Set(have);
      return expected.every((id) => set.has(id)) ? have : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `${expected.length} msg-ids in ${stream}` },
  );
}

/** A stored message as the federation tests look at it. */
export interface StoredRecord {
  subject: string;
  msgId: string | undefined;
  /** Operator whose ORIGIN the message was sourced from (`Nats-Stream-Source`). */
  sourceOperator: string | undefined;
}

/** Every message of a stream, in stream order: subject, msg-id and source operator. */
export async function storedRecords(jsm: JetStreamManager, stream: string): Promise<StoredRecord[]> {
  const info = await jsm.streams.info(stream);
  const records: StoredRecord[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    const source = parseStreamSource(m.header.get(STREAM_SOURCE_HEADER) ?? '');
    records.push({
      subject: m.subject,
      msgId: m.header.get('Nats-Msg-Id') || undefined,
      sourceOperator: source ? parseOriginStreamName(source.stream) : undefined,
    });
  }
  return records;
}
