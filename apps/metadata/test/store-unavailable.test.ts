import { describe, expect, it } from 'vitest';
import { storeUnavailableFamily } from '../src/problems.ts';

describe('store unavailable', () => {
  it('answers a NATS timeout with a 503 problem and Retry-After, not a 500', () => {
    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    expect(storeUnavailableFamily.match(timeout)).toBe(true);
    const problem = storeUnavailableFamily.toProblem(timeout);
    expect(problem).toMatchObject({ status: 503, type: 'https://dmf.cwe/problems/store.unavailable' });
    expect(problem.headers).toMatchObject({ 'retry-after': '1' });
  });
  it('leaves other errors to the server', () => {
    expect(storeUnavailableFamily.match(new TypeError('bug'))).toBe(false);
    expect(storeUnavailableFamily.match('TimeoutError')).toBe(false);
  });
});
