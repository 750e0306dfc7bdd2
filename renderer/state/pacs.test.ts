// Runs in tests (Node, no DOM). What the PACS search sends (empty fields left out, dates and
// modality in DICOM's form, paging kept to the search shown), and the batch panel's time words.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { humanDuration, isAbsolutePath, parseCount } from '../panels/tools-common';

const calls: Array<{ method: string; input: Record<string, unknown> }> = [];
vi.mock('../api/client', () => ({
  call: async (method: string, input: Record<string, unknown>) => {
    calls.push({ method, input });
    if (method === 'pacs.query') return { studies: [], offset: input.offset, limit: input.limit };
    return null;
  },
  getTransport: () => ({ frontDoor: 'browser' }),
  onEvent: () => () => undefined,
}));

const { toQuery, usePacs, PAGE_SIZE } = await import('./pacs');

const EMPTY = { patientName: '', patientId: '', dateFrom: '', dateTo: '', modality: '', accession: '' };

describe('PACS search', () => {
  beforeEach(() => {
    calls.length = 0;
    usePacs.setState({ serverId: 'orthanc', form: EMPTY, shownForm: null, studies: [], offset: 0 });
  });

  it('leaves blank fields out and writes dates and modality as DICOM does', () => {
    expect(toQuery('orthanc', { ...EMPTY, patientName: '  DOE^J* ', dateFrom: '2026-01-02', modality: 'dx ' }, 0)).toEqual({
      serverId: 'orthanc',
      limit: PAGE_SIZE,
      offset: 0,
      patientName: 'DOE^J*',
      dateFrom: '20260102',
      modality: 'DX',
    });
  });

  it('pages with the search shown, not with what was typed since', async () => {
    usePacs.getState().setForm({ patientId: 'A1' });
    await usePacs.getState().search(0);
    usePacs.getState().setForm({ patientId: 'B2' });
    await usePacs.getState().search(PAGE_SIZE);
    expect(calls.map((c) => [c.input.patientId, c.input.offset])).toEqual([
      ['A1', 0],
      ['A1', PAGE_SIZE],
    ]);
    // A new search (from the first page) takes the form as it is now.
    await usePacs.getState().search(0);
    expect(calls[2]?.input.patientId).toBe('B2');
  });
});

describe('panel helpers', () => {
  it('says durations in the words a reader needs', () => {
    expect(humanDuration(0)).toBe('0 s');
    expect(humanDuration(44.6)).toBe('45 s');
    expect(humanDuration(150)).toBe('3 min');
    expect(humanDuration(3900)).toBe('1 h 05 min');
  });

  it('reads counts: blank is null, junk and out of range are undefined', () => {
    expect(parseCount(' ', 64, 100)).toBeNull();
    expect(parseCount('512', 64, 1024)).toBe(512);
    expect(parseCount('12', 64, 1024)).toBeUndefined();
    expect(parseCount('1.5', 1, 8)).toBeUndefined();
    expect(parseCount('-3', 1, 8)).toBeUndefined();
  });

  it('knows a full path from a relative one', () => {
    expect(isAbsolutePath('/home/me/x.zip')).toBe(true);
    expect(isAbsolutePath('C:\\exports\\x.zip')).toBe(true);
    expect(isAbsolutePath('exports/x.zip')).toBe(false);
  });
});
