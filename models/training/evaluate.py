"""Evaluate a Resight ResNet: classification, calibration and heatmap localization.

--model takes a train.py model.pt or an exported .onnx file. An ONNX file is evaluated by loading
its own initializers back into the PyTorch ResNet (python onnxruntime is not available here), so
the numbers describe the exact weights the app ships.

Per label: AUROC; sensitivity and specificity on the test set at the threshold chosen on the
validation set (maximum Youden's J); expected calibration error (15 equal-width bins of the
sigmoid/softmax probability); and where the test set has masks, on its positive images:
pointing game (the maximum of the label's Grad-CAM, upsampled bilinearly to the input size, falls
inside the mask dilated by --tolerance pixels at input scale) and IoU of the CAM thresholded at
half its maximum with the mask.

Grad-CAM is computed in closed form, as the app does: for a global-average-pooled linear head,
ReLU(sum_k W[c,k] / (h*w) * A_k); reference.py checks this against autograd.

A dataset folder holds labels.csv (image name, 0/1 label columns), images/ and optionally masks/
(8-bit PNG per image, bit i set where label i is present), as phantoms.py writes them.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage

import data
import resnet


def auroc(scores, y):
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    scores, y = np.asarray(scores, np.float64), np.asarray(y) > 0.5
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    r = np.empty(len(scores), np.float64)
    r[order] = np.arange(1, len(scores) + 1)
    # Average ranks over tied scores.
    uniq, inverse, counts = np.unique(sorted_scores, return_inverse=True, return_counts=True)
    if len(uniq) < len(scores):
        cum = np.cumsum(counts)
        avg = cum - (counts - 1) / 2.0
        r[order] = avg[inverse]
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def youden_threshold(prob, y):
    """Probability threshold maximizing sensitivity + specificity - 1."""
    y = y > 0.5
    best_t, best_j = 0.5, -1.0
    for t in np.unique(prob):
        pred = prob >= t
        j = (pred & y).sum() / max(y.sum(), 1) + (~pred & ~y).sum() / max((~y).sum(), 1) - 1
        if j > best_j:
            best_t, best_j = float(t), j
    return best_t


def sens_spec(prob, y, t):
    y, pred = y > 0.5, prob >= t
    return float((pred & y).sum() / max(y.sum(), 1)), float((~pred & ~y).sum() / max((~y).sum(), 1))


def ece(prob, y, bins=15):
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() * abs(prob[sel].mean() - y[sel].mean())
    return float(total / len(prob))


def gradcam(features, weight):
    """Closed-form Grad-CAM: features [N, K, h, w], weight [C, K] -> [N, C, h, w]."""
    h, w = features.shape[-2:]
    return F.relu(torch.einsum("nkhw,ck->nchw", features, weight) / (h * w))


def initializer_resolver(graph):
    """Map a tensor name to the initializer behind it: the exporter shares equal initializers
    between convolutions through Identity nodes."""
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}

    def resolve(name):
        while name in alias:
            name = alias[name]
        return name
    return resolve


def load_onnx_into_resnet(path):
    """Rebuild the PyTorch ResNet from an exported ONNX file's initializers.

    The exporter folds each batch norm into its convolution; loading the folded weights into the
    convolution and an identity batch norm (mean 0, var 1 - eps, scale 1, shift = folded bias)
    reproduces the graph exactly. Convolutions are matched by their scoped node names
    (/layer1/layer1.0/conv1/Conv -> layer1.0.conv1).
    """
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    resolve = initializer_resolver(m.graph)
    values = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    inits = {n: values[resolve(n)] for n in set(values) | {i for node in m.graph.node for i in node.input}
             if resolve(n) in values}
    fc_w = inits["fc.weight"]
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    num_features = fc_w.shape[1]
    arch = {(8, 512): "resnet18", (16, 512): "resnet34", (16, 2048): "resnet50"}.get(
        (sum(1 for n in convs if re.match(r"^/layer\d/layer\d\.\d+/conv1/Conv$", n.name)), num_features))
    if arch is None:
        raise ValueError(f"{path}: not a ResNet-18/34/50 export this tool understands")
    stem_w = inits[convs[0].input[1]]
    model = resnet.ResNet(arch, fc_w.shape[0], "imagenet" if stem_w.shape[-1] == 7 else "cifar")
    modules = dict(model.named_modules())
    for n in convs:
        # Scopes hold each level's own name ("layer1.0" = child "0" of layer1): keep the last part.
        conv_name = ".".join(p.split(".")[-1] for p in n.name.strip("/").split("/")[:-1])
        conv = modules[conv_name]
        bn_name = conv_name[:-1] + "1" if conv_name.endswith("downsample.0") else \
            conv_name.rsplit("conv", 1)[0] + "bn" + conv_name.rsplit("conv", 1)[1]
        bn = modules[bn_name]
        conv.weight.data.copy_(inits[n.input[1]])
        bias = inits[n.input[2]] if len(n.input) > 2 else torch.zeros(conv.out_channels)
        bn.weight.data.fill_(1)
        bn.bias.data.copy_(bias)
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
    model.fc.weight.data.copy_(fc_w)
    model.fc.bias.data.copy_(inits["fc.bias"])
    return model.eval()


def load_model(path, labels=None):
    """-> (model in eval mode, meta with labels/task/size). A .onnx takes labels from its card."""
    if path.endswith(".onnx"):
        model = load_onnx_into_resnet(path)
        card_path = os.path.splitext(path)[0] + ".json"
        card = {}
        if os.path.exists(card_path):
            with open(card_path) as f:
                card = json.load(f)
        meta = {"labels": labels or [l["id"] for l in card.get("labels", [])],
                "task": card.get("task", "multilabel"),
                "size": card.get("input", {}).get("height", 224),
                "thresholds": [l.get("threshold") for l in card.get("labels", [])]}
        if len(meta["labels"]) != model.fc.out_features:
            raise SystemExit(f"{path}: give --labels (no card beside it names {model.fc.out_features} labels)")
        return model, meta
    ck = torch.load(path, map_location="cpu")
    meta = dict(ck["meta"])
    model = resnet.ResNet(meta["arch"], len(meta["labels"]), meta["stem"])
    model.load_state_dict(ck["state_dict"])
    return model.eval(), meta


def load_dataset(root, labels, task, size):
    """-> (stack [N,1,S,S], targets [N, C] one-vs-rest 0/1, masks [N, C, S, S] bool or None)."""
    if os.path.exists(os.path.join(root, "labels.csv")):
        names, y, _ = data.read_labels_csv(os.path.join(root, "labels.csv"), labels)
        stack = data.load_stack([os.path.join(root, "images", n) for n in names], size)
        masks = None
        if os.path.isdir(os.path.join(root, "masks")):
            masks = torch.zeros((len(names), len(labels), size, size), dtype=torch.bool)
            for i, n in enumerate(names):
                packed = np.asarray(Image.open(os.path.join(root, "masks", n)))
                bits = np.stack([(packed >> c) & 1 for c in range(len(labels))]).astype(np.float32)
                masks[i] = data.resize(torch.from_numpy(bits), size) >= 0.5
        return stack, y, masks
    paths, targets, classes = data.scan_folders(root)
    if classes != labels:
        raise SystemExit(f"{root}: classes {classes} differ from the model's labels {labels}")
    y = np.eye(len(labels), dtype=np.float32)[targets]
    return data.load_stack(paths, size), y, None


@torch.no_grad()
def run(model, stack, task, batch=64):
    """-> probabilities [N, C] and closed-form CAMs [N, C, h, w]."""
    model = model.to(memory_format=torch.channels_last)
    probs, cams = [], []
    for i in range(0, len(stack), batch):
        x = data.normalize(data.stack_to_float(stack[i:i + batch])).contiguous(memory_format=torch.channels_last)
        logits, features = model(x)
        probs.append(torch.sigmoid(logits) if task == "multilabel" else logits.softmax(1))
        cams.append(gradcam(features.float(), model.fc.weight))
    return torch.cat(probs).numpy().astype(np.float64), torch.cat(cams)


def localization(cams, masks, y, size, tolerance):
    """Pointing game (strict and within `tolerance` px) and IoU at half maximum, positives only."""
    disk = np.hypot(*np.mgrid[-tolerance:tolerance + 1, -tolerance:tolerance + 1]) <= tolerance
    out = []
    for c in range(cams.shape[1]):
        hits = strict = 0
        ious = []
        pos = np.flatnonzero(y[:, c] > 0.5)
        for i in pos:
            m = masks[i, c].numpy()
            if not m.any():
                continue
            up = F.interpolate(cams[i:i + 1, c:c + 1], size=(size, size), mode="bilinear", align_corners=False)[0, 0]
            r, col = divmod(int(torch.argmax(up)), size)
            strict += bool(m[r, col])
            hits += bool(ndimage.binary_dilation(m, disk)[r, col]) if tolerance else bool(m[r, col])
            peak = float(up.max())
            on = (up >= 0.5 * peak).numpy() if peak > 0 else np.zeros_like(m)
            ious.append((on & m).sum() / max((on | m).sum(), 1))
        n = max(len(ious), 1)
        out.append({"pointing_game": round(hits / n, 4), "pointing_game_strict": round(strict / n, 4),
                    "iou": round(float(np.mean(ious)) if ious else float("nan"), 4), "n_localized": len(ious)})
    return out


def evaluate(model, meta, test_dir, val_dir=None, tolerance=15):
    labels, task, size = meta["labels"], meta["task"], meta["size"]
    thresholds = meta.get("thresholds") or [0.5] * len(labels)
    if val_dir:
        xv, yv, _ = load_dataset(val_dir, labels, task, size)
        pv, _ = run(model, xv, task)
        thresholds = [youden_threshold(pv[:, c], yv[:, c]) for c in range(len(labels))]
    xt, yt, masks = load_dataset(test_dir, labels, task, size)
    pt, cams = run(model, xt, task)
    loc = localization(cams, masks, yt, size, tolerance) if masks is not None else [{}] * len(labels)
    per_label = {}
    for c, k in enumerate(labels):
        sens, spec = sens_spec(pt[:, c], yt[:, c], thresholds[c])
        per_label[k] = {"auroc": round(auroc(pt[:, c], yt[:, c]), 4), "threshold": round(thresholds[c], 4),
                        "sensitivity": round(sens, 4), "specificity": round(spec, 4),
                        "ece": round(ece(pt[:, c], yt[:, c]), 4),
                        "positives": int(yt[:, c].sum()), "negatives": int(len(yt) - yt[:, c].sum()), **loc[c]}
    return {"test_set": os.path.basename(os.path.normpath(test_dir)), "test_images": len(yt),
            "validation_images": None if not val_dir else int(len(yv)),
            "threshold_rule": "maximum Youden's J on the validation set" if val_dir else "from the card",
            "pointing_game_tolerance_px": tolerance, "input_size": size,
            "macro_auroc": round(float(np.mean([v["auroc"] for v in per_label.values()])), 4),
            "labels": per_label}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Evaluate a Resight ResNet (model.pt or .onnx).")
    ap.add_argument("--model", required=True)
    ap.add_argument("--test", required=True, help="dataset folder (labels.csv + images/ [+ masks/]) or class folders")
    ap.add_argument("--val", help="validation dataset for choosing thresholds (default: the card's)")
    ap.add_argument("--labels", help="comma-separated labels, for an .onnx without a card")
    ap.add_argument("--tolerance", type=int, default=15,
                    help="pointing-game tolerance in input pixels (15, as in Zhang et al. 2016)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="write the metrics JSON here too")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, meta = load_model(a.model, a.labels.split(",") if a.labels else None)
    metrics = evaluate(model, meta, a.test, a.val, a.tolerance)
    text = json.dumps(metrics, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
