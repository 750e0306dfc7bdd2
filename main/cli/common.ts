// Runs in the `resight` CLI process. What every subcommand shares: flag parsing that reports in the
// CLI's own words, the one-line `error CODE: sentence` exit, and the model a command runs.
import { InvalidArgumentError } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { ResightError } from '../../preload/api';
import { loadModel, ModelRegistry, type LoadedModel } from '../inference/registry';

/** --threads, wherever a command runs the model. */
export const Threads = z.coerce.number().int().min(1).max(256);

export const parseWith =
  <T>(schema: z.ZodType<T>, what: string) =>
  (value: string): T => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(`${what}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
/** Imaging commands report bad flags in their own `error CODE: sentence` form. */
export function flag<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ResightError('INVALID_ARGUMENT', `The ${what} value is not valid: ${r.error.issues[0]?.message ?? 'see --help'}.`);
  return r.data;
}

export async function chooseModel(appRoot: string, card?: string): Promise<LoadedModel> {
  return card ? loadModel(path.resolve(card)) : new ModelRegistry([path.join(appRoot, 'models')]).active();
}

export function fail(err: unknown): never {
  if (err instanceof ResightError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(`error INTERNAL: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
}
