#include "models/mesh/cluster_logic.h"

#include <algorithm>

namespace bpsim::mesh {

namespace {
/// ⌊a/b⌋ and ⌈a/b⌉ for b > 0 and any sign of a.
int32_t floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int32_t ceil_div(int32_t a, int32_t b) { return -floor_div(-a, b); }
Box point(int32_t x, int32_t y, int32_t ch) {
  Box b;
  b.lo[0] = b.hi[0] = x, b.lo[1] = b.hi[1] = y, b.lo[2] = b.hi[2] = ch;
  return b;
}
}  // namespace

Box Box::intersect(const Box& o) const {
  Box r;
  for (int d = 0; d < 3; ++d) r.lo[d] = std::max(lo[d], o.lo[d]), r.hi[d] = std::min(hi[d], o.hi[d]);
  return r;
}

Box forward_range(const Connection& c, int32_t x, int32_t y, int32_t ch) {
  Box b;
  if (c.kind == Connection::Kind::identity) return point(x, y, ch);
  if (c.kind == Connection::Kind::heads) {  // x = y = 0: a token's features
    const int32_t h = floor_div(ch - c.offset, c.group_in);
    if (ch < c.offset || h >= c.out_c / c.group_out) return b;  // not a query (or probability) feature: empty
    b.hi[0] = b.hi[1] = 0;
    b.lo[2] = h * c.group_out, b.hi[2] = h * c.group_out + c.group_out - 1;
    return b;
  }
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
  if (c.kind == Connection::Kind::identity) return point(q, p, k);
  if (c.kind == Connection::Kind::heads) {
    const int32_t h = k / c.group_out;
    b.hi[0] = b.hi[1] = 0;
    b.lo[2] = c.offset + h * c.group_in, b.hi[2] = c.offset + h * c.group_in + c.group_in - 1;
    return b;
  }
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
