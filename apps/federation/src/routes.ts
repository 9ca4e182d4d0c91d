/**
 * The federation node's HTTP adapter (spec 4, 9): thin routes over the announcer and
 * the registry projection.
 *
 * | route | answer |
 * |---|---|
 * | `POST /nodes` | 202: the announcement's records are in the log (or were already); a problem otherwise |
 * | `GET /nodes[?state=]` | every node this node knows, with its state and why |
 * | `GET /nodes/:did` | one node: state, reasons, state changes, attesters, reporters, findings, reputation, current signed manifests |
 */
import { Type, type Static } from '@sinclair/typebox';
import { PROBLEM_KINDS, ProblemError, rawBodyOf, type DmfHttpServer } from '@dmf/http';
import { isDidKey } from '@dmf/protocol';
import { AnnounceError, MAX_ANNOUNCE_BYTES, type Announcer } from './announce.ts';
import type { NodeState, NodeView } from './domain/registry.ts';
import { reputationOf, type Reputation } from './domain/reputation.ts';
import type { RegistryProjection } from './registry-projection.ts';

export const FEDERATION_ROUTES = Object.freeze({ nodes: '/nodes', node: '/nodes/:did' });

const TAG = 'federation';
const NODE_STATES: NodeState[] = ['pending', 'probing', 'probed', 'refused', 'attested', 'admitted', 'expired', 'quarantined', 'delisted'];

const Open = (description: string) => Type.Object({}, { additionalProperties: true, description });

const NodeSummary = Type.Object({
  node_id: Type.String(),
  operator: Type.String({ description: "the manifest's operator, else the node id: attestations count by it" }),
  state: Type.String({ enum: NODE_STATES }),
  reasons: Type.Array(Type.String()),
  bootstrap: Type.Boolean(),
  origin: Type.Union([Type.Object({ operator: Type.String(), domain: Type.String() }), Type.Null()], {
    description: 'the ORIGIN stream its records are sourced from when it is admitted',
  }),
});

const NodeList = Type.Object({ nodes: Type.Array(NodeSummary) });

const ReputationAnswer = Type.Object({
  operator: Type.String(),
  nodes: Type.Integer(),
  observations: Type.Integer(),
  uptime_ppm: Type.Union([Type.Integer(), Type.Null()]),
  error_ppm: Type.Union([Type.Integer(), Type.Null()]),
  correctness_ppm: Type.Union([Type.Integer(), Type.Null()]),
});

const NodeDetail = Type.Intersect([
  NodeSummary,
  Type.Object({
    changes: Type.Array(Type.Object({ at: Type.String(), from: Type.String(), to: Type.String(), reasons: Type.Array(Type.String()) })),
    attesters: Type.Array(Open('an attester, its operator, the record, whether it counts and why not')),
    reporters: Type.Array(Open('a reporter, its operator, the reason, the record, whether it counts and why not')),
    governance: Type.Array(Type.Object({ reporter: Type.String(), grounds: Type.String(), record: Type.String() }), {
      description: 'governance reports about it (spec 9.3: for the DAO, for permanent removal)',
    }),
    findings: Type.Array(Type.Object({ code: Type.String(), detail: Type.String(), records: Type.Array(Type.String()) })),
    churn: Type.Object({ count: Type.Integer(), window_ms: Type.Integer(), records: Type.Array(Type.String()) }),
    carried: Type.Union([Type.Object({ records: Type.Integer(), invalid: Type.Integer(), bad_fingerprint: Type.Integer() }), Type.Null()], {
      description: 'what its ORIGIN carried into this node\'s log: records, invalid ones, refused fingerprints (spec 9.1)',
    }),
    reputation: ReputationAnswer,
    manifests: Type.Array(Type.Object({ record_id: Type.String(), seq: Type.Integer(), issued_at: Type.String(), current: Type.Boolean() })),
    node_manifest: Type.Union([Open('the current signed node manifest'), Type.Null()]),
    service_manifests: Type.Array(Open('a current signed service manifest')),
  }),
]);

const AnnounceAnswerSchema = Type.Object({
  node_id: Type.String(),
  records: Type.Array(Type.String(), { description: 'record ids, node manifest first' }),
  location: Type.String(),
});

const DidParams = Type.Object({ did: Type.String({ maxLength: 128 }) });
const StateQuery = Type.Object({ state: Type.Optional(Type.String({ enum: NODE_STATES })) }, { additionalProperties: false });

function summary(view: NodeView): Static<typeof NodeSummary> {
  return { node_id: view.nodeId, operator: view.operator, state: view.state, reasons: view.reasons, bootstrap: view.bootstrap, origin: view.origin ?? null };
}

function reputationAnswer(r: Reputation | undefined, operator: string): Static<typeof ReputationAnswer> {
  return {
    operator,
    nodes: r?.nodes ?? 0,
    observations: r?.observations ?? 0,
    uptime_ppm: r?.uptimePpm ?? null,
    error_ppm: r?.errorPpm ?? null,
    correctness_ppm: r?.correctnessPpm ?? null,
  };
}

/** An AnnounceError as a problem (its code is the slug, as for protocol codes). */
export function announceProblem(error: AnnounceError): ProblemError {
  return new ProblemError({
    slug: error.code,
    status: error.status,
    title: error.status === 429 ? 'Too many announcements' : error.status === 503 ? 'Announcement not stored' : error.status === 409 ? 'Not this signer\'s node' : 'Announcement refused',
    detail: `${error.path}: ${error.reason}`,
    errors: [{ path: error.path, reason: error.reason }],
    ...(error.retryAfterSeconds ? { headers: { 'retry-after': String(error.retryAfterSeconds) } } : {}),
  });
}

export interface FederationRoutesOptions {
  announcer: Announcer;
  projection: RegistryProjection;
}

export function registerFederationRoutes(app: DmfHttpServer, options: FederationRoutesOptions): void {
  const { announcer, projection } = options;

  app.post(
    FEDERATION_ROUTES.nodes,
    {
      config: { rawBody: true },
      bodyLimit: MAX_ANNOUNCE_BYTES,
      schema: {
        summary: 'Announce a node: its signed node manifest and service manifests (spec 4.2)',
        description:
          'Body: `{ "node_manifest": <signed node_manifest>, "service_manifests": [<signed service_manifest>, ...] }`, one of type ' +
          '`federation` (its entrypoints are probed). Verified as a chain, rate-limited (new nodes per hour, posts per node and hour, ' +
          'with Retry-After), then published into this operator\'s log; admission is decided from the log by every node. ' +
          'The same announcement again gets the same answer and stores nothing new.',
        tags: [TAG],
        response: { 202: AnnounceAnswerSchema },
      },
    },
    async (request, reply) => {
      try {
        const answer = await announcer.announce(rawBodyOf(request));
        reply.code(202).header('location', answer.location);
        return answer;
      } catch (error) {
        if (error instanceof AnnounceError) throw announceProblem(error);
        throw error; // ProtocolError: libs/http maps it to its 4xx
      }
    },
  );

  app.get(
    FEDERATION_ROUTES.nodes,
    {
      schema: {
        summary: 'Every node this node knows, with its admission state and the reasons (spec 4.2, 9.3)',
        tags: [TAG],
        querystring: StateQuery,
        response: { 200: NodeList },
      },
    },
    async (request) => {
      const views = [...projection.registry().nodes.values()].filter((v) => request.query.state === undefined || v.state === request.query.state);
      return { nodes: views.map(summary) };
    },
  );

  app.get(
    FEDERATION_ROUTES.node,
    {
      schema: {
        summary: 'One node as this node sees it: state, reasons, state changes, attesters, reports, findings, reputation, manifests',
        tags: [TAG],
        params: DidParams,
        response: { 200: NodeDetail },
      },
    },
    async (request) => {
      const { did } = request.params;
      if (!isDidKey(did)) {
        throw new ProblemError({ ...PROBLEM_KINDS.validationFailed, detail: 'params.did: not an Ed25519 did:key', errors: [{ path: 'params.did', reason: 'not an Ed25519 did:key' }] });
      }
      const registry = projection.registry();
      const view = registry.nodes.get(did);
      if (!view) {
        throw new ProblemError({ ...PROBLEM_KINDS.notFound, detail: 'params.did: no manifest of this node is known here', errors: [{ path: 'params.did', reason: 'no manifest of this node is known here' }] });
      }
      const reputation = reputationOf(registry.nodes.values(), projection.carried()).get(view.operator);
      const h = view.history;
      return {
        ...summary(view),
        changes: projection.changes(did),
        attesters: view.attesters,
        reporters: view.reporters,
        governance: view.governance,
        findings: h.findings,
        churn: { count: view.churn.count, window_ms: view.churn.windowMs, records: view.churn.records },
        carried: view.carried ? { records: view.carried.records, invalid: view.carried.invalid, bad_fingerprint: view.carried.badFingerprint } : null,
        reputation: reputationAnswer(reputation, view.operator),
        manifests: h.manifests.map((m) => ({ record_id: m.id, seq: m.document.seq, issued_at: m.document.issued_at, current: m.id === h.current?.id })),
        node_manifest: h.current ? (h.current.document as unknown as Record<string, unknown>) : null,
        service_manifests: h.services.map((s) => s.document as unknown as Record<string, unknown>),
      };
    },
  );
}
