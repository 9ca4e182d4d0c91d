import { describe, expect, it } from 'vitest';
import { runDmf } from './run-dmf.ts';

describe('dmf storage', () => {
  it('prints the closed-form loss of a (k, n) code, and reproduces the Storj v3 whitepaper\'s section 3.4 figure', async () => {
    // Storj v3.0 (2018), section 3.4: P(D | p = 10%) for (20, 40) is 99.999999807694154 % (Poisson model).
    const poisson = await runDmf(['storage', 'durability', '--k', '20', '--n', '40', '--p', '0.1', '--model', 'poisson', '--json']);
    expect(poisson.code).toBe(0);
    expect((JSON.parse(poisson.stdout) as { durability: number }).durability * 100).toBeCloseTo(99.999999807694154, 12);
    // Each piece lost independently with p = 10%: 1.960e-11 (docs/durability.md).
    const binomial = await runDmf(['storage', 'durability', '--k', '20', '--n', '40', '--p', '0.1', '--json']);
    const { loss, nines } = JSON.parse(binomial.stdout) as { loss: number; nines: number };
    expect(loss).toBeCloseTo(1.96e-11, 13);
    expect(nines).toBeCloseTo(10.7, 1);
  });

  it('simulates with a seed: the same seed gives the same figures, another seed others', async () => {
    const args = ['storage', 'simulate', '--scheme', 'rs:4:2', '--nodes', '200', '--chunks', '200', '--periods', '40', '--json'];
    const first = await runDmf([...args, '--seed', '7']);
    const again = await runDmf([...args, '--seed', '7']);
    const other = await runDmf([...args, '--seed', '8']);
    expect(first.code).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    const a = JSON.parse(first.stdout) as { seed: number; scheme: string; repairs: number };
    const b = JSON.parse(other.stdout) as { seed: number; repairs: number };
    expect(a).toMatchObject({ seed: 7, scheme: 'RS(4,2)' });
    expect(b.seed).toBe(8);
    expect(other.stdout).not.toBe(first.stdout);
  });

  it('names the bad option, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['storage', 'durability', '--k', '50', '--n', '40', '--p', '0.1'], /^dmf: --k: 50 is more than --n 40$/m],
      [['storage', 'durability', '--k', '2', '--n', '4', '--p', '1.5'], /^dmf: --p: "1.5" must be a probability from 0 to 1$/m],
      [['storage', 'simulate', '--seed', '1', '--scheme', 'raid5'], /^dmf: --scheme: "raid5" is not rs:K:M, lrc:K:L:R, xor:K or replication:C$/m],
      [['storage', 'simulate', '--seed', '1', '--nodes', '0'], /^dmf: --nodes: "0" must be a whole number from 1 to 100000$/m],
    ];
    for (const [args, message] of cases) {
      const result = await runDmf(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
    }
  });
});
