#pragma once
/// The interface through which a training step (trainer.h) and synthetic traffic (synthetic.h)
/// time messages on the mesh network, so that either the flit-level Network (noc.h) or the
/// flow-level FlowNetwork (noc_flow.h) carries them; `accelerator.noc.model` picks one.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/core/enum_names.h"

namespace bpsim::mesh {

struct NocConfig;
struct NocCounters;

enum class NocModelKind { flit, flow };
inline constexpr config::EnumName<NocModelKind> kNocModelNames[] = {{NocModelKind::flit, "flit"},
                                                                    {NocModelKind::flow, "flow"}};

class NocModel {
 public:
  /// Called when the tail of message `tag` reaches `dest`: (tag, dest, create, arrive).
  using Sink = std::function<void(uint32_t tag, uint32_t dest, uint64_t create, uint64_t arrive)>;
  NocModel() = default;
  NocModel(const NocModel&) = delete;
  NocModel& operator=(const NocModel&) = delete;
  virtual ~NocModel() = default;

  virtual void set_sink(Sink s) = 0;
  /// Queues a message at `src` at cycle `create` (raised to now()). `dests` > 1 makes a tree
  /// multicast, replicated at the routers where the dimension-order paths branch.
  virtual void send(uint32_t src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create,
                    uint32_t tag) = 0;
  /// Simulates until cycle `t`.
  virtual void run_until(uint64_t t) = 0;
  /// Simulates until every sent message is delivered; returns the cycle reached.
  virtual uint64_t drain() = 0;
  virtual uint64_t now() const = 0;
  virtual const NocCounters& counters() const = 0;
  /// Hop distance of the dimension-order path.
  virtual unsigned hops(unsigned a, unsigned b) const = 0;
};

/// The model `cfg.model` names, `seed` drawing what the model randomises (o1turn classes).
std::unique_ptr<NocModel> make_noc_model(const NocConfig& cfg, uint64_t seed);

}  // namespace bpsim::mesh
