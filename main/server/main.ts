// Runs as `node dist/server/web.cjs` (npm run web): browser mode on the loopback interface.
import path from 'node:path';
import { buildProgram } from '../cli/program';

const appRoot = path.resolve(__dirname, '..', '..');
buildProgram(appRoot)
  .parseAsync(['node', 'resight', 'web', ...process.argv.slice(2)])
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
