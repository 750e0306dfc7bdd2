// Runs in Vitest (Node), 'electron' replaced by fake-electron.ts. The utilityProcess adapter keeps the HostChannel contract.
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron'));

import { resetElectronFakes, utilityProcess } from './fake-electron';
import { createUtilityHostSpawner, HOST_SERVICE_NAME } from './host-process';

beforeEach(() => resetElectronFakes());

const spawn = () => {
  const log = vi.fn();
  const channel = createUtilityHostSpawner('/app/dist/host/inference-host.cjs', log)();
  const child = utilityProcess.children[0];
  if (!child) throw new Error('no utility process was forked');
  return { channel, child, log };
};

describe('utility-process host spawner', () => {
  it('forks the host entry as a named utility process, once per spawn', () => {
    spawn();
    expect(utilityProcess.fork).toHaveBeenCalledExactlyOnceWith('/app/dist/host/inference-host.cjs', [], expect.objectContaining({ serviceName: HOST_SERVICE_NAME }));
    expect(HOST_SERVICE_NAME).toBe('Resight inference host');
  });

  it('passes requests to the process and its messages back, typed arrays intact', () => {
    const { channel, child } = spawn();
    const request = { type: 'shutdown' } as const;
    channel.postMessage(request);
    expect(child.postMessage).toHaveBeenCalledWith(request);

    const received: unknown[] = [];
    channel.onMessage((m) => received.push(m));
    const result = { type: 'result', id: 1, outputs: { logits: { dims: [1, 2], data: new Float32Array([0.5, -1]) } } };
    child.emit('message', result);
    expect(received).toEqual([result]);
  });

  it('reports the exit code and drops messages sent after the exit', () => {
    const { channel, child } = spawn();
    const codes: Array<number | null> = [];
    channel.onExit((code) => codes.push(code));
    child.emit('exit', 70);
    expect(codes).toEqual([70]);
    channel.postMessage({ type: 'shutdown' });
    expect(child.postMessage).not.toHaveBeenCalled();
  });

  it('kills the process', () => {
    const { channel, child } = spawn();
    channel.kill();
    expect(child.kill).toHaveBeenCalledOnce();
  });

  it('logs a fatal V8 error', () => {
    const { child, log } = spawn();
    child.emit('error', 'FatalError', 'v8::ToLocalChecked', '{}');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('FatalError'));
  });
});
