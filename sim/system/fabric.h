#pragma once
/// The links between the devices of a system (docs/system.md "Fabric"): a topology of
/// identical links, each with a bandwidth, a latency and an energy per byte, the route of a
/// point-to-point transfer over them, and what a collective costs on them (α–β: a message of
/// n bytes over one link takes α + n/β; a step of a collective moves its messages on disjoint
/// links at once). Plain data and arithmetic, no SystemC.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/enum_names.h"

namespace bpsim::system {

/// One link, the same in each direction (a full-duplex pair of channels: the two directions
/// are separate links in routes and in the traffic counts).
struct LinkParams {
  double bandwidth_bytes_per_s = 0;  ///< β
  double latency_s = 0;              ///< α, per hop (wire, SerDes and switch traversal)
  double energy_pj_per_byte = 0;     ///< per byte per hop
};

enum class Topology {
  ring,     ///< device i ↔ i+1 mod n (bidirectional; a ring of 2 is one link pair)
  switch_,  ///< every device has one link to a central switch; a transfer takes two hops
  torus2d,  ///< rows × cols, wrap-around links in both dimensions, dimension-order routes (x first,
            ///< each dimension the shorter way round); device id = row · cols + col
  mesh,     ///< rows × cols without wrap-around, dimension-order routes (x first)
};

/// The topologies' names in configs and on the command line (system.fabric.topology,
/// `bpsim collective --topology`).
inline constexpr config::EnumName<Topology> kTopologyNames[] = {
    {Topology::ring, "ring"}, {Topology::switch_, "switch"}, {Topology::torus2d, "torus2d"}, {Topology::mesh, "mesh"}};

struct Fabric {
  Topology topology = Topology::switch_;
  uint32_t devices = 1;
  uint32_t rows = 1, cols = 1;  ///< torus2d and mesh: rows · cols = devices
  LinkParams link;
};

/// The directed links of `f`, numbered 0…link_count(f)−1; their names ("d0->d1", "d3->sw").
uint32_t link_count(const Fabric& f);
std::string link_name(const Fabric& f, uint32_t link);
/// The directed links a transfer from device `src` to device `dst` crosses, in order (empty
/// when src == dst). Shortest path; on a ring, the shorter direction (ties: increasing index).
std::vector<uint32_t> route(const Fabric& f, uint32_t src, uint32_t dst);

/// α–β time of `bytes` over `hops` links, cut-through: hops·α + bytes/β (0 when hops = 0:
/// nothing crosses a link).
double transfer_seconds(const LinkParams& l, uint64_t bytes, uint32_t hops);

/// Throws std::invalid_argument when `f` is not a fabric: no device, rows · cols ≠ devices on
/// torus2d or mesh, a bandwidth not above 0, a negative latency or energy. collective() calls it.
void check_fabric(const Fabric& f);

enum class Collective { all_reduce, reduce_scatter, all_gather, broadcast };
enum class Algorithm {
  ring,          ///< 2(p−1) steps of n/p bytes (all-reduce); p−1 steps (reduce-scatter, all-gather);
                 ///< broadcast: a chain pipelined in p chunks, 2(p−1) steps
  tree,          ///< binomial tree, not pipelined: reduce then broadcast of n bytes, 2·⌈log2 p⌉ steps
                 ///< (reduce-scatter: reduce then scatter; all-gather: gather then broadcast)
  hierarchical,  ///< reduce-scatter in groups, all-reduce across groups, all-gather in groups
};

/// The collectives' and the algorithms' names in configs and on the command line.
inline constexpr config::EnumName<Collective> kCollectiveNames[] = {{Collective::all_reduce, "all_reduce"},
                                                                    {Collective::reduce_scatter, "reduce_scatter"},
                                                                    {Collective::all_gather, "all_gather"},
                                                                    {Collective::broadcast, "broadcast"}};
inline constexpr config::EnumName<Algorithm> kAlgorithmNames[] = {
    {Algorithm::ring, "ring"}, {Algorithm::tree, "tree"}, {Algorithm::hierarchical, "hierarchical"}};

/// What one collective over a group of devices costs.
struct CollectiveCost {
  double seconds = 0;
  uint64_t link_bytes = 0;  ///< bytes summed over every link crossing (a byte over 2 hops counts twice)
  double energy_pj = 0;     ///< link_bytes × energy per byte
  uint32_t steps = 0;       ///< communication steps (each paying α per hop)
};

/// `op` of `bytes` over the `group` devices (indices into the fabric, in ring order), by
/// `algorithm`. `bytes` is the whole buffer n for every op: reduce-scatter leaves n/p on each
/// device, all-gather starts from n/p on each, broadcast sends n from the group's first
/// device. `inner_group`: the size of a hierarchical algorithm's inner groups (consecutive
/// members of `group`; it must divide the group; ring and tree ignore it). Each step's
/// messages take their routes at once and serialise on the directed links they share: a step
/// costs α · (hops of its longest route) + (bytes of its most loaded link) / β
/// (docs/system.md "Collectives").
/// `bytes_by_link`, when given, gets each directed link's bytes added (index = link number; an
/// empty vector is first sized to link_count(f)), so the links of several collectives can be
/// summed; its total is link_bytes. Throws std::invalid_argument on an impossible request
/// (the caller refuses it with the user's key first).
CollectiveCost collective(const Fabric& f, Collective op, Algorithm algorithm, uint64_t bytes,
                          const std::vector<uint32_t>& group, uint32_t inner_group = 0,
                          std::vector<uint64_t>* bytes_by_link = nullptr);

}  // namespace bpsim::system
