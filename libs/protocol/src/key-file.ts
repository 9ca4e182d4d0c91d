/**
 * Private key files: JSON `{"kty":"OKP","crv":"Ed25519","d":"<seed>","x":"<pub>","did":"did:key:..."}`
 * (an RFC 8037 JWK plus the DID), mode 0600. Like ssh, a key file that group or
 * others can read or write is refused.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeyFileError } from './errors.ts';
import { exportSeed, signingKeyFromSeed, type SigningKey } from './signing-key.ts';

export interface WriteKeyFileOptions {
  /** Replace an existing file. Default: false (refuse with `keyfile.exists`). */
  overwrite?: boolean;
}

/** Writes the key with mode 0600. Without `overwrite`, never replaces an existing file. */
export async function writeKeyFile(path: string, key: SigningKey, options: WriteKeyFileOptions = {}): Promise<void> {
  const text = `${JSON.stringify({
    kty: 'OKP',
    crv: 'Ed25519',
    d: Buffer.from(exportSeed(key)).toString('base64url'),
    x: Buffer.from(key.publicKey).toString('base64url'),
    did: key.did,
  })}\n`;
  if (options.overwrite === true) {
    // Write a private temporary file beside the target, then rename over it, so the
    // target is never briefly readable with the old file's (maybe looser) mode.
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    await writeNew(temporary, text);
    try {
      await rename(temporary, path);
    } catch (cause) {
      await rm(temporary, { force: true });
      throw new KeyFileError('keyfile.io', path, `cannot replace the key file (${(cause as Error).message})`, cause);
    }
    return;
  }
  await writeNew(path, text);
}

async function writeNew(path: string, text: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileError('keyfile.exists', path, 'file exists; refusing to overwrite a key (pass { overwrite: true })', cause);
    }
    throw new KeyFileError('keyfile.io', path, `cannot create the key file (${(cause as Error).message})`, cause);
  }
  try {
    await handle.chmod(0o600);
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a key file written by writeKeyFile; refuses loose permissions and inconsistent contents. */
export async function readKeyFile(path: string): Promise<SigningKey> {
  let text: string;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw new KeyFileError('keyfile.io', path, `cannot open the key file (${(cause as Error).message})`, cause);
  }
  try {
    // fstat the open file, so the mode checked is the mode of what is read.
    const stat = await handle.stat();
    if (!stat.isFile()) throw new KeyFileError('keyfile.invalid', path, 'not a regular file');
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyFileError(
        'keyfile.permissions',
        path,
        `private key file has mode ${mode}, readable or writable by others; run: chmod 600 ${path}`,
      );
    }
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  return keyFromFileText(path, text);
}

function keyFromFileText(path: string, text: string): SigningKey {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's SyntaxError quotes the text around the fault, which may be part of "d":
    // keep only the position, and attach neither the error nor any of the text.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new KeyFileError('keyfile.invalid', path, position === undefined ? 'not valid JSON' : `not valid JSON (at character ${position})`);
  }
  const fields = value as Record<string, unknown>;
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.keys(fields).sort().join(',') !== 'crv,d,did,kty,x' ||
    fields['kty'] !== 'OKP' ||
    fields['crv'] !== 'Ed25519'
  ) {
    throw new KeyFileError('keyfile.invalid', path, 'expected exactly {"kty":"OKP","crv":"Ed25519","d","x","did"}');
  }
  const seed = decode32(fields['d']);
  if (seed === undefined) throw new KeyFileError('keyfile.invalid', path, '"d" is not 32 bytes of base64url');
  const key = signingKeyFromSeed(seed);
  if (fields['x'] !== Buffer.from(key.publicKey).toString('base64url')) {
    throw new KeyFileError('keyfile.mismatch', path, '"x" is not the public key of "d"');
  }
  if (fields['did'] !== key.did) throw new KeyFileError('keyfile.mismatch', path, '"did" is not the did:key of "d"');
  return key;
}

function decode32(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === 32 && bytes.toString('base64url') === value ? bytes : undefined;
}
