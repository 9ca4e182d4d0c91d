/**
 * Files the reports this node owes (domain/report-plan.ts) as signed `node_report` and
 * `governance_report` records in this operator's ORIGIN stream. Node reports of
 * admitted nodes of two operators delist a node at every node that reads them
 * (domain/registry.ts); governance reports are for the DAO (spec 9.3, 11).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { publishRecord } from '@dmf/bus';
import { canonicalBytes, signRecord, type SigningKey } from '@dmf/protocol';
import { plannedGovernanceReports, plannedReports } from './domain/report-plan.ts';
import type { ProbeView, Registry } from './domain/registry.ts';
import type { RegistryPolicy, RegistryRecord } from './domain/records.ts';

export interface ReporterOptions {
  js: JetStreamClient;
  operator: string;
  key: SigningKey;
  policy: RegistryPolicy;
  probes: () => ReadonlyMap<string, ProbeView>;
  /** The highest seq among held records that match (registry-projection.ts). */
  highestSeq: (match: (record: RegistryRecord) => boolean) => number;
  logger: Logger;
}

export class Reporter {
  readonly #o: ReporterOptions;
  /** Filed by this process and maybe not read back yet: `<subject> <reason>`. */
  readonly #filed = new Set<string>();
  #queue: Promise<void> = Promise.resolve();

  constructor(options: ReporterOptions) {
    this.#o = options;
  }

  /** Files what `registry` shows is owed; calls are serialised. */
  review(registry: Registry): Promise<void> {
    this.#queue = this.#queue.then(() => this.#review(registry)).catch((error: unknown) => {
      this.#o.logger.error({ err: (error as Error).message }, 'filing node reports failed; trying again at the next change');
    });
    return this.#queue;
  }

  async #review(registry: Registry): Promise<void> {
    for (const report of plannedReports(registry, this.#o.key.did, this.#o.policy, this.#o.probes())) {
      const key = `${report.subject} ${report.reason}`;
      if (this.#filed.has(key)) continue;
      const self = this.#o.key.did;
      // Never a seq used before (a report filed just before a restart may still be on its way).
      const seq = this.#o.highestSeq((r) => r.kind === 'node_report' && r.document.reporter === self && r.document.subject === report.subject && r.document.reason === report.reason) + 1;
      const record = signRecord(
        { kind: 'node_report', reporter: self, subject: report.subject, reason: report.reason, evidence: report.evidence, seq },
        this.#o.key,
      );
      await publishRecord(this.#o.js, { operator: this.#o.operator, kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
      this.#filed.add(key);
      this.#o.logger.warn({ node: report.subject, reason: report.reason, record: record.id, why: report.why }, 'node reported');
    }
    for (const report of plannedGovernanceReports(registry, this.#o.key.did)) {
      const key = `${report.subject} governance`;
      if (this.#filed.has(key)) continue;
      const record = signRecord(
        {
          kind: 'governance_report',
          reporter: this.#o.key.did,
          subject: report.subject,
          ...(report.subjectOperator ? { subject_operator: report.subjectOperator } : {}),
          grounds: report.grounds,
          evidence: report.evidence,
          seq: this.#o.highestSeq((r) => r.kind === 'governance_report' && r.document.reporter === this.#o.key.did && r.document.subject === report.subject) + 1,
        },
        this.#o.key,
      );
      await publishRecord(this.#o.js, { operator: this.#o.operator, kind: record.kind, id: record.id, bytes: canonicalBytes(record.document) });
      this.#filed.add(key);
      this.#o.logger.warn({ node: report.subject, grounds: report.grounds, record: record.id }, 'node reported to the DAO for permanent removal');
    }
  }
}
