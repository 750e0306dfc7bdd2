"""Reference maps for the CAM methods other than Grad-CAM, computed from their published
definitions with PyTorch autograd, for the app's tests (main/inference/cam).

For each input of models/fixtures/gradcam-reference.json (written by reference.py), hooks capture
layer4's output A and the gradient G = d logit_c / dA, and each method is computed as its paper
defines it from A and G, never from the classifier weights:
  HiResCAM   (Draelos & Carin 2020):  ReLU(sum_k G_k * A_k), element-wise
  XGrad-CAM  (Fu et al. 2020):        alpha_k = sum_ij G_k A_k / sum_ij A_k;  ReLU(sum_k alpha_k A_k)
  LayerCAM   (Jiang et al. 2021):     ReLU(sum_k ReLU(G_k) * A_k)
  Grad-CAM++ (Chattopadhay et al. 2018, exponential output): a = G^2 / (2 G^2 + sum_ij A * G^3),
             alpha_k = sum_ij a * ReLU(G_k);  ReLU(sum_k alpha_k A_k)
  Eigen-CAM  (Muhammad & Yeasin 2020): projection of the centred activations (positions x channels)
             on their first right singular vector, signed to correlate positively with the mean
             activation, then ReLU.
Maps are at feature resolution and not normalised.
"""
import argparse
import json
import os

import numpy as np
import torch

import evaluate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def activations_and_gradient(model, x, label):
    """Layer4's output A [N, K, h, w] and the gradient of logit `label` with respect to it, by hooks."""
    captured = {}

    def hook(_module, _inputs, output):
        captured["A"] = output
        output.register_hook(lambda g: captured.__setitem__("G", g))

    handle = model.layer4.register_forward_hook(hook)
    try:
        model.zero_grad()
        logits, _ = model(x)
        logits[:, label].sum().backward()
    finally:
        handle.remove()
    return captured["A"].detach(), captured["G"].detach()


def methods(A, G):
    relu = torch.relu
    sum_a = A.sum(dim=(1, 2), keepdim=True)
    g2, g3 = G ** 2, G ** 3
    denom = 2 * g2 + sum_a * g3
    a = torch.where(denom != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), torch.zeros_like(G))
    pp_alpha = (a * relu(G)).sum(dim=(1, 2), keepdim=True)
    x_alpha = (G * A).sum(dim=(1, 2), keepdim=True) / (sum_a + 1e-12)
    k, h, w = A.shape
    flat = A.reshape(k, h * w).T
    centred = flat - flat.mean(dim=0, keepdim=True)
    _, _, vt = torch.linalg.svd(centred, full_matrices=False)
    projection = centred @ vt[0]
    if torch.dot(projection, flat.mean(dim=1)) < 0:
        projection = -projection
    return {
        "hirescam": relu((G * A).sum(0)),
        "xgradcam": relu((x_alpha * A).sum(0)),
        "layercam": relu((relu(G) * A).sum(0)),
        "gradcampp": relu((pp_alpha * A).sum(0)),
        "eigencam": relu(projection.reshape(h, w)),
    }


def write(model_path, fixtures_dir):
    """Writes cam-methods-reference.json for the inputs of gradcam-reference.json in fixtures_dir."""
    model, meta = evaluate.load_model(model_path)
    with open(os.path.join(fixtures_dir, "gradcam-reference.json")) as f:
        gradcam = json.load(f)
    cases = []
    for fx in gradcam["fixtures"]:
        x = torch.from_numpy(np.fromfile(os.path.join(fixtures_dir, fx["input"]), "<f4").reshape(fx["input_dims"]))
        maps = {}
        for c, label in enumerate(meta["labels"]):
            A, G = (t[0].double() for t in activations_and_gradient(model, x, c))
            maps[label] = {m: [[round(float(v), 7) for v in row] for row in cam] for m, cam in methods(A, G).items()}
        cases.append({"input": fx["input"], "maps": maps})
    out = {"model": gradcam["model"], "labels": meta["labels"], "definitions": __doc__, "cases": cases}
    path = os.path.join(fixtures_dir, "cam-methods-reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "resnet18-cxr-phantom.onnx"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "models", "fixtures"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    print(f"wrote {write(a.model, a.fixtures)}")


if __name__ == "__main__":
    main()
