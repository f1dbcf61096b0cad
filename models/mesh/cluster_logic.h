#pragma once
/// The cluster's logic module: from a firing element's own coordinates and one control-store
/// entry (the destination cluster's box and the connection's stride/kernel/offset), the
/// [min,max] destination range per coordinate, and whether it overlaps the destination.
/// No per-neuron routing table exists anywhere.
#include <cstdint>

namespace bpsim::mesh {

/// An inclusive box of neuron coordinates (x, y, channel).
struct Box {
  int32_t lo[3] = {0, 0, 0}, hi[3] = {-1, -1, -1};
  bool empty() const { return hi[0] < lo[0] || hi[1] < lo[1] || hi[2] < lo[2]; }
  uint64_t volume() const {
    return empty() ? 0 : uint64_t(hi[0] - lo[0] + 1) * uint64_t(hi[1] - lo[1] + 1) * uint64_t(hi[2] - lo[2] + 1);
  }
  Box intersect(const Box& o) const;
};

/// How a layer's output neurons connect to the next layer's input space. `identity` joins
/// two branches (a residual add): neuron (x,y,ch) feeds output (x,y,ch) alone. `heads` is
/// attention's per-head full connection: input channel offset + h·group_in + i (i < group_in)
/// feeds output channels h·group_out … h·group_out + group_out − 1 (QK^T: a query feature
/// to its head's scores; PV: a probability to its head's outputs).
struct Connection {
  enum class Kind : uint8_t { conv, full, identity, heads } kind = Kind::full;
  int32_t stride = 1, kernel_w = 1, kernel_h = 1, pad = 0;
  int32_t group_in = 1, group_out = 1, offset = 0;  ///< heads only
  int32_t in_w = 1, in_h = 1, in_c = 1;             ///< source (input) space
  int32_t out_w = 1, out_h = 1, out_c = 1;          ///< destination (output) space
};

/// One control-store entry: a destination cluster and the connection to it.
struct ControlEntry {
  uint16_t dest_cluster = 0;
  Box dest_box;  ///< neurons the destination cluster holds (in its own space)
  Connection conn;
  /// Bytes in hardware: cluster id 2, kind/stride/kernel w,h/pad 5×1, box 6×2.
  static constexpr unsigned kBytes = 2 + 5 + 12;
};

/// Forward: the output neurons that input neuron (x,y,c) feeds (conv receptive field
/// inverted: q ∈ [⌈(x+pad−S+1)/stride⌉, ⌊(x+pad)/stride⌋], all channels).
Box forward_range(const Connection& c, int32_t x, int32_t y, int32_t ch);
/// Backward: the input neurons output neuron (q,p,k) reads (x ∈ [q·stride−pad, …+S−1]).
Box backward_range(const Connection& c, int32_t q, int32_t p, int32_t k);

}  // namespace bpsim::mesh
