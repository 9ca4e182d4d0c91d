// @dmf/http: the Fastify base every DMF adapter uses. README.md states its guarantees.

export { createHttpServer, DEFAULT_BODY_LIMIT, HEALTH_PATH } from './server.ts';
export type { DmfHttpServer, HttpServerOptions } from './server.ts';

export {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_KINDS,
  PROBLEM_TYPE_BASE,
  ProblemError,
  ProblemSchema,
  FieldErrorSchema,
  problemType,
} from './problem.ts';
export type { FieldError, ProblemDocument, ProblemErrorOptions, ProblemKind } from './problem.ts';
export { BUILT_IN_ERROR_FAMILIES, INTERNAL_ERROR_DETAIL, problemFromError } from './error-mapping.ts';
export type { ProblemContext } from './error-mapping.ts';
export { defineErrorFamily, ErrorFamilyError } from './error-families.ts';
export type { ErrorFamily } from './error-families.ts';
export {
  isProtocolError,
  PROTOCOL_PROBLEM_GROUPS,
  protocolErrorFamily,
  protocolProblem,
  protocolProblemGroup,
} from './protocol-problems.ts';
export type { ProtocolErrorLike } from './protocol-problems.ts';
export { rawBodyOf } from './raw-body.ts';

export { DEFAULT_RATE_LIMIT, routeRateLimit } from './rate-limit.ts';
export type { RateLimitOptions, RouteRateLimit } from './rate-limit.ts';
export { createBucketHasher, DEFAULT_SALT_ROTATION_MS } from './bucket-hasher.ts';
export type { BucketHasher, BucketHasherOptions } from './bucket-hasher.ts';
export { InvalidAddressError, subnetBucket } from './domain/subnet.ts';

export { createHttpLogger, privacySerializers } from './logging.ts';
export type { HttpLoggerOption } from './logging.ts';

export { DEFAULT_OPENAPI_INFO, OPENAPI_PATH } from './openapi.ts';
export type { OpenApiInfo } from './openapi.ts';

export {
  createCertificateAuthority,
  createSelfSignedCertificate,
  DEFAULT_CERTIFICATE_HOSTS,
  issueServerCertificate,
  TlsMaterialError,
} from './tls.ts';
export type { CertificateAuthority, CertificateAuthorityOptions, ServerCertificateOptions, TlsMaterial } from './tls.ts';
