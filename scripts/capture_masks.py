#!/usr/bin/env python3
"""Capture the output masks of each layer's dX GEMM from one PyTorch training step.

A dX output is unneeded when the element-wise chain between the layer's input and the
previous layer's output (ReLU, dropout, pooling, flatten) gives it a zero derivative: its
value is multiplied by 0 on the way back. For each GEMM layer L whose input needs a
gradient, with x = L's input and h = the previous GEMM layer's output (x = chain(h)):

    needed[e] = (J · 1)[e] != 0,   J = dx/dh (the chain's Jacobian)

J · 1 is computed with the double-backward trick (v -> J^T v is linear in v, so its
gradient along v applied to a vector of ones is J · 1). Every chain used here has a
non-negative Jacobian (ReLU 0/1, dropout 0 or 1/(1-p), max-pool selection, avg-pool
1/k^2, flatten), so J · 1 is non-zero exactly where some path carries the gradient.
The script then checks the definition on the real step: zeroing the real dX at the
unneeded outputs leaves dh unchanged, bit for bit.

A conv layer's dX is a GEMM in column form (bpsim's builder: rows (n, p, q), columns
(c, r, s), as torch.nn.functional.unfold orders them, then col2im), so its input mask is
unfolded the same way; a column that lands in the padding is unneeded (col2im drops it).

Output: DIR/masks.yaml (bpsim's mask-set manifest: docs/systolic.md, "Output sparsity and
masks") and one packed bitmap per layer, DIR/<layer>.dx.bits: M x N bits, row-major, bit
i*N + j in byte (i*N + j) / 8, least significant first, 1 = needed. A config uses it as
`workload: {spec: ..., masks: DIR/masks.yaml}`.

The networks are configs/workloads/mlp.yaml and lenet5.yaml, layer for layer, with
PyTorch's default initialisation and one step on seeded synthetic data (uniform pixels
in [0, 1), uniform labels): no data set is needed. To capture your own network, add a
builder that lists its layers with bpsim's names (bpsim workload SPEC names them), or run
capture() on your own model and data.

    python3 scripts/capture_masks.py --network mlp --out traces/masks/mlp
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def mlp():
    """configs/workloads/mlp.yaml: flatten, 2 x (linear 1024, relu, dropout 0.1), linear 10.
    Unnamed layers are named kind + index, as the spec parser names them."""
    layers = [("flatten0", nn.Flatten())]
    width = 784
    for i in (1, 4):
        layers += [(f"linear{i}", nn.Linear(width, 1024)), (f"relu{i + 1}", nn.ReLU()),
                   (f"dropout{i + 2}", nn.Dropout(0.1))]
        width = 1024
    layers.append(("linear7", nn.Linear(1024, 10)))
    return layers, (64, 1, 28, 28), 10, "adam"


def lenet5():
    """configs/workloads/lenet5.yaml: LeNet-5 with ReLU and 2x2 max-pooling, batch 16."""
    layers = [("conv1", nn.Conv2d(1, 6, 5)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
              ("conv2", nn.Conv2d(6, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
              ("flatten6", nn.Flatten()), ("fc1", nn.Linear(400, 120)), ("relu3", nn.ReLU()),
              ("fc2", nn.Linear(120, 84)), ("relu4", nn.ReLU()), ("fc3", nn.Linear(84, 10))]
    return layers, (16, 1, 32, 32), 10, "momentum"


NETWORKS = {"mlp": mlp, "lenet5": lenet5}


def is_gemm(m):
    return isinstance(m, (nn.Linear, nn.Conv2d))


def column_form(mask, conv):
    """An input mask [N, C, H, W] as the conv dX GEMM's output [N*P*Q, C*R*S]."""
    cols = F.unfold(mask.float(), conv.kernel_size, dilation=conv.dilation, padding=conv.padding,
                    stride=conv.stride)  # [N, C*R*S, P*Q]; padding unfolds as 0 (unneeded)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1]) != 0


def capture(layers, x, y, optimizer):
    """Runs one training step; returns [(layer, needed-mask as a bool [M, N] tensor)]."""
    model = nn.Sequential(*[m for _, m in layers]).to(x.device).train()
    outs, h_prev, pairs = [], None, []
    t = x
    for name, m in layers:
        if is_gemm(m) and h_prev is not None:
            t.retain_grad()
            pairs.append((name, m, h_prev, t))
        t = m(t)
        if is_gemm(m):
            h_prev = t
        outs.append(t)
    loss = F.cross_entropy(t, y)
    loss.backward(retain_graph=True)
    masks = []
    for name, m, h, inp in pairs:
        v = torch.zeros_like(inp, requires_grad=True)
        (jt_v,) = torch.autograd.grad(inp, h, v, create_graph=True)
        (j_one,) = torch.autograd.grad(jt_v, v, torch.ones_like(h), retain_graph=True)
        needed = j_one != 0
        # The definition, on the real step: the unneeded dX outputs do not reach dh.
        dx = inp.grad
        (dh_all,) = torch.autograd.grad(inp, h, dx, retain_graph=True)
        (dh_kept,) = torch.autograd.grad(inp, h, dx * needed, retain_graph=True)
        if not torch.equal(dh_all, dh_kept):
            sys.exit(f"{name}: zeroing the unneeded dX outputs changed dh: the chain's mask is wrong")
        rows = column_form(needed, m) if isinstance(m, nn.Conv2d) else needed.reshape(needed.shape[0], -1)
        masks.append((name, rows))
    opt = (torch.optim.Adam(model.parameters()) if optimizer == "adam" else
           torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    opt.step()
    return masks


def write(out, network, masks, note):
    os.makedirs(out, exist_ok=True)
    lines = [f"# Output masks of the dX GEMMs of configs/workloads/{network}.yaml, from one training step.",
             f"# {note}",
             "# Each bitmap: M x N bits, row-major, least significant bit first, 1 = needed.",
             f"network: {network}", "masks:"]
    for name, rows in masks:
        bits = rows.to("cpu").numpy().astype(np.uint8).ravel()
        data = np.packbits(bits, bitorder="little").tobytes()
        fname = f"{name}.dx.bits"
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)
        m, n = rows.shape
        zeros = m * n - int(bits.sum())
        lines.append(f"  - {{ layer: {name}, rows: {m}, cols: {n}, bitmap: {fname} }}"
                     f"  # density {1 - zeros / (m * n):.6f}, unneeded outputs {zeros}")
        print(f"{name}: {m}x{n}, unneeded {zeros} ({zeros / (m * n):.4f})")
    with open(os.path.join(out, "masks.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", choices=sorted(NETWORKS), default="mlp")
    ap.add_argument("--out", required=True, help="folder for masks.yaml and the bitmaps")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    layers, shape, classes, optimizer = NETWORKS[a.network]()
    x = torch.rand(shape, device=a.device)
    y = torch.randint(0, classes, (shape[0],), device=a.device)
    masks = capture(layers, x, y, optimizer)
    dev = torch.cuda.get_device_name() if a.device.startswith("cuda") else a.device
    note = (f"scripts/capture_masks.py --network {a.network} --seed {a.seed}: torch {torch.__version__} "
            f"on {dev}; default init, uniform synthetic inputs and labels")
    write(a.out, a.network, masks, note)


if __name__ == "__main__":
    main()
