#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "sim/cli/commands.h"
#include "sim/cli/options.h"
#include "sim/cli/policy_flags.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/limits.h"
#include "sim/core/output_files.h"
#include "sim/source/load.h"
#include "sim/trace/chakra_et.h"
#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"

namespace po = boost::program_options;

namespace bpsim::cli {

namespace {

/// Refuses an existing `out` before any work; the temporary, made at once, checks its folder.
/// `-` is standard output: no file, nothing to refuse.
std::unique_ptr<output::File> open_out(const std::string& out) {
  if (is_stdio(out)) return nullptr;
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec))
    throw InputError("-o " + out + ": file exists; refusing to overwrite it");
  return std::make_unique<output::File>(out, size_t(1) << 20);
}

/// Writes `g` through the temporary `f` and moves it into place (never over a file that
/// appeared meanwhile), so a failed write leaves no finished-looking trace. Without `f`
/// (`-o -`) the trace goes to standard output and what was written to standard error.
void write_out(const workload::OpGraph& g, output::File* f) {
  const std::string counts = std::to_string(g.ops.size()) + " ops, " + std::to_string(g.tensors.size()) + " tensors\n";
  if (!f) {
    trace::write_trace(g, std::cout);
    std::cout.flush();
    if (!std::cout) throw output::WriteError("-o -: cannot write the trace to standard output");
    std::cerr << "<stdout>: " << counts;
    return;
  }
  trace::write_trace(g, f->out());
  f->commit(false);
  std::cout << f->dest().string() << ": " << counts;
}

}  // namespace

int cmd_trace(int argc, char* argv[]) {
  std::string action, input, out, dtype;
  std::vector<std::string> limit_flags;
  int batch = -1;      // -1: the spec's batch
  PolicyFlags policy;  // export
  bool help = false, backward = false;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")("output,o", po::value(&out),
                                                                      "trace file to write; - for standard output")(
      "batch", po::value(&batch), "overrides the spec's batch size (export); multiplies M (scalesim)")(
      "backward", po::bool_switch(&backward), "also the backward dX and dW GEMMs (scalesim)")(
      "dtype", po::value(&dtype),
      "element type of a SCALE-Sim topology (scalesim; default int8) or of a Chakra trace (chakra; default fp32)")(
      "limit", po::value(&limit_flags),
      "NAME=N: raise (or lower) a reader limit, e.g. line_bytes=4194304 (README: Limits)");
  policy.add_to(d);  // export: the policy flags of bpsim workload
  parse_command_line(argc, argv, d, {{"action", &action}, {"input", &input}});
  const char* usage =
      "usage: bpsim trace export SPEC.yaml [--policy P] [policy flags as bpsim workload] [--batch B] -o FILE.jsonl\n"
      "       bpsim trace scalesim TOPOLOGY.csv [--backward] [--batch B] [--dtype D] -o FILE.jsonl\n"
      "       bpsim trace chakra TRACE.et [--dtype D] -o FILE.jsonl\n"
      "       bpsim trace check FILE.jsonl[.gz]\n"
      "       (each also takes --limit NAME=N to change a reader limit: README, Limits;\n"
      "        - as SPEC.yaml or FILE reads standard input, -o - writes standard output)\n";
  if (help) {
    std::cout << usage << "\n" << d;
    return kExitOk;
  }
  for (const std::string& l : limit_flags) limits::apply_flag(l);
  if (action != "export" && !policy.keys().empty())
    throw po::error("the policy flags (--policy, --segments, …) apply to 'trace export' only");
  if (action == "export") {
    if (input.empty()) throw po::error("missing SPEC.yaml");
    if (out.empty()) throw po::error("missing -o FILE");
    auto f = open_out(out);
    // The policy flags become workload.policy's keys, checked as a config's are.
    auto g = workload::load_workload(workload::command_line_section(input, batch, policy.keys()), "workload", 1);
    if (g->memory.framework != "none")  // a trace feeds accelerator runs, which refuse a GPU's buffers
      throw InputError(input + ": framework '" + g->memory.framework +
                       "' accounts PyTorch's memory on a CUDA GPU; export the step with framework: none");
    write_out(*g, f.get());
    return kExitOk;
  }
  if (action == "scalesim") {
    if (input.empty()) throw po::error("missing TOPOLOGY.csv");
    if (out.empty()) throw po::error("missing -o FILE");
    workload::DType dt = workload::DType::int8;
    if (!dtype.empty() && !workload::dtype_from_string(dtype, dt))
      throw po::error("--dtype: '" + dtype + "' is not valid (expected one of: fp32, bf16, fp16, int8, binary)");
    trace::ScalesimOptions opt;
    opt.dtype = dt;
    opt.backward = backward;
    if (batch == 0 || batch < -1) throw po::error("--batch: must be at least 1");
    if (batch > 0) opt.batch = static_cast<uint64_t>(batch);
    auto f = open_out(out);
    write_out(*trace::read_scalesim_csv_file(input, opt), f.get());
    return kExitOk;
  }
  if (action == "chakra") {
    if (input.empty()) throw po::error("missing TRACE.et");
    if (out.empty()) throw po::error("missing -o FILE");
    trace::ChakraOptions opt;
    if (!dtype.empty() && (!workload::dtype_from_string(dtype, opt.dtype) || opt.dtype == workload::DType::binary))
      throw po::error("--dtype: '" + dtype + "' is not valid (expected one of: fp32, bf16, fp16, int8)");
    auto f = open_out(out);
    write_out(*trace::read_chakra_et_file(input, opt), f.get());
    return kExitOk;
  }
  if (action == "check") {
    if (input.empty()) throw po::error("missing FILE.jsonl");
    auto g = trace::read_trace_file(input);
    std::cout << (is_stdio(input) ? std::string(kStdinLabel) : input) << ": ok, " << g->ops.size() << " ops, "
              << g->tensors.size() << " tensors, " << g->total_macs() << " MACs\n";
    return kExitOk;
  }
  throw po::error(action.empty() ? "missing action (export, scalesim, chakra or check)"
                                 : "unknown action '" + action + "'");
}

}  // namespace bpsim::cli
