#pragma once
/// Measured output masks for a spec's training step (`workload.masks: FILE`): a YAML
/// manifest naming, per layer, the packed bitmap of its dX GEMM's outputs (the format of a
/// trace's `mask: {source: bitmap}`, sim/ir/mask_bitmap.h), so masks captured from a real
/// run (scripts/capture_masks.py) replace the spec's densities where the file has them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/error.h"
#include "sim/ir/ir.h"
#include "sim/ir/mask_bitmap.h"

namespace bpsim::workload {

/// One layer's measured dX mask.
struct LayerMask {
  std::string layer;
  uint64_t rows = 0, cols = 0;  ///< the dX GEMM's output M×N
  std::string bitmap_file;      ///< resolved relative to the manifest
  std::shared_ptr<const MaskBitmap> bitmap;
  Location where;   ///< the entry in the manifest, for errors found when it is applied
  std::string key;  ///< its key path, "masks[i]"
};

struct MaskSet {
  std::string file;
  std::string network;  ///< empty: not checked
  Location network_where;
  std::vector<LayerMask> masks;
};

/// Reads a mask-set manifest and every bitmap it names. Throws InputError (file, line, key
/// path) for an unknown or missing key, a layer listed twice, or a bitmap whose size is not
/// ⌈rows·cols/8⌉ bytes.
MaskSet read_mask_set(const std::string& path);

/// Puts each layer's bitmap on its dX op (`<layer>.dx`) as an explicit mask. Throws
/// InputError naming the manifest entry when the graph is another network, the layer has no
/// dX GEMM in the step, or the bitmap's shape is not the op's M×N.
void apply_mask_set(const MaskSet& set, OpGraph& g);

}  // namespace bpsim::workload
