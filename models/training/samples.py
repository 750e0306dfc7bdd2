"""Write the demo/test studies in assets/samples: phantoms as DICOM and PNG with ground truth.

Each study <name>.<ext> gets <name>.json (labels, findings, masks, provenance) and one 1-bit mask
PNG per present finding, <name>.mask-<label>.png, at the image's own size. Phantoms come from a
seed (100) used for nothing else, so no sample is in the training, validation or test sets.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

import data
import evaluate
import phantoms

SEED = 100
# name, format, rows, columns, findings, phantom index, what it shows
STUDIES = [
    ("cxr-normal-cr", "cr", 768, 640, [], 0, "Normal chest, CR MONOCHROME1 with ImagerPixelSpacing"),
    ("cxr-opacity-dx", "dx", 768, 640, ["opacity"], 1, "Lung opacity, DX MONOCHROME2 with a VOI window"),
    ("cxr-cardiomegaly-effusion-cr", "cr", 640, 640, ["cardiomegaly", "effusion"], 2,
     "Cardiomegaly with pleural effusion, CR MONOCHROME1"),
    ("cxr-nodule-16bit", "png16", 768, 768, ["nodule"], 3, "Solitary nodule, 16-bit greyscale PNG"),
    ("cxr-effusion-8bit", "png8", 1024, 880, ["effusion"], 4, "Pleural effusion, 8-bit PNG, portrait 880x1024"),
    ("cxr-normal-8bit", "png8", 512, 512, [], 5, "Normal chest, 8-bit PNG"),
    ("cxr-opacity-nodule-8bit", "png8", 768, 768, ["opacity", "nodule"], 700, "Opacity and a nodule, 8-bit PNG"),
    ("cxr-cardiomegaly-16bit", "png16", 640, 640, ["cardiomegaly"], 7, "Cardiomegaly, 16-bit greyscale PNG"),
]


def bbox(mask):
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def write_study(out, number, name, fmt, rows, cols, findings, index, description):
    p = phantoms.sample_params(SEED, index, {k: True for k in findings})
    img, masks = phantoms.render(p, rows, cols)
    ext = ".dcm" if fmt in ("cr", "dx") else ".png"
    path = os.path.join(out, name + ext)
    meta = {"modality": "OT", "photometric": "MONOCHROME2", "bits": 8}
    if fmt in ("cr", "dx"):
        ds = phantoms.write_dicom(path, p, img, fmt.upper(), number)
        meta = {"modality": ds.Modality, "photometric": ds.PhotometricInterpretation, "bits_stored": 12,
                "window": {"center": float(ds.WindowCenter), "width": float(ds.WindowWidth)},
                "sop_instance_uid": str(ds.SOPInstanceUID), "study_instance_uid": str(ds.StudyInstanceUID),
                "patient_name": str(ds.PatientName)}
    elif fmt == "png16":
        Image.fromarray(phantoms.to_uint16(img)).save(path)
        meta["bits"] = 16
    else:
        Image.fromarray(np.round(img * 255).astype(np.uint8)).save(path, optimize=True)
    entries = []
    for k in phantoms.LABELS:
        if p.labels[k]:
            mask_name = f"{name}.mask-{k}.png"
            Image.fromarray(masks[k].astype(np.uint8) * 255).convert("1").save(os.path.join(out, mask_name), optimize=True)
            entries.append({"label": k, "mask": mask_name, "bbox_xywh": bbox(masks[k]), "area_px": int(masks[k].sum())})
    truth = {
        "file": name + ext,
        "description": description,
        "synthetic": True,
        "generator": {"script": "models/training/phantoms.py", "seed": SEED, "index": index},
        "size": {"rows": rows, "columns": cols},
        "format": meta,
        "labels": {k: p.labels[k] for k in phantoms.LABELS},
        "cardiothoracic_ratio": round(p.ctr, 3),
        "findings": entries,
    }
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "assets", "samples"))
    ap.add_argument("--check", metavar="MODEL", help="instead of writing, print MODEL's findings on the samples")
    a = ap.parse_args()
    if a.check:
        return check(a.out, a.check)
    os.makedirs(a.out, exist_ok=True)
    for number, study in enumerate(STUDIES, start=1):
        print(write_study(a.out, number, *study))


def check(folder, model_path):
    """Print each sample's probabilities next to its ground truth; exit 1 on any disagreement."""
    model, meta = evaluate.load_model(model_path)
    thresholds = meta.get("thresholds") or [0.5] * len(meta["labels"])
    wrong = 0
    for name, fmt, *_ in STUDIES:
        path = os.path.join(folder, name + (".dcm" if fmt in ("cr", "dx") else ".png"))
        with open(os.path.join(folder, name + ".json")) as f:
            truth = json.load(f)["labels"]
        with torch.no_grad():
            prob = torch.sigmoid(model(data.preprocess(data.load_image(path), meta["size"]))[0][0])
        marks = []
        for k, p, t in zip(meta["labels"], prob.tolist(), thresholds):
            ok = (p >= t) == truth[k]
            wrong += not ok
            marks.append(f"{k} {p:.3f}{'' if ok else (' MISSED' if truth[k] else ' FALSE+')}")
        print(f"{name}: " + ", ".join(marks))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
