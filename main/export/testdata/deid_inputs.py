#!/usr/bin/python3
# Runs in tests (Debian's python3 with pydicom, numpy). Writes identifiable DICOM inputs for the
# de-identification tests: every attribute of the action table that pydicom's dictionary knows is
# filled with a distinctive value, at the top level and again inside a kept sequence, and the
# strings that identify the patient are listed so the test can look for them in the outputs.
#   deid_inputs.py <tags.json> <out dir>
#     tags.json: [["GGGGEEEE", action], ...] from deid-table.ts
#     writes study/a.dcm, study/b.dcm (same study, b references a), burned.dcm, identifiers.json
import json
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

# Filled by hand or structural: not given a generic value.
SKIP = {'00080018', '0020000D', '0020000E', 'FFFAFFFA', 'FFFCFFFC', '00880200', '0040A730', '0040A160',
        '00081140', '00082112', '00081155', '00100020', '00100010', '00100030'}

identifiers = []


def remember(value):
    identifiers.append(str(value))
    return value


def value_for(tag, vr, n):
    if vr == 'PN':
        return remember(f'IDENTPN{n:03d}^GIVEN')
    if vr in ('LO', 'SH', 'LT', 'ST', 'UT', 'UC', 'AE'):
        return remember(f'IDENT{n:03d}')
    if vr == 'CS':
        return 'IDENTCS'
    if vr == 'DA':
        return remember(f'201903{1 + n % 28:02d}')
    if vr == 'DT':
        return remember(f'201903{1 + n % 28:02d}101010')
    if vr == 'TM':
        return '101010'
    if vr == 'UI':
        return remember(generate_uid())
    if vr in ('DS', 'IS'):
        return '42'
    if vr == 'AS':
        return '045Y'
    if vr in ('US', 'UL', 'SS', 'SL'):
        return 7
    if vr in ('FL', 'FD'):
        return 1.5
    if vr in ('OB', 'OW', 'UN'):
        return b'\x01\x02'
    if vr == 'SQ':
        item = Dataset()
        item.CodeValue = 'IDENTC'
        item.CodingSchemeDesignator = '99IDENT'
        item.CodeMeaning = remember(f'IDENTITEM{n:03d}')
        return Sequence([item])
    return None


def fill(ds, tags, offset):
    for i, (tag, _action) in enumerate(tags):
        if tag in SKIP or 'x' in tag:
            continue
        t = int(tag, 16)
        try:
            vr = dictionary_VR(t)
        except KeyError:
            continue
        vr = vr.split(' or ')[0]
        value = value_for(tag, vr, i + offset)
        if value is not None:
            ds.add_new(t, vr, value)


def image(tags, patient, study, series, sop, n, burned='NO'):
    ds = Dataset()
    fill(ds, tags, 0)
    ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.1.1'  # Digital X-Ray Image Storage - For Presentation
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientName = patient['name']
    ds.PatientID = patient['id']
    ds.PatientBirthDate = patient['birth']
    ds.Modality = 'DX'
    ds.BurnedInAnnotation = burned
    # Table attributes again one level down, in a sequence the profile keeps.
    kept = Dataset()
    kept.CodeValue = 'T-D3000'
    kept.CodingSchemeDesignator = 'SRT'
    kept.CodeMeaning = 'Chest'
    fill(kept, tags, 500)
    ds.AnatomicRegionSequence = Sequence([kept])
    # A free-text content item in an image: the Clean Structured Content option dummies it.
    text = Dataset()
    text.ValueType = 'TEXT'
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = '121106', 'DCM', 'Comment'
    text.ConceptNameCodeSequence = Sequence([concept])
    text.TextValue = remember(f'Seen by Dr IDENTTEXT{n}')
    ds.ContentSequence = Sequence([text])
    icon = Dataset()
    icon.SamplesPerPixel, icon.PhotometricInterpretation, icon.Rows, icon.Columns = 1, 'MONOCHROME2', 2, 2
    icon.BitsAllocated, icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 8, 7, 0
    icon.PixelData = b'\x00\x40\x80\xff'
    ds.IconImageSequence = Sequence([icon])
    ds.add_new(0x00091010, 'LO', remember(f'IDENTPRIVATE{n}'))
    ds.add_new(0x00090010, 'LO', 'ACME PRIVATE')
    ds.add_new(0x60003000, 'OW', b'\x00\x01' * 8)
    ds.add_new(0x60004000, 'LT', remember(f'IDENTOVERLAY{n}'))
    ds.Rows, ds.Columns = 64, 48
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelIntensityRelationship, ds.PresentationLUTShape = 'LOG', 'IDENTITY'
    ds.ImageType = ['ORIGINAL', 'PRIMARY']
    rng = np.random.default_rng(n)
    ds.PixelData = rng.integers(0, 4096, size=(64, 48), dtype=np.uint16).tobytes()
    return ds


def save(ds, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(path, write_like_original=False)


def main():
    tags = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    patient = {'name': remember('IDENTSURNAME^IDENTGIVEN'), 'id': remember('IDENTPID0042'), 'birth': remember('19510417')}
    study, series_a, series_b = (remember(generate_uid()) for _ in range(3))
    sop_a, sop_b, sop_c = (remember(generate_uid()) for _ in range(3))
    a = image(tags, patient, study, series_a, sop_a, 1)
    b = image(tags, patient, study, series_b, sop_b, 2)
    ref = Dataset()
    ref.ReferencedSOPClassUID = a.SOPClassUID
    ref.ReferencedSOPInstanceUID = sop_a
    b.FrameOfReferenceUID = a.FrameOfReferenceUID
    b.SourceImageSequence = Sequence([ref])
    b.ReferencedImageSequence = Sequence([ref])
    burned = image(tags, patient, study, series_b, sop_c, 3, burned='YES')
    save(a, out / 'study' / 'a.dcm')
    save(b, out / 'study' / 'b.dcm')
    save(burned, out / 'burned.dcm')
    (out / 'identifiers.json').write_text(json.dumps({
        'strings': sorted(set(identifiers)), 'patientId': patient['id'],
        'uids': {'study': study, 'sop_a': sop_a, 'sop_b': sop_b},
    }))


if __name__ == '__main__':
    main()
