#!/usr/bin/python3
# Runs in tests (Debian's python3 with pydicom, numpy, GDCM). Two jobs, so the TypeScript tests
# have an independent reference:
#   fixtures.py make <dir>       write small native DICOM files (phantom content, no patient data)
#   fixtures.py reference <dir>  decode every *.dcm in <dir> with pydicom + GDCM and write
#                                <name>.npy (stored values, as pydicom returns them)
#   fixtures.py big <out.dcm> <rows> <cols>
#                                one large 12-bit MONOCHROME2 radiograph-like file (benchmarks)
#   fixtures.py series <dir>     two patients' studies scattered over nested folders (DICOMDIR-ready names)
#   fixtures.py wrap <codestream> <like.dcm> <ts> <out.dcm>
#                                encapsulate a codestream made elsewhere (HTJ2K) in a copy of a file
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def phantom(rows, cols, lo, hi, seed):
    """A chest-film-like test pattern: gradient, discs, edges and noise, spanning [lo, hi]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    img = 0.3 + 0.4 * x / cols + 0.2 * np.sin(y / 5.0)
    for cy, cx, r, v in [(rows * 0.4, cols * 0.3, rows * 0.2, 0.3), (rows * 0.6, cols * 0.7, rows * 0.15, -0.25)]:
        img += v * (((y - cy) ** 2 + (x - cx) ** 2) < r * r)
    img += rng.normal(0, 0.03, img.shape)
    img = np.clip(img, 0, 1)
    return np.round(lo + img * (hi - lo)).astype(np.int64)


def base(rows, cols, photometric, bits_allocated, bits_stored, signed, samples=1):
    ds = Dataset()
    ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = 'OT'
    ds.PatientName = 'PHANTOM^TEST'
    ds.PatientID = 'PHANTOM'
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if samples > 1:
        ds.PlanarConfiguration = 0
    return ds


def save(ds, arr, path, planar=0):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    if planar:
        ds.PlanarConfiguration = 1
        arr = np.moveaxis(arr, -1, -3)
    ds.PixelData = np.ascontiguousarray(arr).tobytes()
    ds.save_as(path, write_like_original=False)


def rgb_pattern(rows, cols):
    r = phantom(rows, cols, 0, 255, 1)
    g = phantom(rows, cols, 0, 255, 2)[:, ::-1]
    b = phantom(rows, cols, 0, 255, 3)[::-1, :]
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def ybr_from_rgb(rgb):
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    return np.clip(np.round(np.stack([y, cb, cr], axis=-1)), 0, 255).astype(np.uint8)


def make(out):
    out.mkdir(parents=True, exist_ok=True)
    rows, cols = 53, 67  # odd on purpose: padding and odd lengths

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.Modality = 'DX'
    ds.WindowCenter, ds.WindowWidth = [2048, 1000], [4096, 800]
    ds.WindowCenterWidthExplanation = ['FULL', 'LUNG']
    ds.ImagerPixelSpacing = [0.15, 0.15]
    ds.EstimatedRadiographicMagnificationFactor = 1.2
    save(ds, phantom(rows, cols, 0, 4095, 10).astype(np.uint16), out / 'grey12.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 16, 16, True)
    ds.Modality = 'CT'
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    save(ds, phantom(rows, cols, -1000, 3000, 11).astype(np.int16), out / 'signed16.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 8, 8, False)
    save(ds, phantom(rows, cols, 0, 255, 12).astype(np.uint8), out / 'grey8.dcm')

    ds = base(rows, cols, 'MONOCHROME1', 16, 12, False)
    ds.Modality = 'CR'
    ds.WindowCenter, ds.WindowWidth = 1800, 2600
    ds.PixelSpacing = [0.2, 0.2]
    save(ds, phantom(rows, cols, 100, 4000, 13).astype(np.uint16), out / 'mono1.dcm')

    rgb = rgb_pattern(rows, cols)
    save(base(rows, cols, 'RGB', 8, 8, False, 3), rgb, out / 'rgb.dcm')
    save(base(rows, cols, 'RGB', 8, 8, False, 3), rgb, out / 'rgb-planar.dcm', planar=1)
    save(base(rows, cols, 'YBR_FULL', 8, 8, False, 3), ybr_from_rgb(rgb), out / 'ybr-full.dcm')

    # YBR_FULL_422 native: each pair of pixels is stored as Y1 Y2 Cb Cr (even width required).
    ybr = ybr_from_rgb(rgb[:, :66, :]).astype(np.int64)
    packed = np.empty((rows, 33, 4), np.uint8)
    packed[..., 0], packed[..., 1] = ybr[:, 0::2, 0], ybr[:, 1::2, 0]
    packed[..., 2] = (ybr[:, 0::2, 1] + ybr[:, 1::2, 1]) // 2
    packed[..., 3] = (ybr[:, 0::2, 2] + ybr[:, 1::2, 2]) // 2
    save(base(rows, 66, 'YBR_FULL_422', 8, 8, False, 3), packed, out / 'ybr-422.dcm')

    for bits in (8, 16):
        ds = base(rows, cols, 'PALETTE COLOR', 8, 8, False)
        entries = 256
        ramp = np.arange(entries)
        scale = 255 if bits == 8 else 65535
        luts = [ramp * scale // 255, (255 - ramp) * scale // 255, (ramp * 7 % 256) * scale // 255]
        for name, lut in zip(('Red', 'Green', 'Blue'), luts):
            setattr(ds, f'{name}PaletteColorLookupTableDescriptor', [entries, 0, bits])
            data = lut.astype(np.uint8 if bits == 8 else np.uint16).tobytes()
            if len(data) % 2:
                data += b'\0'
            setattr(ds, f'{name}PaletteColorLookupTableData', data)
        save(ds, phantom(rows, cols, 0, 255, 14).astype(np.uint8), out / f'palette{bits}.dcm')

    make_display(out, rows, cols)

    frames = np.stack([phantom(rows, cols, 0, 4095, 20 + i) for i in range(3)]).astype(np.uint16)
    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.NumberOfFrames = 3
    save(ds, frames, out / 'multi.dcm')


def lut_item(first, bits, values, explanation):
    item = Dataset()
    item.LUTDescriptor = [len(values), first, bits]
    item.LUTExplanation = explanation
    item.LUTData = [int(v) for v in values]
    item['LUTData'].VR = 'US' if len(values) < 32768 else 'OW'
    return item


def make_display(out, rows, cols):
    """Files that exercise each step of the grey pipeline."""
    pixels = phantom(rows, cols, 0, 4095, 30).astype(np.uint16)

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 2048, 1800, 'SIGMOID'
    save(ds, pixels, out / 'sigmoid.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 1500, 2000, 'LINEAR_EXACT'
    save(ds, pixels, out / 'linear-exact.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.WindowCenter, ds.WindowWidth = 2000, 3000
    ds.PresentationLUTShape = 'INVERSE'
    save(ds, pixels, out / 'inverse.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.ModalityLUTSequence = [lut_item(0, 16, np.round(np.sqrt(np.arange(4096) / 4095) * 60000), 'SQRT')]
    ds.ModalityLUTSequence[0].ModalityLUTType = 'OD'
    ds.WindowCenter, ds.WindowWidth = 40000, 40000
    save(ds, pixels, out / 'modality-lut.dcm')

    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    gamma = np.round(((np.arange(4096) / 4095) ** 0.5) * 255)
    ds.VOILUTSequence = [lut_item(0, 8, gamma, 'GAMMA')]
    save(ds, pixels, out / 'voi-lut.dcm')

    padded = pixels.copy()
    padded[:, : cols // 3] = 0
    ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
    ds.PixelPaddingValue = 0
    save(ds, np.maximum(padded, np.where(padded == 0, 0, 1000)).astype(np.uint16), out / 'padding.dcm')


def series(out):
    rows, cols = 8, 8
    study_a, study_b = generate_uid(), generate_uid()
    s1, s2, s3 = generate_uid(), generate_uid(), generate_uid()
    # (file, patient, study, series, series number, instance number, z position)
    layout = [
        ('A/X/IM3', 'ALPHA', study_a, s1, 1, 3, None),
        ('A/IM1', 'ALPHA', study_a, s1, 1, 1, None),
        ('B/DEEP/ER/IM2', 'ALPHA', study_a, s1, 1, 2, None),
        ('B/CT9', 'ALPHA', study_a, s2, 2, None, 30.0),
        ('A/CT8', 'ALPHA', study_a, s2, 2, None, -10.0),
        ('C/CT7', 'ALPHA', study_a, s2, 2, None, 5.0),
        ('C/ZZ1', 'BRAVO', study_b, s3, 1, 1, None),
    ]
    for i, (name, patient, study, ser, number, inst, z) in enumerate(layout):
        ds = base(rows, cols, 'MONOCHROME2', 8, 8, False)
        ds.PatientName, ds.PatientID = patient, patient
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SeriesNumber = study, ser, number
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = '20260101', '120000', '1', ''
        ds.PatientBirthDate, ds.PatientSex, ds.ReferringPhysicianName = '', '', ''
        ds.Modality = 'CT' if z is not None else 'DX'
        if inst is not None:
            ds.InstanceNumber = inst
        if z is not None:
            ds.ImagePositionPatient = [0, 0, z]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        save(ds, np.full((rows, cols), i, np.uint8), path)
    (out / 'A' / 'NOTES').write_text('not an image')


def reference(folder):
    from pydicom.pixel_data_handlers import gdcm_handler, numpy_handler, rle_handler

    pydicom.config.pixel_data_handlers = [numpy_handler, gdcm_handler, rle_handler]
    assert gdcm_handler.is_available(), 'GDCM (python3-gdcm) is required for the reference decode'
    for path in sorted(folder.glob('*.dcm')):
        ds = pydicom.dcmread(path)
        if ds.file_meta.TransferSyntaxUID.name == ds.file_meta.TransferSyntaxUID:
            continue  # a transfer syntax this pydicom does not know (HTJ2K): compared with its source
        arr = ds.pixel_array
        np.save(path.with_suffix('.npy'), arr)


def wrap(codestream, like, ts, out):
    # pydicom 2.3 predates the HTJ2K UIDs; tell it this one is a compressed transfer syntax.
    from pydicom._uid_dict import UID_dictionary

    UID_dictionary.setdefault(ts, ('HTJ2K', 'Transfer Syntax', '', '', 'HTJ2K'))
    ds = pydicom.dcmread(like)
    ds.file_meta.TransferSyntaxUID = ts
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.PixelData = encapsulate([Path(codestream).read_bytes()])
    ds['PixelData'].VR = 'OB'
    ds['PixelData'].is_undefined_length = True
    ds.save_as(out, write_like_original=False)


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'make':
        make(Path(sys.argv[2]))
    elif cmd == 'reference':
        reference(Path(sys.argv[2]))
    elif cmd == 'big':
        rows, cols = int(sys.argv[3]), int(sys.argv[4])
        ds = base(rows, cols, 'MONOCHROME2', 16, 12, False)
        ds.Modality = 'DX'
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
        save(ds, phantom(rows, cols, 0, 4095, 99).astype(np.uint16), Path(sys.argv[2]))
    elif cmd == 'series':
        series(Path(sys.argv[2]))
    elif cmd == 'wrap':
        wrap(*sys.argv[2:6])
    else:
        sys.exit(f'unknown command {cmd}')
