// Types for the small part of dcmjs (0.52, untyped) that main/export uses: Part 10 read and write
// of the "denaturalized" dataset form, keyed by 8-hex-digit tags.
declare module 'dcmjs' {
  /** PN values come back as objects with component groups; plain strings are accepted on write. */
  export interface PersonNameValue {
    Alphabetic?: string;
    Ideographic?: string;
    Phonetic?: string;
  }
  export interface DicomElement {
    vr: string;
    Value?: unknown[];
    /** The value as read, written back when Value still equals it; deleted when we change Value. */
    _rawValue?: unknown;
  }
  export type DicomDataset = Record<string, DicomElement>;

  export interface DicomDictInstance {
    meta: DicomDataset;
    dict: DicomDataset;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }

  export const data: {
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: { ignoreErrors?: boolean; untilTag?: string | null; includeUntilTagValue?: boolean; noCopy?: boolean; forceStoreRaw?: boolean }): DicomDictInstance;
    };
    DicomDict: new (meta: DicomDataset) => DicomDictInstance;
  };
  interface Logger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  }
  export const log: Logger & { getLogger(name: string): Logger };
}
