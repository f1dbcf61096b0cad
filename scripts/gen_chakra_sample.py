#!/usr/bin/env python3
"""Writes traces/chakra_mlp_step.et: one training step of a 2-layer MLP as an MLCommons
Chakra execution trace, in the shape Chakra's PyTorch converter gives (aten op names,
input shapes as Python-literal strings), for bpsim's Chakra importer (sim/trace/chakra_et.cpp).

    python3 scripts/gen_chakra_sample.py [-o traces/chakra_mlp_step.et]

Needs protoc and python3-protobuf (scripts/setup.sh). The Python module is generated from
bpsim's own sim/trace/chakra_et.proto into a temporary folder. The output is deterministic.

Network: x[64, 256] -> fc1 (256 -> 128) -> relu -> fc2 (128 -> 32) -> log_softmax, fp32,
SGD step. The expected op count and MACs are derived in tests/unit/trace/test_chakra_et.cpp.
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

B, D_IN, H, D_OUT = 64, 256, 128, 32
F32 = 4  # bytes


def load_pb2(tmp):
    subprocess.run(["protoc", "--proto_path=" + ROOT, "--python_out=" + tmp,
                    os.path.join(ROOT, "sim", "trace", "chakra_et.proto")], check=True)
    sys.path.insert(0, tmp)
    return importlib.import_module("sim.trace.chakra_et_pb2")


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def shapes(*dims):
    return "[" + ", ".join("[" + ", ".join(str(d) for d in s) + "]" for s in dims) + "]"


def build(pb):
    nodes = []

    def node(nid, name, ntype, data=(), ctrl=(), ins=None, outs=None, phase=None, **ints):
        n = pb.Node(id=nid, name=name, type=ntype)
        n.data_deps.extend(data)
        n.ctrl_deps.extend(ctrl)
        if ins is not None:
            n.inputs.shapes = shapes(*ins)
        if outs is not None:
            n.outputs.shapes = shapes(*outs)
        if phase:
            n.attr.add(name="phase", string_val=phase)
        for k, v in ints.items():
            n.attr.add(name=k, uint64_val=v)
        n.attr.add(name="is_cpu_op", bool_val=False)
        nodes.append(n)

    LOAD, STORE, COMP, META = pb.MEM_LOAD_NODE, pb.MEM_STORE_NODE, pb.COMP_NODE, pb.METADATA_NODE
    w1, w2 = D_IN * H * F32, H * D_OUT * F32
    # Forward.
    node(0, "load.x", LOAD, tensor_size=B * D_IN * F32)
    node(1, "load.fc1.weight", LOAD, tensor_size=w1)
    node(2, "load.fc2.weight", LOAD, tensor_size=w2)
    node(3, "aten::addmm", COMP, data=[0, 1], ins=[[H], [B, D_IN], [D_IN, H]], outs=[[B, H]])
    node(4, "aten::relu", COMP, data=[3], ins=[[B, H]], outs=[[B, H]])
    node(5, "aten::addmm", COMP, data=[4, 2], ins=[[D_OUT], [B, H], [H, D_OUT]], outs=[[B, D_OUT]])
    node(6, "aten::_log_softmax", COMP, data=[5], ins=[[B, D_OUT]], outs=[[B, D_OUT]])
    # Backward (phase attributes: the aten names alone do not say dX from dW).
    node(7, "aten::_log_softmax_backward_data", COMP, data=[6], ins=[[B, D_OUT], [B, D_OUT]],
         outs=[[B, D_OUT]], phase="backward_data")
    node(8, "aten::mm", COMP, data=[7], ins=[[B, D_OUT], [D_OUT, H]], outs=[[B, H]], phase="backward_data")
    node(9, "aten::mm", COMP, data=[7], ctrl=[4], ins=[[H, B], [B, D_OUT]], outs=[[H, D_OUT]],
         phase="backward_weight")
    node(10, "aten::sum", COMP, data=[7], ins=[[B, D_OUT]], outs=[[D_OUT]], phase="backward_weight")
    node(11, "aten::threshold_backward", COMP, data=[8], ctrl=[4], ins=[[B, H], [B, H]], outs=[[B, H]],
         phase="backward_data")
    node(12, "aten::mm", COMP, data=[11], ctrl=[0], ins=[[D_IN, B], [B, H]], outs=[[D_IN, H]],
         phase="backward_weight")
    node(13, "aten::sum", COMP, data=[11], ins=[[B, H]], outs=[[H]], phase="backward_weight")
    node(14, "store.fc2.weight.grad", STORE, data=[9], phase="backward_weight", tensor_size=w2)
    node(15, "store.fc1.weight.grad", STORE, data=[12], phase="backward_weight", tensor_size=w1)
    # A metadata node joins the gradients: it becomes no op; the step waits on what it waits on.
    node(16, "gradients_ready", META, data=[10, 13, 14, 15])
    # SGD: w -= lr * g over both weights (the "Optimizer" name gives the update phase).
    node(17, "Optimizer.step#SGD.step", COMP, data=[16], ins=[[D_IN, H], [D_IN, H], [H, D_OUT], [H, D_OUT]],
         outs=[[D_IN, H], [H, D_OUT]], num_ops=2 * (D_IN * H + H * D_OUT))
    node(18, "store.fc1.weight", STORE, data=[17], phase="update", tensor_size=w1)
    node(19, "store.fc2.weight", STORE, data=[17], phase="update", tensor_size=w2)
    return nodes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, "traces", "chakra_mlp_step.et"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pb = load_pb2(tmp)
        meta = pb.GlobalMetadata(version="0.0.4")
        meta.attr.add(name="generator", string_val="bpsim scripts/gen_chakra_sample.py")
        with open(args.output, "wb") as f:
            for msg in [meta] + build(pb):
                data = msg.SerializeToString(deterministic=True)
                f.write(varint(len(data)) + data)
    print(args.output)


if __name__ == "__main__":
    main()
