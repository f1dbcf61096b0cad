#include "models/systolic/sparsity.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/int_math.h"

namespace bpsim::systolic {

namespace {
/// Masked units out of `units` for a density (exact count, positions irrelevant) or N:M.
uint64_t masked_units(uint64_t units, const MaskSpec& k) {
  if (k.nm) return units - nm_kept(units, k.n, k.m);
  return std::min<uint64_t>(units, uint64_t(std::llround((1.0 - k.density) * double(units))));
}
}  // namespace

uint64_t nm_kept(uint64_t units, unsigned n, unsigned m) { return units / m * n + std::min<uint64_t>(n, units % m); }

MaskSpec resolve_mask(const workload::Op& op, const SparsityConfig& cfg) {
  MaskSpec k;
  if (cfg.mode == SparsityMode::off) return k;
  if (cfg.pattern == Pattern::density) {
    k.active = true, k.density = cfg.density;
  } else if (cfg.pattern == Pattern::nm) {
    k.active = k.nm = true, k.n = cfg.n, k.m = cfg.m;
  } else if (op.out_mask.active()) {
    k.active = true;
    if (op.out_mask.source == workload::OutputMask::Source::nm && op.out_mask.nm_m > 0) {
      k.nm = true, k.n = op.out_mask.nm_n, k.m = op.out_mask.nm_m;
    } else {
      k.density = std::clamp(op.out_mask.density, 0.0, 1.0);  // relu, pruned, random
      if (op.out_mask.source == workload::OutputMask::Source::bitmap) k.bitmap = workload::mask_bitmap_of(op);
    }
  }
  if (k.nm) k.density = double(k.n) / double(k.m);
  return k;
}

namespace {
/// The exact effect of a bitmap: a row, column or tile is masked when none of its outputs is
/// needed; at element granularity every unneeded output is masked and wholly unneeded rows
/// are what skipping can remove.
MaskEffect apply_bitmap(uint64_t m, uint64_t n, const workload::MaskBitmap& b, const SparsityConfig& cfg, Dataflow df,
                        unsigned rows, unsigned cols) {
  if (b.m() != m || b.n() != n)
    throw InputError("output-mask bitmap is " + std::to_string(b.m()) + "×" + std::to_string(b.n()) +
                     ", the GEMM's output " + std::to_string(m) + "×" + std::to_string(n));
  MaskEffect e;
  e.work.push_back({m, n, 1});
  const bool skip = cfg.mode == SparsityMode::skip;
  switch (cfg.granularity) {
    case Granularity::element:
    case Granularity::row: {
      uint64_t dead = 0;
      for (uint64_t i = 0; i < m; ++i) dead += b.needed_in(i, i + 1, 0, n) == 0;
      const bool element = cfg.granularity == Granularity::element;
      e.units = element ? m * n : m;
      e.masked_outputs = element ? m * n - b.needed_total() : dead * n;
      if (skip) e.skipped_outputs = dead * n, e.work[0].m = m - dead;
      break;
    }
    case Granularity::col: {
      uint64_t dead = 0;
      for (uint64_t j = 0; j < n; ++j) dead += b.needed_in(0, m, j, j + 1) == 0;
      e.units = n;
      e.masked_outputs = dead * m;
      if (skip) e.skipped_outputs = e.masked_outputs, e.work[0].n = n - dead;
      break;
    }
    case Granularity::tile: {
      const bool cols_are_m = df == Dataflow::is;
      const uint64_t across = cols_are_m ? m : n, along = cols_are_m ? n : m;
      std::map<std::pair<uint64_t, uint64_t>, uint64_t> groups;  // (width, kept length) → blocks
      uint64_t kept_tiles = 0;
      std::vector<bool> in_union(ceil_div(along, rows), false);  // along-tiles some block keeps
      for (uint64_t a0 = 0; a0 < across; a0 += cols) {
        const uint64_t a1 = std::min(across, a0 + cols);
        uint64_t len = 0;
        for (uint64_t l0 = 0; l0 < along; l0 += rows, ++e.units) {
          const uint64_t l1 = std::min(along, l0 + rows);
          const uint64_t need = cols_are_m ? b.needed_in(a0, a1, l0, l1) : b.needed_in(l0, l1, a0, a1);
          if (need) len += l1 - l0, ++kept_tiles, in_union[l0 / rows] = true;
          else e.masked_outputs += (a1 - a0) * (l1 - l0);
        }
        ++groups[{a1 - a0, len}];
      }
      if (skip) {
        uint64_t union_len = 0;
        for (uint64_t t = 0; t < in_union.size(); ++t)
          if (in_union[t]) union_len += std::min(along, (t + 1) * rows) - t * rows;
        e.kept_union_fraction = along ? double(union_len) / double(along) : 1.0;
        e.skipped_outputs = e.masked_outputs;
        e.kept_tile_fraction = double(kept_tiles) / double(e.units);
        e.work.clear();
        for (const auto& [wl, count] : groups)
          e.work.push_back(cols_are_m ? SubGemm{wl.first, wl.second, count} : SubGemm{wl.second, wl.first, count});
      }
      break;
    }
  }
  return e;
}
}  // namespace

MaskEffect apply_mask(uint64_t m, uint64_t n, const MaskSpec& k, const SparsityConfig& cfg, Dataflow df, unsigned rows,
                      unsigned cols, std::mt19937_64& rng) {
  if (k.active && k.bitmap) return apply_bitmap(m, n, *k.bitmap, cfg, df, rows, cols);
  MaskEffect e;
  e.work.push_back({m, n, 1});
  if (!k.active || m == 0 || n == 0) return e;
  const bool skip = cfg.mode == SparsityMode::skip;
  switch (cfg.granularity) {
    case Granularity::element: {
      e.units = m * n;
      e.masked_outputs = masked_units(e.units, k);
      // A row whose n outputs are all masked: N:M leaves none unless n = 0; a random
      // pattern leaves Binomial(m, (1−d)^n) of them (seeded), never more than the mask holds.
      uint64_t dead = 0;
      if (k.nm) dead = nm_kept(n, k.n, k.m) == 0 ? m : 0;
      else if (k.density <= 0.0) dead = m;
      else if (k.density < 1.0) {
        const double p = std::pow(1.0 - k.density, double(n));
        if (p > 0) dead = std::binomial_distribution<uint64_t>(m, p)(rng);
      }
      dead = std::min(dead, e.masked_outputs / n);
      if (skip) e.skipped_outputs = dead * n, e.work[0].m = m - dead;
      break;
    }
    case Granularity::row:
    case Granularity::col: {
      const bool row = cfg.granularity == Granularity::row;
      e.units = row ? m : n;
      const uint64_t masked = masked_units(e.units, k);
      e.masked_outputs = masked * (row ? n : m);
      if (skip) {
        e.skipped_outputs = e.masked_outputs;
        (row ? e.work[0].m : e.work[0].n) -= masked;
      }
      break;
    }
    case Granularity::tile: {
      // Output axis on the array's columns (width `cols` per tile) and the other one.
      const bool cols_are_m = df == Dataflow::is;
      const uint64_t across = cols_are_m ? m : n, along = cols_are_m ? n : m;
      const uint64_t blocks = ceil_div(across, cols), per_block = ceil_div(along, rows);
      e.units = blocks * per_block;
      std::map<std::pair<uint64_t, uint64_t>, uint64_t> groups;  // (width, kept tiles) → blocks
      uint64_t kept_tiles = 0, most_kept = 0;
      std::binomial_distribution<uint64_t> draw(per_block, std::clamp(k.density, 0.0, 1.0));
      for (uint64_t b = 0; b < blocks; ++b) {
        const uint64_t width = b + 1 < blocks ? cols : across - (blocks - 1) * cols;
        const uint64_t kept = k.nm ? nm_kept(per_block, k.n, k.m) : draw(rng);
        kept_tiles += kept;
        most_kept = std::max(most_kept, kept);
        e.masked_outputs += width * (along - std::min(along, kept * rows));
        ++groups[{width, kept}];
      }
      if (skip) {
        e.skipped_outputs = e.masked_outputs;
        e.kept_tile_fraction = double(kept_tiles) / double(e.units);
        e.kept_union_fraction = double(std::min(along, most_kept * rows)) / double(along);
        e.work.clear();
        for (const auto& [wk, count] : groups) {
          const uint64_t len = std::min(along, wk.second * rows);
          e.work.push_back(cols_are_m ? SubGemm{wk.first, len, count} : SubGemm{len, wk.first, count});
        }
      }
      break;
    }
  }
  return e;
}

}  // namespace bpsim::systolic
