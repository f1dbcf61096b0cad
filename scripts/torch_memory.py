#!/usr/bin/env python3
"""Measures what PyTorch eager autograd really keeps, for comparison with `bpsim workload`.

For each network (the same shapes as configs/workloads/{gpt2_small,mlp,resnet18}.yaml) and
memory policy it prints one JSON line with
  saved_after_forward_bytes: torch.cuda.memory_allocated() after forward minus before
                             (weights, input, optimizer state and library workspaces are
                             allocated before, so they cancel; the output is included);
  peak_bytes:                torch.cuda.max_memory_allocated() over forward + backward,
                             minus the same baseline (weight .grad buffers included).
The backward starts from a gradient of the output's size, as bpsim's loss gradient.
Needs a CUDA GPU. Usage: python3 scripts/torch_memory.py [--quick | --saved | --trace-mlp]
  --quick      policy "none" only
  --saved      ResNet-18's saved tensors by shape, through saved_tensors_hooks
  --trace-mlp  allocated bytes around every autograd node of the MLP's backward
"""
import datetime
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint, checkpoint_sequential


class Block(nn.Module):
    """Pre-LayerNorm GPT block with explicit softmax(QKᵀ/√d)·V, as bpsim's transformer_block."""

    def __init__(self, h, a, p):
        super().__init__()
        self.a, self.p = a, p
        self.ln1, self.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.qkv, self.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.fc1, self.fc2 = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)
        self.mask = None  # made once, so that it belongs to the baseline like a buffer

    def forward(self, x):
        b, s, h = x.shape
        d = h // self.a
        q, k, v = self.qkv(self.ln1(x)).split(h, dim=2)
        q, k, v = (t.view(b, s, self.a, d).transpose(1, 2) for t in (q, k, v))
        if self.mask is None or self.mask.shape[0] != s:
            self.mask = torch.ones(s, s, dtype=torch.bool, device=x.device).triu(1)
        att = (q @ k.transpose(-2, -1)).mul_(1.0 / math.sqrt(d)).masked_fill_(self.mask, float("-inf"))
        att = F.dropout(F.softmax(att, dim=-1), self.p, self.training)
        y = (att @ v).transpose(1, 2).reshape(b, s, h)
        x = x + F.dropout(self.proj(y), self.p, self.training)
        return x + F.dropout(self.fc2(F.gelu(self.fc1(self.ln2(x)))), self.p, self.training)


def gpt2_small():
    layers = [Block(768, 12, 0.1) for _ in range(12)] + [nn.LayerNorm(768)]
    return nn.Sequential(*layers).to(torch.bfloat16), torch.randn(8, 1024, 768, dtype=torch.bfloat16)


def mlp(batch):
    layers = [nn.Flatten()]
    for i in range(2):
        layers += [nn.Linear(784 if i == 0 else 1024, 1024), nn.ReLU(), nn.Dropout(0.1)]
    return nn.Sequential(*layers, nn.Linear(1024, 10)), torch.randn(batch, 1, 28, 28)


def resnet18():
    import torchvision

    r = torchvision.models.resnet18()
    for m in r.modules():  # in-place ReLU cannot be checkpointed; the bytes kept are the same
        if isinstance(m, nn.ReLU):
            m.inplace = False
    seq = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, *r.layer1, *r.layer2, *r.layer3, *r.layer4, r.avgpool,
                        nn.Flatten(), r.fc)
    return seq, torch.randn(32, 3, 224, 224)


def measure(name, make, policy, segments=0):
    torch.manual_seed(1)
    model, x = make()
    model, x = model.cuda().train(), x.cuda()
    mods = list(model)

    def step():
        if policy == "none":
            return model(x)
        if policy == "checkpoint":  # every top-level layer on its own
            y = x
            for m in mods:
                y = checkpoint(m, y, use_reentrant=False)
            return y
        if policy == "full_recompute":
            return checkpoint(model, x, use_reentrant=False)
        return checkpoint_sequential(model, segments, x, use_reentrant=False)

    for _ in range(2):  # warm-up: library workspaces, allocator pools
        out = step()
        out.backward(torch.ones_like(out))
        del out
        model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = step()
    torch.cuda.synchronize()
    saved = torch.cuda.memory_allocated() - base
    out.backward(torch.ones_like(out))
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    del out
    model.zero_grad(set_to_none=True)
    return {"model": name, "policy": policy, "segments": segments, "saved_after_forward_bytes": saved,
            "peak_bytes": peak, "torch": torch.__version__, "gpu": torch.cuda.get_device_name(),
            "date": datetime.date.today().isoformat()}


def saved_storages(make):
    """Unique storages autograd saves in one forward, grouped by (shape, dtype): to see
    which tensors account for a difference with bpsim."""
    model, x = make()
    model, x = model.cuda().train(), x.cuda()
    seen, groups = set(), {}

    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in seen and not isinstance(t, nn.Parameter) and t.data_ptr() != x.data_ptr():
            seen.add(st.data_ptr())
            key = (tuple(t.shape), str(t.dtype))
            n, b = groups.get(key, (0, 0))
            groups[key] = (n + 1, b + st.nbytes())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    for (shape, dtype), (n, b) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(json.dumps({"shape": shape, "dtype": dtype, "count": n, "bytes": b}))
    print(json.dumps({"total_saved_storage_bytes": sum(b for _, b in groups.values()), "output_bytes": out.nbytes}))


def trace_backward(make):
    """Allocated bytes (above the baseline) before and after every autograd node: where a
    peak difference with bpsim comes from."""
    model, x = make()
    model, x = model.cuda().train(), x.cuda()
    out = model(x)
    out.backward(torch.ones_like(out))
    model.zero_grad(set_to_none=True)
    del out
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = model(x)
    print(json.dumps({"after_forward": torch.cuda.memory_allocated() - base}))
    seen, stack = set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        name = fn.name()
        fn.register_prehook(lambda g, n=name: print(json.dumps({"before": n, "bytes": torch.cuda.memory_allocated() - base})))
        fn.register_hook(lambda gi, go, n=name: print(json.dumps({"after": n, "bytes": torch.cuda.memory_allocated() - base})))
        stack.extend(f for f, _ in fn.next_functions)
    out.backward(torch.ones_like(out))
    print(json.dumps({"peak": torch.cuda.max_memory_allocated() - base}))


def main():
    if "--saved" in sys.argv:
        return saved_storages(resnet18)
    if "--trace-mlp" in sys.argv:
        return trace_backward(lambda: mlp(4096))
    runs = [("mlp_b4096", lambda: mlp(4096)), ("resnet18", resnet18), ("gpt2_small", gpt2_small)]
    policies = [("none", 0), ("checkpoint", 0), ("checkpoint_sequential", 2), ("checkpoint_sequential", 4),
                ("full_recompute", 0)]
    if "--quick" in sys.argv:
        policies = policies[:1]
    for name, make in runs:
        for policy, segments in policies:
            print(json.dumps(measure(name, make, policy, segments)), flush=True)
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
