// Runs in main and the browser-mode server. Local reader profiles and who writes are attributed to.
import type { ReviewStore } from '../store/reviews';
import type { Handlers } from './dispatch';

export function readersHandlers(reviews: ReviewStore): Pick<Handlers, 'readers.list' | 'readers.create' | 'readers.setCurrent' | 'readers.setAdjudicator'> {
  return {
    'readers.list': async () => reviews.readersState(),
    'readers.create': async (input, ctx) => reviews.createReader(input, ctx.reader),
    'readers.setCurrent': async ({ readerId }, ctx) => reviews.setCurrent(readerId, ctx.reader),
    'readers.setAdjudicator': async ({ readerId }, ctx) => reviews.setAdjudicator(readerId, ctx.reader),
  };
}

/**
 * Every handler sees the current reader (chosen in the reader switcher, kept in the store) as the
 * one its writes are attributed to; the front door's default (the OS user) applies until one is chosen.
 */
export function attributeToCurrentReader(handlers: Handlers, reviews: ReviewStore): Handlers {
  const wrapped: Record<string, unknown> = {};
  for (const [method, handler] of Object.entries(handlers) as Array<[string, (input: unknown, ctx: Parameters<Handlers['app.info']>[1]) => Promise<unknown>]>) {
    wrapped[method] = (input: unknown, ctx: Parameters<Handlers['app.info']>[1]) => handler(input, { ...ctx, reader: reviews.currentReaderName(ctx.reader) });
  }
  return wrapped as Handlers;
}
