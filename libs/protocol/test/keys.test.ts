import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyFileError, generateSigningKey, readKeyFile, signingKeyFromSeed, writeKeyFile } from '../src/mod.ts';
import { exportSeed } from '../src/signing-key.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dmf-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keyFileError(run: () => Promise<unknown>): Promise<KeyFileError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof KeyFileError) return error;
    throw error;
  }
  throw new Error('expected a KeyFileError');
}

describe('SigningKey', () => {
  const seed = Buffer.alloc(32, 0x5a);
  const key = signingKeyFromSeed(seed);
  const secretForms = [seed.toString('hex'), seed.toString('base64'), seed.toString('base64url'), '90, 90, 90'];

  it('never shows its private key when logged, inspected or serialised', () => {
    const shown = [
      JSON.stringify(key),
      JSON.stringify({ nested: [key] }),
      inspect(key, { showHidden: true, depth: Infinity, getters: true }),
      inspect({ key }, { showHidden: true, depth: Infinity }),
      String(key),
      `${key}`,
      JSON.stringify(Object.getOwnPropertyNames(key).map((name) => [name, (key as unknown as Record<string, unknown>)[name]])),
      JSON.stringify(structuredClone({ ...key })),
    ];
    for (const text of shown) {
      expect(text).toContain('did:key:z6Mk');
      for (const secret of secretForms) expect(text).not.toContain(secret);
    }
    expect(JSON.parse(JSON.stringify(key))).toEqual({ did: key.did });
    expect(Object.getOwnPropertySymbols(key)).toEqual([]);
  });

  it('derives the same key from the same seed and signs deterministically', () => {
    const again = signingKeyFromSeed(seed);
    expect(again.did).toBe(key.did);
    expect(Buffer.from(again.sign(Buffer.from('m'))).equals(Buffer.from(key.sign(Buffer.from('m'))))).toBe(true);
    expect(generateSigningKey().did).not.toBe(generateSigningKey().did);
  });

  it('refuses seeds of the wrong length', () => {
    expect(() => signingKeyFromSeed(new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('key files', () => {
  it('round-trip with mode 0600 in the documented format', async () => {
    const key = generateSigningKey();
    const file = join(dir, 'roundtrip.json');
    await writeKeyFile(file, key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(['crv', 'd', 'did', 'kty', 'x']);
    expect(json).toMatchObject({ kty: 'OKP', crv: 'Ed25519', did: key.did, x: Buffer.from(key.publicKey).toString('base64url') });
    expect(json['d']).toBe(Buffer.from(exportSeed(key)).toString('base64url'));
    const read = await readKeyFile(file);
    expect(read.did).toBe(key.did);
  });

  it('refuse to overwrite unless asked, and then keep mode 0600', async () => {
    const file = join(dir, 'overwrite.json');
    const first = generateSigningKey();
    await writeKeyFile(file, first);
    expect((await keyFileError(() => writeKeyFile(file, generateSigningKey()))).code).toBe('keyfile.exists');
    expect((await readKeyFile(file)).did).toBe(first.did);
    await chmod(file, 0o644);
    const second = generateSigningKey();
    await writeKeyFile(file, second, { overwrite: true });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readKeyFile(file)).did).toBe(second.did);
  });

  it.each([0o640, 0o604, 0o620, 0o602, 0o660, 0o644])('refuse a private key file with mode %o, telling how to fix it', async (mode) => {
    const file = join(dir, `loose-${mode.toString(8)}.json`);
    await writeKeyFile(file, generateSigningKey());
    await chmod(file, mode);
    const error = await keyFileError(() => readKeyFile(file));
    expect(error.code).toBe('keyfile.permissions');
    expect(error.message).toContain(`chmod 600 ${file}`);
  });

  it('accept 0400', async () => {
    const file = join(dir, 'readonly.json');
    const key = generateSigningKey();
    await writeKeyFile(file, key);
    await chmod(file, 0o400);
    expect((await readKeyFile(file)).did).toBe(key.did);
  });

  it('detect a public key or did that does not belong to the seed', async () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const base = { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(exportSeed(key)).toString('base64url') };
    const cases: [Record<string, string>, string][] = [
      [{ ...base, x: Buffer.from(other.publicKey).toString('base64url'), did: key.did }, 'keyfile.mismatch'],
      [{ ...base, x: Buffer.from(key.publicKey).toString('base64url'), did: other.did }, 'keyfile.mismatch'],
      [{ ...base, x: Buffer.from(key.publicKey).toString('base64url') }, 'keyfile.invalid'],
      [{ ...base, d: 'short', x: Buffer.from(key.publicKey).toString('base64url'), did: key.did }, 'keyfile.invalid'],
      [{ ...base, crv: 'X25519', x: Buffer.from(key.publicKey).toString('base64url'), did: key.did }, 'keyfile.invalid'],
    ];
    for (const [index, [content, code]] of cases.entries()) {
      const file = join(dir, `bad-${index}.json`);
      await writeFile(file, JSON.stringify(content), { mode: 0o600 });
      expect([index, (await keyFileError(() => readKeyFile(file))).code]).toEqual([index, code]);
    }
  });

  it('never let any part of the seed out of a corrupt file\'s error', async () => {
    const key = signingKeyFromSeed(Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff)));
    const d = Buffer.from(exportSeed(key)).toString('base64url');
    const good = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', d, x: Buffer.from(key.publicKey).toString('base64url'), did: key.did });
    const corruptions = [
      good.slice(0, good.indexOf(d) + 20), // truncated inside "d"
      good.replace(`"${d}"`, d), // "d" unquoted: V8 quotes the text around the fault
      good.replace(d, `${d.slice(0, 20)}\\q${d.slice(20)}`), // bad escape inside "d"
      good.replace(d, `${d.slice(0, 20)}\n${d.slice(20)}`), // raw line feed inside "d"
      good.replace(`"${d}",`, `"${d}" `), // missing comma after "d"
      `${good.slice(0, -1)},"d":"${d}"`, // unclosed object after a repeated "d"
    ];
    // Every window of 6 characters of the seed, in the forms a file or a log would show.
    const windows = (text: string): string[] => Array.from({ length: text.length - 5 }, (_, i) => text.slice(i, i + 6));
    const secrets = [...windows(d), ...windows(Buffer.from(exportSeed(key)).toString('hex'))];
    const leaks = (text: string): string[] => secrets.filter((secret) => text.includes(secret));
    // The test has teeth: V8's own message for one corruption does quote the seed.
    const quoted = corruptions.map((text) => {
      try {
        JSON.parse(text);
        return [];
      } catch (error) {
        return leaks((error as Error).message);
      }
    });
    expect(quoted.some((found) => found.length > 0)).toBe(true);

    for (const [index, text] of corruptions.entries()) {
      const file = join(dir, `corrupt-${index}.json`);
      await writeFile(file, text, { mode: 0o600 });
      const error = await keyFileError(() => readKeyFile(file));
      expect([index, error.code]).toEqual([index, 'keyfile.invalid']);
      expect(error.message).toMatch(/^keyfile\.invalid: .*: not valid JSON( \(at character \d+\))?$/);
      expect(error.cause).toBeUndefined();
      const shown = [
        error.message,
        String(error.stack),
        String(error),
        JSON.stringify(error),
        JSON.stringify(error, Object.getOwnPropertyNames(error)),
        inspect(error, { showHidden: true, depth: Infinity, getters: true }),
      ];
      for (const form of shown) expect([index, leaks(form)]).toEqual([index, []]);
    }
  });

  it('report a missing file', async () => {
    expect((await keyFileError(() => readKeyFile(join(dir, 'absent.json')))).code).toBe('keyfile.io');
  });
});
