/**
 * Where a call goes, in order: the entrypoints of the chosen service manifests as
 * the node signed them, then the node manifest's mirrors. Pure.
 */
import type { NodeManifest, ServiceManifest } from '@dmf/protocol';
import type { Attempt, ClientErrorCode } from '../errors.ts';

/** Service manifests of `type`, in the order the node serves them; all of them when no type is asked for. */
export function servicesOfType(services: readonly ServiceManifest[], type: string | undefined): ServiceManifest[] {
  return type === undefined ? [...services] : services.filter((service) => service.type === type);
}

/** Entrypoints, then mirrors, each once. */
export function candidateBases(services: readonly ServiceManifest[], node: NodeManifest): string[] {
  return [...new Set([...services.flatMap((service) => service.entrypoints), ...node.mirrors])];
}

/**
 * The code of a call that got no usable answer: the failures' common code when they
 * all agree (everything refused, everything expired...), otherwise `unreachable`, the
 * attempts telling what each URL did.
 */
export function failureCode(attempts: readonly Attempt[]): ClientErrorCode {
  const codes = new Set(attempts.flatMap((attempt) => (attempt.result === 'answered' ? [] : [attempt.result])));
  const [only] = codes;
  return codes.size === 1 && only !== undefined ? only : 'unreachable';
}
