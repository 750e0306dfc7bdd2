// Runs as the `resight` command (dist/cli/resight.cjs).
import path from 'node:path';
import { buildProgram } from './program';

buildProgram(path.resolve(__dirname, '..', '..'))
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
