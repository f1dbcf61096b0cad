#pragma once
/// backend: rtl — the Verilated mesh router (rtl/mesh/router.sv) driven from the calling
/// SC_THREAD: the clock is toggled by the caller (no free-running sc_clock), so a
/// simulation still ends when its threads do. Shared by the lockstep test and the mesh
/// model's `backend: rtl`.
#include <cstdint>
#include <memory>
#include <vector>

#include "models/mesh/router_core.h"

namespace bpsim::mesh {

/// Control-store entries of the verilated router (its parameter N).
constexpr unsigned kRtlRouterEntries = 64;

/// What the RTL did for a stream of firings: per firing the results read off its outputs,
/// and the measured edges (same numbering as RouterSchedule).
struct RtlRouterRun {
  std::vector<RouterResult> results;
  RouterSchedule timing;
};

class RtlRouter {
 public:
  virtual ~RtlRouter() = default;
  /// Writes the control store (1 … kRtlRouterEntries entries) and the mesh width; one
  /// edge per entry (plus two reset edges the first time). Returns the edges spent.
  virtual uint64_t load(const std::vector<ControlEntry>& store, unsigned cols) = 0;
  /// Presents the firings with the given gaps (see router_schedule) and collects every result.
  virtual RtlRouterRun run(const std::vector<RouterFiring>& firings, const std::vector<uint64_t>& gaps) = 0;
  /// Clock edges since construction (resets and loads included).
  virtual uint64_t edges() const = 0;
};

/// Constructs the Verilated router as a child of the module under elaboration.
std::unique_ptr<RtlRouter> make_rtl_router(const char* name, double period_ps);

}  // namespace bpsim::mesh
