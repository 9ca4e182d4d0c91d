import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { readKeyFile, signDocument } from '@dmf/protocol';
import { CliError, EXIT } from '../exit-codes.ts';
import { protocolFailure } from '../documents.ts';
import { collect } from '../options.ts';
import { parseSeq } from '../values.ts';

interface ManifestOptions {
  key: string;
  title: string;
  category: string;
  tag?: string[];
  description?: string;
  language?: string;
  license?: string;
  mime?: string;
  manifestId?: string;
  seq?: string;
  version: string;
  chunkSize: string;
  compact: boolean;
}

/**
 * `dmf manifest FILE`: what a creator needs to publish: the content cut into chunks and
 * named (CIDs), described and signed, ready for `POST /publish_manifest`.
 */
export function registerManifest(program: Command): void {
  program
    .command('manifest')
    .description(
      'describe a file as a signed content manifest: cut it into chunks, name each chunk and the whole by its CID, ' +
        'sign with the creator key, print the manifest (POST it to /publish_manifest)',
    )
    .argument('<file>', 'the content (- for stdin)')
    .requiredOption('--key <file>', 'the creator\'s key file from `dmf keygen` (its DID becomes `creator`)')
    .requiredOption('--title <text>', 'title')
    .requiredOption('--category <text>', 'category')
    .option('--tag <text>', 'a tag; repeatable', collect)
    .option('--description <text>', 'description')
    .option('--language <tag>', 'BCP 47 language tag, e.g. en or pt-BR')
    .option('--license <text>', 'licence, e.g. CC-BY-4.0')
    .option('--mime <type>', 'media type, e.g. audio/ogg')
    .option('--manifest-id <uuid>', 'for a new version of an existing manifest (default: a new id)')
    .option('--seq <n>', 'version order; a new version needs a higher seq than the current one (default 1)')
    .option('--version <semver>', 'human release number of the content', '1.0.0')
    .option('--chunk-size <bytes>', 'chunk size in bytes, at most 4194304', '1048576')
    .option('--compact', 'print the canonical (JCS) form on one line', false)
    .action(async (file: string, options: ManifestOptions) => {
      const { ContentChunker } = await import('@dmf/metadata');
      if (!/^[1-9][0-9]{0,6}$/.test(options.chunkSize) || Number(options.chunkSize) > 4 * 1024 * 1024) {
        throw new CliError(`--chunk-size: ${JSON.stringify(options.chunkSize)} must be 1 to 4194304 bytes`, EXIT.usage);
      }
      const seq = options.seq === undefined ? 1 : parseSeq('--seq', options.seq);
      let key;
      try {
        key = await readKeyFile(options.key);
      } catch (cause) {
        throw new CliError(`--key: ${(cause as Error).message}`, EXIT.usage, { cause });
      }
      const chunker = new ContentChunker(Number(options.chunkSize));
      try {
        for await (const data of file === '-' ? process.stdin : createReadStream(file)) chunker.update(data as Buffer);
      } catch (cause) {
        throw new CliError(`${file}: cannot read: ${(cause as Error).message}`, EXIT.usage, { cause });
      }
      const content = chunker.digest();
      const optional = Object.fromEntries(
        Object.entries({ description: options.description, language: options.language, license: options.license, mime: options.mime }).filter(
          ([, v]) => v !== undefined,
        ),
      );
      const unsigned = {
        kind: 'content_manifest',
        manifest_id: options.manifestId ?? randomUUID(),
        creator: key.did,
        title: options.title,
        tags: options.tag ?? [],
        category: options.category,
        ...content,
        version: options.version,
        seq,
        ...optional,
      };
      let signed: Record<string, unknown>;
      try {
        signed = signDocument(unsigned, key) as Record<string, unknown>;
      } catch (error) {
        throw protocolFailure(error);
      }
      if (content.chunks.length > 4096) throw new CliError(`${file}: ${content.chunks.length} chunks, more than a manifest may list (4096); use a larger --chunk-size`, EXIT.failed);
      const { canonicalBytes } = await import('@dmf/protocol');
      process.stdout.write(options.compact ? `${new TextDecoder().decode(canonicalBytes(signed))}\n` : `${JSON.stringify(signed, null, 2)}\n`);
    });
}
