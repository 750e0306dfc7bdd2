// Runs in tests only. A PACS to review from: a real Orthanc (main/testing/orthanc.ts) holding the
// sample DICOM files, the same files a test can also read from disk to compare.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { samplesDir } from './fixtures';
import { startOrthanc, uploadToOrthanc, type OrthancServer } from './orthanc';

export const SAMPLE_DICOM = ['cxr-cardiomegaly-effusion-cr.dcm', 'cxr-normal-cr.dcm', 'cxr-opacity-dx.dcm'];

export async function startSamplePacs(): Promise<OrthancServer> {
  const pacs = await startOrthanc();
  await uploadToOrthanc(pacs, await Promise.all(SAMPLE_DICOM.map((n) => readFile(path.join(samplesDir, n)))));
  return pacs;
}
