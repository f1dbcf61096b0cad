#pragma once
/// The interface between the engine and an accelerator model, and the registry that maps
/// `accelerator.kind` to an implementation (Ramulator's `impl:` idea; explicit
/// registration so that no static-initialiser trick can be dropped by the linker).
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/energy.h"
#include "sim/core/params.h"
#include "sim/core/stats.h"
#include "sim/ir/ir.h"
#include "sim/ir/op_record.h"
#include "sim/ir/op_stream.h"
#include "sim/report/report.h"

namespace bpsim {

namespace memory {
class DramSystem;
}

/// Result reuse (run.reuse, docs/techniques.md "Result reuse"): of the ops a model ran, how
/// many had a key that captures everything their cost depends on, and how many of those took
/// the cost of an identical op costed earlier instead of costing it again.
struct ReuseStats {
  uint64_t ops = 0;       ///< ops the model ran
  uint64_t eligible = 0;  ///< ops whose cost a key fully determines (the rest are always costed)
  uint64_t reused = 0;    ///< eligible ops whose key was seen before: the earlier op's cost, reused
};

/// A constructed accelerator (an sc_module underneath). Results are read after sc_start.
class Accelerator {
 public:
  using RecordSink = std::function<void(OpRecord&&)>;
  virtual ~Accelerator() = default;
  virtual double clock_ghz() const = 0;
  /// Each op's record goes to `sink` as the op finishes (the engine prices it and checks
  /// the laws there; tests collect them).
  void set_record_sink(RecordSink sink) { m_sink = std::move(sink); }
  /// An error the model's thread met during sc_start (an input error found while
  /// streaming a trace): the thread stops the simulation and the engine rethrows it.
  std::exception_ptr error() const { return m_error; }
  /// End of the simulated step, in accelerator cycles (ops may overlap, so ≤ Σ op cycles).
  virtual uint64_t total_cycles() const = 0;
  /// Peak multiply-accumulates per cycle of all the accelerator's compute units: the
  /// compute bound the laws check cycles against (0: it computes no MACs).
  virtual double peak_macs_per_cycle() const = 0;
  /// The counters the model registered in m_stats, as they stand now, into `group`.
  void report_stats(StatGroup& group) const { m_stats.write_to(group); }
  /// The report's "network" object (mesh); null elsewhere.
  virtual nlohmann::json network() const { return nullptr; }
  /// Everything this instance builds that leaks (PEs, SRAM KiB, router buffer bits), priced
  /// in units its kind declares (AcceleratorKind::leakage). The engine charges leakage for
  /// these parts only, plus the DRAM background when the kind declared MemoryUse::dram.
  virtual std::vector<LeakingPart> leaking_parts() const = 0;
  /// For a kind that declared MemoryUse::per_run: whether this run moves bytes through the
  /// DRAM device it was offered (then its background is charged).
  virtual bool uses_dram() const { return false; }
  /// run.reuse: whether a model may reuse an identical op's cost (set before sc_start).
  void set_reuse(bool on) { m_reuse = on; }
  const ReuseStats& reuse_stats() const { return m_reuse_stats; }

 protected:
  /// A finished op's record, to the sink (none set: dropped).
  void emit(OpRecord&& r) {
    if (m_sink) m_sink(std::move(r));
  }
  /// Called from a model's SC_THREAD with the current exception: keeps it and stops the run.
  void fail_run(std::exception_ptr e);
  /// Each counter registered once, by reference, when the model is built (m_stats.add).
  StatGroup m_stats;
  /// run.reuse is on (the default). A model that reuses costs checks it, and counts what it
  /// reused in m_reuse_stats; neither ever reaches the report.
  bool reuse() const { return m_reuse; }
  ReuseStats m_reuse_stats;

 private:
  RecordSink m_sink;
  std::exception_ptr m_error;
  bool m_reuse = true;
};

/// The memory a kind declares it uses (DRAMSys-style binding: the engine hands the model
/// the device it declared, and charges that device's background leakage, nothing else).
enum class MemoryUse {
  none,  ///< keeps everything on chip: no DRAM handle, no DRAM background
  dram,  ///< moves bytes through the DRAM system (BuildContext::dram)
  /// Offered the DRAM device (BuildContext::dram); the built model says whether this run
  /// uses it (Accelerator::uses_dram), e.g. the mesh spills in training mode only.
  per_run,
};

struct BuildContext {
  std::string name;              ///< sc_module name
  const config::Values& params;  ///< validated `accelerator:` section
  EnergyTable& energy;           ///< a model may add prices it derives (set_price), e.g. per buffer size
  std::shared_ptr<const workload::OpGraph> workload;  ///< null when the kind needs none, or streams
  std::shared_ptr<workload::OpStream> stream;         ///< a trace read as it runs (kinds with streams_ops)
  uint64_t seed = 1;
  memory::DramSystem* dram = nullptr;  ///< bound only for kinds that declare MemoryUse::dram or per_run
  /// The DRAM device; a kind that declared MemoryUse::none asking for it is a bug.
  memory::DramSystem& dram_device() const;
};

/// What a per-op energy estimate is priced with, made before the workload is built: the
/// run's energy table with the DRAM's prices from its memory preset (memory::price_memory),
/// and the bytes of one DRAM burst.
struct OpEnergyPrices {
  EnergyTable table;
  uint64_t dram_burst_bytes = 64;
};

struct AcceleratorKind {
  std::string kind;
  std::string description;
  /// The console's words when a run uses little of peak_macs_per_cycle, naming the hardware
  /// that peak counts ("the array is mostly idle"): a peak means different parts in each model.
  std::string idle_words = "the compute units are mostly idle";
  std::shared_ptr<const config::Schema> schema;  ///< its `accelerator:` parameters (without `kind`)
  std::vector<ActionDecl> actions;               ///< energy actions it counts
  std::vector<ActionDecl> leakage;               ///< leakage units its parts are priced in (energy.leakage_mw keys)
  bool needs_workload = true;
  MemoryUse memory = MemoryUse::none;  ///< what it moves bytes through (and leaks)
  std::function<std::unique_ptr<Accelerator>(const BuildContext&)> make;
  /// Optional: the model's estimate of one op's cycles under these `accelerator:` params,
  /// for recompute policies with `cost: accelerator` (made before the workload is built).
  std::function<workload::OpCostFn(const config::Values& params)> op_cost;
  /// Optional: the model's estimate of one op's energy in pJ (its dynamic actions, its DRAM
  /// bursts, and the leakage of its parts and of the DRAM over its cycles), for the
  /// `energy_optimal` policy (docs/techniques.md); a kind without one is refused there.
  std::function<workload::OpCostFn(const config::Values& params, const OpEnergyPrices& prices)> op_energy;
  /// It can replay a trace as it is read (BuildContext::stream), holding no op graph.
  bool streams_ops = false;
  /// ops.csv columns of its own, after the standard ones, from each op's `extra`.
  CsvColumns csv_columns;
};

class Registry {
 public:
  static Registry& instance();
  void add(AcceleratorKind k);
  const AcceleratorKind* find(const std::string& kind) const;
  const std::vector<AcceleratorKind>& all() const { return m_kinds; }
  std::string names() const;  ///< "mesh, pim, systolic, traffic"

 private:
  std::vector<AcceleratorKind> m_kinds;
};

}  // namespace bpsim
