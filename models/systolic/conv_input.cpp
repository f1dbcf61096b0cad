#include "models/systolic/conv_input.h"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include "models/systolic/mapper.h"
#include "sim/core/checked.h"
#include "sim/core/int_math.h"

namespace bpsim::systolic {

namespace {

/// Inclusive digit range [lo, hi] of one mixed-radix digit.
using Digits = std::array<uint64_t, 2>;
using Box = std::array<Digits, 3>;
/// Disjoint sorted half-open intervals of one ifmap axis.
using Intervals = std::vector<std::array<int64_t, 2>>;
/// One box's image: images, ifmap rows, ifmap columns, channels.
using Image = std::array<Intervals, 4>;

/// Cuts the index range [lo, hi) of a three-digit mixed-radix number (most significant
/// digit first) into boxes of digit ranges: a partial head, full middle, partial tail per
/// level, at most five boxes.
void split(uint64_t lo, uint64_t hi, const std::array<uint64_t, 3>& radix, size_t level, Box& cur,
           std::vector<Box>& out) {
  if (level == 3) {
    out.push_back(cur);
    return;
  }
  uint64_t inner = 1;
  for (size_t i = level + 1; i < 3; ++i) inner *= radix[i];
  const uint64_t d0 = lo / inner, d1 = (hi - 1) / inner, lo_in = lo % inner, hi_in = (hi - 1) % inner + 1;
  if (d0 == d1) {
    cur[level] = {d0, d0};
    split(lo_in, hi_in, radix, level + 1, cur, out);
    return;
  }
  uint64_t full0 = d0, full1 = d1;
  if (lo_in != 0) {
    cur[level] = {d0, d0};
    split(lo_in, inner, radix, level + 1, cur, out);
    full0 = d0 + 1;
  }
  if (hi_in != inner) full1 = d1 - 1;
  if (full0 <= full1) {
    Box b = cur;
    b[level] = {full0, full1};
    for (size_t i = level + 1; i < 3; ++i) b[i] = {0, radix[i] - 1};
    out.push_back(b);
  }
  if (hi_in != inner) {
    cur[level] = {d1, d1};
    split(0, hi_in, radix, level + 1, cur, out);
  }
}

std::vector<Box> boxes_of(uint64_t lo, uint64_t hi, const std::array<uint64_t, 3>& radix) {
  std::vector<Box> out;
  Box cur{};
  if (lo < hi) split(lo, hi, radix, 0, cur, out);
  return out;
}

/// Ifmap positions {o·stride + f − pad : o in outs, f in taps} inside [0, extent): output
/// rows (or columns) `outs` through kernel rows (or columns) `taps`.
Intervals lattice(const Digits& outs, const Digits& taps, uint64_t stride, uint64_t pad, uint64_t extent) {
  Intervals v;
  const auto st = int64_t(stride), lo_tap = int64_t(taps[0]) - int64_t(pad), hi_tap = int64_t(taps[1]) - int64_t(pad);
  // Only outputs whose taps reach [0, extent) contribute.
  int64_t o0 = int64_t(outs[0]), o1 = int64_t(outs[1]);
  if (hi_tap < 0) o0 = std::max(o0, (-hi_tap + st - 1) / st);
  o1 = std::min(o1, lo_tap > int64_t(extent) - 1 ? -1 : (int64_t(extent) - 1 - lo_tap) / st);
  for (int64_t o = o0; o <= o1; ++o) {
    const int64_t a = std::max<int64_t>(0, o * st + lo_tap), b = std::min(int64_t(extent), o * st + hi_tap + 1);
    if (a >= b) continue;
    if (!v.empty() && a <= v.back()[1]) v.back()[1] = std::max(v.back()[1], b);
    else v.push_back({a, b});
  }
  return v;
}

bool contains(const Intervals& v, int64_t x) {
  const auto it = std::upper_bound(v.begin(), v.end(), x, [](int64_t y, const auto& iv) { return y < iv[0]; });
  return it != v.begin() && x < (it - 1)->at(1);
}

/// Size of the union of the images in `mask`, axis by axis: the axis is cut into atoms by
/// which images hold them, and each atom's length multiplies the union of those images over
/// the remaining axes.
uint64_t union_size(const std::vector<Image>& images, uint64_t mask, size_t axis) {
  if (axis == 4) return 1;
  std::vector<int64_t> cuts;
  for (size_t i = 0; i < images.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    for (const auto& iv : images[i][axis]) {
      cuts.push_back(iv[0]);
      cuts.push_back(iv[1]);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::map<uint64_t, uint64_t> atoms;  // which images hold a segment -> its total length
  for (size_t j = 0; j + 1 < cuts.size(); ++j) {
    uint64_t m = 0;
    for (size_t i = 0; i < images.size(); ++i)
      if ((mask >> i & 1) && contains(images[i][axis], cuts[j])) m |= uint64_t(1) << i;
    if (m) atoms[m] += uint64_t(cuts[j + 1] - cuts[j]);
  }
  uint64_t total = 0;
  for (const auto& [m, len] : atoms) total += len * union_size(images, m, axis + 1);
  return total;
}

uint64_t channels_per_group(const workload::ConvShape& c) { return c.c / std::max<uint64_t>(1, c.groups); }

/// Counting stays fast: ifmap and output extents beyond this read their GEMM view (no real
/// layer comes near), and so does an operand cut into more blocks than kMaxBlocks.
constexpr uint64_t kMaxExtent = uint64_t(1) << 20;
constexpr uint64_t kMaxBlocks = uint64_t(1) << 20;

/// The row blocks of a pass (im2col rows [m0, m0 + mc), …), cut at image boundaries (images
/// are disjoint, so a block's count is the sum of its pieces') and grouped by what their count
/// depends on: a piece counts the same in every image, and the same at every output row where
/// its windows reach no ifmap edge above or below (a shift by whole rows changes nothing
/// else). Each group's count is made once per column block, not once per block.
struct RowPieces {
  struct Group {
    uint64_t count = 0, off = 0, len = 0;  ///< how many pieces, and one of them (image 0)
  };
  std::map<std::array<uint64_t, 3>, Group> groups;  ///< (row class, first column, length)

  RowPieces(const workload::ConvShape& c, uint64_t rows, uint64_t mc) {
    const uint64_t image = c.p * c.q;
    for (uint64_t m0 = 0; m0 < rows; m0 += mc) {
      const uint64_t m1 = std::min(rows, m0 + mc);
      for (uint64_t a = m0, b = 0; a < m1; a = b) {
        b = std::min(m1, (a / image + 1) * image);
        const uint64_t off = a % image, len = b - a, p0 = off / c.q, p1 = (off + len - 1) / c.q;
        const bool inside = p0 * c.stride >= c.pad && p1 * c.stride + c.r <= c.h + c.pad;
        Group& g = groups[{inside ? UINT64_MAX : p0, off % c.q, len}];
        if (g.count++ == 0) g.off = off, g.len = len;
      }
    }
  }
  /// Σ over the pieces of the distinct elements they read in columns [k0, k1).
  uint64_t elements(const workload::ConvShape& c, uint64_t k0, uint64_t k1, TapOrder order) const {
    uint64_t total = 0;
    for (const auto& [key, g] : groups) total += g.count * touched_elements(c, g.off, g.off + g.len, k0, k1, order);
    return total;
  }
};

}  // namespace

ConvView conv_view(const workload::Op& op) {
  const workload::ConvShape& c = op.conv;
  if (op.kind != workload::OpKind::conv || c.groups != 1 || op.gemm.batch != 1) return ConvView::none;
  uint64_t pixels = 0, window = 0;
  if (!checked_product({c.n, c.p, c.q}, pixels) || !checked_product({c.c, c.r, c.s}, window) || pixels == 0 ||
      window == 0 || c.h == 0 || c.w == 0 || c.stride == 0)
    return ConvView::none;
  for (uint64_t extent : {c.h, c.w, c.p, c.q, c.r, c.s})
    if (extent > kMaxExtent) return ConvView::none;
  const workload::GemmDims& g = op.gemm;
  if (op.phase == workload::Phase::backward_weight)
    return g.m == window && g.k == pixels ? ConvView::weight_grad : ConvView::none;
  if (op.phase == workload::Phase::backward_data) return ConvView::none;  // dX = dY·Wᵀ reads dY as it is
  return g.m == pixels && g.k == window ? ConvView::forward : ConvView::none;
}

uint64_t touched_elements(const workload::ConvShape& c, uint64_t m0, uint64_t m1, uint64_t k0, uint64_t k1,
                          TapOrder order) {
  const bool crs = order == TapOrder::crs;
  const uint64_t cg = channels_per_group(c);
  const std::vector<Box> ms = boxes_of(m0, m1, {c.n, c.p, c.q});
  const std::vector<Box> ks = boxes_of(k0, k1, crs ? std::array<uint64_t, 3>{cg, c.r, c.s} : std::array{c.r, c.s, cg});
  const size_t r = crs ? 1 : 0, s = crs ? 2 : 1, ch = crs ? 0 : 2;  // digit of each tap coordinate
  std::vector<Image> images;
  for (const Box& m : ms) {
    for (const Box& k : ks) {
      Image im{Intervals{{int64_t(m[0][0]), int64_t(m[0][1]) + 1}}, lattice(m[1], k[r], c.stride, c.pad, c.h),
               lattice(m[2], k[s], c.stride, c.pad, c.w), Intervals{{int64_t(k[ch][0]), int64_t(k[ch][1]) + 1}}};
      if (!im[1].empty() && !im[2].empty()) images.push_back(std::move(im));
    }
  }
  // At most 5 × 5 images: one bit each.
  return images.empty() ? 0 : union_size(images, (uint64_t(1) << images.size()) - 1, 0);
}

uint64_t conv_unique_bytes(const workload::ConvShape& c, unsigned elem_bytes) {
  return touched_elements(c, 0, c.n * c.p * c.q, 0, c.r * c.s * channels_per_group(c)) * elem_bytes;
}

uint64_t line_buffer_bytes(const workload::ConvShape& c, uint64_t channels, unsigned elem_bytes) {
  return std::min(c.r + c.stride, c.h) * c.w * channels * elem_bytes;
}

uint64_t channels_spanned(const workload::ConvShape& c, uint64_t kc, TapOrder order) {
  const uint64_t cg = channels_per_group(c), window = c.r * c.s;
  if (kc == 0) return 0;
  // rsc: kc consecutive columns reach at most kc channels; crs: a run of kc columns that
  // starts at the last tap of a channel reaches ⌊(kc − 2 + R·S)/(R·S)⌋ + 1 channels.
  return std::min(cg, order == TapOrder::rsc ? kc : (kc - 2 + window) / window + 1);
}

ConvInputPlan plan_conv_input(const workload::Op& op, const SystolicSpec& s, unsigned e) {
  ConvInputPlan pl;
  const workload::GemmDims& g = op.gemm;
  pl.lowered_bytes = pl.pass_bytes = g.m * g.k * e;
  pl.view = conv_view(op);
  if (pl.view == ConvView::none) return pl;
  const workload::ConvShape& c = op.conv;
  pl.unique_bytes = conv_unique_bytes(c, e);
  if (s.conv_input == ConvInput::im2col) return pl;
  const uint64_t usable = usable_bytes(s.sram, kInput);
  if (pl.unique_bytes <= usable) {  // the whole ifmap stays on chip for every fold
    pl.line_buffer = true;
    pl.window_bytes = pl.pass_bytes = pl.unique_bytes;
    return pl;
  }
  // The operand's blocks, one per fold that streams (or holds) a distinct part of it: ws
  // streams all M rows per row fold of K; os streams all K per row fold of M; is holds K×M tiles.
  uint64_t mc = g.m, kc = g.k;
  if (s.dataflow == Dataflow::ws) kc = s.rows;
  else if (s.dataflow == Dataflow::os) mc = s.rows;
  else kc = s.rows, mc = s.cols;
  uint64_t mf = g.m, kf = g.k;  // in the forward im2col's rows and columns
  if (pl.view == ConvView::weight_grad) std::swap(mf, kf), std::swap(mc, kc);
  mc = std::min(mc, mf);
  kc = std::min(kc, kf);
  if (ceil_div(mf, mc) > kMaxBlocks / ceil_div(kf, kc)) {
    pl.note = "more than " + std::to_string(kMaxBlocks) + " folds to count: the lowered rows are read";
    return pl;
  }
  // SCALE-Sim's column order under its timing; otherwise the cheaper of the two.
  const bool scalesim = s.timing == Timing::scalesim;
  uint64_t smallest_window = UINT64_MAX;
  const RowPieces pieces(c, mf, mc);
  for (TapOrder order : {TapOrder::rsc, TapOrder::crs}) {
    if (scalesim && order != TapOrder::rsc) continue;
    const uint64_t window = line_buffer_bytes(c, channels_spanned(c, kc, order), e);
    smallest_window = std::min(smallest_window, window);
    if (window > usable) continue;
    uint64_t pass = 0;
    for (uint64_t k0 = 0; k0 < kf; k0 += kc) pass += pieces.elements(c, k0, std::min(kf, k0 + kc), order);
    if (!pl.line_buffer || pass * e < pl.pass_bytes) {
      pl.line_buffer = true;
      pl.pass_bytes = pass * e;
      pl.window_bytes = window;
      pl.order = order;
    }
  }
  if (!pl.line_buffer) {
    pl.window_bytes = smallest_window;
    pl.note = "line buffer needs " + std::to_string(smallest_window) + " bytes, the input buffer has " +
              std::to_string(usable) + ": the lowered rows stream from DRAM";
  }
  return pl;
}

}  // namespace bpsim::systolic
