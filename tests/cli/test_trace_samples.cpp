// The sample traces in traces/: each is what `bpsim trace export` writes for its spec today
// (so a stale sample fails here), and each replays on the systolic model with every op and
// the forward multiply-accumulates the network defines.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/trace/trace_io.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::test;

namespace {

std::string canonical(const workload::OpGraph& g) {
  std::ostringstream o;
  trace::write_trace(g, o);
  return o.str();
}

/// `file` under traces/ was exported from configs/workloads/`spec` with `--batch batch`; its
/// forward pass holds `fwd_macs_per_sample` MACs per sample.
void check_sample(const std::string& file, const std::string& spec, int batch, uint64_t fwd_macs_per_sample) {
  Scratch s("trace_sample");
  const std::string src = BPSIM_SOURCE_DIR;
  const std::string sample = src + "/traces/" + file;
  auto g = trace::read_trace_file(sample);

  // Same as a fresh export (regenerate with the command in traces/README.md if not).
  CliResult e = run_bpsim("trace export " + src + "/configs/workloads/" + spec + " --batch " + std::to_string(batch) +
                          " -o " + (s / "fresh.jsonl"));
  INFO(e.err);
  REQUIRE(e.code == 0);
  CHECK(canonical(*trace::read_trace_file(s / "fresh.jsonl")) == canonical(*g));
  // Byte for byte, alloc/free events included (the .gz one: its text, as re-written).
  CHECK(canonical(*g) == slurp(s / "fresh.jsonl"));
  if (file.size() < 3 || file.compare(file.size() - 3, 3, ".gz") != 0) CHECK(slurp(sample) == slurp(s / "fresh.jsonl"));
  // The replayed memory accounting is the spec's (from the events, equal to the header's).
  CHECK(g->memory.peak_bytes > 0);

  // Replays on the 32×32 systolic array.
  const std::string cfg =
      s.file("sys.yaml", "include: [" + src + "/configs/arch/systolic_32x32_int8.yaml, " + src +
                             "/configs/memory/ddr4_2400.yaml, " + src + "/configs/energy/45nm.yaml, " + src +
                             "/configs/energy/45nm/systolic.yaml]\n"
                             "accelerator: {dtype: workload}\nworkload: {trace: " +
                             sample + "}\nrun: {seed: 1}\n");
  CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto rep = nlohmann::json::parse(slurp(s / "out/report.json"));
  CHECK(rep["accelerator"] == "systolic");
  // Streamed: the op entries are in ops.csv alone (run.report_ops: auto), a header and a row per op.
  CHECK_FALSE(rep.contains("ops"));
  CHECK(rep["op_count"].get<size_t>() == g->ops.size());
  const std::string csv = slurp(s / "out/ops.csv");
  CHECK(size_t(std::count(csv.begin(), csv.end(), '\n')) == g->ops.size() + 1);
  CHECK(rep["totals"]["macs"].get<uint64_t>() == g->total_macs());
  CHECK(rep["phases"]["forward"]["macs"].get<uint64_t>() == uint64_t(batch) * fwd_macs_per_sample);
  CHECK(rep["phases"]["backward_data"]["macs"].get<uint64_t>() > 0);
  CHECK(rep["phases"]["backward_weight"]["macs"].get<uint64_t>() > 0);
  CHECK(rep["totals"]["cycles"].get<uint64_t>() > 0);
}

}  // namespace

TEST_CASE("trace samples: ResNet-18 replays on the systolic array", "[cli][trace][samples]") {
  // 1 814 073 344 MACs per 224×224 image forward: torchvision's published 1.81 G for
  // resnet18, and the sum over its convs (118 013 952 for conv1 = 112²·64·3·7·7, …) and fc.
  check_sample("resnet18_b2.jsonl", "resnet18.yaml", 2, 1814073344ull);
}

TEST_CASE("trace samples: GPT-2-small (gzip) replays on the systolic array", "[cli][trace][samples]") {
  // Per layer and sequence (s = 1024, h = 768): QKV 3sh², attention scores and weighted
  // values 2s²h, projection sh², MLP 8sh² → 12sh² + 2s²h = 7 247 757 312 + 1 610 612 736
  // = 8 858 370 048 MACs (Narayanan et al. 2021's 24bsh² + 4bs²h FLOPs, halved); 12 layers.
  check_sample("gpt2_small_b1.jsonl.gz", "gpt2_small.yaml", 1, 12ull * 8858370048ull);
}

TEST_CASE("trace samples: binary CNN replays on the systolic array", "[cli][trace][samples]") {
  // Per 32×32 image: conv1 32²·128·3·9 = 3 538 944; bconv2 32²·128·128·9 = 150 994 944;
  // pool → 16²; bconv3 16²·256·128·9 = 75 497 472; bconv4 16²·256·256·9 = 150 994 944;
  // pool → 8²; bfc5 (256·8·8)·1024 = 16 777 216; fc_out 1024·10 = 10 240. Sum 397 813 760.
  check_sample("binary_cnn_b8.jsonl", "binary_cnn.yaml", 8, 397813760ull);
}

TEST_CASE("trace samples: binary MLP replays on the systolic array", "[cli][trace][samples]") {
  // Per sample: 784·2048 + 2·2048·2048 + 2048·10 = 1 605 632 + 8 388 608 + 20 480 = 10 014 720.
  check_sample("binary_mlp_b16.jsonl", "binary_mlp.yaml", 16, 10014720ull);
}

TEST_CASE("trace export: --batch out of range is an input error", "[cli][trace]") {
  Scratch s("trace_batch");
  CliResult r = run_bpsim("trace export " + std::string(BPSIM_SOURCE_DIR) +
                          "/configs/workloads/mlp.yaml --batch 0 -o " + (s / "x.jsonl"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("workload.batch: value 0 is out of range"));
  CHECK_FALSE(std::filesystem::exists(s / "x.jsonl"));
}

TEST_CASE("trace samples: MLP replays on the systolic array", "[cli][trace][samples]") {
  // Per sample: 784·1024 + 1024·1024 + 1024·10 = 802 816 + 1 048 576 + 10 240 = 1 861 632.
  check_sample("mlp_step.jsonl", "mlp.yaml", 64, 1861632ull);
}

TEST_CASE("cli scalesim backward: config key and trace scalesim command", "[cli][trace][scalesim]") {
  Scratch s("scalesim_bwd");
  // M = 64, N = 32, K = 16: forward, dX (64×32·32×16) and dW (16×64·64×32) are 32 768 MACs each.
  const std::string csv = s.file("t.csv", "Layer, M, N, K,\ng1, 64, 32, 16,\n");
  const std::string src = BPSIM_SOURCE_DIR;
  const std::string cfg =
      s.file("c.yaml", "include: [" + src + "/configs/arch/systolic_32x32_int8.yaml, " + src +
                           "/configs/memory/ddr4_2400.yaml, " + src +
                           "/configs/energy/45nm.yaml]\nworkload: {scalesim: t.csv, backward: true}\n");
  CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  CHECK(rep["totals"]["macs"] == 3 * 32768);
  CHECK(rep["phases"]["backward_data"]["macs"] == 32768);
  CHECK(rep["phases"]["backward_weight"]["macs"] == 32768);
  CliResult bad = run_bpsim("run " + cfg + " --set workload.backward=maybe --out " + (s / "o2"));
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("workload.backward"));

  // The command line: the same graph as a bpsim trace.
  CliResult c = run_bpsim("trace scalesim " + csv + " --backward --dtype bf16 -o " + (s / "t.jsonl"));
  INFO(c.err);
  REQUIRE(c.code == 0);
  auto g = trace::read_trace_file(s / "t.jsonl");
  REQUIRE(g->ops.size() == 3);
  CHECK(g->ops[1].name == "g1.dx");
  CHECK(g->ops[2].phase == workload::Phase::backward_weight);
  CHECK(g->dtype == workload::DType::bf16);
  CHECK(run_bpsim("trace scalesim " + csv + " --dtype int3 -o " + (s / "u.jsonl")).code == 2);
  CHECK_FALSE(std::filesystem::exists(s / "u.jsonl"));
}
