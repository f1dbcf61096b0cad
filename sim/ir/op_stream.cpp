#include "sim/ir/op_stream.h"

namespace bpsim::workload {

namespace {

class GraphStream final : public OpStream {
 public:
  explicit GraphStream(std::shared_ptr<const OpGraph> g) : m_g(std::move(g)) {}
  const Op* next() override { return m_next < m_g->ops.size() ? &m_g->ops[m_next++] : nullptr; }
  uint64_t tensor_bytes(uint32_t id) const override { return id < m_g->tensors.size() ? m_g->tensors[id].bytes : 0; }
  MemorySummary memory() const override { return m_g->memory; }

 private:
  std::shared_ptr<const OpGraph> m_g;
  size_t m_next = 0;
};

}  // namespace

std::unique_ptr<OpStream> stream_graph(std::shared_ptr<const OpGraph> g) {
  return std::make_unique<GraphStream>(std::move(g));
}

}  // namespace bpsim::workload
