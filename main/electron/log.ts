// Runs in the Electron main process. One log for the main side: stderr, plus a file in the OS
// logs folder so a user can send it. Callers never pass patient data or file paths.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../api/dispatch';

export function createMainLogger(logsDir: string): Logger {
  let file: WriteStream | null = null;
  try {
    mkdirSync(logsDir, { recursive: true });
    file = createWriteStream(path.join(logsDir, 'main.log'), { flags: 'a' });
    // A full disk or a locked file must not take the app down; stderr still works.
    file.on('error', () => {
      file = null;
    });
  } catch {
    file = null;
  }
  return (line) => {
    const stamped = `${new Date().toISOString()} ${line}\n`;
    process.stderr.write(stamped);
    file?.write(stamped);
  };
}
