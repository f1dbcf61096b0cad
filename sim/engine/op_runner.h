#pragma once
/// The framework-owned shell every model runs in (Ramulator 2's `Implementation` +
/// `setup()`, DRAMSys's socket binding). A model declares the memory it uses and says how
/// one op costs; the shell owns the sc_module's one SC_THREAD (whose errors reach the
/// engine, whatever the model), the op loop over a graph or a streamed trace, the per-op
/// input checks, tensor placement, the records' common fields and waiting out each op's
/// cycles. docs/architecture.md ("The model shell") describes the contract.
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>

#include "sim/engine/accelerator.h"

namespace bpsim {

namespace memory {
class MemorySystem;
}

/// A record with the op's identity filled in (name, phase, kind): what a model's cost
/// function starts from.
OpRecord op_record(const workload::Op& op);

/// One SC_THREAD running `process()`; an exception it throws stops the run and the engine
/// rethrows it. Finished ops go through `finish_op`, which fills what every record shares.
class ModelShell : public sc_core::sc_module, public Accelerator {
 public:
  SC_HAS_PROCESS(ModelShell);
  /// The step's end: the sum of the finished ops' cycles.
  uint64_t total_cycles() const override { return m_cycles; }
  /// Whether a memory system is bound (MemoryUse::per_run: the model bound the one offered).
  bool uses_dram() const override { return m_mem != nullptr; }

 protected:
  /// `mem`: the memory system the model declared and moves bytes through; null when it
  /// uses none (its records then carry no DRAM bytes or memory actions).
  ModelShell(sc_core::sc_module_name name, memory::MemorySystem* mem);
  /// The thread's work: an op loop (OpRunner), or a model's own process (synthetic traffic).
  virtual void process() = 0;
  /// Completes a finished op's record — start_cycle (the cycles before it), DRAM bytes as
  /// the memory counters' growth since the last op, the memory's actions since then — and
  /// sends it to the record sink; the step's cycles advance by `rec.cycles`.
  void finish_op(OpRecord&& rec);
  /// Waits until `cycles` accelerator cycles have passed since `start`: a model driving a
  /// Verilated block from the thread has already spent some of them.
  void wait_out(const sc_core::sc_time& start, uint64_t cycles);
  memory::MemorySystem* memory() const { return m_mem; }
  /// A kind that declared MemoryUse::per_run binds the device it was offered, in its
  /// constructor, once it knows that this run moves bytes through it.
  void bind_memory(memory::MemorySystem* mem) { m_mem = mem; }

 private:
  /// The thread is made here, when elaboration ends, not in the constructor: a derived
  /// model's constructor may still refuse its input and throw, and a thread registered
  /// by then would outlive the module it runs on.
  void before_end_of_elaboration() override;
  void thread();
  memory::MemorySystem* m_mem;
  uint64_t m_cycles = 0;
  uint64_t m_seen_read = 0, m_seen_write = 0;  ///< memory counters at the last op's end
};

/// A model that runs the workload's ops one by one: it checks an op (`check_op`) and costs
/// it (`run_op`); the shell does the rest.
class OpRunner : public ModelShell {
 protected:
  /// Where an operand the op does not name is read or written: far above every placed
  /// tensor (1 TiB + 4 GiB), so it never shares a row with one.
  static constexpr uint64_t kScratchAddr = (uint64_t(1) << 40) + (uint64_t(1) << 32);
  using ModelShell::ModelShell;
  /// Call at the end of the model's constructor. A graph's ops are all checked now (every
  /// problem in one InputError, before elaboration ends); a streamed trace's as they arrive.
  /// Exactly one of the two is non-null.
  void take_ops(std::shared_ptr<const workload::OpGraph> graph, std::shared_ptr<workload::OpStream> stream);
  /// The model's input checks of one op (throws InputError). Default: none.
  virtual void check_op(const workload::Op&) {}
  /// Whether the model costs the ops of a fused attention kernel (details sdpa_*) as one
  /// kernel; otherwise they are refused (check_fused). Default: no.
  virtual bool costs_fused_attention() const { return false; }
  /// Costs one op into `rec` (identity already filled): cycles, counts, actions, extras.
  /// It may move bytes through memory() and spend simulated time.
  virtual void run_op(const workload::Op& op, OpRecord& rec) = 0;
  /// The op loop: check (streams), place, cost, finish, wait out.
  void process() override;
  /// DRAM address of a tensor the current or an earlier op named (see place_tensors).
  uint64_t tensor_addr(uint32_t id) const { return m_tensor_addr.at(id); }
  uint64_t tensor_bytes(uint32_t id) const;

 private:
  void check_fused(const workload::Op& op);
  bool m_fused_refused = false;
  /// Gives each tensor the op names (reads, then writes) a DRAM address at its first use,
  /// 4 KiB aligned, in order of first use: a streamed trace and its graph place alike. Only
  /// for models that declared a memory.
  void place_tensors(const workload::Op& op);
  std::shared_ptr<workload::OpStream> m_ops;
  bool m_check_each = false;
  std::vector<uint64_t> m_tensor_addr;  ///< by tensor id; kUnplaced until first used
  uint64_t m_next_addr = 0;
};

}  // namespace bpsim
