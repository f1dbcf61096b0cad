// The array's precision through `bpsim run` and `bpsim validate`: which op types an array
// computes (the rest are refused), MAC energy and PE area by type, and the shipped examples
// each on an array of its training type (docs/systolic.md, "Precision").
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "models/systolic/systolic_params.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using bpsim::test::run_bpsim;
using workload::DType;

namespace {

const std::string kSrc = BPSIM_SOURCE_DIR;

/// batch 2, 8 inputs, linear 4, ReLU: two GEMMs, linear0.fwd (M 2, K 8, N 4) and linear0.dw
/// (M 8, K 2, N 4), 64 MACs each (the input needs no dX); the spec's dtype is fp32.
const std::string kNet =
    "name: tiny\nbatch: 2\ninput: {shape: [8]}\nlayers:\n  - {kind: linear, out_features: 4}\n  - {kind: relu}\n";

/// `bpsim run` of the tiny network on the 32×32 preset `arch` with `sets`; the report, or
/// null when the run was refused (its stderr into `err`).
nlohmann::json run_tiny(const std::string& arch, const std::string& sets, const std::string& tag,
                        std::string* err = nullptr) {
  test::Scratch s("sprec_" + tag);
  const std::string cfg =
      s.file("c.yaml", test::preset_includes(arch) + "workload: {spec: " + s.file("net.yaml", kNet) + "}\n");
  const test::CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "out") + " " + sets);
  if (err) *err = r.err;
  if (r.code != 0) {
    INFO(r.err);
    REQUIRE(r.code == 2);  // refused as bad input, never an internal error
    CHECK_FALSE(std::filesystem::exists(s / "out/report.json"));
    return nullptr;
  }
  return nlohmann::json::parse(test::slurp(s / "out/report.json"));
}

}  // namespace

TEST_CASE("systolic precision: which op types an array's PEs hold exactly", "[systolic][precision]") {
  using systolic::holds_exactly;
  // Every type holds itself, and binary; fp32 holds every type.
  for (DType d : {DType::int8, DType::fp16, DType::bf16, DType::fp32}) {
    CHECK(holds_exactly(d, d));
    CHECK(holds_exactly(d, DType::binary));
    CHECK(holds_exactly(DType::fp32, d));
  }
  // An 8-bit integer has at most 8 significant bits: fp16 (11) and bf16 (8) hold it.
  CHECK(holds_exactly(DType::fp16, DType::int8));
  CHECK(holds_exactly(DType::bf16, DType::int8));
  // int8 holds no float type; fp16's 11 significant bits do not fit bf16's 8, bf16's 8-bit
  // exponent does not fit fp16's 5; neither 16-bit type holds fp32.
  for (DType d : {DType::fp16, DType::bf16, DType::fp32}) CHECK_FALSE(holds_exactly(DType::int8, d));
  CHECK_FALSE(holds_exactly(DType::bf16, DType::fp16));
  CHECK_FALSE(holds_exactly(DType::fp16, DType::bf16));
  CHECK_FALSE(holds_exactly(DType::bf16, DType::fp32));
  CHECK_FALSE(holds_exactly(DType::fp16, DType::fp32));
  CHECK(std::string(systolic::accumulator_name(DType::int8)) == "int32");
  CHECK(std::string(systolic::accumulator_name(DType::bf16)) == "fp32");
}

TEST_CASE("systolic precision: a step the array's type cannot hold is refused, exit 2, naming op and types",
          "[systolic][precision][cli]") {
  std::string err;
  // The fp32 spec on int8 PEs (the preset's dtype: int8, at its line and column).
  CHECK(run_tiny("systolic_32x32_int8.yaml", "", "int8_fp32", &err) == nullptr);
  CHECK_THAT(err, Catch::Contains("systolic_32x32_int8.yaml:13:10: accelerator.dtype: op 'linear0.fwd': int8 PEs "
                                  "(int32 accumulate) cannot compute fp32 operands exactly"));
  // Once per type, not once per op: linear0.dw is not named.
  CHECK_THAT(err, !Catch::Contains("linear0.dw"));
  // fp32 on the bf16 training preset, and fp16 (11 significant bits) on bf16 PEs.
  CHECK(run_tiny("systolic_32x32_bf16.yaml", "", "bf16_fp32", &err) == nullptr);
  CHECK_THAT(err, Catch::Contains("accelerator.dtype: op 'linear0.fwd': bf16 PEs (fp32 accumulate) cannot compute "
                                  "fp32 operands exactly"));
  CHECK(run_tiny("systolic_32x32_bf16.yaml", "--set workload.dtype=fp16", "bf16_fp16", &err) == nullptr);
  CHECK_THAT(err, Catch::Contains("bf16 PEs (fp32 accumulate) cannot compute fp16 operands exactly"));
  // A streamed trace's ops are checked as they arrive: the fp32 MLP step's first GEMM stops
  // the run at the same key, and no report is written.
  {
    test::Scratch s("sprec_trace");
    const std::string cfg = s.file("c.yaml", test::preset_includes("systolic_32x32_int8.yaml") +
                                                 "workload: {trace: " + kSrc + "/traces/mlp_step.jsonl}\n");
    const test::CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "out"));
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("accelerator.dtype: op 'linear1.fwd': int8 PEs (int32 accumulate) cannot "
                                      "compute fp32 operands exactly"));
    CHECK_FALSE(std::filesystem::exists(s / "out/report.json"));
  }
  // What the PEs hold runs: bf16 on bf16, bf16 on fp32 PEs, and the fp32 spec with
  // dtype: workload (PEs built for it).
  CHECK(run_tiny("systolic_32x32_bf16.yaml", "--set workload.dtype=bf16", "bf16_bf16") != nullptr);
  CHECK(run_tiny("systolic_32x32_bf16.yaml", "--set workload.dtype=bf16 --set accelerator.dtype=fp32", "fp32_bf16") !=
        nullptr);
  CHECK(run_tiny("systolic_32x32_int8.yaml", "--set accelerator.dtype=workload", "workload") != nullptr);
}

TEST_CASE("systolic precision: MAC energy by type, MACs × pJ", "[systolic][precision][cli]") {
  // Two GEMMs of 64 MACs each (kNet): 128 MACs, none gated, each priced as one MAC of the
  // array's type (configs/energy/45nm/systolic.yaml): int8 0.2 + 0.1 (int32 add) = 0.3 pJ;
  // fp16 1.1 + 0.9 (fp32 add) = 2.0; bf16 0.774 (fitted: a + b·m², through fp16 1.1 at m = 11
  // and fp32 3.7 at m = 24, b = 2.6/455, a = 1.1 − 121·b, at m = 8) + 0.9 = 1.674; fp32
  // 3.7 + 0.9 = 4.6 pJ.
  const double b = 2.6 / 455, a = 1.1 - 121 * b;
  REQUIRE(a + 64 * b == Approx(0.774).margin(5e-4));
  const struct {
    const char* dtype;
    double pj;
  } cases[] = {{"int8", 0.3}, {"fp16", 2.0}, {"bf16", 0.774 + 0.9}, {"fp32", 4.6}};
  for (const auto& c : cases) {
    const std::string d = c.dtype;
    INFO(d);
    const nlohmann::json rep =
        run_tiny("systolic_32x32_bf16.yaml", "--set accelerator.dtype=" + d + " --set workload.dtype=" + d, "mac_" + d);
    REQUIRE(rep != nullptr);
    CHECK(rep["totals"]["macs_executed"] == 128);
    CHECK(rep["totals"]["macs_gated"] == 0);
    const nlohmann::json& bd = rep["energy_breakdown_pj"];
    CHECK(bd["systolic.mac_" + d].get<double>() == Approx(128 * c.pj));
    for (const char* other : {"int8", "fp16", "bf16", "fp32"})
      if (d != other) CHECK_FALSE(bd.contains(std::string("systolic.mac_") + other));
  }
}

TEST_CASE("systolic precision: PE array area by type in stats.systolic.area", "[systolic][precision][cli]") {
  // Horowitz ISSCC 2014, 45 nm (µm²): a PE is its multiplier plus its accumulator's adder.
  //   int8: 8b mult 282 + 32b add 137 = 419; bf16: 881 (fitted, as the energy) + fp32 add
  //   4184 = 5065; fp32: 7700 + 4184 = 11884. 32 × 32 PEs; 32 vector lanes of an fp32 adder
  //   (4184 µm²) = 0.133888 mm².
  const double fit_b = (7700.0 - 1640) / 455, fit_a = 1640 - 121 * fit_b;
  REQUIRE(fit_a + 64 * fit_b == Approx(881).margin(0.5));
  const struct {
    const char* arch;
    const char* sets;
    double pe_um2;
  } cases[] = {{"systolic_32x32_int8.yaml", "--set workload.dtype=int8", 282 + 137},
               {"systolic_32x32_bf16.yaml", "--set workload.dtype=bf16", 881 + 4184},
               // dtype: workload on the fp32 spec: PEs built for fp32.
               {"systolic_32x32_int8.yaml", "--set accelerator.dtype=workload", 7700 + 4184}};
  for (const auto& c : cases) {
    INFO(c.arch << " " << c.sets);
    const nlohmann::json rep = run_tiny(c.arch, c.sets, "area");
    REQUIRE(rep != nullptr);
    const nlohmann::json& area = rep["stats"]["systolic"]["area"];
    CHECK(area["pe_um2"].get<double>() == Approx(c.pe_um2));
    CHECK(area["pe_array_mm2"].get<double>() == Approx(32 * 32 * c.pe_um2 * 1e-6));
    CHECK(area["vector_unit_mm2"].get<double>() == Approx(32 * 4184 * 1e-6));
    CHECK_THAT(rep["stat_descriptions"]["systolic.area.pe_um2"].get<std::string>(),
               Catch::Contains("no registers or wiring"));
  }
}

TEST_CASE("systolic precision: every shipped systolic example runs on an array of its training type",
          "[systolic][precision][cli]") {
  // validate builds the model, which checks every GEMM's type against the PEs: exit 0 means
  // the array holds every op of the step. The same example with int8 PEs must be refused
  // (every example trains in a float type), so the check ran on its ops.
  int systolic = 0;
  for (const auto& e : std::filesystem::directory_iterator(kSrc + "/configs/examples")) {
    if (e.path().extension() != ".yaml") continue;
    const test::CliResult ok = run_bpsim("validate " + e.path().string());
    INFO(e.path().string() << "\n" << ok.err);
    REQUIRE(ok.code == 0);
    if (ok.out.find("(accelerator systolic,") == std::string::npos) continue;
    ++systolic;
    // An example whose step is int8 (workload.dtype: int8, the quantized-training ones) runs
    // on int8 PEs: it has no float op to refuse.
    if (test::slurp(e.path().string()).find("\n  dtype: int8") != std::string::npos) continue;
    const test::CliResult int8 = run_bpsim("validate " + e.path().string() + " --set accelerator.dtype=int8");
    CHECK(int8.code == 2);
    CHECK_THAT(int8.err, Catch::Contains("accelerator.dtype: op '") && Catch::Contains("int8 PEs"));
  }
  // At least gpt2, lenet5, mlp and resnet18 training and the two policy comparisons (an
  // example added later joins the loop).
  CHECK(systolic >= 6);
}
