#pragma once
/// Ops one at a time, in execution order: a finished graph's, or a trace's as it is read
/// (trace::open_trace_stream), so that a model can replay millions of ops without holding
/// them all.
#include <cstdint>
#include <memory>

#include "sim/ir/ir.h"

namespace bpsim::workload {

class OpStream {
 public:
  virtual ~OpStream() = default;
  /// The next op, or nullptr after the last. The op stays valid until the next call.
  /// A trace stream throws InputError (file, line, field) on a bad record.
  virtual const Op* next() = 0;
  /// Bytes of tensor `id`, declared by now (every tensor an op names is).
  virtual uint64_t tensor_bytes(uint32_t id) const = 0;
  /// The step's memory accounting; final once next() has returned nullptr.
  virtual MemorySummary memory() const = 0;
};

/// A finished graph's ops, in order (the graph is shared, not copied).
std::unique_ptr<OpStream> stream_graph(std::shared_ptr<const OpGraph> g);

}  // namespace bpsim::workload
