"""Grad-CAM reference fixtures for the app's tests, computed by PyTorch autograd.

For each fixture input: the model's logits, and for every label the Grad-CAM at feature resolution
computed the textbook way (Selvaraju et al. 2017): hooks capture layer4's output A and the gradient
of the label's logit with respect to it; alpha_k = mean of that gradient over positions;
CAM = ReLU(sum_k alpha_k A_k). This is independent of the closed form the app uses, so the
TypeScript CAM code can be checked against it. The model is the committed ONNX file itself,
loaded back into PyTorch.

Inputs are samples from assets/samples passed through the card's preprocessing (data.py); each
input tensor is also stored as float32 little-endian NCHW so a test can skip preprocessing.
"""
import argparse
import hashlib
import json
import os

import numpy as np
import torch

import cam_reference
import data
import evaluate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def gradcam_autograd(model, x, label):
    """Grad-CAM [N, h, w] of logit `label` by backpropagation through hooks on layer4."""
    A, dA = cam_reference.activations_and_gradient(model, x, label)
    alpha = dA.mean(dim=(2, 3), keepdim=True)
    return torch.relu((alpha * A).sum(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "resnet18-cxr-phantom.onnx"))
    ap.add_argument("--samples", nargs="+", default=["cxr-opacity-dx.dcm", "cxr-cardiomegaly-effusion-cr.dcm"],
                    help="file names in assets/samples")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "fixtures"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    model, meta = evaluate.load_model(a.model)
    model.eval()
    size, labels = meta["size"], meta["labels"]
    os.makedirs(a.out, exist_ok=True)
    fixtures = []
    for name in a.samples:
        x = data.preprocess(data.load_image(os.path.join(ROOT, "assets", "samples", name)), size)
        bin_name = f"gradcam-{os.path.splitext(name)[0]}.input.bin"
        x.numpy().astype("<f4").tofile(os.path.join(a.out, bin_name))
        with torch.no_grad():
            logits, features = model(x)
        cams = {}
        for c, k in enumerate(labels):
            cam = gradcam_autograd(model, x, c)[0]
            closed = evaluate.gradcam(features, model.fc.weight.detach())[0, c]
            # The two derivations must agree, or the app's closed form would be checked against a bug.
            if not torch.allclose(cam, closed, rtol=1e-4, atol=1e-6):
                raise SystemExit(f"{name}/{k}: autograd and closed-form Grad-CAM disagree")
            cams[k] = [[round(float(v), 7) for v in row] for row in cam]
        fixtures.append({
            "sample": f"assets/samples/{name}",
            "input": bin_name,
            "input_dims": list(x.shape),
            "input_sha256": hashlib.sha256(x.numpy().astype("<f4").tobytes()).hexdigest(),
            "logits": [round(float(v), 6) for v in logits[0]],
            "probabilities": [round(float(v), 6) for v in torch.sigmoid(logits[0])],
            "cam": cams,
        })
    with open(a.model, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    out = {
        "model": {"file": os.path.basename(a.model), "sha256": sha},
        "labels": labels,
        "method": "Grad-CAM by autograd: hooks on layer4 output A, alpha_k = spatial mean of d logit / dA_k, "
                  "CAM = ReLU(sum_k alpha_k A_k), at feature resolution [h, w], not normalized",
        "preprocessing": "data.preprocess(data.load_image(sample), size): the card's intensity mapping",
        "fixtures": fixtures,
    }
    path = os.path.join(a.out, "gradcam-reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} with {len(fixtures)} fixtures")
    # The other CAM methods' references belong to the same model and inputs: keep them in step.
    print(f"wrote {cam_reference.write(a.model, a.out)}")


if __name__ == "__main__":
    main()
