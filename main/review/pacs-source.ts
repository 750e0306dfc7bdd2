// Runs in the CLI, the server and main. PACS studies as batch-review items: each instance is
// retrieved by WADO-RS into a local folder, named by a hash of its SOP Instance UID (never by
// patient data) and written whole or not at all, so a resumed review retrieves only what is missing.
import { createHash } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import type { DicomWebClient, InstanceSummary } from '../pacs/client';
import { writeAtomically } from './review';
import type { ReviewItem } from './sources';

const PAGE = 1000;
const PARALLEL = 4;

export interface PacsRetrieval {
  items: ReviewItem[];
  failed: Array<{ source: string; code: string; message: string }>;
}

export function retrievedFileName(sopInstanceUid: string): string {
  return `${createHash('sha256').update(sopInstanceUid).digest('hex').slice(0, 24)}.dcm`;
}

async function instancesOf(client: DicomWebClient, studyUid: string, signal?: AbortSignal): Promise<InstanceSummary[]> {
  const all: InstanceSummary[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await client.searchInstances(studyUid, undefined, { limit: PAGE, offset, signal });
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

const exists = (file: string): Promise<boolean> => stat(file).then((s) => s.isFile(), () => false);

export async function pacsItems(
  client: DicomWebClient,
  studyUids: string[],
  dir: string,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<PacsRetrieval> {
  await mkdir(dir, { recursive: true });
  const instances: InstanceSummary[] = [];
  for (const study of studyUids) {
    const found = await instancesOf(client, study, opts.signal);
    if (!found.length) throw new ResightError('NOT_FOUND', `The PACS has no images for study ${study}. Check the Study Instance UID.`);
    instances.push(...found);
  }
  const items: ReviewItem[] = instances.map((i) => ({
    kind: 'pacs',
    key: `pacs:${i.SOPInstanceUID}`,
    file: path.join(dir, retrievedFileName(i.SOPInstanceUID)),
    source: i.SOPInstanceUID,
  }));
  const failed: PacsRetrieval['failed'] = [];
  const ok = new Set<string>();
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < instances.length) {
      const k = next++;
      const i = instances[k]!;
      const item = items[k]!;
      if (opts.signal?.aborted) throw new ResightError('PACS_CANCELLED', 'Retrieving from the PACS was cancelled.');
      try {
        if (!(await exists(item.file))) {
          await writeAtomically(item.file, await client.retrieveInstance(i.StudyInstanceUID, i.SeriesInstanceUID, i.SOPInstanceUID, { signal: opts.signal }));
        }
        ok.add(item.key);
      } catch (err) {
        if (err instanceof ResightError && err.code === 'PACS_CANCELLED') throw err;
        const e = err instanceof ResightError ? err : new ResightError('PACS_BAD_RESPONSE', 'The image could not be retrieved.');
        failed.push({ source: item.source, code: e.code, message: e.message });
      }
      opts.onProgress?.(++done, instances.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, instances.length) }, worker));
  return { items: items.filter((i) => ok.has(i.key)), failed };
}
