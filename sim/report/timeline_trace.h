#pragma once
/// A run's op timeline in the Chrome trace-event format (`bpsim run --timeline FILE`), which
/// Perfetto (ui.perfetto.dev) and chrome://tracing open; and live memory per op, which the
/// timeline, the HTML report and `bpsim compare` share.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/ir/ir.h"

namespace bpsim {

/// The graph's op behind each of the report's ops (report.json's "ops", in their order;
/// null where the graph has none). Ops are matched by name and phase (a recomputed op has
/// its forward's name) and, among ops with both the same, by order of start.
std::vector<const workload::Op*> graph_ops_of(const nlohmann::json& ops, const workload::OpGraph& g);

/// Bytes live while each of the report's ops runs (the liveness walk, sim/ir/liveness.h),
/// from graph_ops_of's match `of` (in the order of the report's ops); empty where the graph
/// has no such op.
std::vector<std::optional<uint64_t>> live_bytes_by_op(const std::vector<const workload::Op*>& of,
                                                      const workload::OpGraph& g);

/// Tracks of a timeline: one per phase in order of first appearance, and a further one of
/// a phase whenever an op starts before every track of its phase is free, so no track
/// holds two ops at once.
struct OpTracks {
  std::vector<std::string> names;   ///< "forward", "forward (2)", …
  std::vector<std::string> phases;  ///< each track's phase
  std::vector<size_t> of_op;        ///< the track of each op
};
OpTracks op_tracks(const nlohmann::json& ops);

/// The trace-event document of a report that holds its ops (docs/report.md, "Timeline"):
/// one process, one thread per track of op_tracks with its ops as complete events ("X", µs
/// from cycles and clock_ghz, args the op's figures), counters ("C") of DRAM and on-chip
/// bandwidth, MAC throughput, the mesh's flit hops and, with `live`, live memory, and
/// metadata ("M") naming the process and the tracks. Written to `out` as json::dump writes
/// such a document (compact, keys in order), one event at a time.
void write_timeline_trace(std::ostream& out, const nlohmann::json& report,
                          const std::vector<std::optional<uint64_t>>& live = {});

}  // namespace bpsim
