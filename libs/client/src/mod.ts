/**
 * @dmf/client: the verifying client of spec 5.1 ("All clients MUST verify service
 * manifests before interacting"). It fetches a node's signed manifests, verifies the
 * chain, then calls the node's services, and it never connects to an address the
 * SSRF policy refuses. README.md states what it guarantees.
 */
export { createClient } from './client.ts';
export type { DmfClient, FetchVerifiedNodeOptions } from './client.ts';
export { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from './options.ts';
export type { ClientOptions } from './options.ts';
export type { CallRequest, CallResponse, CallTarget } from './call.ts';
export type { VerifiedNode, VerifiedService } from './chain.ts';
export type { ResponseHeaders } from './fetcher.ts';
export type { ResolveAll } from './guarded-connector.ts';

export { CLIENT_ERROR_CODES, ClientError } from './errors.ts';
export type { Attempt, ClientErrorCode, ClientErrorOptions } from './errors.ts';

export { createMemoryKnownVersions } from './known-versions.ts';
export type { KnownVersions, MemoryKnownVersionsOptions } from './known-versions.ts';
export { judgeVersion } from './domain/version-judgement.ts';
export type { KnownVersion, VersionJudgement } from './domain/version-judgement.ts';

export { CLOUD_METADATA_ADDRESSES, classifyAddress, parseIp } from './domain/address-classification.ts';
export type { AddressClass, IpAddress } from './domain/address-classification.ts';
export { checkAddress, createAddressPolicy } from './domain/address-policy.ts';
export type { AddressPolicy, AddressVerdict } from './domain/address-policy.ts';
export { NODE_MANIFEST_PATH, SERVICE_MANIFESTS_PATH } from './domain/request-path.ts';
export { CLIENT_VERSION, USER_AGENT } from './version.ts';
