// Runs in the browser-mode server, the CLI and tests: spawns the inference host with
// child_process.fork (Electron uses utilityProcess instead, in main/electron).
import { fork } from 'node:child_process';
import type { HostChannel, HostSpawner } from './protocol';

export function forkSpawner(entryPath: string): HostSpawner {
  return (): HostChannel => {
    // 'advanced' serialization keeps Float32Array intact across the pipe.
    const child = fork(entryPath, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return {
      postMessage: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code)),
      kill: () => child.kill(),
    };
  };
}
