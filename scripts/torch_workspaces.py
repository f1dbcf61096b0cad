"""The CUDA library workspaces a PyTorch training process keeps (docs/workloads.md, "Memory
breakdown"): after the warm-up of a scripts/torch_memory.py case, in a fresh process, every
allocated block that is not a parameter, the input, a loss target or optimizer state, with the
C++ frames that allocated it (cuBLAS / cuBLASLt workspaces). Run on a GPU: python3
scripts/torch_workspaces.py > out.jsonl (one JSON line per case); the committed summary is
tests/unit/workload/torch_workspaces.jsonl."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def one(name):
    import torch
    import torch_memory as tm
    H = torch.cuda.memory
    H._record_memory_history(enabled="all", context="all", stacks="all", max_entries=200000)
    case = tm.Case(name)
    opt = None
    if "adamw" in name:
        opt = torch.optim.AdamW(case.model.parameters())
        for _ in range(2):
            case.step_no_zero()
            opt.step()
            case.model.zero_grad(set_to_none=True)
    else:
        case.warm()
    torch.cuda.synchronize()
    known = {p.data_ptr() for p in case.model.parameters()} | {case.x.data_ptr()}
    if opt:
        known |= {t.data_ptr() for st in opt.state.values() for t in st.values() if torch.is_tensor(t) and t.is_cuda}
    if case.targets is not None:
        known.add(case.targets.data_ptr())
    snap = H._snapshot()
    rows = []
    for sg in snap["segments"]:
        for b in sg["blocks"]:
            if b["state"] != "active_allocated" or b["address"] in known:
                continue
            fr = [f["name"] for f in (b.get("frames") or [])]
            hit = [f for f in fr if any(k in f.lower() for k in ("blas", "workspace", "cudnn", "optim", "foreach"))]
            rows.append({"size": b["size"], "req": b.get("requested_size"), "stream": sg.get("stream"),
                         "hit": hit[:4], "top": [f for f in fr if not f.startswith("torch::unwind")][:6]})
    H._record_memory_history(enabled=None)
    base = torch.cuda.memory_allocated()
    state = sum(t.nbytes for st in opt.state.values() for t in st.values() if torch.is_tensor(t) and t.is_cuda) if opt else 0
    print(json.dumps({"case": name, "allocated": base, "params": case.param_bytes, "input": case.x.nbytes,
                      "state": state, "other": base - case.param_bytes - case.x.nbytes - state,
                      "other_blocks": rows}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        one(sys.argv[1])
        sys.exit(0)
    for n in ["mlp_none", "mlp_amp_none", "gpt_block4_none", "gpt2_amp_none", "gpt_1b_none", "gpt_1b_adamw_none"]:
        r = subprocess.run([sys.executable, __file__, n], capture_output=True, text=True)
        sys.stdout.write(r.stdout); sys.stdout.write(r.stderr[-1500:] if r.returncode else "")
