#include "models/mesh/cluster_logic.h"

#include <algorithm>

namespace bpsim::mesh {

namespace {
/// ⌊a/b⌋ and ⌈a/b⌉ for b > 0 and any sign of a.
int32_t floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int32_t ceil_div(int32_t a, int32_t b) { return -floor_div(-a, b); }
}  // namespace

Box Box::intersect(const Box& o) const {
  Box r;
  for (int d = 0; d < 3; ++d) r.lo[d] = std::max(lo[d], o.lo[d]), r.hi[d] = std::min(hi[d], o.hi[d]);
  return r;
}

Box forward_range(const Connection& c, int32_t x, int32_t y, int32_t ch) {
  Box b;
  if (c.kind == Connection::Kind::full) {
    b.hi[0] = c.out_w - 1, b.hi[1] = c.out_h - 1, b.hi[2] = c.out_c - 1;
    return b;
  }
  b.lo[0] = std::max(0, ceil_div(x + c.pad - c.kernel_w + 1, c.stride));
  b.hi[0] = std::min(c.out_w - 1, floor_div(x + c.pad, c.stride));
  b.lo[1] = std::max(0, ceil_div(y + c.pad - c.kernel_h + 1, c.stride));
  b.hi[1] = std::min(c.out_h - 1, floor_div(y + c.pad, c.stride));
  b.lo[2] = 0, b.hi[2] = c.out_c - 1;
  (void)ch;  // groups = 1: every output channel reads every input channel
  return b;
}

Box backward_range(const Connection& c, int32_t q, int32_t p, int32_t k) {
  Box b;
  if (c.kind == Connection::Kind::full) {
    b.hi[0] = c.in_w - 1, b.hi[1] = c.in_h - 1, b.hi[2] = c.in_c - 1;
    return b;
  }
  b.lo[0] = std::max(0, q * c.stride - c.pad);
  b.hi[0] = std::min(c.in_w - 1, q * c.stride - c.pad + c.kernel_w - 1);
  b.lo[1] = std::max(0, p * c.stride - c.pad);
  b.hi[1] = std::min(c.in_h - 1, p * c.stride - c.pad + c.kernel_h - 1);
  b.lo[2] = 0, b.hi[2] = c.in_c - 1;
  (void)k;
  return b;
}

}  // namespace bpsim::mesh
