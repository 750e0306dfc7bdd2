// Runs in tests. `resight pacs query|send` (the built CLI) against a real Orthanc with basic auth.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli';
import { samplesDir } from '../testing/fixtures';
import { orthancAvailable, orthancGet, startOrthanc, uploadToOrthanc, type OrthancServer } from '../testing/orthanc';

const NORMAL = path.join(samplesDir, 'cxr-normal-cr.dcm');
const OPACITY = path.join(samplesDir, 'cxr-opacity-dx.dcm');
const CARDIO = path.join(samplesDir, 'cxr-cardiomegaly-effusion-cr.dcm');

const dump = (file: string, tag: string): string => {
  const out = execFileSync('dcmdump', ['+P', tag, '-s', file], { encoding: 'utf8' });
  return /\[([^\]]*)\]/.exec(out)![1]!;
};

describe.skipIf(!orthancAvailable())('resight pacs', () => {
  let orthanc: OrthancServer;
  let dir: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = await mkdtemp(path.join(os.tmpdir(), 'resight-pacs-cli-'));
    await uploadToOrthanc(orthanc, [await readFile(NORMAL), await readFile(OPACITY)]);
    // runCli's child inherits this process's environment.
    process.env.RESIGHT_PACS_PASSWORD = orthanc.password;
    delete process.env.RESIGHT_PACS_TOKEN;
    delete process.env.RESIGHT_PACS_USER;
  });
  afterAll(async () => {
    process.env = savedEnv;
    await orthanc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const auth = (): string[] => ['--url', orthanc.url, '--user', orthanc.user];

  it('query --json lists the studies with the agreed keys', async () => {
    const r = await runCli('pacs', 'query', ...auth(), '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const studies = JSON.parse(r.stdout) as Record<string, unknown>[];
    const byUid = new Map(studies.map((s) => [s.StudyInstanceUID, s]));
    expect(byUid.size).toBe(2);
    const normal = byUid.get(dump(NORMAL, '0020,000d'))!;
    expect(normal).toMatchObject({
      PatientID: dump(NORMAL, '0010,0020'),
      StudyDate: dump(NORMAL, '0008,0020'),
      ModalitiesInStudy: ['CR'],
      NumberOfStudyRelatedInstances: 1,
    });
    expect(byUid.get(dump(OPACITY, '0020,000d'))).toMatchObject({ ModalitiesInStudy: ['DX'], NumberOfStudyRelatedInstances: 1 });
    expect(r.stdout).not.toContain(dump(NORMAL, '0010,0010'));
  });

  it('query filters by patient ID, modality and study, and pages', async () => {
    const uids = async (...args: string[]): Promise<string[]> => {
      const r = await runCli('pacs', 'query', ...auth(), '--json', ...args);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { StudyInstanceUID: string }[]).map((s) => s.StudyInstanceUID).sort();
    };
    const normal = dump(NORMAL, '0020,000d');
    const opacity = dump(OPACITY, '0020,000d');
    expect(await uids('--patient-id', dump(NORMAL, '0010,0020'))).toEqual([normal]);
    expect(await uids('--modality', 'DX')).toEqual([opacity]);
    expect(await uids('--study', opacity)).toEqual([opacity]);
    expect(await uids('--modality', 'CT')).toEqual([]);
    const day = dump(NORMAL, '0008,0020');
    expect(await uids('--date-from', day, '--date-to', day, '--patient-id', dump(NORMAL, '0010,0020'))).toEqual([normal]);
    expect(await uids('--date', `${day}-${day}`, '--study', normal)).toEqual([normal]);
    expect(await uids('--date-to', '19000101')).toEqual([]);
    const first = await uids('--limit', '1', '--offset', '0');
    const second = await uids('--limit', '1', '--offset', '1');
    expect(first).toHaveLength(1);
    expect([...first, ...second].sort()).toEqual([normal, opacity].sort());
  });

  it('query prints a table without patient names', async () => {
    const r = await runCli('pacs', 'query', ...auth(), '--modality', 'CR');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Study Instance UID');
    expect(r.stdout).toContain(dump(NORMAL, '0020,000d'));
    expect(r.stdout).toContain('1 study');
    expect(r.stdout).not.toContain(dump(NORMAL, '0010,0010'));
  });

  it('send stores files, reports each one, and exits 1 when any failed', async () => {
    const notDicom = path.join(dir, 'notes.txt');
    await writeFile(notDicom, 'not a DICOM file');
    const r = await runCli('pacs', 'send', CARDIO, notDicom, path.join(dir, 'missing.dcm'), ...auth());
    const sop = dump(CARDIO, '0008,0018');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `stored ${sop}`,
      `failed ${notDicom}: it is not a DICOM Part 10 file with a SOP Instance UID, so it was not sent`,
      `failed ${path.join(dir, 'missing.dcm')}: the file could not be read`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error \w+: 2 of 3 file\(s\) were not stored/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(dump(CARDIO, '0010,0010'));
    const instances = (await orthancGet(orthanc, '/instances?expand')) as { MainDicomTags: { SOPInstanceUID: string } }[];
    expect(instances.map((i) => i.MainDicomTags.SOPInstanceUID)).toContain(sop);
  });

  it('send exits 0 when every file is stored', async () => {
    const r = await runCli('pacs', 'send', NORMAL, ...auth());
    expect(r.stdout.trim()).toBe(`stored ${dump(NORMAL, '0008,0018')}`);
    expect(r.code).toBe(0);
  });

  it('says what is wrong with credentials, flags and an unreachable server', async () => {
    const noAuth = await runCli('pacs', 'query', '--url', orthanc.url, '--json');
    expect(noAuth.code).toBe(1);
    expect(noAuth.stderr).toMatch(/^error PACS_AUTH_FAILED: /);

    const wrong = await runCli('pacs', 'query', '--url', orthanc.url, '--token', 'not-the-token');
    expect(wrong.stderr).toMatch(/^error PACS_AUTH_FAILED: /);
    expect(wrong.stderr).not.toContain('not-the-token');

    const noUrl = await runCli('pacs', 'query', '--json');
    expect(noUrl.stderr).toMatch(/^error INVALID_ARGUMENT: .*--url/);

    const badDate = await runCli('pacs', 'query', ...auth(), '--date', '2024-01-01');
    expect(badDate.stderr).toMatch(/^error INVALID_ARGUMENT: The --date value is not valid/);

    const badUid = await runCli('pacs', 'query', ...auth(), '--study', 'abc');
    expect(badUid.stderr).toMatch(/^error INVALID_ARGUMENT: The --study value is not valid/);

    const both = await runCli('pacs', 'query', ...auth(), '--token', 'x');
    expect(both.stderr).toMatch(/^error INVALID_ARGUMENT: /);

    const down = await runCli('pacs', 'query', '--url', 'http://127.0.0.1:9/dicom-web/', '--retries', '0');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error PACS_UNREACHABLE: The PACS at 127\.0\.0\.1:9 could not be reached/);

    const sendDown = await runCli('pacs', 'send', NORMAL, '--url', 'http://127.0.0.1:9/dicom-web/', '--retries', '0');
    expect(sendDown.code).toBe(1);
    expect(sendDown.stdout).toMatch(new RegExp(`^failed ${NORMAL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: The PACS at 127\\.0\\.0\\.1:9 could not be reached`));
    expect(sendDown.stderr).toMatch(/^error PACS_UNREACHABLE: 1 of 1/);
  });

  it('takes the password only from RESIGHT_PACS_PASSWORD', async () => {
    delete process.env.RESIGHT_PACS_PASSWORD;
    try {
      const r = await runCli('pacs', 'query', ...auth());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error CREDENTIALS_UNAVAILABLE: .*RESIGHT_PACS_PASSWORD/);
    } finally {
      process.env.RESIGHT_PACS_PASSWORD = orthanc.password;
    }
  });
});
