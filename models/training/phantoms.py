"""Deterministic synthetic chest radiograph phantoms with pixel-exact ground truth.

Every phantom is described by a parameter set drawn from a seeded generator; the picture is then
rendered from those parameters at any size, so a 256 px training image and a 1024 px sample of
the same (seed, index) show the same anatomy and findings. Geometry lives in normalised image
coordinates (u to the right, v down, both 0..1); the patient faces the viewer (PA view), so the
patient's left is on the image's right.

Output values are display intensities in [0, 1] (bright = dense, as on a MONOCHROME2 display).

CLI: write a dataset folder (16-bit PNGs, labels.csv, bit-packed mask PNGs) or a DICOM file.
"""
import argparse
import csv
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

LABELS = ["opacity", "nodule", "effusion", "cardiomegaly"]
LABEL_NAMES = {
    "opacity": "Lung opacity",
    "nodule": "Nodule",
    "effusion": "Pleural effusion",
    "cardiomegaly": "Cardiomegaly",
}
# Each finding is present independently with this probability, so about a quarter are normal.
FINDING_PROBABILITY = 0.3


@dataclass
class Lung:
    side: int  # -1 = patient's right (image left), +1 = patient's left (image right)
    apex_v: float
    base_v: float  # costophrenic angle height
    medial: float  # distance of the medial border from the midline
    lateral: float  # widest distance of the lateral border from the midline
    dome: float  # height of the diaphragm dome above the costophrenic angle


@dataclass
class Params:
    seed: int
    index: int
    labels: dict
    midline: float
    tilt: float
    body_half_width: float
    lungs: list
    heart_cx: float
    heart_v: float
    heart_half_width: float
    heart_half_height: float
    ctr: float
    rib_phase: float
    rib_spacing: float
    rib_strength: float
    vessels: list
    opacity: dict = field(default_factory=dict)
    nodule: dict = field(default_factory=dict)
    effusion: dict = field(default_factory=dict)
    exposure: dict = field(default_factory=dict)
    marker: dict = field(default_factory=dict)
    text: str = ""
    field_seed: int = 0


def _rng(seed, index, stream):
    return np.random.default_rng([seed, index, stream])


def sample_params(seed, index, labels=None):
    """Draw one phantom's parameters. `labels` forces findings (dict label -> bool)."""
    r = _rng(seed, index, 0)
    if labels is None:
        labels = {k: bool(r.random() < FINDING_PROBABILITY) for k in LABELS}
    else:
        labels = {k: bool(labels.get(k, False)) for k in LABELS}
        r.random(len(LABELS))  # keep the stream aligned with the unforced case
    midline = 0.5 + r.normal(0, 0.012)
    apex_v = r.uniform(0.10, 0.15)
    base_v = r.uniform(0.70, 0.78)
    lateral = r.uniform(0.34, 0.39)
    lungs = []
    for side in (-1, 1):
        lungs.append(Lung(
            side=side,
            apex_v=apex_v + r.normal(0, 0.008),
            # The right hemidiaphragm usually sits higher than the left.
            base_v=base_v + (-0.02 if side < 0 else 0.0) + r.normal(0, 0.008),
            medial=r.uniform(0.045, 0.065),
            lateral=lateral + r.normal(0, 0.008),
            dome=r.uniform(0.05, 0.09),
        ))
    thoracic_width = lungs[0].lateral + lungs[1].lateral
    # Cardiothoracic ratio: normal 0.36..0.47, cardiomegaly 0.55..0.68 (gap keeps the label crisp).
    ctr = r.uniform(0.55, 0.68) if labels["cardiomegaly"] else r.uniform(0.36, 0.47)
    heart_half_width = ctr * thoracic_width / 2
    heart_cx = midline + 0.35 * heart_half_width  # most of the heart lies left of the midline
    heart_v = base_v - r.uniform(0.06, 0.09)
    heart_half_height = r.uniform(0.11, 0.14) + 0.25 * (heart_half_width - 0.08)
    vessels = []
    for lung in lungs:
        hilum = (midline + lung.side * (lung.medial + 0.04), r.uniform(0.40, 0.46))
        for _ in range(14):
            angle = r.uniform(-0.9 * np.pi, 0.6 * np.pi) if lung.side > 0 else r.uniform(0.4 * np.pi, 1.9 * np.pi)
            length = r.uniform(0.10, 0.28)
            vessels.append((hilum[0], hilum[1], angle, length, r.uniform(0.006, 0.012), r.uniform(-1.5, 1.5)))
    p = Params(
        seed=seed, index=index, labels=labels, midline=midline, tilt=r.normal(0, 0.02),
        body_half_width=r.uniform(0.44, 0.52), lungs=lungs, heart_cx=heart_cx, heart_v=heart_v,
        heart_half_width=heart_half_width, heart_half_height=heart_half_height, ctr=ctr,
        rib_phase=r.uniform(0, 1), rib_spacing=r.uniform(0.058, 0.068), rib_strength=r.uniform(0.05, 0.09),
        vessels=vessels, field_seed=int(r.integers(0, 2**31)),
    )
    lung_for = {-1: lungs[0], 1: lungs[1]}
    if labels["opacity"]:
        lung = lung_for[int(r.choice([-1, 1]))]
        p.opacity = dict(
            side=lung.side, cy=r.uniform(lung.apex_v + 0.12, lung.base_v - 0.08),
            cx_frac=r.uniform(0.35, 0.75), rx=r.uniform(0.07, 0.12), ry=r.uniform(0.07, 0.13),
            strength=r.uniform(0.22, 0.38), lobes=r.uniform(-1, 1, size=(5, 4)).tolist(),
        )
    if labels["nodule"]:
        lung = lung_for[int(r.choice([-1, 1]))]
        p.nodule = dict(
            side=lung.side, cy=r.uniform(lung.apex_v + 0.08, lung.base_v - 0.12),
            cx_frac=r.uniform(0.3, 0.8), radius=r.uniform(0.026, 0.042), strength=r.uniform(0.22, 0.34),
        )
    if labels["effusion"]:
        sides = [int(r.choice([-1, 1]))] if r.random() < 0.75 else [-1, 1]
        p.effusion = dict(sides=sides, height=r.uniform(0.09, 0.2), meniscus=r.uniform(0.05, 0.1),
                          strength=r.uniform(0.5, 0.7))
    p.exposure = dict(
        gamma=float(np.exp(r.normal(0, 0.18))), contrast=r.uniform(0.85, 1.15), offset=r.normal(0, 0.04),
        noise=r.uniform(0.01, 0.035), blur=r.uniform(0.0, 0.0025), collimation=r.uniform(0.0, 0.05),
    )
    p.marker = dict(show=bool(r.random() < 0.7), u=r.uniform(0.78, 0.92), v=r.uniform(0.04, 0.12))
    if r.random() < 0.5:
        p.text = str(r.choice(["PA ERECT", "AP PORTABLE", "PA", "INSPIRATION", "SEMI-ERECT"]))
    return p


def _smooth_field(seed, n, h, w):
    """Low-frequency noise in [-1, 1]: a seeded n x n grid upsampled, identical at any resolution."""
    grid = np.random.default_rng(seed).uniform(-1, 1, size=(n, n)).astype(np.float32)
    return ndimage.zoom(grid, (h / n, w / n), order=3, mode="nearest")[:h, :w]


def _soft(mask, h, w, sigma_frac):
    sigma = max(sigma_frac * max(h, w), 0.5)
    return ndimage.gaussian_filter(mask.astype(np.float32), sigma)


def _lung_mask(lung, mid, u, v):
    """Lung field: rounded apex, lateral border along the ribs, domed diaphragm."""
    d = (u - mid) * lung.side  # lateral distance on this lung's side
    lateral = _lung_lateral(lung, v)
    dome_x = np.clip((d - lung.medial) / (lung.lateral - lung.medial), 0, 1)
    # Diaphragm: highest in the middle of the hemithorax, lowest at the costophrenic angle.
    bottom = lung.base_v - lung.dome * np.clip(np.sin(np.pi * np.clip(dome_x * 1.1, 0, 1)), 0, 1) ** 0.8
    return (d > lung.medial) & (d < lateral) & (v > lung.apex_v) & (v < bottom)


def _effusion_mask(p, lung, lung_mask, u, v):
    e = p.effusion
    d = (u - p.midline) * lung.side
    x = np.clip((d - lung.medial) / (lung.lateral - lung.medial), 0, 1)
    # Fluid level: flat medially, rising along the lateral chest wall (meniscus).
    level = lung.base_v - e["height"] * 0.6 - e["meniscus"] * x ** 3
    return lung_mask & (v > level)


def _heart_mask(p, u, v):
    hx = (u - p.heart_cx) / p.heart_half_width
    hy = (v - p.heart_v) / p.heart_half_height
    return hx ** 2 + hy ** 2 < 1


def _region_center(lung, mid, cy, cx_frac):
    lateral = _lung_lateral(lung, cy)
    return mid + lung.side * (lung.medial + cx_frac * (lateral - lung.medial)), cy


def _segment(canvas, u, v, x0, y0, x1, y1, width, value):
    """Max-composite a tapered line segment, computed only inside its bounding box."""
    h, w = canvas.shape
    r0 = max(int((min(y0, y1) - width) * h) - 1, 0)
    r1 = min(int((max(y0, y1) + width) * h) + 2, h)
    c0 = max(int((min(x0, x1) - width) * w) - 1, 0)
    c1 = min(int((max(x0, x1) + width) * w) + 2, w)
    if r0 >= r1 or c0 >= c1:
        return
    uu, vv = u[r0:r1, c0:c1], v[r0:r1, c0:c1]
    dx, dy = x1 - x0, y1 - y0
    t = np.clip(((uu - x0) * dx + (vv - y0) * dy) / (dx * dx + dy * dy + 1e-12), 0, 1)
    dist = np.hypot(uu - (x0 + t * dx), vv - (y0 + t * dy))
    np.maximum(canvas[r0:r1, c0:c1], np.clip(1 - dist / width, 0, 1) * value, out=canvas[r0:r1, c0:c1])


def _lung_lateral(lung, v):
    t = np.clip((v - lung.apex_v) / (lung.base_v - lung.apex_v), 0, 1)
    return 0.06 + (lung.lateral - 0.06) * t ** 0.45


def render(p, height, width):
    """Render the phantom: returns (image float32 [0,1], masks dict label -> bool array)."""
    h, w = height, width
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    v = (v + 0.5) / h
    u = (u + 0.5) / w
    # Small patient rotation: shear the sampling grid.
    u = u + p.tilt * (v - 0.5)
    mid = p.midline
    lf = lambda s, n: _smooth_field(p.field_seed + s, n, h, w)  # noqa: E731
    d = np.abs(u - mid)

    # Body: soft tissue thickest in the middle; the abdomen below the diaphragm is densest.
    half = p.body_half_width * (0.90 + 0.10 * np.clip((v - 0.05) / 0.25, 0, 1))
    bx = (u - mid) / half
    body = np.clip(1 - bx ** 2, 0, None) ** 0.6
    body *= 1 / (1 + np.exp(-(v - 0.02) * 60))
    img = 0.05 + 0.55 * body + 0.06 * lf(4, 5) * body

    lung_masks = {l.side: _lung_mask(l, mid, u, v) for l in p.lungs}
    lungs = lung_masks[-1] | lung_masks[1]
    heart = _heart_mask(p, u, v)
    # Upper mediastinum and aortic knob.
    medi = (np.abs(u - mid - 0.005) < 0.05 + 0.02 * np.clip((v - 0.2) / 0.3, 0, 1)) & (v < p.heart_v)
    knob = ((u - mid - 0.055) / 0.035) ** 2 + ((v - 0.30) / 0.03) ** 2 < 1
    solid = heart | medi | knob
    lung_fields = lungs & ~solid
    abdomen = (v > np.min([l.base_v for l in p.lungs]) - 0.1) & ~lungs & ~solid
    img += 0.12 * _soft(abdomen, h, w, 0.02) * body + 0.1 * _soft(solid, h, w, 0.006)

    masks = {k: np.zeros((h, w), bool) for k in LABELS}
    fill = np.zeros((h, w), np.float32)  # fraction of the air space replaced by fluid or tissue
    if p.effusion:
        eff = np.zeros((h, w), bool)
        for side in p.effusion["sides"]:
            lung = p.lungs[0] if side < 0 else p.lungs[1]
            eff |= _effusion_mask(p, lung, lung_masks[side] & ~solid, u, v)
        masks["effusion"] = eff
        fill = np.maximum(fill, p.effusion["strength"] * 1.35 * _soft(eff, h, w, 0.005))
    if p.opacity:
        o = p.opacity
        lung = p.lungs[0] if o["side"] < 0 else p.lungs[1]
        cx, cy = _region_center(lung, mid, o["cy"], o["cx_frac"])
        ang = np.arctan2(v - cy, u - cx)
        rr = np.hypot((u - cx) / o["rx"], (v - cy) / o["ry"])
        lobes = np.array(o["lobes"], np.float32)
        wobble = sum(lobes[i, 0] * 0.18 * np.cos((i + 2) * ang + lobes[i, 1] * 3) for i in range(5))
        blob = np.clip(1.0 + wobble - rr, 0, None) + 0.25 * lf(2, 12)
        region = (blob > 0.25) & lung_masks[lung.side] & ~solid
        masks["opacity"] = region
        # Patchy consolidation: denser centrally, mottled, soft-edged.
        patch = _soft(region, h, w, 0.008) * (0.55 + 0.45 * np.clip(blob * 1.5, 0, 1)) * (1 + 0.25 * lf(3, 24))
        fill = np.maximum(fill, np.clip(o["strength"] * 2.2 * patch, 0, 1))

    air = _soft(lung_fields, h, w, 0.008) * (1 - np.clip(fill, 0, 1))
    lung_depth = _soft(lungs, h, w, 0.04)  # the air column is thicker centrally
    img -= (0.30 + 0.14 * lung_depth) * air * (1 + 0.08 * lf(1, 6))

    # Trachea: dark air column.
    trachea = (np.abs(u - mid) < 0.017) & (v < 0.34) & (v > 0.02)
    img -= 0.10 * _soft(trachea, h, w, 0.004)

    # Vascular markings: tapered branches from each hilum, visible against aerated lung.
    vess = np.zeros((h, w), np.float32)
    for x0, y0, ang, length, width0, curl in p.vessels:
        steps = 5
        x, y = x0, y0
        for s in range(steps):
            a = ang + curl * 0.15 * s
            x1, y1 = x + np.cos(a) * length / steps, y + np.sin(a) * length / steps
            _segment(vess, u, v, x, y, x1, y1, width0 * (1 - s / steps) * 0.8 + 0.0015, 1 - 0.6 * s / steps)
            x, y = x1, y1
    img += 0.08 * vess * air

    # Spine: faint vertebral column with end plates, seen through the mediastinum.
    sp = d < 0.033
    plates = 0.5 + 0.5 * np.cos(2 * np.pi * (v / 0.042))
    img += _soft(sp, h, w, 0.004) * (0.05 + 0.03 * plates) * (v > 0.05)

    # Posterior ribs: arcs from the spine, running laterally and down, brighter cortex;
    # they end at the rib cage, just outside the lungs.
    cage = np.maximum(_lung_lateral(p.lungs[0], v), _lung_lateral(p.lungs[1], v)) + 0.035
    ribs = np.zeros((h, w), np.float32)
    for k in range(11):
        y0 = 0.075 + (k + p.rib_phase * 0.3) * p.rib_spacing
        yc = y0 - 0.12 * d + 0.95 * d ** 2
        thick = 0.016 + 0.004 * (k / 10)
        dist = np.abs(v - yc) / thick
        band = np.clip(1 - dist, 0, 1) ** 0.5 * 0.7 + 0.5 * np.exp(-((dist - 0.85) / 0.2) ** 2)
        ribs = np.maximum(ribs, band * ((d > 0.03) & (d < cage)))
    # Anterior ribs: fainter, descending towards the sternum.
    for k in range(6):
        y0 = 0.16 + k * 0.08 + p.rib_phase * 0.02
        yc = y0 + 0.9 * (0.38 - d) ** 2 - 0.02
        dist = np.abs(v - yc) / 0.012
        ribs = np.maximum(ribs, 0.35 * np.clip(1 - dist, 0, 1) * ((d > 0.12) & (d < cage - 0.02)))
    img += p.rib_strength * ribs * (0.5 + 0.5 * air)

    # Clavicles: from the sternal notch up and out to the shoulders.
    for side in (-1, 1):
        dd = (u - mid) * side
        yc = 0.19 - 0.22 * (dd - 0.04) + 0.35 * np.clip(dd - 0.22, 0, None) ** 2
        dist = np.abs(v - yc) / 0.014
        clav = (np.clip(1 - dist, 0, 1) ** 0.5 * 0.6 + 0.4 * np.exp(-((dist - 0.85) / 0.2) ** 2))
        img += 0.13 * clav * ((dd > 0.035) & (dd < 0.33))

    # Gastric bubble under the left hemidiaphragm.
    lt = p.lungs[1]
    bub = ((u - (mid + 0.16)) / 0.06) ** 2 + ((v - (lt.base_v + 0.035)) / 0.03) ** 2 < 1
    img -= 0.12 * _soft(bub & ~lungs, h, w, 0.006)

    if p.nodule:
        n = p.nodule
        lung = p.lungs[0] if n["side"] < 0 else p.lungs[1]
        cx, cy = _region_center(lung, mid, n["cy"], n["cx_frac"])
        rr = np.hypot((u - cx) * w / max(h, w), (v - cy) * h / max(h, w)) / n["radius"]
        masks["nodule"] = rr < 1
        img += n["strength"] * np.clip(1 - rr ** 4, 0, 1) ** 0.5 * _soft(rr < 1.15, h, w, 0.003)
    if p.labels["cardiomegaly"]:
        masks["cardiomegaly"] = heart

    # Acquisition: exposure, detector blur, collimation edges, quantum noise.
    e = p.exposure
    img = np.clip(img, 0, 1)
    img = np.clip(img * e["contrast"] + e["offset"], 0.0, 1.0) ** e["gamma"]
    if e["blur"] > 0:
        img = ndimage.gaussian_filter(img, e["blur"] * max(h, w))
    c = e["collimation"]
    coll = (u < c) | (u > 1 - c) | (v < c * 0.5) | (v > 1 - c * 0.5)
    img = np.where(coll, 0.85 * img + 0.12, img)
    nr = _rng(p.seed, p.index, 1)
    img = img + nr.normal(0, e["noise"], size=(h, w)).astype(np.float32) * (0.5 + img)
    img = np.clip(img, 0, 1)
    img = _burn_text(p, img)
    return img.astype(np.float32), masks


def _burn_text(p, img):
    """Side marker and burned-in annotation, drawn at a fixed size and scaled to the image."""
    h, w = img.shape
    items = []
    if p.marker.get("show"):
        items.append(("L", p.marker["u"], p.marker["v"], 0.05))
    if p.text:
        items.append((p.text, 0.04, 0.93, 0.025))
    font = ImageFont.load_default()
    for text, tu, tv, size in items:
        canvas = Image.new("L", (8 * len(text) + 4, 14), 0)
        ImageDraw.Draw(canvas).text((2, 1), text, fill=255, font=font)
        th = max(int(size * h), 6)
        tw = max(int(canvas.width * th / canvas.height), 6)
        x0, y0 = int(tu * w), int(tv * h)
        tw, th = min(tw, w - x0), min(th, h - y0)
        if tw <= 0 or th <= 0:
            continue
        glyph = np.asarray(canvas.resize((tw, th), Image.BILINEAR), np.float32) / 255
        region = img[y0:y0 + th, x0:x0 + tw]
        img[y0:y0 + th, x0:x0 + tw] = np.maximum(region, glyph * 0.97)
    return img


def to_uint16(img):
    return np.round(np.clip(img, 0, 1) * 65535).astype(np.uint16)


def pack_masks(masks):
    """One 8-bit mask image, bit i set where LABELS[i] is present."""
    out = np.zeros(next(iter(masks.values())).shape, np.uint8)
    for i, k in enumerate(LABELS):
        out |= masks[k].astype(np.uint8) << i
    return out


def _write_one(args):
    seed, index, size, out = args
    p = sample_params(seed, index)
    img, masks = render(p, size, size)
    name = f"phantom-{seed}-{index:06d}"
    Image.fromarray(to_uint16(img)).save(os.path.join(out, "images", name + ".png"))
    Image.fromarray(pack_masks(masks)).save(os.path.join(out, "masks", name + ".png"))
    return [name + ".png"] + [int(p.labels[k]) for k in LABELS] + [round(p.ctr, 4)]


def write_dataset(out, seed, count, size, workers=2):
    """Write images/*.png (16-bit), masks/*.png (bit-packed) and labels.csv."""
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    jobs = [(seed, i, size, out) for i in range(count)]
    with ProcessPoolExecutor(workers) as ex:
        rows = list(ex.map(_write_one, jobs, chunksize=32))
    with open(os.path.join(out, "labels.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["image"] + LABELS + ["ctr"])
        wr.writerows(rows)
    with open(os.path.join(out, "labels.csv"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    info = {"generator": "models/training/phantoms.py", "seed": seed, "count": count, "size": size,
            "prevalence": {k: round(sum(r[1 + i] for r in rows) / len(rows), 4) for i, k in enumerate(LABELS)},
            "labels_csv_sha256": digest}
    with open(os.path.join(out, "dataset.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def uid_for(seed, index, kind):
    """A valid, reproducible DICOM UID derived from the phantom's seed."""
    from pydicom.uid import generate_uid
    return generate_uid(entropy_srcs=[f"resight-phantom:{seed}:{index}:{kind}"])


def write_dicom(path, p, img, kind, study_no):
    """Write a phantom as CR MONOCHROME1 or DX MONOCHROME2, 12 bits stored in 16, uncompressed."""
    import datetime
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID

    h, w = img.shape
    # Stored values occupy a realistic raw range; the window maps it back to the display values.
    lo, span = 400, 3200
    display = lo + img * span
    if kind == "CR":
        stored = np.round(4095 - display)  # MONOCHROME1: high stored value shows dark
        sop_class = "1.2.840.10008.5.1.4.1.1.1"
        window_center = 4095 - (lo + span / 2)
    else:
        stored = np.round(display)
        sop_class = "1.2.840.10008.5.1.4.1.1.1.1"  # DX Image Storage - For Presentation
        window_center = lo + span / 2
    stored = np.clip(stored, 0, 4095).astype(np.uint16)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid_for(p.seed, p.index, "sop")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    when = datetime.datetime(2026, 1, 1) + datetime.timedelta(days=p.index % 300, minutes=p.index)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = when.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = when.strftime("%H%M%S")
    ds.AccessionNumber = f"PH{study_no:06d}"
    ds.Modality = kind
    ds.Manufacturer = "Resight phantom generator"
    ds.InstitutionName = "Synthetic"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Chest PA (synthetic phantom)"
    ds.SeriesDescription = "PA"
    ds.PatientName = f"PHANTOM^CXR{study_no:03d}"
    ds.PatientID = f"PHANTOM-{p.seed}-{p.index:06d}"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.BodyPartExamined = "CHEST"
    ds.PatientOrientation = ["R", "F"]  # rows run to the patient's left, columns to the feet
    ds.StudyInstanceUID = uid_for(p.seed, p.index, "study")
    ds.SeriesInstanceUID = uid_for(p.seed, p.index, "series")
    ds.StudyID = f"{study_no}"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if kind == "CR" else "MONOCHROME2"
    ds.Rows, ds.Columns = h, w
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    spacing = [f"{430.0 / max(h, w):.6f}"] * 2  # a 43 cm detector
    ds.ImagerPixelSpacing = spacing
    ds.WindowCenter = f"{window_center:.1f}"
    ds.WindowWidth = f"{span:.1f}"
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BurnedInAnnotation = "YES" if (p.marker.get("show") or p.text) else "NO"
    ds.LossyImageCompression = "00"
    ds.ViewPosition = "PA"
    ds.RescaleType = "US"
    if kind == "DX":
        ds.ImageType = ["ORIGINAL", "PRIMARY", ""]  # DX requires a third value (may be empty)
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PixelIntensityRelationship = "LOG"
        ds.PixelIntensityRelationshipSign = 1
        ds.PresentationLUTShape = "IDENTITY"
        ds.ImageLaterality = "U"
        ds.PositionerType = "COLUMN"
        ds.AcquisitionContextSequence = []
        ds.DetectorType = "DIRECT"
        ds.PixelSpacing = spacing
        ds.PixelSpacingCalibrationType = "GEOMETRY"
        ds.PixelSpacingCalibrationDescription = "Synthetic detector geometry"
        ds.VOILUTFunction = "LINEAR"
        code = Dataset()
        code.CodeValue = "399348003"
        code.CodingSchemeDesignator = "SCT"
        code.CodeMeaning = "Chest"
        ds.AnatomicRegionSequence = [code]
        view = Dataset()
        view.CodeValue = "399214001"
        view.CodingSchemeDesignator = "SCT"
        view.CodeMeaning = "postero-anterior"
        view.ViewModifierCodeSequence = []
        ds.ViewCodeSequence = [view]
    ds.PixelData = stored.tobytes()
    ds.save_as(path, write_like_original=False)
    return ds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="dataset folder to write")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--size", type=int, default=256, help="image side in pixels")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    info = write_dataset(a.out, a.seed, a.count, a.size, a.workers)
    print(f"wrote {a.out}: {json.dumps(info)}")


if __name__ == "__main__":
    main()
