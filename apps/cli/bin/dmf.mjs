#!/usr/bin/env node
// The `dmf` command. DMF runs its TypeScript sources directly through tsx (no build
// step; see docs/decisions.md), so this shim registers tsx's loader and starts main.ts.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/main.ts');
process.exitCode = await run(process.argv);
