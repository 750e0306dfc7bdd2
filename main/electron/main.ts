// Runs in the Electron main process: the entry point esbuild bundles to dist/electron/main.cjs.
import { runResight } from './lifecycle';

runResight();
