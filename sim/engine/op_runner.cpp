#include "sim/engine/op_runner.h"

#include <stdexcept>

#include "sim/core/input_errors.h"
#include "sim/core/int_math.h"
#include "sim/memory/memory_system.h"

namespace bpsim {

namespace {
constexpr uint64_t kUnplaced = ~uint64_t(0);
/// Tensors start on 4 KiB boundaries (a page), so that no two tensors share a burst.
constexpr uint64_t kTensorAlign = 4096;
}  // namespace

/// The ops of PyTorch's fused scaled-dot-product attention (attention: flash | mem_efficient)
/// keep the score tiles on chip between QKᵀ, softmax and PV; a model that costs each op
/// through its own buffers and DRAM would charge the s×s scores it never moves. Refused
/// unless the model costs the fused kernel.
void OpRunner::check_fused(const workload::Op& op) {
  if (op.detail.rfind("sdpa_", 0) != 0 || costs_fused_attention() || m_fused_refused) return;
  m_fused_refused = true;  // once: every such op has the same reason
  throw InputError(
      "accelerator.kind: op '" + op.name + "' of layer '" + op.layer +
      "' is part of a fused scaled-dot-product attention kernel (attention: flash, mem_efficient or cudnn), "
      "which this accelerator model does not cost (it would move the s×s scores through memory the "
      "kernel keeps on chip); use attention: explicit");
}

OpRecord op_record(const workload::Op& op) {
  OpRecord r;
  r.name = op.name;
  r.phase = workload::to_string(op.phase);
  r.kind = workload::to_string(op.kind);
  r.layer = op.layer;
  return r;
}

ModelShell::ModelShell(sc_core::sc_module_name name, memory::MemorySystem* mem)
    : sc_core::sc_module(name), m_mem(mem) {}

void ModelShell::before_end_of_elaboration() { SC_THREAD(thread); }

void ModelShell::thread() {
  try {
    process();
  } catch (...) {
    fail_run(std::current_exception());
  }
}

void ModelShell::finish_op(OpRecord&& rec) {
  rec.start_cycle = m_cycles;
  if (m_mem) {
    rec.dram_read_bytes = m_mem->read_bytes() - m_seen_read;
    rec.dram_write_bytes = m_mem->write_bytes() - m_seen_write;
    m_seen_read = m_mem->read_bytes();
    m_seen_write = m_mem->write_bytes();
    rec.actions += m_mem->take_actions();
  }
  m_cycles += rec.cycles;
  emit(std::move(rec));
}

void ModelShell::wait_out(const sc_core::sc_time& start, uint64_t cycles) {
  const sc_core::sc_time want(double(cycles) * (1000.0 / clock_ghz()), sc_core::SC_PS);
  const sc_core::sc_time spent = sc_core::sc_time_stamp() - start;
  if (want > spent) wait(want - spent);
}

void OpRunner::take_ops(std::shared_ptr<const workload::OpGraph> graph, std::shared_ptr<workload::OpStream> stream) {
  if (graph) {
    InputErrors errors;  // every op's problems in one message
    for (const workload::Op& op : graph->ops)
      errors.collect([&] {
        check_fused(op);
        check_op(op);
      });
    errors.throw_if_any();
    m_ops = workload::stream_graph(std::move(graph));
  } else if (stream) {
    m_ops = std::move(stream);
    m_check_each = true;
  } else {
    throw std::logic_error("OpRunner::take_ops: neither a graph nor a stream (the model checks for a workload first)");
  }
}

uint64_t OpRunner::tensor_bytes(uint32_t id) const { return m_ops->tensor_bytes(id); }

void OpRunner::place_tensors(const workload::Op& op) {
  for (const auto* ids : {&op.reads, &op.writes})
    for (uint32_t t : *ids) {
      if (m_tensor_addr.size() <= t) m_tensor_addr.resize(size_t(t) + 1, kUnplaced);
      if (m_tensor_addr[t] != kUnplaced) continue;
      m_tensor_addr[t] = m_next_addr;
      m_next_addr = align_up(m_next_addr + m_ops->tensor_bytes(t), kTensorAlign);
    }
}

void OpRunner::process() {
  while (const workload::Op* op = m_ops->next()) {
    if (m_check_each) {
      check_fused(*op);
      check_op(*op);
    }
    if (memory()) place_tensors(*op);
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    OpRecord rec = op_record(*op);
    ++m_reuse_stats.ops;
    run_op(*op, rec);
    const uint64_t cycles = rec.cycles;
    finish_op(std::move(rec));
    wait_out(start, cycles);
  }
}

}  // namespace bpsim
