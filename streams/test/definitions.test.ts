import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONSUMER_TUNING,
  DEFAULT_STREAM_LIMITS,
  DefinitionError,
  definitionsFor,
  federatedSources,
  federatedStream,
  originStream,
  peersOfSources,
  projectionConsumer,
  type StreamDefinition,
} from '@dmf/streams';

describe('ORIGIN stream', () => {
  it('binds only the operator subjects and refuses rather than drops when full', () => {
    const def = originStream('opa');
    expect(def.name).toBe('ORIGIN_opa');
    expect(def.config.subjects).toEqual(['dmf.origin.opa.>']);
    expect(def.config.sources).toEqual([]);
    expect(def.config.discard).toBe('new');
    expect(def.config.max_age).toBe(0);
    expect(def.config.allow_rollup_hdrs).toBe(false);
    expect(def.config.max_msg_size).toBe(513 * 1024);
    expect(def.config.duplicate_window).toBe(120_000_000_000);
  });

  it('takes limit overrides and refuses nonsense', () => {
    expect(originStream('opa', { originMaxBytes: 1024 * 1024 }).config.max_bytes).toBe(1024 * 1024);
    expect(() => originStream('opa', { duplicateWindowMs: 0 })).toThrow(DefinitionError);
    expect(() => originStream('opa', { storage: 'disk' as never })).toThrow(/limits.storage/);
  });
});

describe('FEDERATED stream', () => {
  it('has no subjects and sources own ORIGIN locally and each peer across its domain', () => {
    const def = federatedStream('opa', [{ operator: 'opc' }, { operator: 'opb', domain: 'dom-b' }]);
    expect(def.name).toBe('FEDERATED_opa');
    expect(def.config.subjects).toEqual([]);
    expect(def.config.sources).toEqual([
      { name: 'ORIGIN_opa', filter_subject: 'dmf.origin.opa.>' },
      { name: 'ORIGIN_opb', filter_subject: 'dmf.origin.opb.>', external: { api: '$JS.dom-b.API', deliver: '' } },
      { name: 'ORIGIN_opc', filter_subject: 'dmf.origin.opc.>', external: { api: '$JS.opc.API', deliver: '' } },
    ]);
    // A sourced message carries one more header; a size limit here could stall a source.
    expect(def.config.max_msg_size).toBe(-1);
  });

  it('sources a peer in the same domain without external', () => {
    expect(federatedSources('opa', [{ operator: 'opb', domain: 'shared' }], 'shared')).toEqual([
      { name: 'ORIGIN_opa', filter_subject: 'dmf.origin.opa.>' },
      { name: 'ORIGIN_opb', filter_subject: 'dmf.origin.opb.>' },
    ]);
  });

  it('reads the peers back from the sources it made, own ORIGIN and foreign streams left out', () => {
    const peers = [
      { operator: 'opb', domain: 'dom-b' },
      { operator: 'opc', domain: 'shared' },
    ];
    const sources = federatedSources('opa', peers, 'shared');
    expect(peersOfSources('opa', [...sources, { name: 'SOMETHING_else' }], 'shared')).toEqual(peers);
  });

  it('is the same whatever order peers are given in (no spurious updates)', () => {
    const a = federatedStream('opa', [{ operator: 'opb' }, { operator: 'opc' }]);
    const b = federatedStream('opa', [{ operator: 'opc' }, { operator: 'opb' }]);
    expect(a).toEqual(b);
  });

  it('never sources one ORIGIN twice (nats-server#4459) nor itself', () => {
    expect(() => federatedStream('opa', [{ operator: 'opb' }, { operator: 'opb', domain: 'x' }])).toThrow(/appears twice/);
    expect(() => federatedStream('opa', [{ operator: 'opa' }])).toThrow(DefinitionError);
    expect(() => federatedStream('opa', [{ operator: 'Bad' }])).toThrow(/peers\[0\]\.operator/);
    // The index is the caller's, not the sorted position.
    expect(() => federatedStream('opa', [{ operator: 'opz' }, { operator: 'opb', domain: 'bad domain' }])).toThrow(/peers\[1\]\.domain/);
  });
});

describe('definitionsFor', () => {
  it('lists streams, then the projection buckets, then the consumer', () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }] });
    expect(defs.map((d) => `${d.kind}:${d.name}`)).toEqual([
      'stream:ORIGIN_opa',
      'stream:FEDERATED_opa',
      'kv:record_ledger_opa',
      'kv:metadata_opa',
      'kv:storage_opa',
      'consumer:record_ledger',
    ]);
    const consumer = defs[5];
    expect(consumer?.kind === 'consumer' && consumer.stream).toBe('FEDERATED_opa');
  });

  it('uses only 2.9 fields', () => {
    const defs = definitionsFor({ operator: 'opa', peers: [{ operator: 'opb' }] });
    const text = JSON.stringify(defs);
    for (const field of ['metadata', 'compression', 'subject_transform', 'filter_subjects', 'allow_msg_ttl', 'first_seq']) {
      expect(text).not.toContain(`"${field}"`);
    }
  });

  it('bounds redelivery and leaves room above workers x batch', () => {
    const c = projectionConsumer('opa', 'record_ledger');
    expect(c.config.ack_policy).toBe('explicit');
    // One delivery beyond the group's limit: the group reports the message on it.
    expect(c.config.max_deliver).toBe(DEFAULT_CONSUMER_TUNING.maxDeliver + 1);
    expect(projectionConsumer('opa', 'x', { tuning: { maxDeliver: 2 } }).config.max_deliver).toBe(3);
    expect(c.config.max_ack_pending).toBeGreaterThanOrEqual(8 * 16 * 4);
    expect(projectionConsumer('opa', 'metadata', { kind: 'content_manifest' }).config.filter_subject).toBe('dmf.origin.*.content_manifest');
    expect(projectionConsumer('opa', 'x', { tuning: { ackWaitMs: 1500 } }).config.ack_wait).toBe(1_500_000_000);
  });

  it('applies limits to both streams', () => {
    const defs = definitionsFor({ operator: 'opa', peers: [], limits: { originMaxBytes: 1 << 20, federatedMaxBytes: 1 << 22 } });
    const [origin, federated] = defs as [StreamDefinition, StreamDefinition];
    expect(origin.config.max_bytes).toBe(1 << 20);
    expect(federated.config.max_bytes).toBe(1 << 22);
    expect(origin.config.duplicate_window).toBe(DEFAULT_STREAM_LIMITS.duplicateWindowMs * 1e6);
    expect(federated.config.duplicate_window).toBe(100 * 1e6);
  });
});
