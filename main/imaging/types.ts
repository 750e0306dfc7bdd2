// Runs in main, the decode worker, the server, the CLI and tests. What the imaging service hands
// to its consumers.
import type { ImageInfo } from '../../preload/api';

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

/** A lookup table (Modality LUT, VOI LUT or a palette channel) as PS3.3 C.11.1.1 describes it. */
export interface Lut {
  /** Input value mapped to the first entry; inputs below it map to the first entry. */
  first: number;
  /** Bits of each output entry (8..16). */
  bits: number;
  data: Uint16Array;
  explanation?: string;
}

export interface Spacing {
  row: number;
  column: number;
  source: 'PixelSpacing' | 'ImagerPixelSpacing';
  /** Estimated Radiographic Magnification Factor the imager spacing was divided by. */
  magnificationFactor?: number;
  /** Pixel Spacing Calibration Type (e.g. GEOMETRY, FIDUCIAL) when the file says. */
  calibrationType?: string;
}

/** The attributes of a DICOM image that decoding and display depend on. */
export interface DicomHeader {
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  /** As written in the file, upper case. */
  photometric: string;
  planarConfiguration: number;
  modality?: string;
  rescaleSlope: number;
  rescaleIntercept: number;
  modalityLut?: Lut;
  windows: Array<{ center: number; width: number; explanation?: string }>;
  voiLutFunction: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
  voiLuts: Lut[];
  presentationLutShape?: 'IDENTITY' | 'INVERSE';
  paddingValue?: number;
  paddingLimit?: number;
  palette?: { red: Lut; green: Lut; blue: Lut };
  spacing?: Spacing;
  /** As written (row, column spacing in mm); empty when absent. */
  pixelSpacing: number[];
  imagerPixelSpacing: number[];
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  instanceNumber?: number;
  imagePosition: number[];
  imageOrientation: number[];
  seriesNumber?: number;
  seriesDescription?: string;
  /** Kept for the viewer's header; never logged or put in errors. */
  patientName?: string;
  patientId?: string;
  studyDate?: string;
  studyDescription?: string;
}

export interface LoadedImage {
  info: ImageInfo;
  /** Absolute path the image was read from (kept in main; never sent in errors). */
  path: string;
  /**
   * One frame as the viewer and the model take it: stored values for grey images; for colour
   * images 8-bit RGB, samples interleaved (YBR converted, palette applied). Row-major.
   */
  frame(index: number): StoredArray;
  /** One frame's stored values as decoded (colour as stored after the codec), samples interleaved. */
  storedFrame(index: number): StoredArray;
  /** The DICOM attributes behind info; absent for PNG/JPEG. */
  dicom?: DicomHeader;
}

/**
 * One frame decoded for a consumer that needs fewer pixels than the image has (the model's input,
 * a viewport): the whole image at the smallest size covering what was asked for.
 */
export interface ReducedFrame {
  /** The image as a whole: width and height are the full image's, the size geometry refers to. */
  info: ImageInfo;
  path: string;
  frame: number;
  /** Size of `pixels`, at most the full size. */
  width: number;
  height: number;
  /** As LoadedImage.frame gives them: stored values for grey images, 8-bit RGB for colour. */
  pixels: StoredArray;
  dicom?: DicomHeader;
}
