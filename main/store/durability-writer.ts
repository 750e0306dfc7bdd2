// Runs as a child process in the durability and two-process tests only: writes feedback as fast as
// it can (or with a pause between writes) and prints "ack <n>" after each commit returns, until killed.
import { openDatabase } from './database';
import { Store } from './repositories';

const [file, imageId, startArg, pauseArg] = process.argv.slice(2);
const start = Number(startArg);
/** Optional pause between writes (ms), like a batch job that does other work between saves. */
const pauseMs = Number(pauseArg ?? 0);
const pause = new Int32Array(new SharedArrayBuffer(4));

openDatabase(file!).then((db) => {
  const store = new Store(db);
  for (let n = start; ; n++) {
    store.saveFeedback({ imageId: imageId!, resultId: null, labelId: 'opacity', verdict: n % 2 ? 'agree' : 'disagree', note: `note ${n} ${'x'.repeat(n % 97)}` }, 'writer');
    process.stdout.write(`ack ${n}\n`);
    if (pauseMs > 0) Atomics.wait(pause, 0, 0, pauseMs);
  }
});
