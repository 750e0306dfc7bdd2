"""Exports a ResNet-50 (random weights: the benchmark times it, it does not judge it) with the
outputs Resight expects, `logits` and `features` (post-ReLU layer4), plus its model card, into the
folder given as the first argument. Also prints PyTorch eager timings for ResNet-18 and ResNet-50
at batch 1 and 8 as JSON on stdout, the peer the inference benchmark compares against."""
import json
import sys
import time

import torch
import torchvision


class WithFeatures(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        n = self.net
        f = n.layer4(n.layer3(n.layer2(n.layer1(n.maxpool(n.relu(n.bn1(n.conv1(x))))))))
        return n.fc(torch.flatten(n.avgpool(f), 1)), f


def eager_ms(net, batch, threads, runs=10):
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        net(x)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    out, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    r50 = WithFeatures(torchvision.models.resnet50(num_classes=4)).eval()
    torch.onnx.export(r50, torch.randn(1, 3, 224, 224), f"{out}/resnet50-bench.onnx", input_names=["input"],
                      output_names=["logits", "features"], opset_version=13,
                      dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}, "features": {0: "n"}})
    card = {
        "schema": "resight.model-card/1", "id": "resnet50-bench", "version": "0.0.0", "file": "resnet50-bench.onnx",
        "task": "multilabel", "placeholder": True,
        "labels": [{"id": f"l{i}", "name": f"Label {i}"} for i in range(4)],
        "input": {"name": "input", "height": 224, "width": 224, "channels": 3,
                  "normalize": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}},
        "outputs": {"logits": "logits", "features": "features"},
        "cam": {"weight": "net.fc.weight", "bias": "net.fc.bias"},
    }
    with open(f"{out}/resnet50-bench.json", "w") as f:
        json.dump(card, f)
    r18 = WithFeatures(torchvision.models.resnet18(num_classes=4)).eval()
    print(json.dumps({"torch": torch.__version__, "threads": threads, "eagerMs": {
        "resnet18": {"batch1": eager_ms(r18, 1, threads), "batch8": eager_ms(r18, 8, threads)},
        "resnet50": {"batch1": eager_ms(r50, 1, threads), "batch8": eager_ms(r50, 8, threads)},
    }}))


if __name__ == "__main__":
    main()
