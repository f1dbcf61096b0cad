#!/usr/bin/env python3
"""Writes a synthetic bpsim trace of N ops (traces/README.md format) for replay benchmarks.

Layers of a GEMM (64x64x64) followed by an elementwise op, forward then backward
phases, each op depending on the one before; four tensors reused by every op, so the
file grows with the op count only. Deterministic: same N, same bytes.

usage: gen_trace.py N OUT.jsonl
"""
import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    with open(out, "w") as f:
        w = lambda rec: f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        w({"format": "bpsim-trace", "version": 1, "name": f"synth{n}", "dtype": "bf16", "batch": 1})
        for i, (name, role) in enumerate([("x", "input"), ("w", "weight"), ("y", "activation"), ("g", "gradient")]):
            w({"tensor": i, "name": name, "bytes": 64 * 64 * 2, "role": role})
        half = n // 2
        for i in range(n):
            phase = "forward" if i < half else ("backward_data" if i % 4 < 2 else "backward_weight")
            rec = {"op": i, "name": f"op{i}", "layer": f"l{i // 2}", "phase": phase}
            if i % 2 == 0:
                rec.update(kind="gemm", gemm={"m": 64, "n": 64, "k": 64}, reads=[0, 1], writes=[2])
            else:
                rec.update(kind="elementwise", detail="relu", elements=64 * 64, reads=[2], writes=[3])
            if i:
                rec["deps"] = [i - 1]
            w(rec)


if __name__ == "__main__":
    main()
