// Runs as a child process in the durability and two-process tests only: writes feedback (and, when
// asked, a review with regions) as fast as it can or with a pause between writes, and prints
// "ack <n>" after the commits return, until killed.
import { openDatabase } from './database';
import { Store } from './repositories';
import { ReviewStore } from './reviews';

const [file, imageId, startArg, pauseArg, mode] = process.argv.slice(2);
const start = Number(startArg);
/** Optional pause between writes (ms), like a batch job that does other work between saves. */
const pauseMs = Number(pauseArg ?? 0);
const pause = new Int32Array(new SharedArrayBuffer(4));

openDatabase(file!).then((db) => {
  const store = new Store(db);
  const reviews = new ReviewStore(store);
  for (let n = start; ; n++) {
    store.saveFeedback({ imageId: imageId!, resultId: null, labelId: 'opacity', verdict: n % 2 ? 'agree' : 'disagree', note: `note ${n} ${'x'.repeat(n % 97)}` }, 'writer');
    // Every fourth write also saves a review, so kills land in both kinds without slowing the run much.
    if (mode === 'reviews' && n % 4 === 0) {
      const regions = Array.from({ length: 1 + (n % 40) }, (_, i) => ({ kind: 'box' as const, labelId: 'opacity', x0: 0, y0: 0, x1: 1 + (i % 8), y1: 1 + (n % 8) }));
      reviews.saveReview({ imageId, labels: [{ labelId: 'opacity', present: n % 2 === 0 }], regions, note: `review ${n}`, timeSpentMs: 1 }, 'writer', ['opacity']);
    }
    process.stdout.write(`ack ${n}\n`);
    if (pauseMs > 0) Atomics.wait(pause, 0, 0, pauseMs);
  }
});
