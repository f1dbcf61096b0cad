#include "models/systolic/mapper.h"
#include "sim/core/int_math.h"

#include <cmath>
#include <string>

namespace bpsim::systolic {

namespace {
uint64_t last_of(uint64_t total, uint64_t size) { return total == 0 ? 0 : total - (ceil_div(total, size) - 1) * size; }
}  // namespace

FoldMap map_gemm(uint64_t m, uint64_t k, uint64_t n, Dataflow df, unsigned rows, unsigned cols) {
  FoldMap f;
  if (df == Dataflow::ws) f.sr = k, f.sc = n, f.t = m;
  else if (df == Dataflow::os) f.sr = m, f.sc = n, f.t = k;
  else f.sr = k, f.sc = m, f.t = n;
  f.rows = rows;
  f.cols = cols;
  f.fr = ceil_div(f.sr, rows);
  f.fc = ceil_div(f.sc, cols);
  f.r_last = last_of(f.sr, rows);
  f.c_last = last_of(f.sc, cols);
  return f;
}

const char* operand_name(int o) { return o == kInput ? "input" : o == kWeight ? "weight" : "output"; }

Roles roles_of(Dataflow df) {
  if (df == Dataflow::ws) return {kWeight, kInput, kOutput};
  if (df == Dataflow::is) return {kInput, kWeight, kOutput};
  return {kOutput, kInput, kWeight};
}

uint64_t usable_bytes(const SramConfig& s, int operand) {
  const uint64_t cap = operand == kInput ? s.input_bytes : operand == kWeight ? s.weight_bytes : s.output_bytes;
  return s.double_buffer ? cap / 2 : cap;
}

void Traffic::scale_streamed(const Roles& r, double f) {
  for (int o : {int(r.rt), int(r.ct)}) {
    OperandBytes& b = op[size_t(o)];
    for (uint64_t* v : {&b.dram_read, &b.dram_write, &b.sram_read, &b.sram_write})
      *v = uint64_t(std::llround(double(*v) * f));
  }
}

void Traffic::add(const Traffic& o, uint64_t times) {
  for (size_t i = 0; i < 3; ++i) {
    op[i].dram_read += o.op[i].dram_read * times;
    op[i].dram_write += o.op[i].dram_write * times;
    op[i].sram_read += o.op[i].sram_read * times;
    op[i].sram_write += o.op[i].sram_write * times;
  }
  first_fold_read_bytes = first_fold_read_bytes ? first_fold_read_bytes : o.first_fold_read_bytes;
  last_fold_write_bytes = o.last_fold_write_bytes ? o.last_fold_write_bytes : last_fold_write_bytes;
  spill_bytes += o.spill_bytes * times;
}

Traffic plan_traffic(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned e, unsigned a,
                     uint64_t input_pass_bytes) {
  Traffic t;
  if (f.sr == 0 || f.sc == 0 || f.t == 0) return t;
  const Roles r = roles_of(df);
  // [conv_input hook] DRAM bytes of one full pass over operand o: the GEMM view unless the
  // caller gives the input's (a conv's line buffer reads each ifmap byte once per pass).
  const auto pass_bytes = [&](int o, uint64_t gemm_view) {
    return o == kInput && input_pass_bytes ? input_pass_bytes : gemm_view;
  };
  // Stationary operand: every element enters (or, for outputs, leaves) the array once.
  OperandBytes& rc = t.op[r.rc];
  const uint64_t rc_bytes = f.sr * f.sc * e;
  if (r.rc == kOutput) {
    rc.sram_write = rc.sram_read = rc.dram_write = rc_bytes;  // drained, buffered, written back
  } else {
    rc.sram_read = rc_bytes;
    rc.dram_read = rc.sram_write = pass_bytes(r.rc, rc_bytes);
  }
  // Row-streamed operand (Sr×T): streamed once per column fold, fetched once if it fits.
  OperandBytes& rt = t.op[r.rt];
  const uint64_t rt_bytes = f.sr * f.t * e, rt_pass = pass_bytes(r.rt, rt_bytes);
  rt.dram_read = rt_pass * (rt_pass <= usable_bytes(s, r.rt) ? 1 : f.fc);
  rt.sram_write = rt.dram_read;
  rt.sram_read = rt_bytes * f.fc;
  // Column-streamed operand (Sc×T): one column fold's slice lives across the row folds.
  OperandBytes& ct = t.op[r.ct];
  const uint64_t slice_elems = f.c_eff() * f.t;
  if (r.ct == kOutput) {
    const uint64_t psums = f.sc * f.t * a;
    ct.sram_write = psums * f.fr;                        // every row fold updates the partial sums
    ct.sram_read = psums * (f.fr - 1) + f.sc * f.t * e;  // read back, then read for write-back
    ct.dram_write = f.sc * f.t * e;
    if (slice_elems * a > usable_bytes(s, kOutput) && f.fr > 1) {
      t.spill_bytes = psums * (f.fr - 1);
      ct.dram_write += t.spill_bytes;
      ct.dram_read += t.spill_bytes;
    }
  } else {
    const uint64_t ct_bytes = f.sc * f.t * e;
    ct.dram_read = ct_bytes * (slice_elems * e <= usable_bytes(s, r.ct) ? 1 : f.fr);
    ct.sram_write = ct.dram_read;
    ct.sram_read = ct_bytes * f.fr;
  }
  // First fold: its stationary tile (unless it is the output) and its streamed slices.
  const uint64_t r0 = f.r_eff(), c0 = f.c_eff();
  t.first_fold_read_bytes = (r.rc == kOutput ? 0 : r0 * c0 * e) + r0 * f.t * e + (r.ct == kOutput ? 0 : c0 * f.t * e);
  t.last_fold_write_bytes = r.rc == kOutput ? f.r_last * f.c_last * e : f.c_last * f.t * e;
  return t;
}

std::string check_tile_fit(const SystolicSpec& s, unsigned e, unsigned a) {
  const Roles r = roles_of(s.dataflow);
  const uint64_t need_rc = uint64_t(s.rows) * s.cols * (r.rc == kOutput ? a : e);
  // A streamed operand needs at least one array-wide vector per buffer half.
  const uint64_t need_rt = uint64_t(s.rows) * e;
  const uint64_t need_ct = uint64_t(s.cols) * (r.ct == kOutput ? a : e);
  const struct {
    int op;
    uint64_t need;
    const char* what;
  } checks[] = {{r.rc, need_rc, "one stationary rows×cols tile"},
                {r.rt, need_rt, "one rows-wide stream vector"},
                {r.ct, need_ct, "one cols-wide stream vector"}};
  for (const auto& c : checks) {
    const uint64_t have = usable_bytes(s.sram, c.op);
    if (have < c.need)
      return std::string(operand_name(c.op)) + " buffer too small for " + c.what + ": needs " + std::to_string(c.need) +
             " bytes, has " + std::to_string(have) + (s.sram.double_buffer ? " (half of it, double buffered)" : "");
  }
  return "";
}

}  // namespace bpsim::systolic
