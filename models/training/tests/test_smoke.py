"""Smoke test of the training pipeline: phantoms -> 2 training steps (with the localization term)
-> ONNX export -> card.

Run from the repository root: /usr/bin/python3 -m unittest discover -s models/training/tests -v
"""
import hashlib
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import data  # noqa: E402
import evaluate  # noqa: E402
import export  # noqa: E402
import onnx  # noqa: E402
import onnx_to_torch  # noqa: E402
import phantoms  # noqa: E402
import reference  # noqa: E402
import train  # noqa: E402

REQUIRED_CARD_FIELDS = ["schema", "id", "version", "file", "task", "labels", "input", "outputs", "cam"]


class PipelineSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(2)
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        cls.data_dir = os.path.join(root, "phantoms")
        phantoms.write_dataset(cls.data_dir, seed=5, count=32, size=96, workers=1)
        cls.run_dir = os.path.join(root, "run")
        train.main(["--csv", os.path.join(cls.data_dir, "labels.csv"), "--images", os.path.join(cls.data_dir, "images"),
                    "--size", "64", "--batch-size", "8", "--epochs", "1", "--max-steps", "2", "--warmup-steps", "1",
                    "--val-split", "0.25", "--masks", os.path.join(cls.data_dir, "masks"), "--cam-loss", "0.5",
                    "--out", cls.run_dir])
        cls.out_dir = os.path.join(root, "export")
        export.main(["--checkpoint", os.path.join(cls.run_dir, "model.pt"), "--out-dir", cls.out_dir, "--id", "smoke",
                     "--test", cls.data_dir, "--val", cls.data_dir, "--node-check", "auto",
                     "--training-log", os.path.join(cls.run_dir, "history.json")])
        cls.onnx_path = os.path.join(cls.out_dir, "smoke.onnx")
        with open(os.path.join(cls.out_dir, "smoke.json")) as f:
            cls.card = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_training_ran_two_steps(self):
        ck = torch.load(os.path.join(self.run_dir, "model.pt"), map_location="cpu")
        self.assertEqual(ck["step"], 2)
        self.assertEqual(ck["meta"]["labels"], phantoms.LABELS)

    def test_onnx_graph_and_shapes(self):
        m = onnx.load(self.onnx_path)
        onnx.checker.check_model(m)
        inferred = onnx.shape_inference.infer_shapes(m)
        self.assertGreaterEqual(m.opset_import[0].version, 13)
        self.assertEqual([i.name for i in m.graph.input], ["input"])
        dims = {o.name: [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output}
        self.assertEqual(dims["logits"][1:], [4])
        self.assertEqual(dims["features"][1:], [512, 2, 2])
        self.assertIsInstance(dims["logits"][0], str, "batch dimension must be dynamic")
        inits = {i.name: list(i.dims) for i in m.graph.initializer}
        self.assertEqual(inits[self.card["cam"]["weight"]], [4, 512])
        self.assertEqual(inits[self.card["cam"]["bias"]], [4])

    def test_onnx_weights_reproduce_checkpoint(self):
        model, _ = evaluate.load_model(os.path.join(self.run_dir, "model.pt"))
        shipped = evaluate.load_onnx_into_resnet(self.onnx_path)
        x = torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            (a, fa), (b, fb) = model(x), shipped(x)
        self.assertTrue(torch.allclose(a, b, rtol=1e-4, atol=1e-5))
        self.assertTrue(torch.allclose(fa, fb, rtol=1e-4, atol=1e-5))

    def test_card_schema(self):
        c = self.card
        for k in REQUIRED_CARD_FIELDS:
            self.assertIn(k, c)
        self.assertEqual(c["schema"], "resight.model-card/1")
        self.assertEqual(c["task"], "multilabel")
        self.assertEqual([l["id"] for l in c["labels"]], phantoms.LABELS)
        for l in c["labels"]:
            self.assertTrue(0 <= l["threshold"] <= 1)
            self.assertIsInstance(l["name"], str)
        self.assertEqual(c["input"]["name"], "input")
        self.assertEqual((c["input"]["height"], c["input"]["width"], c["input"]["channels"]), (64, 64, 3))
        self.assertEqual(c["input"]["normalize"], {"mean": data.MEAN, "std": data.STD})
        self.assertEqual(c["input"]["resize"], "stretch")
        self.assertEqual(c["outputs"], {"logits": "logits", "features": "features"})
        self.assertEqual(c["file"], "smoke.onnx")
        with open(self.onnx_path, "rb") as f:
            self.assertEqual(c["sha256"], hashlib.sha256(f.read()).hexdigest())
        self.assertIn("not for clinical use", c["intended_use"])
        for k in phantoms.LABELS:
            self.assertIn("auroc", c["metrics"]["labels"][k])

    def test_closed_form_cam_matches_autograd(self):
        model = evaluate.load_onnx_into_resnet(self.onnx_path)
        x = torch.randn(1, 3, 64, 64)
        with torch.no_grad():
            _, features = model(x)
        closed = evaluate.gradcam(features, model.fc.weight.detach())
        for c in range(4):
            self.assertTrue(torch.allclose(reference.gradcam_autograd(model, x, c), closed[:, c], rtol=1e-4, atol=1e-7))

    def test_continue_from_onnx_with_frozen_batch_norms(self):
        # onnx_to_torch.py rebuilds the exported network (batch norms folded) as a train.py checkpoint;
        # it checks itself against onnxruntime-node when the app's node_modules are there.
        root = self.tmp.name
        ck = os.path.join(root, "from-onnx", "model.pt")
        node_ok = export.node_check(self.onnx_path, evaluate.load_onnx_into_resnet(self.onnx_path), 64, "auto")
        if node_ok is not None:
            onnx_to_torch.main(["--onnx", self.onnx_path, "--check-data", self.data_dir, "--check", "2", "--out", ck])
        else:
            model = evaluate.load_onnx_into_resnet(self.onnx_path)
            torch.save({"state_dict": model.state_dict(), "meta": {"bn_folded": True}}, ck)
        with self.assertRaises(SystemExit):  # folded batch norms must not meet batch statistics
            train.main(["--csv", os.path.join(self.data_dir, "labels.csv"), "--images",
                        os.path.join(self.data_dir, "images"), "--size", "64", "--epochs", "1", "--max-steps", "1",
                        "--val-split", "0.25", "--init", ck, "--out", os.path.join(root, "bad")])
        run = os.path.join(root, "continued")
        train.main(["--csv", os.path.join(self.data_dir, "labels.csv"), "--images", os.path.join(self.data_dir, "images"),
                    "--size", "64", "--batch-size", "8", "--epochs", "1", "--max-steps", "1", "--warmup-steps", "1",
                    "--val-split", "0.25", "--masks", os.path.join(self.data_dir, "masks"), "--cam-loss", "0.5",
                    "--init", ck, "--freeze-bn", "--out", run])
        before = torch.load(ck, map_location="cpu")["state_dict"]
        after = torch.load(os.path.join(run, "model.pt"), map_location="cpu")["state_dict"]
        for k in before:
            if k.endswith("running_mean") or k.endswith("running_var"):
                self.assertTrue(torch.equal(before[k], after[k]), k)
        self.assertFalse(torch.equal(before["fc.weight"], after["fc.weight"]))


class PhantomTest(unittest.TestCase):
    def test_deterministic_with_masks(self):
        p = phantoms.sample_params(11, 3, {"opacity": True, "nodule": True, "effusion": True, "cardiomegaly": True})
        a, masks = phantoms.render(p, 96, 80)
        b, _ = phantoms.render(phantoms.sample_params(11, 3, p.labels), 96, 80)
        np.testing.assert_array_equal(a, b)
        self.assertEqual(a.shape, (96, 80))
        self.assertTrue(0 <= a.min() and a.max() <= 1)
        for k in phantoms.LABELS:
            self.assertTrue(masks[k].any(), k)
        self.assertGreater(p.ctr, 0.5)

    def test_dicom_round_trip(self):
        p = phantoms.sample_params(11, 4)
        img, _ = phantoms.render(p, 80, 64)
        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("CR", "DX"):
                path = os.path.join(tmp, kind + ".dcm")
                ds = phantoms.write_dicom(path, p, img, kind, 1)
                self.assertEqual(ds.PhotometricInterpretation, "MONOCHROME1" if kind == "CR" else "MONOCHROME2")
                self.assertTrue(str(ds.PatientName).startswith("PHANTOM^"))
                # Display values after VOI (and MONOCHROME1 inversion) are the phantom's intensities.
                np.testing.assert_allclose(data.load_image(path), img, atol=1e-3)


if __name__ == "__main__":
    unittest.main()
