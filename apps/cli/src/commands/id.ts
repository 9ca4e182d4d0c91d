import type { Command } from 'commander';
import { recordId } from '@dmf/protocol';
import { protocolFailure, readDocument } from '../documents.ts';
import { printResult } from '../output.ts';

export function registerId(program: Command): void {
  program
    .command('id')
    .description('print the record id: lowercase hex SHA-256 of the JCS form of the whole document, signature included')
    .argument('[input]', 'the JSON document; - or nothing for stdin')
    .option('--json', 'print {"id"} as JSON', false)
    .action(async (input: string | undefined, options: { json: boolean }) => {
      const document = await readDocument(input);
      let id: string;
      try {
        id = recordId(document);
      } catch (error) {
        throw protocolFailure(error);
      }
      printResult(options.json, { id }, id);
    });
}
