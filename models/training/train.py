"""Train a ResNet classifier (multilabel sigmoid or multiclass softmax) for Resight.

Datasets: (a) a labels CSV + image folder (multilabel), or (b) class-per-folder (multiclass).
All images are decoded and resized once and held in memory, then augmented per batch on the
training device. Checkpoints (model, optimizer, schedule, position in the epoch) are written every
--checkpoint-every steps to <out>/last.pt; rerunning the same command resumes from there.

Example (the default model, two stages):
  train.py --csv data/train/labels.csv --images data/train/images \
           --val-csv data/val/labels.csv --val-images data/val/images \
           --size 128 --epochs 8 --out runs/stage1
  train.py ... --size 224 --epochs 2 --lr 5e-4 --init runs/stage1/model.pt --out runs/stage2
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import resnet
from evaluate import auroc


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train a ResNet for Resight.")
    src = ap.add_argument_group("data")
    src.add_argument("--csv", help="multilabel: labels CSV (image file name, then 0/1 columns)")
    src.add_argument("--images", help="multilabel: folder holding the CSV's images")
    src.add_argument("--labels", help="comma-separated label columns (default: every 0/1 column)")
    src.add_argument("--folders", help="multiclass: root of class-per-folder images (root/CLASS/*)")
    src.add_argument("--val-csv")
    src.add_argument("--val-images")
    src.add_argument("--val-folders")
    src.add_argument("--val-split", type=float, default=0.1,
                     help="fraction of the training set held out when no validation set is given")
    ap.add_argument("--arch", default="resnet18", choices=sorted(resnet.ARCHS))
    ap.add_argument("--stem", default="imagenet", choices=["imagenet", "cifar"])
    ap.add_argument("--weights", help="torchvision state-dict file to start from (transfer learning)")
    ap.add_argument("--init", help="a model.pt from an earlier run to continue from (e.g. a lower-resolution stage, "
                                   "or an exported ONNX converted by onnx_to_torch.py)")
    ap.add_argument("--freeze-bn", action="store_true",
                    help="keep every batch norm in eval mode (running statistics fixed; scale and shift still "
                         "train): needed with an --init from onnx_to_torch.py, whose batch norms were folded away")
    ap.add_argument("--size", type=int, default=224, help="training input size (square)")
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--class-weighting", choices=["none", "balanced"], default="none",
                    help="balanced: positive weight neg/pos per label (multilabel) or inverse class frequency")
    ap.add_argument("--augment", choices=["none", "light"], default="light")
    ap.add_argument("--masks", help="multilabel: folder of bit-packed mask PNGs named like the images "
                                    "(phantoms.py masks/); enables --cam-loss")
    ap.add_argument("--cam-loss", type=float, default=0.0,
                    help="weight of a localization term: the share of a positive label's Grad-CAM outside "
                         "the feature cells its mask touches (needs --masks)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (ignored on CUDA)")
    ap.add_argument("--checkpoint-every", type=int, default=50, help="steps between checkpoints")
    ap.add_argument("--limit", type=int, help="use only the first N training images (smoke tests)")
    ap.add_argument("--max-steps", type=int, help="stop after this many steps (smoke tests)")
    ap.add_argument("--out", required=True, help="run folder: checkpoints, log, model.pt")
    a = ap.parse_args(argv)
    if bool(a.csv) == bool(a.folders):
        ap.error("give either --csv/--images or --folders")
    return a


def load_split(a, csv_path, images, folders, labels, cache_dir, limit=None):
    """-> (stack, targets, label names, task)."""
    if csv_path:
        names, y, labels = data.read_labels_csv(csv_path, labels)
        paths = [os.path.join(images or os.path.dirname(csv_path), n) for n in names][:limit]
        return data.load_stack(paths, a.size, cache_dir), torch.from_numpy(y[:limit]), labels, "multilabel"
    paths, y, classes = data.scan_folders(folders)
    if limit:
        # Keep every class in a truncated folder dataset.
        pick = np.random.default_rng(a.seed).permutation(len(paths))[:limit]
        paths, y = [paths[i] for i in sorted(pick)], y[sorted(pick)]
    return data.load_stack(paths, a.size, cache_dir), torch.from_numpy(y), classes, "multiclass"


def augment(x, gen, masks=None):
    """Per-image exposure jitter, small shift/zoom and detector noise on [N, 1, H, W] display values.

    `masks` [N, C, H, W] float, if given, get the same shift/zoom; returns (x, masks) then.
    """
    n = x.shape[0]
    r = lambda *s: torch.rand(*s, generator=gen)  # noqa: E731
    gamma = torch.exp((r(n, 1, 1, 1) - 0.5) * 0.5)
    x = x.clamp(1e-6, 1) ** gamma
    x = x * (0.85 + 0.3 * r(n, 1, 1, 1)) + (r(n, 1, 1, 1) - 0.5) * 0.12
    scale = 0.94 + 0.12 * r(n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale * (0.95 + 0.1 * r(n))
    theta[:, :, 2] = (r(n, 2) - 0.5) * 0.08
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    x = x + torch.randn(x.shape, generator=gen) * (0.02 * r(n, 1, 1, 1))
    if masks is None:
        return x.clamp(0, 1)
    return x.clamp(0, 1), F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def cam_outside_fraction(features, weight, cover, y):
    """Share of each positive label's closed-form Grad-CAM that falls in feature cells not touching
    its ground-truth mask, averaged over positives with a mask (0 when there are none)."""
    cam = F.relu(torch.einsum("nkhw,ck->nchw", features, weight))
    outside = (cam * (1 - cover)).sum((2, 3)) / (cam.sum((2, 3)) + 1e-6)
    use = (y > 0.5) & (cover.sum((2, 3)) > 0)
    return outside[use].mean() if use.any() else features.sum() * 0


def loss_fn(task, logits, y, weight):
    if task == "multilabel":
        return F.binary_cross_entropy_with_logits(logits, y, pos_weight=weight)
    return F.cross_entropy(logits, y, weight=weight)


@torch.no_grad()
def predict(model, stack, device, batch=128):
    model.eval()
    out = []
    for i in range(0, len(stack), batch):
        x = data.normalize(data.stack_to_float(stack[i:i + batch])).to(device)
        out.append(model(x.contiguous(memory_format=torch.channels_last))[0].float().cpu())
    return torch.cat(out)


def validate(task, model, stack, y, device):
    logits = predict(model, stack, device)
    loss = loss_fn(task, logits, y, None).item()
    if task == "multilabel":
        aucs = [auroc(logits[:, c].numpy(), y[:, c].numpy()) for c in range(y.shape[1])]
    else:
        prob = logits.softmax(1).numpy()
        aucs = [auroc(prob[:, c], (y.numpy() == c).astype(np.float32)) for c in range(prob.shape[1])]
    return loss, aucs


def main(argv=None):
    a = parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cache_dir = os.path.join(a.out, "cache")
    labels = a.labels.split(",") if a.labels else None
    x_train, y_train, labels, task = load_split(a, a.csv, a.images, a.folders, labels, cache_dir, a.limit)
    if a.val_csv or a.val_folders:
        x_val, y_val, val_labels, _ = load_split(a, a.val_csv, a.val_images, a.val_folders, labels, cache_dir)
        if val_labels != labels:
            raise SystemExit(f"validation labels {val_labels} differ from training labels {labels}")
    else:
        perm = torch.from_numpy(np.random.default_rng(a.seed).permutation(len(x_train)))
        n_val = max(1, int(len(perm) * a.val_split))
        x_val, y_val = x_train[perm[:n_val]], y_train[perm[:n_val]]
        x_train, y_train = x_train[perm[n_val:]], y_train[perm[n_val:]]
    m_train = None
    if a.masks and a.cam_loss > 0:
        names, _, _ = data.read_labels_csv(a.csv, labels)
        m_train = data.load_mask_stack([os.path.join(a.masks, n) for n in names][:a.limit], a.size, cache_dir)
        if not (a.val_csv or a.val_folders):
            m_train = m_train[perm[n_val:]]
    print(f"{task}: {len(x_train)} training, {len(x_val)} validation images, labels {labels}, "
          f"{a.size}px on {device}", flush=True)

    weight = None
    if a.class_weighting == "balanced":
        if task == "multilabel":
            pos = y_train.sum(0).clamp(min=1)
            weight = ((len(y_train) - pos) / pos).to(device)
        else:
            counts = torch.bincount(y_train, minlength=len(labels)).clamp(min=1).float()
            weight = (counts.sum() / (len(labels) * counts)).to(device)

    model = resnet.build(a.arch, len(labels), a.stem, a.weights)
    if a.init:
        init = torch.load(a.init, map_location="cpu")
        if init.get("meta", {}).get("bn_folded") and not a.freeze_bn:
            raise SystemExit(f"{a.init} has its batch norms folded into the convolutions: train it with --freeze-bn")
        model.load_state_dict(init["state_dict"])
    model = model.to(device).to(memory_format=torch.channels_last)  # measured ~3x faster on 2 CPU cores
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps_per_epoch = len(x_train) // a.batch_size
    total = max(1, int(a.epochs * steps_per_epoch))
    if a.max_steps:
        total = min(total, a.max_steps)

    def lr_at(step):  # linear warm-up, then cosine to zero
        if step < a.warmup_steps:
            return (step + 1) / a.warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - a.warmup_steps) / max(1, total - a.warmup_steps)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    step, history, trained_seconds = 0, [], 0.0
    last = os.path.join(a.out, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        step, history, trained_seconds = ck["step"], ck["history"], ck["trained_seconds"]
        print(f"resumed at step {step}/{total}", flush=True)

    def save(path, extra=None):
        ck = {"state_dict": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
              "step": step, "history": history, "trained_seconds": trained_seconds}
        ck.update(extra or {})
        torch.save(ck, path + ".tmp")
        os.replace(path + ".tmp", path)  # never leave a half-written checkpoint

    t_log = time.time()
    while step < total:
        epoch, pos = divmod(step, steps_per_epoch)
        # The order of an epoch depends only on (seed, epoch), so a resumed run sees the same batches.
        gen = torch.Generator().manual_seed(a.seed * 1000 + epoch)
        order = torch.randperm(len(x_train), generator=gen)
        aug_gen = torch.Generator().manual_seed(a.seed * 1000 + epoch + 7919 * (pos + 1))
        model.train()
        if a.freeze_bn:
            for mod in model.modules():
                if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                    mod.eval()
        for b in range(pos, steps_per_epoch):
            if step >= total:
                break
            t0 = time.time()
            idx = order[b * a.batch_size:(b + 1) * a.batch_size]
            x = data.stack_to_float(x_train[idx])
            m = data.unpack_masks(m_train[idx], len(labels)) if m_train is not None else None
            if a.augment == "light":
                x, m = augment(x, aug_gen, m) if m is not None else (augment(x, aug_gen), None)
            x = data.normalize(x).to(device).contiguous(memory_format=torch.channels_last)
            y = y_train[idx].to(device)
            logits, features = model(x)
            loss = loss_fn(task, logits, y, weight)
            if m is not None:
                # A feature cell "touches" a finding when >= 2 % of it is covered by the mask.
                cover = (F.adaptive_avg_pool2d(m, features.shape[-2:]) >= 0.02).float().to(device)
                loss = loss + a.cam_loss * cam_outside_fraction(features, model.fc.weight, cover, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            trained_seconds += time.time() - t0
            if time.time() - t_log > 30 or step == total:
                t_log = time.time()
                print(f"step {step}/{total} epoch {step / steps_per_epoch:.2f} loss {loss.item():.4f} "
                      f"lr {sched.get_last_lr()[0]:.2e} {1000 * trained_seconds / (step * a.batch_size):.1f} ms/img",
                      flush=True)
            if step % a.checkpoint_every == 0:
                save(last)
        if step % steps_per_epoch == 0 or step >= total:
            val_loss, aucs = validate(task, model, x_val, y_val, device)
            history.append({"step": step, "epoch": round(step / steps_per_epoch, 3), "val_loss": val_loss,
                            "val_auroc": dict(zip(labels, aucs))})
            print(f"validation at step {step}: loss {val_loss:.4f} AUROC "
                  + " ".join(f"{k} {v:.4f}" for k, v in zip(labels, aucs)), flush=True)
            save(last)
    meta = {"arch": a.arch, "stem": a.stem, "task": task, "labels": labels, "size": a.size,
            "train_images": len(x_train), "val_images": len(x_val), "args": vars(a)}
    save(os.path.join(a.out, "model.pt"), {"meta": meta})
    with open(os.path.join(a.out, "history.json"), "w") as f:
        json.dump({"meta": meta, "history": history, "trained_seconds": trained_seconds}, f, indent=1)
    print(f"done: {step} steps in {trained_seconds / 60:.1f} min of training", flush=True)


if __name__ == "__main__":
    main()
