// Runs in the Electron main process. Starts the inference host as an Electron utility process
// (ONNX Runtime blocks the thread that runs it, so it never runs on this one).
import { utilityProcess } from 'electron';
import type { Logger } from '../api/dispatch';
import type { HostChannel, HostSpawner } from '../inference/host/protocol';

export const HOST_SERVICE_NAME = 'Resight inference host';

export function createUtilityHostSpawner(entryPath: string, log: Logger): HostSpawner {
  return (): HostChannel => {
    const child = utilityProcess.fork(entryPath, [], { serviceName: HOST_SERVICE_NAME, stdio: 'inherit' });
    // A fatal V8 error is followed by 'exit', which the backend's supervisor handles; this only records why.
    child.on('error', (type, location) => log(`inference host: ${type} at ${location}`));
    // Same contract as the fork spawner: a message to a process that has exited is dropped, and
    // the supervisor learns of the exit through onExit.
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    return {
      postMessage: (message) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => {
        child.on('message', listener);
      },
      onExit: (listener) => {
        child.on('exit', (code) => listener(code));
      },
      kill: () => {
        child.kill();
      },
    };
  };
}
