#pragma once
/// Explicit output masks (`mask: {source: bitmap, bitmap: FILE}` in a trace): a raw file of
/// packed bits over the op's M×N outputs, row-major (output (i, j) is bit i·N + j), bit b of
/// byte b/8 taken least significant first; 1 = the output is needed. One pattern serves all
/// `batch` instances of the GEMM, so the file holds exactly ⌈M·N/8⌉ bytes.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/ir/ir.h"

namespace bpsim::workload {

class MaskBitmap {
 public:
  MaskBitmap(uint64_t m, uint64_t n, std::vector<uint8_t> bytes);
  uint64_t m() const { return m_m; }
  uint64_t n() const { return m_n; }
  bool needed(uint64_t i, uint64_t j) const {
    const uint64_t b = i * m_n + j;
    return (m_bytes[b / 8] >> (b % 8)) & 1u;
  }
  /// Needed outputs in rows [i0, i1) × columns [j0, j1).
  uint64_t needed_in(uint64_t i0, uint64_t i1, uint64_t j0, uint64_t j1) const;
  uint64_t needed_total() const { return needed_in(0, m_m, 0, m_n); }

 private:
  uint64_t m_m, m_n;
  std::vector<uint8_t> m_bytes;
};

/// Reads `path` for an M×N output. Throws InputError (located at the file) when it is not a
/// regular file, M·N overflows or is 0, ⌈M·N/8⌉ bytes exceed limits::bitmap_bytes, or its
/// size is not exactly ⌈M·N/8⌉ bytes (checked before reading it).
std::shared_ptr<const MaskBitmap> read_mask_bitmap(const std::string& path, uint64_t m, uint64_t n);
/// The bitmap of an op whose mask source is `bitmap`: the one its reader loaded, else its
/// file, read now (ops built by hand).
std::shared_ptr<const MaskBitmap> mask_bitmap_of(const Op& op);

}  // namespace bpsim::workload
