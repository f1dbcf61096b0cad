#pragma once
/// Mapper: assigns the network input and every forward gemm/conv layer of an op graph to
/// clusters (neurons to elements, in boxes of whole rows × channel groups), follows the
/// graph's tensors so that each layer reads its true producer (branches, residual joins),
/// derives each cluster's control store, and checks that everything fits. Pure C++.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/mesh/cluster_logic.h"
#include "models/mesh/mesh_params.h"
#include "sim/ir/ir.h"

namespace bpsim::mesh {

struct MappedLayer {
  std::string name;             ///< op.layer of the forward op ("input" for the network input)
  int32_t w = 1, h = 1, c = 1;  ///< output neurons (x, y, channel)
  Connection conn;              ///< from layer `from`'s output into this layer
  int from = -1;                ///< index of the layer whose output `conn` reads (-1: the input)
  /// A residual join (conn identity, from = the skip branch) holds its sum on the clusters
  /// of layer `shares` (the add's first operand, the residual branch F(x) of F(x) + x);
  /// -1 for a layer with clusters of its own.
  int shares = -1;
  /// Attention (conn heads, w = h = 1, one token's neurons): the layer holding the operand
  /// each neuron keeps for every key token (K for QK^T's scores, V for PV's outputs), sent
  /// to it once per sequence; that operand's first channel there; the shape.
  int operand = -1;
  int32_t operand_offset = 0, keys = 0, heads = 0, head_dim = 0;
  uint64_t sequences = 0;
  int32_t rows_per = 1, ch_per = 1, tiles_y = 1;
  std::vector<uint16_t> clusters;  ///< tile index → cluster id
  std::vector<Box> boxes;          ///< tile index → box in this layer's output space
  double out_density = 1.0;        ///< share of non-zero outputs (after ReLU, dropout)
  /// Share of synapses kept (a compact weight, weight_format csr or bitmap): a tile holding
  /// none of a neuron's kept synapses gets no message from it, pruned ones no MAC.
  double weight_density = 1.0;
  uint64_t samples = 1;  ///< rows of the layer's forward GEMM: samples × tokens
  uint64_t weight_bytes_per_cluster = 0;
  uint64_t neurons() const { return uint64_t(w) * uint64_t(h) * uint64_t(c); }
  bool join() const { return shares >= 0; }
  bool attention() const { return operand >= 0; }
  /// Tile holding output neuron (x, y, ch).
  size_t tile_of(int32_t x, int32_t y, int32_t ch) const {
    (void)x;
    return size_t(ch / ch_per) * tiles_y + size_t(y / rows_per);
  }
};

struct Mapping {
  std::vector<MappedLayer> layers;  ///< [0] is the network input; producers come before consumers
  /// Forward op layer name → index of the layer whose clusters hold that op's output
  /// (a ReLU, normalisation or pooling after a layer is local to it).
  std::map<std::string, int> owner;
  unsigned clusters_used = 0;
  uint64_t control_store_bytes_max = 0;  ///< per cluster, largest
  uint64_t control_store_bytes_total = 0;
  uint64_t routing_table_bytes_max = 0;  ///< a per-neuron table instead, per cluster
  uint64_t routing_table_bytes_total = 0;
  /// Index into `layers` of the forward layer named `layer`, or -1.
  int find(const std::string& layer) const;
  /// Index of the layer whose clusters run op layer `layer`'s local work, or -1.
  int owner_of(const std::string& layer) const;
  /// Tile in layer m's producer (layers[m].from) that hosts neuron (x,y,ch) of layer m's input space.
  size_t host_tile(size_t m, int32_t x, int32_t y, int32_t ch) const;
  /// Box of layer m's producer's tile `t`, expressed in layer m's input space.
  Box input_space_box(size_t m, size_t t) const;
};

/// Throws InputError when a layer cannot be addressed (too big for P, SRAM, the control
/// store or the mesh); `where` (the validated accelerator section) locates the message.
Mapping map_graph(const workload::OpGraph& g, const MeshSpec& spec, const config::Values* where);

}  // namespace bpsim::mesh
