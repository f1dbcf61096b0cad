#pragma once
/// The reference model of one mesh router's logic module, in plain C++: what the Verilated
/// router (rtl/mesh/router.sv) must compute for a firing — per control-store entry the
/// destination range (forward_range / backward_range), its overlap with the destination's
/// box, and the XY output port towards the destination cluster; the multicast port mask —
/// and the cycles it takes for a stream of firings. The math is cluster_logic's and the
/// port is noc's dor_port; this file only puts them together and adds the timing.
#include <cstdint>
#include <vector>

#include "models/mesh/cluster_logic.h"

namespace bpsim::mesh {

/// One firing: element (x, y, c) of the source space (forward) or of the layer's output
/// space (backward), fired by the cluster whose router is `router` (id x + y·cols).
struct RouterFiring {
  bool backward = false;
  int32_t x = 0, y = 0, c = 0;
  uint16_t router = 0;
};

struct RouterEntryResult {
  Box range, overlap;  ///< destination range; range ∩ the entry's dest_box
  bool hit = false;    ///< overlap non-empty: the destination receives the message
  uint8_t port = 0;    ///< 0 local, 1 east, 2 west, 3 south, 4 north (dor_port, X first)
  bool operator==(const RouterEntryResult& o) const;
};

struct RouterResult {
  std::vector<RouterEntryResult> entries;  ///< one per control-store entry, in order
  uint8_t port_mask = 0;                   ///< OR of 1 << port over the hitting entries
  bool operator==(const RouterResult& o) const { return port_mask == o.port_mask && entries == o.entries; }
};

RouterResult router_evaluate(const std::vector<ControlEntry>& store, unsigned cols, const RouterFiring& f);

/// Cycles the logic module spends on one firing with `entries` control-store entries and
/// `units` of them evaluated per cycle: ⌈entries / units⌉ (the RTL router has units = 1).
uint64_t logic_cycles(uint64_t entries, unsigned units);

/// Clock edges of a stream through the RTL router's protocol (rtl/README.md), edges
/// numbered from 0 at the start of the stream. Firing i is presented gaps[i] edges after
/// the edge following the previous acceptance (the first: gaps[0] edges after the start);
/// it is accepted at the first edge where the router is ready — idle, or registering the
/// previous firing's last entry — and its last entry is registered `entries` edges later.
struct RouterSchedule {
  std::vector<uint64_t> accept, last;  ///< per firing: accepting edge, edge of its last entry
  uint64_t edges = 0;                  ///< edges until the last result, inclusive
};
RouterSchedule router_schedule(const std::vector<uint64_t>& gaps, uint64_t entries);

}  // namespace bpsim::mesh
