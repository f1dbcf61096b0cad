#include "sim/engine/engine.h"
#include "sim/cosim/waveform.h"
#include "sim/engine/laws.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <systemc>
#include <utility>

#include "sim/core/binder.h"
#include "sim/core/limits.h"
#include "sim/core/progress.h"
#include "sim/core/sanitizer.h"
#include "sim/core/stats.h"
#include "sim/core/units.h"
#include "sim/memory/dram_system.h"
#include "sim/memory/memory_factory.h"
#include "sim/report/report.h"
#include "sim/source/load.h"
#include "sim/trace/trace_io.h"

namespace bpsim {

void Accelerator::fail_run(std::exception_ptr e) {
  if (!m_error) m_error = std::move(e);
  sc_core::sc_stop();
}

namespace {
const config::Binder<RunParams>& run_binder() {
  static const auto b = [] {
    config::Binder<RunParams> r("run", "run options");
    r.integer("seed", &RunParams::seed, "", "seed of every random choice (masks, traffic); same seed, same report")
        .def(1)
        .at_least(0);
    r.string("name", &RunParams::name, "label written into the report").def("\"\"");
    r.choice("report_ops", &RunParams::report_ops, kReportOpsNames,
             "per-op entries in report.json (ops.csv always has them): auto = unless a trace is streamed")
        .def("auto");
    r.group("limits", &RunParams::limits, limits::binder(), "resource limits of the input readers (README: Limits)");
    r.choice("reuse", &RunParams::reuse, kReuseNames,
             "result reuse: an op whose cost a key fully determines takes an identical earlier op's cost "
             "(the same report either way; docs/techniques.md)")
        .def("on");
    return r;
  }();
  return b;
}

/// The memory system's declarations followed by every registered kind's `member`.
std::vector<ActionDecl> all_declared(std::vector<ActionDecl> all, std::vector<ActionDecl> AcceleratorKind::*member) {
  for (const auto& k : Registry::instance().all()) all.insert(all.end(), (k.*member).begin(), (k.*member).end());
  return all;
}
}  // namespace

std::shared_ptr<const config::Schema> run_schema() { return run_binder().schema(); }

std::vector<ActionDecl> all_known_actions() {
  return all_declared(memory::memory_actions(), &AcceleratorKind::actions);
}

std::vector<ActionDecl> all_known_leakage() {
  return all_declared(memory::memory_leakage_units(), &AcceleratorKind::leakage);
}

void prepare_device(RunSpec& spec, const config::Node* acc, const config::Node* mem, const config::Node* en,
                    const Location& where, const std::string& prefix) {
  const std::string at = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);  // "system.devices.x"
  if (!acc)
    throw InputError(where, at, "missing required section 'accelerator' (kinds: " + Registry::instance().names() + ")");
  config::expect_map(*acc, prefix + "accelerator");
  const config::Node* kind = acc->find("kind");
  if (!kind)
    throw InputError(acc->loc, prefix + "accelerator",
                     "missing required key 'kind' (one of: " + Registry::instance().names() + ")");
  const std::string kind_name = config::as_string(*kind, prefix + "accelerator.kind");
  spec.kind = Registry::instance().find(kind_name);
  if (!spec.kind)
    throw InputError(kind->loc, prefix + "accelerator.kind",
                     "unknown accelerator '" + kind_name + "' (registered: " + Registry::instance().names() + ")");
  config::Node params = *acc;
  params.erase("kind");
  spec.accelerator =
      std::make_unique<config::Values>(config::validate(params, *spec.kind->schema, prefix + "accelerator"));

  if (!mem)
    throw InputError(where, at,
                     "missing required section 'memory' (include a preset, e.g. configs/memory/ddr4_2400.yaml)");
  spec.memory = std::make_unique<config::Values>(config::validate(*mem, *memory::memory_schema(), prefix + "memory"));

  if (!en)
    throw InputError(where, at, "missing required section 'energy' (include a table, e.g. configs/energy/45nm.yaml)");
  spec.energy = EnergyTable::parse(*en, prefix + "energy", all_known_actions(), all_known_leakage());
}

RunSpec prepare(const std::string& config_path, const std::vector<std::string>& overrides, bool allow_stream) {
  if (Registry::instance().all().empty())
    throw std::logic_error("no accelerator kind is registered (register_builtin_models() runs first)");
  RunSpec spec;
  spec.config_path = config_path;
  spec.root = config::load_file(config_path);
  for (const auto& o : overrides) config::apply_override(spec.root, o);
  config::Node& root = spec.root;
  config::check_keys(root, "", {"accelerator", "memory", "energy", "workload", "run", "system"});
  // A system of accelerators (docs/system.md) names its devices' sections under `system:`;
  // the system layer (sim/system) reads them and the workload.
  spec.system = root.find("system") != nullptr;
  if (!spec.system)
    prepare_device(spec, root.find("accelerator"), root.find("memory"), root.find("energy"), root.loc, "");
  const config::Node* run = root.find("run");
  spec.run = run_binder().parse(config::validate(run ? *run : config::Node{}, *run_schema(), "run"));
  // run.reuse changes how fast the report is made, never what it says: it is not echoed into
  // the report's config, so that reports with reuse on and off are the same bytes.
  if (config::Node* r = root.find("run"); r && r->erase("reuse") && r->is_map() && r->map.empty()) root.erase("run");
  limits::apply(spec.run.limits);  // before any workload file is read
  if (spec.system) return spec;

  if (const config::Node* wl = root.find("workload")) {
    const std::string trace = workload::trace_path_of(*wl, "workload");
    if (allow_stream && spec.kind->streams_ops && !trace.empty()) {
      spec.stream = trace::open_trace_stream(trace);  // read as the model runs
      return spec;
    }
    const workload::OpCostFn cost = spec.kind->op_cost ? spec.kind->op_cost(*spec.accelerator) : workload::OpCostFn{};
    workload::OpCostFn energy;
    if (spec.kind->op_energy) {
      OpEnergyPrices prices{spec.energy};
      prices.dram_burst_bytes = memory::price_memory(*spec.memory, prices.table);
      energy = spec.kind->op_energy(*spec.accelerator, prices);
    }
    spec.workload = workload::load_workload(*wl, "workload", spec.run.seed, cost, energy);
    if (spec.workload->memory.framework != "none")  // a GPU's buffers, not the accelerator's
      throw InputError(wl->find("framework") ? wl->find("framework")->loc : wl->loc, "workload.framework",
                       "framework '" + spec.workload->memory.framework +
                           "' accounts PyTorch's memory on a CUDA GPU (bpsim workload); an accelerator run "
                           "needs framework: none");
  } else if (spec.kind->needs_workload) {
    throw InputError(
        root.loc, "",
        "missing required section 'workload' (accelerator '" + spec.kind->kind + "' runs a training step)");
  }
  return spec;
}

Simulation::Simulation(RunSpec& spec) : m_spec(spec) {
  if (spec.system || !spec.kind) throw std::logic_error("a system config is run by sim/system, not by one Simulation");
  m_mem = memory::make_memory_system(*spec.memory, spec.energy, "memory");
  const MemoryUse use = spec.kind->memory;
  BuildContext ctx{"accel",
                   *spec.accelerator,
                   spec.energy,
                   spec.workload,
                   spec.stream,
                   spec.run.seed,
                   use != MemoryUse::none ? m_mem.get() : nullptr};
  m_acc = spec.kind->make(ctx);
  m_acc->set_reuse(spec.run.reuse == Reuse::on);
  // Only what the model instantiates leaks, and the DRAM only when the kind declared it
  // (or, declared per run, the built model uses it).
  const bool uses_dram = use == MemoryUse::dram || (use == MemoryUse::per_run && m_acc->uses_dram());
  std::vector<LeakingPart> parts = m_acc->leaking_parts();
  if (uses_dram) parts.push_back(memory::dram_background());
  spec.energy.charge_leakage_of(parts);
}

Simulation::~Simulation() = default;

namespace {

/// The progress line's text: "simulating: 1,234/5,678 ops (21.7%), 12.3 M cycles, 4 s".
std::string progress_text(uint64_t done, uint64_t total, uint64_t cycles, double elapsed_s) {
  std::string s = fmt::format("simulating: {} ", done);
  if (total) s += fmt::format("/ {} ops ({})", total, units::percent(double(done) / double(total)));
  else s += "ops";
  return s + fmt::format(", {} cycles, {:.0f} s", units::count(double(cycles)), elapsed_s);
}

}  // namespace

nlohmann::json Simulation::run(OpSpill* spill, ProgressLine* progress) {
  RunSpec& spec = m_spec;
  Accelerator& acc = *m_acc;
  const LawBounds bounds{acc.peak_macs_per_cycle(), m_mem->peak_bytes_per_s() / (acc.clock_ghz() * 1e9)};
  ReportBuilder::OpSink to_spill;
  if (spill) to_spill = [spill](const OpRecord& r, const OpFigures& f) { spill->add(r, f); };
  const Rates rates{acc.clock_ghz(), acc.peak_macs_per_cycle(), m_mem->peak_bytes_per_s()};
  ReportBuilder report(spec.energy, rates, std::move(to_spill));
  waveform::open_after_elaboration();
  // The sink runs in the model's thread: a broken law stops the simulation there and is
  // rethrown here, whichever model met it.
  std::exception_ptr broken;
  const uint64_t total_ops = spec.workload ? spec.workload->ops.size() : 0;  // a stream's: unknown
  uint64_t done = 0, end_cycle = 0;
  acc.set_record_sink([&report, &bounds, &broken, progress, total_ops, &done, &end_cycle](OpRecord&& r) {
    if (broken) return;
    try {
      laws::check_op(r, bounds);
    } catch (const LawViolation&) {
      broken = std::current_exception();
      sc_core::sc_stop();
      return;
    }
    waveform::op_started(r.phase, r.kind, r.cycles);  // no-op without --trace-vcd
    report.add(r);
    ++done;
    end_cycle = std::max(end_cycle, r.start_cycle + r.cycles);
    if (progress && progress->due()) progress->show(progress_text(done, total_ops, end_cycle, progress->elapsed_s()));
  });
  // A stop on error is reported by the error itself, not by SystemC's notice.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const auto started = std::chrono::steady_clock::now();
  sc_core::sc_start();
  sanitizer_rebind_thread_stack();  // SystemC leaves this thread registered with a coroutine's stack
  m_simulate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (progress) progress->clear();
  waveform::close();
  if (acc.error()) std::rethrow_exception(acc.error());
  if (broken) std::rethrow_exception(broken);

  StatGroup stats;
  acc.report_stats(stats.child(spec.kind->kind));
  m_mem->report_stats(stats.child("memory"));
  workload::MemorySummary streamed;
  if (spec.stream) streamed = spec.stream->memory();
  const workload::MemorySummary* summary = spec.workload ? &spec.workload->memory : spec.stream ? &streamed : nullptr;
  m_config = config_json(spec.root);
  ReportInputs in{spec.kind->kind, acc.total_cycles(), acc.network(), spec.energy, stats,
                  summary,         spec.run.name,      spec.run.seed, m_config};
  nlohmann::json out = report.finish(in);
  laws::check_report(out, bounds, m_mem->read_bytes(), m_mem->write_bytes());
  return out;
}

RunStatistics Simulation::statistics() const { return {m_spec.run.reuse, m_acc->reuse_stats(), m_simulate_seconds}; }

nlohmann::json simulate(RunSpec& spec, OpSpill* spill) { return Simulation(spec).run(spill); }

}  // namespace bpsim
