#!/usr/bin/env python3
"""Measures what PyTorch eager autograd really keeps, for comparison with `bpsim workload`.

Each case (CASES below; --list prints them) is one network, one memory policy, one loss and one
precision; the torch code of the case IS its definition (bpsim's specs model these). For each
case it prints one JSON line with
  saved_after_forward_bytes: torch.cuda.memory_allocated() after the forward and the loss's
                             forward minus before (weights, input, targets and library
                             workspaces are allocated before, so they cancel). Python holds the
                             network output only for loss "ones" (the backward starts from
                             ones_like(out), bpsim's default loss gradient); otherwise only
                             what autograd saved keeps it;
  after_model_forward_bytes: the same right after the network's forward, output held;
  peak_bytes:                torch.cuda.max_memory_allocated() over forward + loss + backward,
                             minus the same baseline (weight .grad buffers included);
  after_backward_bytes:      allocated after the backward, output and loss dropped;
  saved_requested_bytes, peak_requested_bytes: the same two figures from the caching
                             allocator's requested_bytes statistic: the bytes the tensors asked
                             for, without the allocator's block rounding (memory_allocated
                             counts blocks: 512-B multiples, and a cached block is handed out
                             whole when less than 1 MiB would remain, which depends on the
                             allocator's history).
The baseline is taken after two warm-up steps, so cuBLAS/cuBLASLt workspaces belong to it.
With --detail DIR (or FILE.jsonl) it also writes per case: the autograd node names of one
forward, the storages autograd saves grouped by (shape, dtype) through saved_tensors_hooks,
and from a memory-history trace of one step what is live after the forward and at the peak
(size, phase, allocating frame).
Needs a CUDA GPU. Usage:
  python3 scripts/torch_memory.py --list
  python3 scripts/torch_memory.py [--detail DIR|FILE.jsonl] [--no-trace] [--cpp-stacks] [--out FILE]
                                  (--all | --case NAME [--case NAME ...])
  python3 scripts/torch_memory.py --probe softmax --probe conv
  python3 scripts/torch_memory.py --probe-conv [BATCH ...]   (cuDNN workspaces per convolution and pass)
  python3 scripts/torch_memory.py --probe-conv 32 64 256 --conv-nets vit_b_16   (ViT-B/16 patch conv with its bias)
"""
import argparse
import datetime
import gc
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

try:
    from torch.nn.attention import SDPBackend, sdpa_kernel
except ImportError:  # torch < 2.3
    SDPBackend = sdpa_kernel = None

# ---------------------------------------------------------------------------------------------
# Networks. Each maker returns (model, input); the model is an nn.Sequential whose top-level
# children are what the "checkpoint" and "checkpoint_sequential" policies split over.


class Block(nn.Module):
    """Pre-LayerNorm GPT block. attn: "explicit" = softmax(QKᵀ/√d)·V with a causal mask made once
    (it belongs to the baseline like a buffer); "explicit_mask" = the same with the mask made in
    every forward call (autograd keeps it per block); "sdpa" = F.scaled_dot_product_attention
    (is_causal, dropout p), its backend chosen by the case's sdpa_kernel context."""

    def __init__(self, h, a, p, attn="explicit"):
        super().__init__()
        self.a, self.p, self.attn = a, p, attn
        self.ln1, self.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.qkv, self.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.fc1, self.fc2 = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)
        self.mask = None

    def forward(self, x):
        b, s, h = x.shape
        d = h // self.a
        q, k, v = self.qkv(self.ln1(x)).split(h, dim=2)
        q, k, v = (t.view(b, s, self.a, d).transpose(1, 2) for t in (q, k, v))
        if self.attn == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0, is_causal=True)
        else:
            if self.attn == "explicit_mask":
                mask = torch.ones(s, s, dtype=torch.bool, device=x.device).triu(1)
            else:
                if self.mask is None or self.mask.shape[0] != s:
                    self.mask = torch.ones(s, s, dtype=torch.bool, device=x.device).triu(1)
                mask = self.mask
            att = (q @ k.transpose(-2, -1)).mul_(1.0 / math.sqrt(d)).masked_fill_(mask, float("-inf"))
            att = F.dropout(F.softmax(att, dim=-1), self.p, self.training)
            y = att @ v
        y = y.transpose(1, 2).reshape(b, s, h)
        x = x + F.dropout(self.proj(y), self.p, self.training)
        return x + F.dropout(self.fc2(F.gelu(self.fc1(self.ln2(x)))), self.p, self.training)


def gpt2_small(attn="explicit", dtype=torch.bfloat16, seq=1024):
    """GPT-2 small without embeddings/LM head: 12 blocks (768, 12 heads, dropout 0.1) + final
    LayerNorm, batch 8, sequence 1024 (configs/workloads/gpt2_small.yaml)."""
    layers = [Block(768, 12, 0.1, attn) for _ in range(12)] + [nn.LayerNorm(768)]
    return nn.Sequential(*layers).to(dtype), torch.randn(8, seq, 768, dtype=dtype)


def gpt_block4():
    """4 GPT-2 blocks without a final LayerNorm, bf16, batch 8, sequence 512 (the second GPT shape
    of the peak analysis)."""
    return nn.Sequential(*[Block(768, 12, 0.1) for _ in range(4)]).to(torch.bfloat16), \
        torch.randn(8, 512, 768, dtype=torch.bfloat16)


def gpt_1b(dtype=torch.bfloat16, batch=1):
    """GPT-3 XL shape (1.3B with embeddings; 1.21B here without embeddings/LM head): 24 blocks,
    hidden 2048, 16 heads, dropout 0.1, SDPA attention, final LayerNorm; bf16, batch 1, seq 2048."""
    layers = [Block(2048, 16, 0.1, "sdpa") for _ in range(24)] + [nn.LayerNorm(2048)]
    return nn.Sequential(*layers).to(dtype), torch.randn(batch, 2048, 2048, dtype=dtype)


def mlp(batch):
    """784-1024-1024-10 MLP, ReLU + dropout 0.1, fp32 (configs/workloads/mlp.yaml)."""
    layers = [nn.Flatten()]
    for i in range(2):
        layers += [nn.Linear(784 if i == 0 else 1024, 1024), nn.ReLU(), nn.Dropout(0.1)]
    return nn.Sequential(*layers, nn.Linear(1024, 10)), torch.randn(batch, 1, 28, 28)


def mlp_bf16():
    """The MLP of mlp(4096) with bf16 weights and input."""
    model, x = mlp(4096)
    return model.to(torch.bfloat16), x.to(torch.bfloat16)


def mlp_gelu_bf16():
    """784-1024-1024-10 MLP, GELU + dropout 0.1, bf16, batch 4096."""
    layers = [nn.Flatten()]
    for i in range(2):
        layers += [nn.Linear(784 if i == 0 else 1024, 1024), nn.GELU(), nn.Dropout(0.1)]
    model = nn.Sequential(*layers, nn.Linear(1024, 10)).to(torch.bfloat16)
    return model, torch.randn(4096, 1, 28, 28, dtype=torch.bfloat16)


def no_inplace_relu(model):
    for m in model.modules():  # in-place ReLU cannot be checkpointed; the bytes kept are the same
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return model


def resnet18(batch=32):
    """torchvision resnet18 flattened to its 14 top-level layers (basic blocks at top level),
    non-inplace ReLU, fp32, batch 32×3×224×224 (or `batch`)."""
    import torchvision

    r = no_inplace_relu(torchvision.models.resnet18())
    seq = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, *r.layer1, *r.layer2, *r.layer3, *r.layer4, r.avgpool,
                        nn.Flatten(), r.fc)
    return seq, torch.randn(batch, 3, 224, 224)


def resnet50(batch=32):
    """torchvision resnet50, non-inplace ReLU, fp32, batch 32×3×224×224 (or `batch`), as the NESTED top-level
    children [conv1, bn1, relu, maxpool, layer1..layer4 (Sequentials of Bottlenecks), avgpool,
    flatten, fc]: checkpoint_sequential splits over these 11 modules."""
    import torchvision

    r = no_inplace_relu(torchvision.models.resnet50())
    seq = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4, r.avgpool,
                        nn.Flatten(), r.fc)
    return seq, torch.randn(batch, 3, 224, 224)


class VitInput(nn.Module):
    """torchvision VisionTransformer's _process_input + class token + encoder pos-embedding/dropout."""

    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def forward(self, x):
        v = self.vit
        x = v._process_input(x)
        x = torch.cat([v.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return v.encoder.dropout(x + v.encoder.pos_embedding)


class VitHead(nn.Module):
    """torchvision VisionTransformer's class-token selection + heads."""

    def __init__(self, vit):
        super().__init__()
        self.vit = vit

    def forward(self, x):
        return self.vit.heads(x[:, 0])


def vit_b16():
    """torchvision vit_b_16 (random weights), fp32, batch 32×3×224×224, as [input, 12 encoder
    layers, final LayerNorm, head]: the same ops as VisionTransformer.forward."""
    import torchvision

    v = torchvision.models.vit_b_16()
    seq = nn.Sequential(VitInput(v), *v.encoder.layers, v.encoder.ln, VitHead(v))
    return seq, torch.randn(32, 3, 224, 224)


class BertEmbeddings(nn.Module):
    """word (30522) + position (512) + token type (2, all zeros) embeddings, LayerNorm, dropout 0.1."""

    def __init__(self, h=768, vocab=30522, max_pos=512, p=0.1):
        super().__init__()
        self.word, self.pos, self.tok_type = nn.Embedding(vocab, h), nn.Embedding(max_pos, h), nn.Embedding(2, h)
        self.ln, self.drop = nn.LayerNorm(h, eps=1e-12), nn.Dropout(p)

    def forward(self, ids):
        s = ids.shape[1]
        pos = torch.arange(s, device=ids.device)
        typ = torch.zeros_like(ids)
        return self.drop(self.ln(self.word(ids) + self.pos(pos) + self.tok_type(typ)))


class BertLayer(nn.Module):
    """Post-LayerNorm BERT encoder layer: explicit softmax(QKᵀ/√d)·V (no mask), attention-prob
    dropout, output projection + dropout + residual + LayerNorm, GELU FFN + dropout + residual + LayerNorm."""

    def __init__(self, h=768, a=12, f=3072, p=0.1):
        super().__init__()
        self.a, self.p = a, p
        self.q, self.k, self.v, self.o = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(h, f), nn.Linear(f, h)

    def forward(self, x):
        b, s, h = x.shape
        d = h // self.a
        q, k, v = (lin(x).view(b, s, self.a, d).transpose(1, 2) for lin in (self.q, self.k, self.v))
        att = F.dropout(F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(d), dim=-1), self.p, self.training)
        y = (att @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + F.dropout(self.o(y), self.p, self.training))
        return self.ln2(x + F.dropout(self.fc2(F.gelu(self.fc1(x))), self.p, self.training))


def bert_base():
    """BERT-base encoder (12 layers, 768, 12 heads, 3072, GELU, dropout 0.1, post-LN), fp32,
    batch 8, sequence 512 of random token ids; output the last hidden state (no pooler)."""
    seq = nn.Sequential(BertEmbeddings(), *[BertLayer() for _ in range(12)])
    return seq, torch.randint(0, 30522, (8, 512))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class LlamaLayer(nn.Module):
    """Llama decoder layer: RMSNorm, q/k/v (GQA, no bias), rotary on q and k (HF rotate_half
    form), F.scaled_dot_product_attention(is_causal, enable_gqa), o_proj, residual; RMSNorm,
    SwiGLU MLP (down(silu(gate(x)) * up(x))), residual. No dropout."""

    def __init__(self, rope, h=2048, a=32, kv=8, f=8192):
        super().__init__()
        self.rope, self.a, self.kv, self.d = rope, a, kv, h // a
        self.norm1, self.norm2 = nn.RMSNorm(h, eps=1e-5), nn.RMSNorm(h, eps=1e-5)
        self.q = nn.Linear(h, a * self.d, bias=False)
        self.k = nn.Linear(h, kv * self.d, bias=False)
        self.v = nn.Linear(h, kv * self.d, bias=False)
        self.o = nn.Linear(a * self.d, h, bias=False)
        self.gate, self.up = nn.Linear(h, f, bias=False), nn.Linear(h, f, bias=False)
        self.down = nn.Linear(f, h, bias=False)

    def forward(self, x):
        b, s, h = x.shape
        cos, sin = self.rope
        y = self.norm1(x)
        q = self.q(y).view(b, s, self.a, self.d).transpose(1, 2)
        k = self.k(y).view(b, s, self.kv, self.d).transpose(1, 2)
        v = self.v(y).view(b, s, self.kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o(y.transpose(1, 2).reshape(b, s, h))
        y = self.norm2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


def rope_tables(s, d, theta=500000.0, dtype=torch.bfloat16):
    """cos/sin (s, d) as HF's rotary embedding (without Llama-3 frequency scaling), made once
    before the baseline and shared by every layer."""
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    f = torch.outer(torch.arange(s, dtype=torch.float32), inv)
    emb = torch.cat((f, f), dim=-1)
    return emb.cos().to(dtype).cuda(), emb.sin().to(dtype).cuda()


class LMHead(nn.Module):
    """Final RMSNorm + LM head whose weight is the (tied) token embedding."""

    def __init__(self, emb, h=2048):
        super().__init__()
        self.norm, self.emb = nn.RMSNorm(h, eps=1e-5), emb

    def forward(self, x):
        return F.linear(self.norm(x), self.emb.weight)


def llama_1b(lm=False):
    """Llama-3.2-1B shape: 16 layers, hidden 2048, 32 heads, 8 KV heads, head dim 64, SwiGLU 8192,
    RMSNorm eps 1e-5, bf16, batch 1, seq 2048. lm=False: input hidden states, final RMSNorm, no
    embedding/LM head. lm=True: token embedding (vocab 128256) tied to the LM head, logits out."""
    rope = rope_tables(2048, 64)
    layers = [LlamaLayer(rope) for _ in range(16)]
    if lm:
        emb = nn.Embedding(128256, 2048)
        model = nn.Sequential(emb, *layers, LMHead(emb))
        return model.to(torch.bfloat16), torch.randint(0, 128256, (1, 2048))
    model = nn.Sequential(*layers, nn.RMSNorm(2048, eps=1e-5))
    return model.to(torch.bfloat16), torch.randn(1, 2048, 2048, dtype=torch.bfloat16)


# ---------------------------------------------------------------------------------------------
# Cases: name -> (maker, policy, loss, precision, sdpa backend forced, docstring).
# policy: none | checkpoint (every top-level child on its own) | cs2 / cs4
# (checkpoint_sequential over the top-level children, 2 / 4 segments) | full (one checkpoint
# around the model) | bottleneck (ResNet-50: every Bottleneck checkpointed, the rest plain).
# loss: ones = out.backward(ones_like(out)); sum = out.sum(); mean = out.mean();
# float_sum = out.float().sum(); ce = F.cross_entropy(out, targets) (targets made before the
# baseline: 10 classes for the MLP, the vocab for the LM); mse = F.mse_loss(out, target).
# precision: dtype of the weights, or amp_bf16 = fp32 weights, forward and loss under
# torch.autocast("cuda", torch.bfloat16), backward outside it.

POL5 = ["none", "checkpoint", "cs2", "cs4", "full"]


def _case(maker, policy, loss="ones", precision="fp32", sdpa=None, doc=""):
    return {"make": maker, "policy": policy, "loss": loss, "precision": precision, "sdpa": sdpa, "doc": doc,
            "gpu_init": False}


CASES = {}
for _p in POL5:
    CASES["mlp_" + _p] = _case(lambda: mlp(4096), _p, doc="MLP b4096 fp32, policy %s, backward(ones_like(out))" % _p)
for _p in POL5:
    CASES["resnet18_" + _p] = _case(resnet18, _p, doc="ResNet-18 (flat top level) b32 fp32, policy %s" % _p)
for _p in POL5:
    CASES["gpt2_" + _p] = _case(gpt2_small, _p, precision="bf16", doc="GPT-2 small bf16, explicit attention, %s" % _p)
# (the 15 above first, in the order of the 2026-11-28 measurements: same allocator history)
for _l in ["sum", "mean", "ce", "mse"]:
    CASES["mlp_loss_" + _l] = _case(lambda: mlp(4096), "none", _l, doc="MLP b4096 fp32, policy none, loss %s" % _l)
for _p in ["none", "checkpoint"]:
    CASES["mlp_gelu_bf16_" + _p] = _case(mlp_gelu_bf16, _p, precision="bf16", doc="GELU+dropout MLP bf16 b4096, %s" % _p)
CASES["resnet50_none"] = _case(resnet50, "none", doc="ResNet-50 b32 fp32, no checkpointing")
CASES["resnet50_cs2"] = _case(resnet50, "cs2", doc="ResNet-50: checkpoint_sequential over the 11 nested children, 2")
CASES["resnet50_cs4"] = _case(resnet50, "cs4", doc="ResNet-50: checkpoint_sequential over the 11 nested children, 4")
CASES["resnet50_bottleneck"] = _case(resnet50, "bottleneck", doc="ResNet-50: every Bottleneck checkpointed")
CASES["resnet50_amp_none"] = _case(resnet50, "none", precision="amp_bf16", doc="ResNet-50 fp32 weights, autocast bf16")
for _p in ["none", "checkpoint"]:
    CASES["gpt2_mask_" + _p] = _case(lambda: gpt2_small("explicit_mask"), _p, precision="bf16",
                                     doc="GPT-2 small bf16, causal mask made in every forward, %s" % _p)
    CASES["gpt2_floatsum_" + _p] = _case(gpt2_small, _p, "float_sum", "bf16",
                                         doc="GPT-2 small bf16, loss out.float().sum(), %s" % _p)
    CASES["gpt2_flash_" + _p] = _case(lambda: gpt2_small("sdpa"), _p, precision="bf16", sdpa="flash",
                                      doc="GPT-2 small bf16, SDPA flash (dropout 0.1, causal), %s" % _p)
    CASES["gpt2_efficient_" + _p] = _case(lambda: gpt2_small("sdpa"), _p, precision="bf16", sdpa="efficient",
                                          doc="GPT-2 small bf16, SDPA memory-efficient (dropout 0.1, causal), %s" % _p)
for _b in ["flash", "efficient"]:  # a sequence that is no multiple of the kernels' tiles
    CASES["gpt2_s1000_%s_none" % _b] = _case(lambda: gpt2_small("sdpa", seq=1000), "none", precision="bf16", sdpa=_b,
                                             doc="GPT-2 small bf16, sequence 1000, SDPA %s forced, none" % _b)
CASES["gpt2_amp_none"] = _case(lambda: gpt2_small(dtype=torch.float32), "none", precision="amp_bf16",
                               doc="GPT-2 small fp32 weights, autocast bf16, explicit attention")
for _p in ["none", "checkpoint", "full"]:
    CASES["llama_" + _p] = _case(llama_1b, _p, precision="bf16", doc="Llama-3.2-1B shape bf16 b1 s2048, %s" % _p)
CASES["llama_flash_none"] = _case(llama_1b, "none", precision="bf16", sdpa="flash",
                                  doc="Llama-3.2-1B shape bf16 b1 s2048, SDPA flash forced (default picks cuDNN), none")
CASES["llama_lm_ce_none"] = _case(lambda: llama_1b(lm=True), "none", "ce", "bf16",
                                  doc="Llama-3.2-1B with tied embedding/LM head, cross-entropy over 128256")
CASES["vit_b16_none"] = _case(vit_b16, "none", doc="torchvision vit_b_16 b32 fp32, none")
CASES["vit_b16_checkpoint_layer"] = _case(vit_b16, "checkpoint_layers", doc="vit_b_16, every encoder layer checkpointed")
CASES["vit_b16_amp_none"] = _case(vit_b16, "none", precision="amp_bf16", doc="vit_b_16 fp32 weights, autocast bf16")
CASES["bert_base_none"] = _case(bert_base, "none", doc="BERT-base b8 s512 fp32, none")
CASES["bert_base_checkpoint_layer"] = _case(bert_base, "checkpoint_layers", doc="BERT-base, every encoder layer checkpointed")
for _p in ["none", "checkpoint"]:
    CASES["gpt_1b_" + _p] = _case(gpt_1b, _p, precision="bf16", sdpa="flash",
                                  doc="GPT-3 XL shape (24×2048, 16 heads) bf16 b1 s2048, SDPA flash, %s" % _p)
# added after run 2 (at the end, so that the earlier cases keep their allocator history)
for _p in ["none", "checkpoint"]:
    CASES["gpt_block4_" + _p] = _case(gpt_block4, _p, precision="bf16",
                                      doc="4 GPT-2 blocks (768, 12 heads, dropout 0.1) bf16, batch 8, seq 512, %s" % _p)
# requests of loss and amp (added after run 3)
for _l in ["sum", "ce", "mse"]:
    CASES["mlp_bf16_loss_" + _l] = _case(mlp_bf16, "none", _l, "bf16", doc="MLP b4096 bf16, policy none, loss %s" % _l)
CASES["mlp_amp_none"] = _case(lambda: mlp(4096), "none", precision="amp_bf16", doc="MLP b4096 fp32 weights, autocast bf16")
CASES["gpt2_amp_checkpoint"] = _case(lambda: gpt2_small(dtype=torch.float32), "checkpoint", precision="amp_bf16",
                                     doc="GPT-2 small fp32 weights, autocast bf16, explicit attention, every block checkpointed")
# batches other than 32: the cuDNN workspace table checked on cases it was not fitted on (run 7)
CASES["resnet50_b256_none"] = _case(lambda: resnet50(256), "none", doc="ResNet-50 b256 fp32 (resnet50.yaml's batch), none")
CASES["resnet18_b64_cs2"] = _case(lambda: resnet18(64), "cs2", doc="ResNet-18 (flat top level) b64 fp32, policy cs2")
# the 1-billion-parameter claim: whole steps with AdamW (added after run 3)
CASES["gpt_1b_adamw_none"] = dict(_case(gpt_1b, "none", precision="bf16", sdpa="flash",
                                        doc="gpt_1b_none with AdamW (bf16 state): whole-step figures"), optimizer="adamw")
for _p in ["none", "checkpoint"]:
    CASES["gpt_1b_b8_amp_adamw_" + _p] = dict(_case(lambda: gpt_1b(torch.float32, 8), _p, precision="amp_bf16",
                                                    sdpa="flash",
                                                    doc="GPT 1.21B fp32 weights, autocast bf16, flash, batch 8, seq 2048, "
                                                        "AdamW (fp32 state), %s: whole-step figures" % _p),
                                              optimizer="adamw")


# ---------------------------------------------------------------------------------------------
# Measurement.


def forward_fn(model, x, policy):
    mods = list(model)

    def fwd():
        if policy == "none":
            return model(x)
        if policy == "checkpoint":  # every top-level child on its own
            y = x
            for m in mods:
                y = checkpoint(m, y, use_reentrant=False)
            return y
        if policy == "checkpoint_layers":  # ViT/BERT: every encoder layer checkpointed, the rest plain
            y = x
            for m in mods:
                y = checkpoint(m, y, use_reentrant=False) if isinstance(m, CHECKPOINTED_LAYERS) else m(y)
            return y
        if policy == "bottleneck":
            import torchvision

            y = x
            for m in mods:
                if isinstance(m, nn.Sequential):
                    for blk in m:
                        y = checkpoint(blk, y, use_reentrant=False) if isinstance(
                            blk, torchvision.models.resnet.Bottleneck) else blk(y)
                else:
                    y = m(y)
            return y
        if policy == "full":
            return checkpoint(model, x, use_reentrant=False)
        if policy in ("cs2", "cs4"):
            return checkpoint_sequential(model, int(policy[2]), x, use_reentrant=False)
        raise ValueError(policy)

    return fwd


def _checkpointed_layers():
    import torchvision

    return (BertLayer, torchvision.models.vision_transformer.EncoderBlock)


CHECKPOINTED_LAYERS = ()
for _n, _c in CASES.items():
    _c["model"] = next(m for m in ("mlp_gelu_bf16", "mlp", "resnet18", "resnet50", "gpt2", "gpt_block4", "llama_lm", "llama",
                                   "vit_b16", "bert_base", "gpt_1b") if _n.startswith(m + "_"))
    _c["gpu_init"] = _n.startswith(("llama", "gpt_1b"))  # 1.2B parameters: initialise on the GPU


class Case:
    def __init__(self, name):
        global CHECKPOINTED_LAYERS
        CHECKPOINTED_LAYERS = _checkpointed_layers()
        c = CASES[name]
        self.name, self.c = name, c
        torch.manual_seed(1)
        if c["gpu_init"]:
            with torch.device("cuda"):
                model, x = c["make"]()
        else:  # as the committed measurements of 2026-11-28 (same allocator history)
            model, x = c["make"]()
        self.model, self.x = model.cuda().train(), x.cuda()
        self.param_bytes = sum(p.nbytes for p in self.model.parameters())
        self.fwd_model = forward_fn(self.model, self.x, c["policy"])
        self.targets = None

    def ctx(self):
        """sdpa backend and autocast contexts of a case (both forward and backward: a checkpoint's
        recompute runs inside the backward)."""
        import contextlib

        st = contextlib.ExitStack()
        if self.c["sdpa"]:
            be = {"flash": SDPBackend.FLASH_ATTENTION, "efficient": SDPBackend.EFFICIENT_ATTENTION,
                  "cudnn": SDPBackend.CUDNN_ATTENTION}[self.c["sdpa"]]
            st.enter_context(sdpa_kernel(be))
        return st

    def autocast(self):
        import contextlib

        if self.c["precision"] == "amp_bf16":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def forward(self):
        """Forward + loss forward. Returns (root, mem_after_model_forward); backward() starts from root."""
        loss = self.c["loss"]
        with self.autocast():
            out = self.fwd_model()
            m1 = torch.cuda.memory_allocated()
            if loss == "ones":
                return out, m1
            if self.targets is None:
                if loss == "ce":
                    n = out.shape[-1]
                    self.targets = torch.randint(0, n, out.shape[:-1], device="cuda").reshape(-1)
                elif loss == "mse":
                    self.targets = torch.randn(out.shape, dtype=out.dtype, device="cuda")
            if loss == "sum":
                r = out.sum()
            elif loss == "mean":
                r = out.mean()
            elif loss == "float_sum":
                r = out.float().sum()
            elif loss == "ce":
                r = F.cross_entropy(out.reshape(-1, out.shape[-1]), self.targets)
            elif loss == "mse":
                r = F.mse_loss(out, self.targets)
            else:
                raise ValueError(loss)
        del out
        return r, m1

    def backward(self, r):
        """ones: the gradient ones_like(out), allocated here (after the saved bytes are read)."""
        r.backward(torch.ones_like(r) if self.c["loss"] == "ones" else None)

    def step_no_zero(self):
        with self.ctx():
            r, _ = self.forward()
            self.backward(r)
        del r

    def step(self):
        self.step_no_zero()
        self.model.zero_grad(set_to_none=True)

    def warm(self):
        for _ in range(2):  # warm-up: library workspaces, allocator pools, targets
            self.step()
        torch.cuda.synchronize()

    def measured_step(self):
        """One forward + loss + backward after the warm-up, as measure() defines the figures;
        returns them and the absolute baseline."""
        req = lambda kind: torch.cuda.memory_stats().get("requested_bytes.all." + kind, -1)  # noqa: E731
        base, base_req = torch.cuda.memory_allocated(), req("current")
        torch.cuda.reset_peak_memory_stats()
        with self.ctx():
            r, m1 = self.forward()
            torch.cuda.synchronize()
            saved, saved_req = torch.cuda.memory_allocated() - base, req("current") - base_req
            self.backward(r)
        torch.cuda.synchronize()
        peak, peak_req = torch.cuda.max_memory_allocated() - base, req("peak") - base_req
        del r
        torch.cuda.synchronize()
        return {"saved_after_forward_bytes": saved, "after_model_forward_bytes": m1 - base, "peak_bytes": peak,
                "after_backward_bytes": torch.cuda.memory_allocated() - base, "saved_requested_bytes": saved_req,
                "peak_requested_bytes": peak_req}, base

    def measure(self):
        """memory_allocated (caching-allocator blocks: sizes rounded up to 512 B, and a cached
        block is handed out whole when less than 1 MiB would remain) and the allocator's
        requested_bytes (the bytes the tensors asked for: independent of the allocator's history)."""
        self.warm()
        rec, _ = self.measured_step()
        self.model.zero_grad(set_to_none=True)
        return rec

    def measure_step(self):
        """The same figures for a whole training step with torch.optim.AdamW (default foreach
        implementation): warm-up steps include opt.step(), so the optimizer state belongs to the
        baseline; adds the state's bytes, the optimizer step's own transient and absolute bytes
        (baseline_absolute_bytes = memory_allocated after warm-up: weights, input, AdamW state and
        the process's cuBLAS/cuBLASLt workspaces; step_peak_absolute_bytes: max over forward,
        backward and opt.step)."""
        opt = torch.optim.AdamW(self.model.parameters())
        for _ in range(2):
            self.step_no_zero()
            opt.step()
            self.model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        rec, base = self.measured_step()
        before_opt = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        opt.step()
        torch.cuda.synchronize()
        opt_peak = torch.cuda.max_memory_allocated()
        self.model.zero_grad(set_to_none=True)
        state = sum(t.nbytes for st in opt.state.values() for t in st.values() if torch.is_tensor(t) and t.is_cuda)
        rec.update({"optimizer": "adamw", "optimizer_state_bytes": state,
                    "optimizer_step_transient_bytes": opt_peak - before_opt, "input_bytes": self.x.nbytes,
                    "baseline_absolute_bytes": base,
                    "step_peak_absolute_bytes": max(base + rec["peak_bytes"], opt_peak)})
        return rec

    def graph_nodes(self):
        """Autograd node names of one forward (with counts): which kernels autograd recorded, e.g.
        the SDPA backend (ScaledDotProductFlashAttentionBackward0 …)."""
        with self.ctx():
            r, _ = self.forward()
            seen, stack, names = set(), [r.grad_fn], {}
            while stack:
                fn = stack.pop()
                if fn is None or fn in seen:
                    continue
                seen.add(fn)
                names[fn.name()] = names.get(fn.name(), 0) + 1
                stack.extend(f for f, _ in fn.next_functions)
        del r
        return names

    def saved_groups(self):
        """Unique storages autograd saves in one forward (hooks of the outermost level: inside a
        non-reentrant checkpoint the checkpoint's own hooks take them, so policies other than
        none show only what the checkpoints keep), grouped by (shape, dtype)."""
        seen, groups = set(), {}
        xptr = self.x.untyped_storage().data_ptr()

        def pack(t):
            st = t.untyped_storage()
            p = st.data_ptr()
            if p not in seen and not isinstance(t, nn.Parameter) and p != xptr:
                seen.add(p)
                key = (tuple(t.shape), str(t.dtype).replace("torch.", ""))
                n, b = groups.get(key, (0, 0))
                groups[key] = (n + 1, b + st.nbytes())
            return t

        with self.ctx(), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            r, _ = self.forward()
        del r
        self.model.zero_grad(set_to_none=True)
        return [{"kind": "saved", "shape": list(s), "dtype": d, "count": n, "bytes": b}
                for (s, d), (n, b) in sorted(groups.items(), key=lambda kv: -kv[1][1])]

    def trace(self, cpp=False):
        """One step under torch.cuda.memory._record_memory_history: what is live (allocated in
        this step) after the forward and at the step's peak, by (block size, frame). Python
        stacks crash the recorder during a checkpoint's recompute in the backward (SystemError
        in torch 2.11), so checkpointed cases are traced without stacks (frame "-")."""
        H = torch.cuda.memory
        rows, err = [], None
        contexts = ("all", None) if self.c["policy"] == "none" else (None,)
        for context in contexts:
            H._record_memory_history(enabled="all", context=context, stacks="all" if cpp else "python",
                                     max_entries=2000000)
            try:
                torch.cuda.synchronize()
                n0 = len(H._snapshot()["device_traces"][0])
                b0 = torch.cuda.memory_allocated()
                with self.ctx():
                    r, _ = self.forward()
                    torch.cuda.synchronize()
                    snap = H._snapshot()
                    n1 = len(snap["device_traces"][0])
                    alloc_fwd = torch.cuda.memory_allocated() - b0
                    self.backward(r)
                del r
                torch.cuda.synchronize()
                tr = H._snapshot()["device_traces"][0]
                rows = replay(tr[n0:], n1 - n0, context is not None)
                # block size minus requested size of this step's blocks live after the forward: the
                # caching allocator's rounding (512 B) and unsplit cached blocks (< 1 MiB spare)
                req = {b.get("address"): b["size"] - b.get("requested_size", b["size"])
                       for sg in snap["segments"] for b in sg["blocks"] if b["state"] == "active_allocated"}
                rows[0].update({"allocated_after_forward": alloc_fwd,
                                "slack_after_forward": sum(req.get(a, 0) for a in rows[0].pop("_fwd_addrs"))})
                rows.insert(0, {"kind": "trace_context", "context": context, "stacks": "all" if cpp else "python",
                                "error": err})
                break
            except Exception as e:  # noqa: BLE001  (recorder failures: retry without stacks)
                err = "%s: %s" % (type(e).__name__, e)
            finally:
                H._record_memory_history(enabled=None)
                self.model.zero_grad(set_to_none=True)
        return rows or [{"kind": "trace_context", "context": None, "error": err}]


def frame_label(e, have_frames):
    f = e.get("frames") or []
    if not f:  # allocations on autograd's device thread have no Python frame
        return "autograd-thread" if have_frames else "-"
    ours = [q for q in f if q["filename"].endswith("torch_memory.py")]
    if not ours:  # C++ frames (--cpp-stacks): the autograd node and the innermost at:: function
        node = next((q["name"].split("(")[0] for q in f if "Backward" in q["name"]), "")
        aten = next((q["name"].split("(")[0] for q in f if q["name"].startswith("at::")), "")
        if node or aten:
            return "%s|%s" % (node, aten)
    inner = f[0]["name"]
    if ours:
        return "%s@%s:%d" % (inner, ours[0]["name"], ours[0]["line"])
    mods = [q for q in f if "/torch/" not in q["filename"]] or f
    return "%s@%s:%d:%s" % (inner, os.path.basename(mods[0]["filename"]), mods[0]["line"], mods[0]["name"])


def replay(tr, n_fwd, have_frames):
    """Live allocations of this step after the forward (first n_fwd events) and at the peak."""
    live, cur, best, at_best, after_fwd, fwd_bytes = {}, 0, 0, {}, {}, 0
    for i, e in enumerate(tr):
        a = e["action"]
        if a == "alloc":
            live[e["addr"]] = (e, i < n_fwd)
            cur += e["size"]
        elif a == "free_completed":
            cur -= e["size"]
            live.pop(e["addr"], None)
        if cur > best:
            best, at_best = cur, dict(live)
        if i == n_fwd - 1:
            after_fwd, fwd_bytes = dict(live), cur
    rows = [{"kind": "trace_totals", "after_forward": fwd_bytes, "peak": best, "_fwd_addrs": list(after_fwd)}]
    for kind, d in (("live_after_forward", after_fwd), ("live_at_peak", at_best)):
        g = {}
        for e, in_fwd in d.values():
            k = (e["size"], frame_label(e, have_frames), "fwd" if in_fwd else "bwd")
            g[k] = g.get(k, 0) + 1
        for (size, fr, ph), n in sorted(g.items(), key=lambda kv: -kv[0][0] * kv[1]):
            rows.append({"kind": kind, "size": size, "count": n, "bytes": size * n, "phase": ph, "frame": fr})
    return rows


def traced_allocations(fn):
    """Runs fn() under the memory-history recorder with C++ stacks; returns fn's result and the
    allocations it made, in order: (size, "autograd node|at:: function")."""
    torch.cuda.synchronize()
    out, tr = _recorded(fn, max_entries=200000)
    return out, [[e["size"], frame_label(e, True)] for e in tr if e["action"] == "alloc"]


def probe_softmax():
    """Softmax backward alone: transient = peak − base − dx during autograd.grad, for plain and
    masked (GPT pattern: (x·1).masked_fill_(causal, −inf)) inputs."""
    shapes = [((8, 12, 1024, 1024), torch.bfloat16), ((8, 12, 512, 512), torch.bfloat16),
              ((8, 12, 1024, 1024), torch.float32), ((8, 12, 2048, 2048), torch.bfloat16),
              ((4096, 10), torch.float32), ((4096, 1000), torch.float32)]
    for shape, dt in shapes:
        for masked in (False, True) if len(shape) == 4 else (False,):
            torch.manual_seed(1)
            x = torch.randn(shape, dtype=dt, device="cuda", requires_grad=True)
            if masked:
                s = shape[-1]
                mask = torch.ones(s, s, dtype=torch.bool, device="cuda").triu(1)
                y = torch.softmax((x * 1.0).masked_fill_(mask, float("-inf")), -1)
            else:
                y = torch.softmax(x, -1)
            g = torch.randn_like(y)
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            (dx,), allocs = traced_allocations(lambda: torch.autograd.grad(y, x, g))
            peak = torch.cuda.max_memory_allocated() - base
            print(json.dumps({"probe": "softmax_backward", "shape": list(shape), "dtype": str(dt), "masked": masked,
                              "peak_minus_base": peak, "dx_bytes": dx.nbytes, "transient": peak - dx.nbytes,
                              "allocations": allocs}), flush=True)
            del x, y, g, dx
            torch.cuda.empty_cache()


def probe_conv():
    """Every Conv2d of torchvision resnet18 (fp32, batch 32), alone on a fresh input of its real
    shape: forward transient = peak − base − output; backward transient = peak − base − dx − dW
    (cudnn.benchmark off, the default)."""
    import torchvision

    r = torchvision.models.resnet18().cuda().train()
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.append((n, tuple(i[0].shape))))
             for n, m in r.named_modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        r(torch.randn(32, 3, 224, 224, device="cuda"))
    for h in hooks:
        h.remove()
    convs = dict(r.named_modules())
    for name, shape in shapes:
        conv = convs[name]
        x = torch.randn(shape, device="cuda", requires_grad=True)
        for _ in range(2):  # warm-up (cuDNN plans, workspaces cached by the allocator)
            y = conv(x)
            torch.autograd.grad(y, (x, conv.weight), torch.ones_like(y))
            del y
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        y, fa = traced_allocations(lambda: conv(x))
        fwd = torch.cuda.max_memory_allocated() - base - y.nbytes
        g = torch.ones_like(y)
        torch.cuda.synchronize()
        base2 = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        (dx, dw), ba = traced_allocations(lambda: torch.autograd.grad(y, (x, conv.weight), g))
        bwd = torch.cuda.max_memory_allocated() - base2 - dx.nbytes - dw.nbytes
        print(json.dumps({"probe": "conv", "conv": name, "input": list(shape), "out_channels": conv.out_channels,
                          "kernel": list(conv.kernel_size), "stride": list(conv.stride), "input_bytes": x.nbytes,
                          "forward_transient": fwd, "backward_transient": bwd, "forward_allocations": fa,
                          "backward_allocations": ba}), flush=True)
        del x, y, g, dx, dw
        torch.cuda.empty_cache()


def conv_shapes(net, batch):
    """(name, Conv2d, input shape) of every Conv2d of torchvision `net` (resnet18 | resnet50) at
    batch × 3 × 224 × 224, in forward order."""
    import torchvision

    r = getattr(torchvision.models, net)().cuda().train()
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.append((n, m, tuple(i[0].shape))))
             for n, m in r.named_modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        r(torch.randn(batch, 3, 224, 224, device="cuda"))
    for h in hooks:
        h.remove()
    return shapes


def _recorded(fn, max_entries=100000):
    """fn() under the memory-history recorder with C++ stacks: its result and the trace entries
    it made (allocations and frees, in order)."""
    H = torch.cuda.memory
    H._record_memory_history(enabled="all", context="alloc", stacks="all", max_entries=max_entries)
    try:
        n0 = len(H._snapshot()["device_traces"][0])
        out = fn()
        torch.cuda.synchronize()
        tr = H._snapshot()["device_traces"][0][n0:]
    finally:
        H._record_memory_history(enabled=None)
    return out, tr


def _conv_call(fn, outputs_of):
    """Runs fn() twice (cuDNN plans built, allocator warm), then once traced. Returns the call's
    requested-bytes peak above the start, the sizes of its outputs and of the allocations it freed
    before returning, in order (its transients: cuDNN workspaces), each with its C++ frame."""
    for _ in range(2):
        outputs_of(fn())
    torch.cuda.synchronize()
    req = lambda kind: torch.cuda.memory_stats()["requested_bytes.all." + kind]  # noqa: E731
    base = req("current")
    torch.cuda.reset_peak_memory_stats()
    out, tr = _recorded(lambda: outputs_of(fn()))
    peak = req("peak") - base
    # A transient is an allocation freed within the call (an output may reuse a freed
    # workspace's address, so addresses alone do not tell them apart).
    live, transient = {}, []
    for i, e in enumerate(tr):
        if e["action"] == "alloc":
            live[e["addr"]] = i
        elif e["action"] == "free_completed" and e["addr"] in live:
            transient.append(live.pop(e["addr"]))
    return {"peak_requested": peak, "outputs": [t.untyped_storage().nbytes() for t in out],
            "workspaces": [[tr[i]["size"], cpp_label(tr[i])] for i in sorted(transient)]}


def cpp_label(e):
    """The innermost at:: function of a C++-stacked trace entry, and run_conv_plan when the
    allocation was made there (cuDNN's workspace, aten/src/ATen/native/cudnn/Conv_v8.cpp)."""
    names = [q["name"].split("(")[0] for q in e.get("frames") or []]
    aten = next((n for n in names if n.startswith("at::")), "-")
    return aten + ("|run_conv_plan" if any("run_conv_plan" in n for n in names) else "")


def probe_conv_table(batches=(32,)):
    """--probe-conv: the cuDNN workspaces of every distinct convolution of torchvision resnet18 and
    resnet50 at each batch (fp32, and bf16 as autocast runs resnet50), cudnn.benchmark off (the
    default: cuDNN's heuristics pick the algorithm). For each pass, called alone through
    aten.convolution / aten.convolution_backward with one output mask (forward, backward_data =
    dX only, backward_weight = dW only; backward_both = dX and dW in one call, as
    ConvolutionBackward0 does): the requested-bytes peak of the call above its start, its
    outputs' sizes, and the allocations it freed before returning (workspaces: requested sizes, in
    the order made, C++ frame).
    One JSON line per convolution."""
    seen = set()
    for batch, net, dtypes in ((b, n, d) for b in batches for n, d in (
            ("resnet18", (torch.float32,)), ("resnet50", (torch.float32, torch.bfloat16)))):
        for dtype in dtypes:
            for name, conv, shape in conv_shapes(net, batch):
                key = (shape, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                       conv.groups, dtype)
                if key in seen:
                    continue
                seen.add(key)
                torch.manual_seed(1)
                x = torch.randn(shape, device="cuda", dtype=dtype)
                w = conv.weight.detach().to(dtype)
                args = (conv.stride, conv.padding, conv.dilation, False, (0, 0), conv.groups)
                y = torch.ops.aten.convolution(x, w, None, *args)
                gy = torch.randn_like(y)
                rec = {"probe": "conv_workspace", "net": net, "batch": batch, "conv": name, "input": list(shape),
                       "dtype": str(dtype).replace("torch.", ""), "out_channels": conv.out_channels,
                       "kernel": list(conv.kernel_size), "stride": list(conv.stride), "padding": list(conv.padding),
                       "dilation": list(conv.dilation), "groups": conv.groups, "output": list(y.shape)}
                rec["forward"] = _conv_call(lambda: torch.ops.aten.convolution(x, w, None, *args), lambda o: [o])
                for pas, mask in (("backward_data", [True, False, False]), ("backward_weight", [False, True, False]),
                                  ("backward_both", [True, True, False])):
                    rec[pas] = _conv_call(lambda m=mask: torch.ops.aten.convolution_backward(
                        gy, x, w, None, *args, m), lambda o: [t for t in o if t is not None])
                rec.update({"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
                            "gpu": torch.cuda.get_device_name(), "benchmark": torch.backends.cudnn.benchmark})
                print(json.dumps(rec), flush=True)
                del x, w, y, gy
                torch.cuda.empty_cache()


def _trace_call(fn):
    """Runs fn() twice (warm), then once traced: every allocation and free of the call in order,
    as [action, requested bytes, C++ frame] (what a pass allocates, when it frees it)."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    out, tr = _recorded(fn)
    del out
    return [[e["action"], e["size"], cpp_label(e)] for e in tr if e["action"] in ("alloc", "free_completed")]


def probe_vit_patch_conv(batches=(32,)):
    """--probe-conv ... --conv-nets vit_b_16: torchvision vit_b_16's patchify convolution (conv_proj:
    3→768, 16×16, stride 16, with a bias) at each batch, fp32 and bf16 (as autocast runs it). The
    gradient reaching ConvolutionBackward0 is the tokens' gradient seen through _process_input's
    reshape + permute: a [N, 768, 14, 14] view with channels-last strides, used here as it comes.
    Passes as probe_conv_table, plus the bias: backward_weight_bias (dW and db: the image needs no
    gradient, the mask ConvolutionBackward0 uses in ViT), backward_bias (db alone), backward_all;
    and the same weight+bias pass on a contiguous gradient. Each pass also gets its whole trace
    (allocations and frees in order, with C++ frames)."""
    import torchvision

    conv = torchvision.models.vit_b_16().conv_proj.cuda()
    for batch in batches:
        for dtype in (torch.float32, torch.bfloat16):
            torch.manual_seed(1)
            x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=dtype)
            w = conv.weight.detach().to(dtype)
            b = conv.bias.detach().to(dtype)
            args = (conv.stride, conv.padding, conv.dilation, False, (0, 0), conv.groups)
            y = torch.ops.aten.convolution(x, w, b, *args)
            n, c, h, ww = y.shape
            gy = torch.randn(n, h * ww, c, device="cuda", dtype=dtype).permute(0, 2, 1).reshape(n, c, h, ww)
            gyc = gy.contiguous()
            rec = {"probe": "conv_workspace", "net": "vit_b_16", "batch": batch, "conv": "conv_proj",
                   "input": list(x.shape), "dtype": str(dtype).replace("torch.", ""), "out_channels": c,
                   "kernel": list(conv.kernel_size), "stride": list(conv.stride), "padding": list(conv.padding),
                   "dilation": list(conv.dilation), "groups": conv.groups, "bias": True, "output": list(y.shape),
                   "grad_output_strides": list(gy.stride())}
            fwd = lambda: torch.ops.aten.convolution(x, w, b, *args)  # noqa: E731
            rec["forward"] = _conv_call(fwd, lambda o: [o])
            rec["forward"]["trace"] = _trace_call(fwd)
            for pas, mask, g in (("backward_data", [True, False, False], gy),
                                 ("backward_weight", [False, True, False], gy),
                                 ("backward_bias", [False, False, True], gy),
                                 ("backward_weight_bias", [False, True, True], gy),
                                 ("backward_both", [True, True, False], gy),
                                 ("backward_all", [True, True, True], gy),
                                 ("backward_weight_bias_contiguous", [False, True, True], gyc)):
                call = lambda m=mask, g=g: torch.ops.aten.convolution_backward(  # noqa: E731
                    g, x, w, [c], *args, m)
                rec[pas] = _conv_call(call, lambda o: [t for t in o if t is not None])
                rec[pas]["trace"] = _trace_call(call)
            rec.update({"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
                        "gpu": torch.cuda.get_device_name(), "benchmark": torch.backends.cudnn.benchmark})
            print(json.dumps(rec), flush=True)
            del x, w, b, y, gy, gyc
            torch.cuda.empty_cache()


def probe_mse():
    """mse_loss on the MLP's output (4096×10 fp32): the loss value's storage and every allocation
    of the loss's forward with its address (is the loss the squared-error block?)."""
    model, x = mlp(4096)
    model, x = model.cuda().train(), x.cuda()
    out = model(x)
    t = torch.randn_like(out)
    H = torch.cuda.memory
    H._record_memory_history(enabled="all", context="alloc", stacks="all", max_entries=100000)
    try:
        n0 = len(H._snapshot()["device_traces"][0])
        r = F.mse_loss(out, t)
        torch.cuda.synchronize()
        tr = H._snapshot()["device_traces"][0][n0:]
    finally:
        H._record_memory_history(enabled=None)
    print(json.dumps({"probe": "mse_loss", "loss_storage_nbytes": r.untyped_storage().nbytes(),
                      "loss_data_ptr": r.untyped_storage().data_ptr(),
                      "saved": [[list(v.shape), v.untyped_storage().data_ptr(), v.untyped_storage().nbytes()]
                                for v in (r.grad_fn._saved_self, r.grad_fn._saved_target)],
                      "events": [[e["action"], e["addr"], e["size"], frame_label(e, True)] for e in tr]}), flush=True)


def probe_nodes(name, limit=400):
    """Allocated bytes (above the baseline) before and after each autograd node of one backward
    of CASE, in execution order (the first `limit` node events): which tensor outlives its reader."""
    k = Case(name)
    k.warm()
    base = torch.cuda.memory_allocated()
    events = []
    with k.ctx():
        r, _ = k.forward()
        seen, stack = set(), [r.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            n = fn.name()
            fn.register_prehook(lambda g, n=n: events.append(["pre", n, torch.cuda.memory_allocated() - base]))
            fn.register_hook(lambda gi, go, n=n: events.append(["post", n, torch.cuda.memory_allocated() - base]))
            stack.extend(f for f, _ in fn.next_functions)
        after_fwd = torch.cuda.memory_allocated() - base
        k.backward(r)
    print(json.dumps({"probe": "nodes", "case": name, "after_forward": after_fwd, "events": events[:2 * limit]}),
          flush=True)


PROBES = {"softmax": probe_softmax, "conv": probe_conv, "mse": probe_mse,
          "nodes_gpt2_amp_none": lambda: probe_nodes("gpt2_amp_none"), "nodes_gpt2_none": lambda: probe_nodes("gpt2_none")}


def run_case(name):
    """Measures one case (a fresh model; the allocator's cache emptied afterwards)."""
    t0 = time.time()
    c = CASES[name]
    rec = {"case": name, "model": c["model"], "policy": c["policy"], "loss": c["loss"], "precision": c["precision"],
           "sdpa_forced": c["sdpa"], "doc": c["doc"]}
    k = Case(name)
    rec["param_bytes"] = k.param_bytes
    rec.update(k.measure_step() if c.get("optimizer") else k.measure())
    rec.update({"torch": torch.__version__, "gpu": torch.cuda.get_device_name(), "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version(),
                "sms": torch.cuda.get_device_properties(0).multi_processor_count,
                "sdp_enabled": {b: getattr(torch.backends.cuda, b + "_sdp_enabled")()
                                for b in ("flash", "mem_efficient", "cudnn", "math")},
                "date": datetime.date.today().isoformat(), "script": "scripts/torch_memory.py"})
    rec["seconds"] = round(time.time() - t0, 1)
    del k
    gc.collect()
    torch.cuda.empty_cache()
    return rec


def detail_case(name, detail, do_trace, cpp):
    """Autograd nodes of one forward, saved storages and (do_trace) live sets of one traced step;
    rows appended to `detail` (a .jsonl file, rows carry "case") or written to detail/CASE.jsonl."""
    k = Case(name)
    rows = [{"kind": "autograd_nodes", "nodes": k.graph_nodes()}]
    try:
        rows += k.saved_groups()
    except Exception as e:  # noqa: BLE001
        rows.append({"kind": "saved_error", "error": "%s: %s" % (type(e).__name__, e)})
    if do_trace:
        rows += k.trace(cpp)
    one_file = detail.endswith(".jsonl")
    with open(detail if one_file else os.path.join(detail, name + ".jsonl"), "a" if one_file else "w") as f:
        for r in rows:
            f.write(json.dumps(dict(r, case=name) if one_file else r) + "\n")
    del k
    gc.collect()
    torch.cuda.empty_cache()
    return rows[0]["nodes"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--detail", help="folder for CASE.jsonl (saved tensors, live sets), or one FILE.jsonl for all")
    ap.add_argument("--no-trace", action="store_true")
    ap.add_argument("--cpp-stacks", action="store_true", help="trace with C++ frames (names backward kernels)")
    ap.add_argument("--out", help="append result lines to this file too")
    ap.add_argument("--probe-conv", type=int, nargs="*", metavar="BATCH",
                    help="cuDNN workspace of every distinct ResNet-18/50 convolution at each BATCH (default 32), "
                         "per pass (probe_conv_table)")
    ap.add_argument("--conv-nets", nargs="+", default=["resnet"], choices=["resnet", "vit_b_16"],
                    help="what --probe-conv measures: resnet (every ResNet-18/50 conv) and/or vit_b_16 (its "
                         "patchify conv with its bias, probe_vit_patch_conv)")
    ap.add_argument("--probe", action="append", default=[], choices=sorted(PROBES),
                    help="single-op measurements for the peak analysis (softmax backward, cuDNN convs)")
    a = ap.parse_args()
    for p in a.probe:
        try:
            PROBES[p]()
        except Exception as e:  # noqa: BLE001  (one failing probe must not lose the others)
            print(json.dumps({"probe": p, "error": "%s: %s" % (type(e).__name__, e)}), flush=True)
        gc.collect()
        torch.cuda.empty_cache()
    if a.probe_conv is not None:
        if "resnet" in a.conv_nets:
            probe_conv_table(a.probe_conv or (32,))
        if "vit_b_16" in a.conv_nets:
            probe_vit_patch_conv(a.probe_conv or (32,))
    if a.list:
        for n, c in CASES.items():
            print("%-28s %s" % (n, c["doc"]))
        return
    names = list(CASES) if a.all else a.case
    for n in names:
        if n not in CASES:
            sys.exit("unknown case %s (see --list)" % n)
    if a.detail and not a.detail.endswith(".jsonl"):
        os.makedirs(a.detail, exist_ok=True)
    recs = []
    # Phase 1: the figures, every case in order with nothing else run in between (the caching
    # allocator's history decides block rounding, so this keeps the numbers reproducible).
    for n in names:
        try:
            recs.append(run_case(n))
        except Exception as e:  # noqa: BLE001  (one failing case must not lose the others)
            recs.append({"case": n, "error": "%s: %s" % (type(e).__name__, e)})
            gc.collect()
            torch.cuda.empty_cache()
        if a.out:  # kept even if phase 2 does not finish; rewritten with its additions below
            with open(a.out + ".phase1", "a") as f:
                f.write(json.dumps(recs[-1]) + "\n")
    # Phase 2: what autograd recorded (SDPA backend), saved storages, live sets.
    for rec in recs:
        if "error" not in rec and not CASES[rec["case"]].get("optimizer"):
            try:
                nodes = detail_case(rec["case"], a.detail, not a.no_trace, a.cpp_stacks) if a.detail else \
                    Case(rec["case"]).graph_nodes()
                rec["autograd_nodes"] = nodes
                rec["sdpa_backend"] = sorted(n for n in nodes if "Attention" in n) or None
            except Exception as e:  # noqa: BLE001
                rec["detail_error"] = "%s: %s" % (type(e).__name__, e)
            gc.collect()
            torch.cuda.empty_cache()
        line = json.dumps(rec)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
