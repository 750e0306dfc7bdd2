"""Export a trained ResNet to ONNX for Resight and write its model card.

Steps: ONNX export (opset 13, dynamic batch, outputs `logits` and `features`) -> onnx.checker ->
find the classifier initializers the CAM needs -> onnxruntime-node (check_onnx.mjs) must reproduce
PyTorch's logits within 1e-4 relative -> evaluate the exported file itself (evaluate.py) ->
card with thresholds, metrics, training data, intended use, limitations and the ONNX sha256.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

import data
import evaluate
import resnet

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = "resight.model-card/1"
INTENDED_USE = "decision support demo; trained on synthetic phantoms; not for clinical use"
LABEL_NAMES = {"opacity": "Lung opacity", "nodule": "Nodule", "effusion": "Pleural effusion",
               "cardiomegaly": "Cardiomegaly", "NORMAL": "Normal", "PNEUMONIA": "Pneumonia"}


def export_onnx(model, size, path, opset=13):
    model.eval()
    dummy = torch.zeros(1, 3, size, size)
    batch = {0: "N"}
    torch.onnx.export(model, dummy, path, input_names=["input"], output_names=["logits", "features"],
                      dynamic_axes={"input": batch, "logits": batch, "features": batch},
                      opset_version=opset, do_constant_folding=True)


def inspect_onnx(path, num_classes, size):
    """Check the graph and return the names of the classifier's weight and bias initializers."""
    m = onnx.load(path)
    onnx.checker.check_model(m)
    onnx.shape_inference.infer_shapes(m, strict_mode=True)
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    gemm = [n for n in m.graph.node if n.op_type == "Gemm"]
    if len(gemm) != 1 or len(gemm[0].input) != 3:
        raise SystemExit(f"{path}: expected one Gemm classifier, found {len(gemm)}")
    resolve = evaluate.initializer_resolver(m.graph)
    weight, bias = resolve(gemm[0].input[1]), resolve(gemm[0].input[2])
    if inits.get(weight, [None])[0] != num_classes or inits.get(bias) != [num_classes]:
        raise SystemExit(f"{path}: classifier initializers {weight} {inits.get(weight)}, {bias} {inits.get(bias)}")
    outputs = [o.name for o in m.graph.output]
    if outputs != ["logits", "features"] or [i.name for i in m.graph.input] != ["input"]:
        raise SystemExit(f"{path}: unexpected inputs/outputs {outputs}")
    return {"weight": weight, "bias": bias}, m.opset_import[0].version


def node_check(onnx_path, model, size, mode):
    """onnxruntime-node must give PyTorch's logits: |ort - torch| <= 1e-4 * max(|torch|, 1)."""
    node = shutil.which("node")
    if mode == "auto" and (node is None or subprocess.run(
            [node, "--input-type=module", "-e", "await import('onnxruntime-node')"], cwd=HERE,
            capture_output=True).returncode != 0):
        print("onnxruntime-node not found: skipping the runtime check (--node-check on to require it)")
        return None
    x = torch.from_numpy(np.random.default_rng(0).normal(0, 1, (3, 3, size, size)).astype(np.float32))
    with torch.no_grad():
        ref, ref_features = model.eval()(x)
    with tempfile.TemporaryDirectory() as tmp:
        bin_path = os.path.join(tmp, "input.bin")
        x.numpy().astype("<f4").tofile(bin_path)
        out = subprocess.run([node or "node", os.path.join(HERE, "check_onnx.mjs"), onnx_path, bin_path,
                              ",".join(map(str, x.shape))], capture_output=True, text=True, cwd=HERE)
    if out.returncode != 0:
        raise SystemExit(f"check_onnx.mjs failed:\n{out.stderr}")
    got = json.loads(out.stdout)
    o = got["outputs"]
    if o["logits"]["dims"] != list(ref.shape) or o["features"]["dims"] != list(ref_features.shape):
        raise SystemExit(f"onnxruntime-node shapes {o} differ from PyTorch {ref.shape} {ref_features.shape}")
    ort_logits = np.array(o["logits"]["data"], np.float64).reshape(ref.shape)
    err = np.abs(ort_logits - ref.numpy()) / np.maximum(np.abs(ref.numpy()), 1)
    if err.max() > 1e-4:
        raise SystemExit(f"onnxruntime-node logits differ from PyTorch: max relative error {err.max():.2e}")
    print(f"onnxruntime-node reproduces PyTorch logits (batch 3): max relative error {err.max():.2e}")
    return float(err.max())


def training_summary(logs, datasets, task):
    stages, seconds = [], 0.0
    for path in logs:
        with open(path) as f:
            h = json.load(f)
        args = h["meta"]["args"]
        seconds += h["trained_seconds"]
        stages.append({"size": h["meta"]["size"], "epochs": args["epochs"], "batch_size": args["batch_size"],
                       "lr": args["lr"], "weight_decay": args["weight_decay"], "augment": args["augment"],
                       "class_weighting": args["class_weighting"], "cam_loss": args.get("cam_loss", 0.0),
                       "train_seconds": round(h["trained_seconds"]),
                       "final_validation": h["history"][-1] if h["history"] else None})
    info = {"optimizer": "AdamW, linear warm-up then cosine decay", "loss": "binary cross-entropy" if task == "multilabel" else "softmax cross-entropy",
            "stages": stages, "train_minutes": round(seconds / 60, 1),
            "hardware": "2 CPU cores" if not torch.cuda.is_available() else torch.cuda.get_device_name(0),
            "framework": f"PyTorch {torch.__version__}", "datasets": {}}
    for name, root in datasets.items():
        if root and os.path.exists(os.path.join(root, "dataset.json")):
            with open(os.path.join(root, "dataset.json")) as f:
                info["datasets"][name] = json.load(f)
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a train.py model.pt to ONNX + model card.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="a train.py model.pt")
    src.add_argument("--weights", help="a torchvision ResNet state dict (give --arch, --labels, --task, --size)")
    ap.add_argument("--arch", default="resnet18", choices=sorted(resnet.ARCHS))
    ap.add_argument("--labels", help="comma-separated label ids, in the order of the classifier's outputs")
    ap.add_argument("--task", choices=["multilabel", "multiclass"], default="multilabel")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--test", help="dataset to measure the card's metrics on (held out)")
    ap.add_argument("--val", help="dataset to choose the per-label thresholds on")
    ap.add_argument("--training-log", action="append", default=[], help="history.json of each stage")
    ap.add_argument("--tolerance", type=int, default=15,
                    help="pointing-game tolerance in input pixels (15, as in Zhang et al. 2016)")
    ap.add_argument("--node-check", choices=["auto", "on", "off"], default="on")
    ap.add_argument("--intended-use", default=INTENDED_USE)
    ap.add_argument("--limitation", action="append", default=[], help="a limitation sentence for the card")
    ap.add_argument("--previous-card", help="card of the model this one continues from (an --init converted from "
                                            "its ONNX by onnx_to_torch.py): its training stages and data are kept "
                                            "in the new card, before this run's")
    ap.add_argument("--changes", help="what changed from the previous version, for the card")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    previous = None
    if a.previous_card:  # read now: the export may overwrite it
        with open(a.previous_card) as f:
            previous = json.load(f)

    if a.checkpoint:
        model, meta = evaluate.load_model(a.checkpoint)
    else:
        if not a.labels:
            ap.error("--weights needs --labels")
        labels = a.labels.split(",")
        state = torch.load(a.weights, map_location="cpu")
        fc = {k.removeprefix("module."): v for k, v in state.get("state_dict", state).items()}.get("fc.weight")
        if fc is None or fc.shape[0] != len(labels):
            ap.error(f"{a.weights} has no trained {len(labels)}-output classifier to export")
        model = resnet.build(a.arch, len(labels), "imagenet", a.weights).eval()
        meta = {"labels": labels, "task": a.task, "size": a.size, "arch": a.arch, "stem": "imagenet"}
    labels, size, task = meta["labels"], meta["size"], meta["task"]
    os.makedirs(a.out_dir, exist_ok=True)
    onnx_path = os.path.join(a.out_dir, f"{a.id}.onnx")
    export_onnx(model, size, onnx_path + ".tmp")
    os.replace(onnx_path + ".tmp", onnx_path)
    cam, opset = inspect_onnx(onnx_path, len(labels), size)
    node_err = node_check(onnx_path, model, size, a.node_check) if a.node_check != "off" else None

    # Metrics describe the exported file: its initializers are loaded back into the ResNet.
    shipped = evaluate.load_onnx_into_resnet(onnx_path)
    probe = torch.from_numpy(np.random.default_rng(1).normal(0, 1, (2, 3, size, size)).astype(np.float32))
    with torch.no_grad():
        if not torch.allclose(shipped(probe)[0], model(probe)[0], rtol=1e-4, atol=1e-4):
            raise SystemExit("the ONNX weights loaded back into PyTorch do not reproduce the model")
    metrics = None
    thresholds = [0.5] * len(labels)
    if a.test:
        metrics = evaluate.evaluate(shipped, {"labels": labels, "task": task, "size": size}, a.test, a.val,
                                    a.tolerance)
        thresholds = [metrics["labels"][k]["threshold"] for k in labels]
    with open(onnx_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    card = {
        "schema": SCHEMA,
        "id": a.id,
        "version": a.version,
        "file": os.path.basename(onnx_path),
        "sha256": sha,
        "task": task,
        "labels": [{"id": k, "name": LABEL_NAMES.get(k, k), "threshold": t} for k, t in zip(labels, thresholds)],
        "input": {
            "name": "input", "height": size, "width": size, "channels": 3, "layout": "NCHW", "dtype": "float32",
            "intensity": "display",
            "resize": "stretch",
            "interpolation": "bilinear",
            "normalize": {"mean": data.MEAN, "std": data.STD},
            "description": "Display values in [0, 1] (DICOM: modality LUT, then the first VOI window or min-max; "
                           "MONOCHROME1 inverted so dense is bright; 8-bit PNG/JPEG / 255, 16-bit PNG / 65535), "
                           "whole image resized to height x width with plain bilinear interpolation "
                           "(half-pixel centres, no antialiasing, no letterbox), replicated to 3 channels, "
                           "then (x - mean) / std per channel.",
        },
        "outputs": {"logits": "logits", "features": "features"},
        "activation": "sigmoid" if task == "multilabel" else "softmax",
        "cam": cam,
        "architecture": {"name": meta.get("arch", "resnet18"), "stem": meta.get("stem", "imagenet"),
                         "features": [shipped.num_features, size // 32, size // 32]},
        "onnx": {"opset": opset, "bytes": os.path.getsize(onnx_path), "sha256": sha, "dynamic_batch": True,
                 "onnxruntime_node_max_relative_error": node_err},
        "intended_use": a.intended_use,
        "limitations": a.limitation,
        "metrics": metrics,
        "training": training_summary(a.training_log, {"train": os.path.dirname(meta["args"]["csv"])
                                                      if meta.get("args", {}).get("csv") else None,
                                                      "validation": a.val, "test": a.test}, task),
        "created": datetime.date.today().isoformat(),
    }
    if a.changes:
        card["changes"] = a.changes
    if previous:
        new, old = card["training"], previous.get("training", {})
        for stage in new["stages"]:
            stage["init"] = (f"{previous['id']} {previous['version']} (ONNX sha256 {previous.get('sha256')}), "
                             "batch norms folded into the convolutions and frozen")
        new["stages"] = old.get("stages", []) + new["stages"]
        new["train_minutes"] = round(old.get("train_minutes", 0) + new["train_minutes"], 1)
        datasets = dict(old.get("datasets", {}))
        if "train" in new["datasets"]:
            datasets["train_continued"] = new["datasets"]["train"]
        for k in ("validation", "test"):
            if k in new["datasets"]:
                datasets[k] = new["datasets"][k]
        new["datasets"] = datasets
        new["previous"] = {"id": previous["id"], "version": previous["version"], "sha256": previous.get("sha256")}
    card_path = os.path.join(a.out_dir, f"{a.id}.json")
    with open(card_path, "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(f"wrote {onnx_path} ({card['onnx']['bytes']} bytes, sha256 {sha}) and {card_path}")
    if metrics:
        print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
