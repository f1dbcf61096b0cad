#include "sim/ir/mask_bitmap.h"

#include "sim/core/checked.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/limits.h"

namespace bpsim::workload {

MaskBitmap::MaskBitmap(uint64_t m, uint64_t n, std::vector<uint8_t> bytes)
    : m_m(m), m_n(n), m_bytes(std::move(bytes)) {}

uint64_t MaskBitmap::needed_in(uint64_t i0, uint64_t i1, uint64_t j0, uint64_t j1) const {
  uint64_t c = 0;
  for (uint64_t i = i0; i < i1; ++i)
    for (uint64_t j = j0; j < j1; ++j) c += needed(i, j);
  return c;
}

namespace {
uint64_t bytes_for(uint64_t bits) { return bits / 8 + (bits % 8 != 0); }  // ⌈bits/8⌉, no overflow of bits + 7
}  // namespace

std::shared_ptr<const MaskBitmap> read_mask_bitmap(const std::string& path, uint64_t m, uint64_t n) {
  const Location at{path};
  uint64_t bits = 0;
  if (!checked_product({m, n}, bits))
    throw InputError(at, "",
                     "an " + std::to_string(m) + "×" + std::to_string(n) + " output: " + overflow_message({m, n}, '*'));
  if (bits == 0) throw InputError(at, "", "an output-mask bitmap needs an output of at least 1×1");
  const uint64_t want = bytes_for(bits);
  if (want > limits::get(limits::Id::bitmap_bytes))
    throw InputError(
        at, "",
        limits::exceeded(limits::Id::bitmap_bytes, "an " + std::to_string(m) + "×" + std::to_string(n) +
                                                       " output-mask bitmap needs " + std::to_string(want) + " bytes"));
  // The size is checked before reading, and no more than it is read.
  const uint64_t size = regular_file_size(path, "output-mask bitmap");
  std::vector<uint8_t> bytes(size == want ? want : 0);
  std::ifstream in = open_regular_file(path, "output-mask bitmap");
  const bool whole = size == want && in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(want)) &&
                     in.peek() == std::ifstream::traits_type::eof();
  if (!whole)
    throw InputError(at, "",
                     "output-mask bitmap holds " + std::to_string(size) + " bytes; an " + std::to_string(m) + "×" +
                         std::to_string(n) + " output needs ⌈M·N/8⌉ = " + std::to_string(want) +
                         " (packed bits, row-major, 1 = needed)");
  return std::make_shared<MaskBitmap>(m, n, std::move(bytes));
}

std::shared_ptr<const MaskBitmap> mask_bitmap_of(const Op& op) {
  if (op.out_mask.bitmap) return op.out_mask.bitmap;
  return read_mask_bitmap(op.out_mask.bitmap_file, op.gemm.m, op.gemm.n);
}

}  // namespace bpsim::workload
