// Runs as a child process in the durability test only: writes feedback as fast as it can and
// prints "ack <n>" after each commit returns, until it is killed.
import { openDatabase } from './database';
import { Store } from './repositories';

const [file, imageId, startArg] = process.argv.slice(2);
const start = Number(startArg);

openDatabase(file!).then((db) => {
  const store = new Store(db);
  for (let n = start; ; n++) {
    store.saveFeedback({ imageId: imageId!, resultId: null, labelId: 'opacity', verdict: n % 2 ? 'agree' : 'disagree', note: `note ${n} ${'x'.repeat(n % 97)}` }, 'writer');
    process.stdout.write(`ack ${n}\n`);
  }
});
