#include "models/systolic/mapper.h"
#include "sim/core/int_math.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "models/systolic/fold_core.h"

namespace bpsim::systolic {

namespace {
uint64_t last_of(uint64_t total, uint64_t size) { return total == 0 ? 0 : total - (ceil_div(total, size) - 1) * size; }

/// DRAM bytes of `passes` passes of `pass` bytes of which `pinned` are loaded only once.
uint64_t repeated(uint64_t pass, uint64_t passes, uint64_t pinned) {
  return passes > 1 ? pass * passes - std::min(pinned, pass) * (passes - 1) : pass * passes;
}
}  // namespace

const char* Mapping::family() const {
  if (fixed) return "fixed";
  return pinned[kInput] || pinned[kWeight] ? "pinned_slice" : "loop_nest";
}

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
  f.tt = f.t_last = f.t;
  return f;
}

FoldMap tile_t(FoldMap f, uint64_t tt) {
  if (f.t == 0) return f;
  f.tt = std::clamp<uint64_t>(tt, 1, f.t);
  f.ft = ceil_div(f.t, f.tt);
  f.t_last = last_of(f.t, f.tt);
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

PassBytes gemm_pass_bytes(const FoldMap& f, Dataflow df, unsigned e) {
  const Roles r = roles_of(df);
  PassBytes p;
  p.op[size_t(r.rc)] = f.sr * f.sc * e;
  p.op[size_t(r.rt)] = f.sr * f.t * e;
  p.op[size_t(r.ct)] = f.sc * f.t * e;
  p.pinnable = p.op;
  return p;
}

std::array<const char*, 3> loop_dim_names(Dataflow df) {
  if (df == Dataflow::ws) return {"k", "n", "m"};
  if (df == Dataflow::os) return {"m", "n", "k"};
  return {"k", "m", "n"};
}

namespace {

/// The loop dimension an operand is not indexed by: the stationary tile spans Sr×Sc, the
/// row-streamed Sr×T, the column-streamed Sc×T.
int unindexed_dim(const Roles& r, int o) { return o == int(r.rc) ? kT : o == int(r.rt) ? kSc : kSr; }

/// Full passes an operand makes under a tile-loop order (derive_passes).
uint64_t passes_of(const Mapping& m, int unindexed) {
  int innermost = -1;  // position of the innermost loop with trips that indexes the operand
  int at = 0;
  for (int pos = 0; pos < 3; ++pos) {
    const int d = m.order[size_t(pos)];
    if (d == unindexed) at = pos;
    else if (m.trips[size_t(d)] > 1) innermost = pos;
  }
  return m.trips[size_t(unindexed)] > 1 && at < innermost ? m.trips[size_t(unindexed)] : 1;
}

}  // namespace

void derive_passes(Mapping& m, Dataflow df) {
  const Roles r = roles_of(df);
  for (int o = 0; o < 3; ++o) m.passes[size_t(o)] = o == kOutput ? 1 : passes_of(m, unindexed_dim(r, o));
  m.spill_passes = passes_of(m, unindexed_dim(r, kOutput)) - 1;
}

Mapping fixed_mapping(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned e, unsigned a,
                      const PassBytes& pass) {
  const Roles r = roles_of(df);
  Mapping m;
  m.tile = {f.r_eff(), f.c_eff(), f.t};
  m.trips = {f.fr, f.fc, 1};
  m.candidates = 1;
  m.passes[size_t(r.rc)] = 1;
  // What a pass reads decides the fit (a conv's line buffer holds its unique ifmap bytes).
  m.passes[size_t(r.rt)] = pass.op[size_t(r.rt)] <= usable_bytes(s, r.rt) ? 1 : f.fc;
  const uint64_t slice_elems = f.c_eff() * f.t;
  if (r.ct == kOutput) {
    m.passes[kOutput] = 1;
    m.spill_passes = slice_elems * a > usable_bytes(s, kOutput) && f.fr > 1 ? f.fr - 1 : 0;
  } else {
    m.passes[size_t(r.ct)] = slice_elems * e <= usable_bytes(s, r.ct) ? 1 : f.fr;
  }
  return m;
}

Traffic mapped_traffic(const FoldMap& f, Dataflow df, const Mapping& m, const PassBytes& pass, unsigned e, unsigned a) {
  Traffic t;
  if (f.sr == 0 || f.sc == 0 || f.t == 0) return t;
  const Roles r = roles_of(df);
  // Stationary operand: enters (or, for outputs, leaves) the array once per T tile.
  OperandBytes& rc = t.op[r.rc];
  if (r.rc == kOutput) {
    rc.sram_write = rc.sram_read = f.sr * f.sc * e;  // drained, buffered, written back
    rc.dram_write = pass.op[kOutput];
  } else {
    rc.dram_read = rc.sram_write = repeated(pass.op[size_t(r.rc)], m.passes[size_t(r.rc)], m.pinned[size_t(r.rc)]);
    rc.sram_read = f.sr * f.sc * e * f.ft;
  }
  // Row-streamed operand (Sr×T): streamed into the array once per column fold.
  OperandBytes& rt = t.op[r.rt];
  rt.dram_read = rt.sram_write = repeated(pass.op[size_t(r.rt)], m.passes[size_t(r.rt)], m.pinned[size_t(r.rt)]);
  rt.sram_read = f.sr * f.t * e * f.fc;
  // Column-streamed operand (Sc×T): once per row fold; as the output, partial sums.
  OperandBytes& ct = t.op[r.ct];
  if (r.ct == kOutput) {
    const uint64_t psums = f.sc * f.t * a;
    ct.sram_write = psums * f.fr;                        // every row fold updates the partial sums
    ct.sram_read = psums * (f.fr - 1) + f.sc * f.t * e;  // read back, then read for write-back
    t.spill_bytes = psums * m.spill_passes;
    ct.dram_write = pass.op[kOutput] + t.spill_bytes;
    ct.dram_read = t.spill_bytes;
  } else {
    ct.dram_read = ct.sram_write = repeated(pass.op[size_t(r.ct)], m.passes[size_t(r.ct)], m.pinned[size_t(r.ct)]);
    ct.sram_read = f.sc * f.t * e * f.fr;
  }
  // First fold: its stationary tile (unless it is the output) and its streamed slices.
  const uint64_t r0 = f.r_eff(), c0 = f.c_eff();
  t.first_fold_read_bytes = (r.rc == kOutput ? 0 : r0 * c0 * e) + r0 * f.tt * e + (r.ct == kOutput ? 0 : c0 * f.tt * e);
  t.last_fold_write_bytes = r.rc == kOutput ? f.r_last * f.c_last * e : f.c_last * f.t_last * e;
  // A single-buffered output holds its last block until the folds end: all of it leaves after.
  if (m.output_single) t.last_fold_write_bytes = last_of(f.sc, m.tile[kSc]) * f.t_last * e;
  return t;
}

uint64_t drain_stall_cycles(const Mapping& m, const FoldMap& f, const SramConfig& s, unsigned e, double bytes_per_cycle,
                            uint64_t instances) {
  if (!m.output_single || f.sc == 0 || f.t == 0 || instances == 0) return 0;
  const FoldMap tiled = tile_t(f, m.tile[kT]);
  const uint64_t drained = (instances * f.sc * f.t - last_of(f.sc, m.tile[kSc]) * tiled.t_last) * e;
  const double rate = bytes_per_cycle > 0 ? bytes_per_cycle : double(s.bytes_per_cycle);
  return uint64_t(std::ceil(double(drained) / rate));
}

void pin_slices(Mapping& m, const FoldMap& f, Dataflow df, const SramConfig& s, unsigned e, const PassBytes& pass) {
  m.pinned = {};
  const Roles r = roles_of(df);
  // Elements of each operand's tile: the stationary Sr×Sc, the row-streamed Sr×T, the
  // column-streamed Sc×T. A stationary tile that is fetched again on every T trip is never
  // reused: each of its folds enters the array once per visit, so it passes through the
  // buffer one fold at a time and leaves the rest of the buffer to the slice.
  std::array<uint64_t, 3> tile{};
  tile[size_t(r.rc)] = m.passes[size_t(r.rc)] > 1 ? f.r_eff() * f.c_eff() : m.tile[kSr] * m.tile[kSc];
  tile[size_t(r.rt)] = m.tile[kSr] * m.tile[kT];
  tile[size_t(r.ct)] = m.tile[kSc] * m.tile[kT];
  // The slice never changes, so it needs no second copy: it takes the whole buffer but the
  // tile's copies (two when double buffered, the one being used and the one arriving).
  const uint64_t copies = s.double_buffer ? 2 : 1;
  for (int o : {int(kInput), int(kWeight)}) {
    const auto i = size_t(o);
    if (m.passes[i] < 2) continue;
    // A line buffer needs less than the tile's GEMM elements: counting those is safe.
    const uint64_t cap = o == kInput ? s.input_bytes : s.weight_bytes, used = tile[i] * e * copies;
    if (cap > used) m.pinned[i] = std::min({pass.op[i], pass.pinnable[i], (cap - used) / e * e});
  }
}

Traffic plan_traffic(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned e, unsigned a,
                     uint64_t input_pass_bytes) {
  PassBytes pass = gemm_pass_bytes(f, df, e);
  if (input_pass_bytes) pass.op[kInput] = input_pass_bytes;
  return mapped_traffic(f, df, fixed_mapping(f, df, s, e, a, pass), pass, e, a);
}

namespace {

/// Tiles of whole folds along a dimension of `size` elements on `array` PEs, one per
/// distinct trip count (every one up to 256 folds; beyond, trips 1..16 and 1..16 folds).
std::vector<uint64_t> fold_tiles(uint64_t size, uint64_t array) {
  constexpr uint64_t kFew = 16;
  const uint64_t folds = ceil_div(size, array);
  std::vector<uint64_t> trips;
  for (uint64_t n = 1; n <= std::min(folds, kFew); ++n) trips.push_back(n);
  for (uint64_t k = 1; k <= std::min(folds, kFew); ++k) trips.push_back(ceil_div(folds, k));
  std::vector<uint64_t> tiles;
  tiles.reserve(trips.size());
  for (uint64_t n : trips) tiles.push_back(std::min(size, ceil_div(folds, n) * array));
  std::sort(tiles.begin(), tiles.end());
  tiles.erase(std::unique(tiles.begin(), tiles.end()), tiles.end());
  return tiles;
}

/// A candidate's figures, in the order the objective compares them.
struct Score {
  uint64_t dram = 0, cycles = 0, sram = 0;
  bool single = false;  ///< a single-buffered output: taken only when it saves DRAM bytes or cycles
};

Score score_of(const FoldMap& f, const Mapping& m, const MapTarget& g, const PassBytes& pass) {
  const SystolicSpec& s = g.spec;
  const FoldMap tiled = tile_t(f, m.tile[kT]);
  const Traffic t = mapped_traffic(tiled, s.dataflow, m, pass, g.elem_bytes, g.acc_bytes);
  Score sc;
  sc.single = m.output_single;
  sc.dram = t.dram_read() + t.dram_write();
  sc.sram = t.sram_read() + t.sram_write();
  // As cost_gemm and the shell time an op: array, buffer bandwidth, DRAM bandwidth.
  sc.cycles = time_folds(tiled, s.dataflow, s.timing, s.stages).total() +
              drain_stall_cycles(m, f, s.sram, g.elem_bytes, g.dram_bytes_per_cycle);
  for (const OperandBytes& b : t.op)
    sc.cycles = std::max(sc.cycles, ceil_div(b.sram_read + b.sram_write, s.sram.bytes_per_cycle));
  if (g.dram_bytes_per_cycle > 0)
    sc.cycles = std::max(sc.cycles, uint64_t(std::ceil(double(sc.dram) / g.dram_bytes_per_cycle)));
  return sc;
}

bool better(const Score& a, const Score& b, MapObjective o) {
  if (o == MapObjective::cycles)
    return std::tie(a.cycles, a.dram, a.single, a.sram) < std::tie(b.cycles, b.dram, b.single, b.sram);
  return std::tie(a.dram, a.cycles, a.single, a.sram) < std::tie(b.dram, b.cycles, b.single, b.sram);
}

}  // namespace

Mapping choose_mapping(const FoldMap& f, const MapTarget& target, const PassBytes& pass) {
  const MapTarget& g = target;
  const SystolicSpec& s = g.spec;
  const unsigned e = g.elem_bytes, a = g.acc_bytes;
  Mapping best = fixed_mapping(f, s.dataflow, s.sram, e, a, pass);
  if (s.mapper.search != MapSearch::exhaustive || f.sr == 0 || f.sc == 0 || f.t == 0) return best;
  const Roles r = roles_of(s.dataflow);
  Score best_score = score_of(f, best, g, pass);
  uint64_t compared = 1;
  // Bytes per element of each operand in its buffer: partial sums at the accumulator width.
  std::array<uint64_t, 3> width{e, e, e};
  width[kOutput] = a;
  const uint64_t cap_rc = usable_bytes(s.sram, r.rc) / width[size_t(r.rc)];
  const uint64_t cap_rt = usable_bytes(s.sram, r.rt) / width[size_t(r.rt)];
  const uint64_t cap_ct = usable_bytes(s.sram, r.ct) / width[size_t(r.ct)];
  const bool t_tiled = s.dataflow != Dataflow::os;  // os: T is the reduction, accumulated in the PEs
  // A column-streamed output may also take its whole buffer, single buffered: its blocks
  // then drain between them (Mapping::output_single).
  const bool single_too = r.ct == kOutput && s.sram.double_buffer;
  static constexpr std::array<std::array<int, 3>, 6> kOrders = {
      {{kSr, kSc, kT}, {kSr, kT, kSc}, {kSc, kSr, kT}, {kSc, kT, kSr}, {kT, kSr, kSc}, {kT, kSc, kSr}}};
  for (const bool single : {false, true}) {
    if (single && !single_too) break;
    const uint64_t cap_out = single ? s.sram.output_bytes / a : cap_ct;
    for (uint64_t tr : fold_tiles(f.sr, f.rows)) {
      for (uint64_t tc : fold_tiles(f.sc, f.cols)) {
        if (tr > cap_rc / tc) continue;  // the stationary tile must fit (tr·tc could overflow)
        // The longest T tile both streamed tiles leave room for, balanced over its trips.
        uint64_t tt = std::min({f.t, cap_rt / tr, cap_out / tc});
        if (!t_tiled && tt < f.t) continue;
        if (tt == 0) continue;
        tt = ceil_div(f.t, ceil_div(f.t, tt));
        // A single-buffered output tile that fits the half is the double-buffered one plus drains.
        if (single && tt <= cap_ct / tc) continue;
        Mapping m;
        m.fixed = false;
        m.output_single = single;
        m.tile = {tr, tc, tt};
        m.trips = {ceil_div(f.sr, tr), ceil_div(f.sc, tc), ceil_div(f.t, tt)};
        for (const std::array<int, 3>& order : kOrders) {
          m.order = order;
          derive_passes(m, s.dataflow);
          if (single && m.spill_passes) continue;  // a block drains once, complete
          pin_slices(m, f, s.dataflow, s.sram, e, pass);
          const Score sc = score_of(f, m, g, pass);
          ++compared;
          if (better(sc, best_score, s.mapper.objective)) best = m, best_score = sc;
        }
      }
    }
  }
  best.candidates = compared;
  return best;
}

double split_buffer_bound(const FloorGemm& g, const std::array<uint64_t, 3>& cap, unsigned e, unsigned a) {
  // Each buffer holds no more distinct elements than its operand has (docs/systolic.md, step 3).
  const double xa = double(std::min(cap[kInput], g.input_elems));
  const double xb = double(std::min(cap[kWeight], g.k * g.n));
  const double xc = double(std::min(cap[kOutput], g.m * g.n));
  const double products = double(g.m) * double(g.n) * double(g.k), outputs = double(g.m) * double(g.n);
  const double uses = double(std::max<uint64_t>(1, g.input_uses));
  // Any w in [e, 2a] gives a valid bound: take the best of a 17-point grid.
  constexpr int kSteps = 16;
  double best = 0;
  for (int i = 0; i <= kSteps; ++i) {
    const double w = double(e) + double(2 * a - e) * i / kSteps;
    const double sigma = double(e) * (xa + xb) + w * xc;
    const double segments = double(e) * std::sqrt(w) * products / (std::sqrt(uses) * sigma * std::sqrt(sigma));
    best = std::max(best, (segments - 1) * (2 * sigma - w) - (w - double(e)) * outputs);
  }
  return best;
}

DramFloor dram_floor(const FloorGemm& g, const SramConfig& s, uint64_t pes, unsigned e, unsigned a,
                     const PassBytes& pass) {
  DramFloor d;
  d.compulsory_bytes = pass.op[kInput] + pass.op[kWeight] + pass.op[kOutput];
  // The mapper's model: partial sums in the output buffer's usable half; the input and
  // weight buffers whole, as a pinned slice may fill them (pin_slices).
  const std::array<uint64_t, 3> mapper{s.input_bytes / e + pes, s.weight_bytes / e + pes,
                                       usable_bytes(s, kOutput) / a + pes};
  const std::array<uint64_t, 3> chip{s.input_bytes / e + pes, s.weight_bytes / e + pes, s.output_bytes / a + pes};
  d.bound_bytes = uint64_t(std::floor(split_buffer_bound(g, mapper, e, a)));
  d.chip_bound_bytes = uint64_t(std::floor(split_buffer_bound(g, chip, e, a)));
  return d;
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
