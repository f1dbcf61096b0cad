#pragma once
/// Mapper: assigns the network input and every forward gemm/conv layer of an op graph to
/// clusters (neurons to elements, in boxes of whole rows × channel groups), derives each
/// cluster's control store, and checks that everything fits. Pure C++.
#include <cstdint>
#include <string>
#include <vector>

#include "models/mesh/cluster_logic.h"
#include "models/mesh/mesh_params.h"
#include "sim/ir/ir.h"

namespace bpsim::mesh {

struct MappedLayer {
  std::string name;             ///< op.layer of the forward op ("input" for the network input)
  int32_t w = 1, h = 1, c = 1;  ///< output neurons (x, y, channel)
  Connection conn;              ///< from the previous layer's output into this layer
  int32_t rows_per = 1, ch_per = 1, tiles_y = 1;
  std::vector<uint16_t> clusters;  ///< tile index → cluster id
  std::vector<Box> boxes;          ///< tile index → box in this layer's output space
  double out_density = 1.0;        ///< share of non-zero outputs (after ReLU, dropout)
  uint64_t samples = 1;            ///< rows of the layer's forward GEMM: samples × tokens
  uint64_t weight_bytes_per_cluster = 0;
  uint64_t neurons() const { return uint64_t(w) * uint64_t(h) * uint64_t(c); }
  /// Tile holding output neuron (x, y, ch).
  size_t tile_of(int32_t x, int32_t y, int32_t ch) const {
    (void)x;
    return size_t(ch / ch_per) * tiles_y + size_t(y / rows_per);
  }
};

struct Mapping {
  std::vector<MappedLayer> layers;  ///< [0] is the network input
  unsigned clusters_used = 0;
  uint64_t control_store_bytes_max = 0;  ///< per cluster, largest
  uint64_t control_store_bytes_total = 0;
  uint64_t routing_table_bytes_max = 0;  ///< a per-neuron table instead, per cluster
  uint64_t routing_table_bytes_total = 0;
  /// Index into `layers` of the forward layer named `layer`, or -1.
  int find(const std::string& layer) const;
  /// Tile in layer m−1 that hosts neuron (x,y,ch) of layer m's input space.
  size_t host_tile(size_t m, int32_t x, int32_t y, int32_t ch) const;
  /// Box of layer m−1's tile `t`, expressed in layer m's input space.
  Box input_space_box(size_t m, size_t t) const;
};

/// Throws InputError when a layer cannot be addressed (too big for P, SRAM, the control
/// store or the mesh); `where` (the validated accelerator section) locates the message.
Mapping map_graph(const workload::OpGraph& g, const MeshSpec& spec, const config::Values* where);

}  // namespace bpsim::mesh
