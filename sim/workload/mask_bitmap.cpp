#include "sim/workload/mask_bitmap.h"

#include <fstream>
#include <iterator>

#include "sim/core/error.h"

namespace bpsim::workload {

MaskBitmap::MaskBitmap(uint64_t m, uint64_t n, std::vector<uint8_t> bytes) : m_m(m), m_n(n), m_bytes(std::move(bytes)) {}

uint64_t MaskBitmap::needed_in(uint64_t i0, uint64_t i1, uint64_t j0, uint64_t j1) const {
  uint64_t c = 0;
  for (uint64_t i = i0; i < i1; ++i)
    for (uint64_t j = j0; j < j1; ++j) c += needed(i, j);
  return c;
}

uint64_t mask_bitmap_bytes(uint64_t m, uint64_t n) { return (m * n + 7) / 8; }

std::shared_ptr<const MaskBitmap> read_mask_bitmap(const std::string& path, uint64_t m, uint64_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(Location{path}, "", "cannot open output-mask bitmap");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const uint64_t want = mask_bitmap_bytes(m, n);
  if (bytes.size() != want)
    throw InputError(Location{path}, "",
                     "output-mask bitmap holds " + std::to_string(bytes.size()) + " bytes; an " + std::to_string(m) +
                         "×" + std::to_string(n) + " output needs ⌈M·N/8⌉ = " + std::to_string(want) +
                         " (packed bits, row-major, 1 = needed)");
  return std::make_shared<MaskBitmap>(m, n, std::move(bytes));
}

std::shared_ptr<const MaskBitmap> mask_bitmap_of(const Op& op) {
  if (op.out_mask.bitmap) return op.out_mask.bitmap;
  return read_mask_bitmap(op.out_mask.bitmap_file, op.gemm.m, op.gemm.n);
}

}  // namespace bpsim::workload
