"""Turn an exported Resight ONNX ResNet back into a train.py checkpoint (model.pt), to continue training it.

The exporter folded every batch norm into its convolution, so the running statistics and BN
scale/shift are gone. The checkpoint carries the folded weights in the convolutions and an identity
batch norm after each (mean 0, var 1 - eps, scale 1, shift = the folded bias; see
evaluate.load_onnx_into_resnet). Train it with `train.py --init model.pt --freeze-bn`: the batch
norms stay in eval mode, so each is a per-channel scale and bias (trainable), never batch statistics.

Before writing, the rebuilt network must reproduce onnxruntime-node (the runtime the app ships) on
--check phantoms: max |difference| of logits and of features below --tolerance (default 1e-4).

  onnx_to_torch.py --onnx ../resnet18-cxr-phantom.onnx --check-data data/test --out runs/from-onnx/model.pt
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import data
import evaluate

HERE = os.path.dirname(os.path.abspath(__file__))


def ort_outputs(onnx_path, x):
    """(logits, features) of onnxruntime-node on x [N, 3, H, W], via check_onnx.mjs."""
    with tempfile.TemporaryDirectory() as tmp:
        bin_path = os.path.join(tmp, "input.bin")
        x.numpy().astype("<f4").tofile(bin_path)
        out = subprocess.run(["node", os.path.join(HERE, "check_onnx.mjs"), os.path.abspath(onnx_path), bin_path,
                              ",".join(map(str, x.shape)), "features"], capture_output=True, text=True, cwd=HERE)
    if out.returncode != 0:
        raise SystemExit(f"check_onnx.mjs failed:\n{out.stderr}")
    o = json.loads(out.stdout)["outputs"]
    logits = torch.tensor(o["logits"]["data"], dtype=torch.float32).reshape(o["logits"]["dims"])
    features = torch.tensor(o["features"]["data"], dtype=torch.float32).reshape(o["features"]["dims"])
    return logits, features


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", required=True, help="an ONNX file written by export.py")
    ap.add_argument("--card", help="its model card (default: the .json beside it): labels, task, input size")
    ap.add_argument("--check-data", help="dataset folder (labels.csv + images/) to draw the check inputs from "
                                         "(default: random normal inputs)")
    ap.add_argument("--check", type=int, default=4, help="number of check inputs")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max |ort - torch| of logits and features")
    ap.add_argument("--out", required=True, help="model.pt to write")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    card_path = a.card or os.path.splitext(a.onnx)[0] + ".json"
    with open(card_path) as f:
        card = json.load(f)
    labels = [l["id"] for l in card["labels"]]
    size = card["input"]["height"]
    model = evaluate.load_onnx_into_resnet(a.onnx)

    if a.check_data:
        names, _, _ = data.read_labels_csv(os.path.join(a.check_data, "labels.csv"), labels)
        stack = data.load_stack([os.path.join(a.check_data, "images", n) for n in names[:a.check]], size)
        x = data.normalize(data.stack_to_float(stack))
    else:
        x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (a.check, 3, size, size)).astype(np.float32))
    with torch.no_grad():
        logits, features = model(x)
    ort_logits, ort_features = ort_outputs(a.onnx, x)
    d_logits = float((ort_logits - logits).abs().max())
    d_features = float((ort_features - features).abs().max())
    print(f"onnxruntime-node vs rebuilt PyTorch on {len(x)} inputs: max |diff| logits {d_logits:.2e}, "
          f"features {d_features:.2e} (features max {float(features.abs().max()):.2f})")
    if not (d_logits < a.tolerance and d_features < a.tolerance):
        raise SystemExit(f"the rebuilt network does not reproduce {a.onnx} within {a.tolerance}")

    meta = {"arch": model.arch, "stem": model.stem, "task": card.get("task", "multilabel"), "labels": labels, "size": size,
            "train_images": 0, "val_images": 0,
            "args": {"from_onnx": os.path.abspath(a.onnx), "onnx_sha256": card.get("sha256")},
            "bn_folded": True}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "step": 0, "history": [], "trained_seconds": 0.0, "meta": meta},
               a.out)
    print(f"wrote {a.out} ({meta['arch']}, {len(labels)} labels, {size}px, batch norms folded: train with --freeze-bn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
