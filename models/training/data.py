"""Image loading, the model card's intensity mapping, and in-memory datasets.

The preprocessing here is the contract with the app (main/inference/preprocess): display values in
[0, 1] (DICOM: modality LUT, then the file's first VOI window, else min-max; MONOCHROME1 inverted;
8-bit PNG/JPEG / 255; 16-bit PNG / 65535), a plain bilinear resize of the whole image to the input
size (no letterbox, no antialiasing, half-pixel centres), replicated to 3 channels, then ImageNet
mean/std. Training sees exactly these inputs, so the app gets the scores the card reports.
"""
import csv
import hashlib
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".dcm")


def voi_linear(x, center, width):
    """DICOM PS3.3 C.11.2.1.2.1 linear VOI function, mapped to [0, 1]."""
    return np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0, 1)


def load_dicom(path):
    import pydicom
    ds = pydicom.dcmread(path)
    x = ds.pixel_array.astype(np.float64)
    if x.ndim == 3:  # multi-frame: the first frame is the one a radiograph viewer opens on
        x = x[0]
    x = x * float(getattr(ds, "RescaleSlope", 1) or 1) + float(getattr(ds, "RescaleIntercept", 0) or 0)
    center, width = getattr(ds, "WindowCenter", None), getattr(ds, "WindowWidth", None)
    if center is not None and width is not None:
        first = lambda v: float(v[0]) if isinstance(v, pydicom.multival.MultiValue) else float(v)  # noqa: E731
        y = voi_linear(x, first(center), first(width))
    else:
        lo, hi = x.min(), x.max()
        y = (x - lo) / max(hi - lo, 1e-9)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 1 - y
    return y.astype(np.float32)


def load_image(path):
    """Any supported file -> display values float32 [H, W] in [0, 1]."""
    if path.lower().endswith(".dcm"):
        return load_dicom(path)
    im = Image.open(path)
    if im.mode in ("I;16", "I;16B", "I"):
        return (np.asarray(im, np.float64) / 65535.0).clip(0, 1).astype(np.float32)
    if im.mode != "L":
        im = im.convert("L")  # colour JPEGs of greyscale films: ITU-R 601 luma
    return np.asarray(im, np.float32) / 255.0


def resize(x, size):
    """[..., H, W] float tensor -> [..., size, size], the app's plain bilinear stretch."""
    shape = x.shape
    x = x.reshape(-1, 1, shape[-2], shape[-1])
    y = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return y.reshape(*shape[:-2], size, size)


def normalize(x):
    """[N, 1, H, W] display values -> [N, 3, H, W] model input."""
    mean = torch.tensor(MEAN, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=x.dtype).view(1, 3, 1, 1)
    return (x.expand(-1, 3, -1, -1) - mean) / std


def preprocess(image, size):
    """Display values [H, W] (numpy) -> model input [1, 3, size, size]."""
    x = torch.from_numpy(np.ascontiguousarray(image, np.float32))[None, None]
    return normalize(resize(x, size))


def read_labels_csv(path, labels=None):
    """labels.csv: first column the image file name, then 0/1 columns (other columns ignored)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = list(rows[0].keys())
    if labels is None:
        labels = [c for c in columns[1:] if all(r[c] in ("0", "1") for r in rows)]
    names = [r[columns[0]] for r in rows]
    y = np.array([[float(r[k]) for k in labels] for r in rows], np.float32)
    return names, y, labels


def scan_folders(root):
    """Class-per-folder layout (root/CLASS/*.png): returns (paths, class indices, class names)."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    paths, targets = [], []
    for i, c in enumerate(classes):
        for fn in sorted(os.listdir(os.path.join(root, c))):
            if fn.lower().endswith(IMAGE_EXTENSIONS):
                paths.append(os.path.join(root, c, fn))
                targets.append(i)
    return paths, np.array(targets, np.int64), classes


def load_stack(paths, size, cache_dir=None):
    """Load and resize every image once; kept as uint16 display values [N, 1, size, size].

    The cache file is keyed by the file list and size, so a resumed run skips the decoding.
    """
    key = hashlib.sha256(("\n".join(paths) + f"|{size}").encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"stack-{size}-{key}.pt") if cache_dir else None
    if cache and os.path.exists(cache):
        return torch.load(cache)
    out = torch.empty((len(paths), 1, size, size), dtype=torch.int32)
    for i, p in enumerate(paths):
        x = torch.from_numpy(load_image(p))[None, None]
        out[i] = torch.round(resize(x, size) * 65535).to(torch.int32)[0]
    # torch 1.13 has no uint16: store in int16 with an offset, halving the memory of int32.
    out = (out - 32768).to(torch.int16)
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        torch.save(out, cache + ".tmp")
        os.replace(cache + ".tmp", cache)
    return out


def stack_to_float(batch):
    """int16-coded stack slice -> float32 display values in [0, 1]."""
    return (batch.to(torch.float32) + 32768) / 65535


def load_mask_stack(paths, size, cache_dir=None):
    """Bit-packed mask PNGs (bit i = label i) resized to size x size: uint8 [N, size, size].

    Each label's plane is resized bilinearly like the image and kept where it is >= 0.5.
    """
    key = hashlib.sha256(("\n".join(paths) + f"|{size}|masks").encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"masks-{size}-{key}.pt") if cache_dir else None
    if cache and os.path.exists(cache):
        return torch.load(cache)
    out = torch.zeros((len(paths), size, size), dtype=torch.uint8)
    for i, p in enumerate(paths):
        packed = torch.from_numpy(np.asarray(Image.open(p), np.uint8).astype(np.int64))
        bits = torch.stack([(packed >> c) & 1 for c in range(8)]).float()
        planes = (resize(bits, size) >= 0.5).to(torch.uint8)
        out[i] = sum(planes[c] << c for c in range(8))
    if cache:
        os.makedirs(cache_dir, exist_ok=True)
        torch.save(out, cache + ".tmp")
        os.replace(cache + ".tmp", cache)
    return out


def unpack_masks(packed, count):
    """uint8 [N, H, W] -> float [N, count, H, W] with plane c = bit c."""
    return torch.stack([(packed >> c) & 1 for c in range(count)], 1).float()
