import { Type, type Static } from '@sinclair/typebox';
import type { DmfHttpServer } from '@dmf/http';

/** Paths of PROTOCOL.md section 5, served by every node. */
export const NODE_MANIFEST_PATH = '/.well-known/dmf/node';
export const SERVICE_MANIFESTS_PATH = '/.well-known/dmf/services';

export interface WellKnownSources {
  /** The node's current signed node manifest. */
  nodeManifest: () => Record<string, unknown>;
  /** The node's current signed service manifests. */
  serviceManifests: () => Record<string, unknown>[];
}

const SignedDocument = Type.Object(
  { kind: Type.String(), signature: Type.String() },
  { additionalProperties: true, description: 'A signed DMF document (PROTOCOL.md section 2)' },
);

/** GET routes for the node's own signed manifests; they only read what they are given. */
export function registerWellKnownRoutes(app: DmfHttpServer, sources: WellKnownSources): void {
  app.get(
    NODE_MANIFEST_PATH,
    {
      schema: {
        summary: "This node's current signed node manifest (spec 4.1)",
        tags: ['federation'],
        response: { 200: SignedDocument },
      },
    },
    async () => sources.nodeManifest() as Static<typeof SignedDocument>,
  );
  app.get(
    SERVICE_MANIFESTS_PATH,
    {
      schema: {
        summary: "This node's signed service manifests (spec 5.1)",
        tags: ['federation'],
        response: { 200: Type.Array(SignedDocument) },
      },
    },
    async () => sources.serviceManifests() as Static<typeof SignedDocument>[],
  );
}
