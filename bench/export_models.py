#!/usr/bin/python3
"""Export the peer-benchmark models to ONNX (opset 13, dynamic batch, random weights).

    /usr/bin/python3 bench/export_models.py [--out-dir bench/models] [--models resnet50,mobilenetv2,bert_base,yolo_mish]

Writes <out-dir>/<name>.onnx for each model and checks each with onnx.checker (full check, with
shape inference). The architectures are the standard ones, so the textbook MAC counts hold:

  resnet50     torchvision ResNet-50,     float32 input [N,3,224,224] -> logits [N,1000]  4.09 GMAC/img
  mobilenetv2  torchvision MobileNetV2,   float32 input [N,3,224,224] -> logits [N,1000]  0.30 GMAC/img
  bert_base    BERT-base encoder (12 layers, hidden 768, 12 heads, FFN 3072, GELU erf, LayerNorm
               eps 1e-12, token + learned position embeddings, sequence 128):
               int64 input_ids [N,128], int64 attention_mask [N,128] -> last_hidden_state [N,128,768]
               ~11.2 GMAC/sequence (embeddings are lookups; no pooler, no token-type embeddings)

  yolo_mish    a small YOLOv4-style detector: Conv-BN-Mish stages (16-128 channels, stride 2 each)
               on float32 [N,3,224,224], a Detect head (3 anchors x 85 outputs on 14x14) that decodes
               boxes with sigmoid, *2-0.5+grid, *stride and (*2)^2*anchor -> [N,588,85]. Mish and the
               decode are chains of element-wise ops (fuse_elementwise_chain's workload); not part of
               the default set

Weights are random (seeded; BatchNorm statistics calibrated on random inputs so activations have
a realistic scale) and the models are in eval mode: this is for timing, not accuracy.
Needs Debian's python3-torch, python3-torchvision and python3-onnx (bench/setup.sh installs them).
"""

import argparse
import math
import os
import sys

try:
    import torch
    import torch.nn as nn
    import torchvision
    import onnx
except ImportError as e:  # pragma: no cover
    sys.exit(f"export_models.py: {e}. Install the dependencies with: bash bench/setup.sh "
             "(Debian packages python3-torch, python3-torchvision, python3-onnx), and run this "
             "script with /usr/bin/python3.")

OPSET = 13
SEQ_LEN = 128
VOCAB = 30522


class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.output = nn.Linear(hidden, hidden)

    def split(self, x):
        n, s, _ = x.shape
        return x.view(n, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + additive_mask, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3)
        n, s = ctx.shape[0], ctx.shape[1]
        return self.output(ctx.reshape(n, s, self.heads * self.head_dim))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ffn, eps):
        super().__init__()
        self.attention = BertSelfAttention(hidden, heads)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps)
        self.intermediate = nn.Linear(hidden, ffn)
        self.out = nn.Linear(ffn, hidden)
        self.output_norm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, additive_mask):
        x = self.attention_norm(x + self.attention(x, additive_mask))
        h = nn.functional.gelu(self.intermediate(x))  # exact (erf) GELU, as in BERT
        return self.output_norm(x + self.out(h))


class BertEncoder(nn.Module):
    """BERT-base without pooler and token-type embeddings: returns the last hidden state."""

    def __init__(self, vocab=VOCAB, max_pos=512, hidden=768, layers=12, heads=12, ffn=3072, eps=1e-12):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, hidden)
        self.position_embeddings = nn.Embedding(max_pos, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
        self.layers = nn.ModuleList([BertLayer(hidden, heads, ffn, eps) for _ in range(layers)])

    def forward(self, input_ids, attention_mask):
        seq = input_ids.shape[1]
        positions = torch.arange(seq, dtype=torch.int64, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        x = self.embedding_norm(x)
        # [N, S] -> [N, 1, 1, S], 0 where attended, -10000 where masked.
        additive_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive_mask)
        return x


def calibrate_batchnorm(model, batches=4, batch_size=8):
    """Sets BatchNorm running statistics from a few random batches.

    Freshly initialised BatchNorm layers (mean 0, variance 1) do not normalise anything, and with
    torchvision's initialisation MobileNetV2's activations then shrink layer after layer to ~1e-10
    at the logits, close enough to the subnormal range to make timings unrepresentative. A few
    training-mode passes give every layer unit-scale activations, as a trained network has.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.rand(batch_size, 3, 224, 224) * 2 - 1)
    model.eval()


class ConvBnMish(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        # Mish written out (opset 13 has no Mish op): Softplus -> Tanh -> Mul.
        y = self.bn(self.conv(x))
        return y * torch.tanh(nn.functional.softplus(y))


class YoloMish(nn.Module):
    def __init__(self, classes=80, grid=14, stride=16):
        super().__init__()
        chans = [3, 16, 32, 64, 128]
        self.stages = nn.Sequential(*[ConvBnMish(chans[i], chans[i + 1], 2) for i in range(4)],
                                    ConvBnMish(128, 128, 1))
        self.outputs = 5 + classes
        self.head = nn.Conv2d(128, 3 * self.outputs, 1)
        self.stride = float(stride)
        ys, xs = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
        self.register_buffer("grid", torch.stack((xs, ys), 2).view(1, 1, grid, grid, 2).float())
        anchors = torch.tensor([[10.0, 14.0], [23.0, 27.0], [37.0, 58.0]])
        self.register_buffer("anchor_grid", anchors.view(1, 3, 1, 1, 2))

    def forward(self, x):
        p = self.head(self.stages(x))
        n, _, h, w = p.shape
        y = p.view(n, 3, self.outputs, h, w).permute(0, 1, 3, 4, 2).contiguous().sigmoid()
        xy = (y[..., 0:2] * 2 - 0.5 + self.grid) * self.stride
        wh = (y[..., 2:4] * 2) ** 2 * self.anchor_grid
        return torch.cat((xy, wh, y[..., 4:]), -1).view(n, -1, self.outputs)


def build(name):
    """(module, example inputs, input names, output names, dynamic axes)"""
    if name in ("resnet50", "mobilenetv2"):
        ctor = torchvision.models.resnet50 if name == "resnet50" else torchvision.models.mobilenet_v2
        model = ctor(weights=None)
        calibrate_batchnorm(model)
        x = torch.rand(1, 3, 224, 224)
        return model, (x,), ["input"], ["logits"], {"input": {0: "batch"}, "logits": {0: "batch"}}
    if name == "bert_base":
        model = BertEncoder()
        # BERT's initialiser (normal, std 0.02) keeps the random activations in a realistic range.
        for m in model.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        ids = torch.randint(0, VOCAB, (1, SEQ_LEN), dtype=torch.int64)
        mask = torch.ones(1, SEQ_LEN, dtype=torch.int64)
        return (model, (ids, mask), ["input_ids", "attention_mask"], ["last_hidden_state"],
                {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    if name == "yolo_mish":
        model = YoloMish()
        calibrate_batchnorm(model, batch_size=4)
        x = torch.rand(1, 3, 224, 224)
        return model, (x,), ["input"], ["detections"], {"input": {0: "batch"}, "detections": {0: "batch"}}
    raise ValueError(name)


DEFAULT_MODELS = ("resnet50", "mobilenetv2", "bert_base")
MODELS = DEFAULT_MODELS + ("yolo_mish",)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out-dir", default=os.path.join(here, "models"))
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated subset of " + ",".join(MODELS))
    ap.add_argument("--force", action="store_true", help="re-export models that already exist")
    args = ap.parse_args()

    names = [m for m in args.models.split(",") if m]
    for m in names:
        if m not in MODELS:
            sys.exit(f"export_models.py: unknown model '{m}'; choose from {', '.join(MODELS)}")
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    for name in names:
        path = os.path.join(args.out_dir, name + ".onnx")
        if os.path.exists(path) and not args.force:
            print(f"{path}: exists (use --force to re-export)")
            continue
        model, example, in_names, out_names, dyn = build(name)
        model.eval()
        tmp = path + ".tmp"
        with torch.no_grad():
            torch.onnx.export(model, example, tmp, opset_version=OPSET, input_names=in_names,
                              output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
        onnx.checker.check_model(tmp, full_check=True)
        os.replace(tmp, path)
        proto = onnx.load(path, load_external_data=False)
        params = sum(int(math.prod(t.dims)) for t in proto.graph.initializer)
        print(f"{path}: {len(proto.graph.node)} nodes, {params / 1e6:.1f} M parameters, "
              f"{os.path.getsize(path) / 2**20:.0f} MiB, checked")


if __name__ == "__main__":
    main()
