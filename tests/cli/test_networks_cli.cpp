// Layers of current networks through the command line: the BERT-base spec's figures from
// `bpsim workload --json`, and a small network of RMSNorm, SwiGLU and a ViT patch embedding
// run as a training step on the systolic array (and refused by the mesh, with the reasons).
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

const std::string kRoot = std::string(BPSIM_SOURCE_DIR);

const char* kTinyNet =
    "name: tiny-modern\ndtype: bf16\nbatch: 2\ninput: {shape: [3, 32, 32]}\nlayers:\n"
    "  - {kind: patch_embedding, name: p, patch: 8, hidden: 32}\n  - {kind: rmsnorm, name: n}\n"
    "  - {kind: swiglu, name: m, hidden: 32, intermediate: 64}\n  - {kind: layernorm, name: ln}\n"
    "  - {kind: select_token, name: cls}\n  - {kind: linear, name: head, out_features: 10}\n";

std::string config(const Scratch& s, const std::string& arch, const std::string& accel) {
  return s.file("cfg.yaml", "include: [" + kRoot + "/" + arch + ", " + kRoot + "/configs/memory/ddr4_2400.yaml, " +
                                kRoot + "/configs/energy/45nm.yaml]\n" + accel + "workload:\n  spec: " +
                                (s / "net.yaml") + "\n  policy: {kind: none}\nrun: {seed: 1}\n");
}

}  // namespace

TEST_CASE("cli workload: BERT-base's parameters and saved bytes", "[cli][workload]") {
  CliResult r = run_bpsim("workload " + kRoot + "/configs/workloads/bert_base.yaml --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto g = nlohmann::json::parse(r.out);
  uint64_t weights = 0;
  for (const auto& t : g["tensors"])
    if (t["role"] == "weight") weights += t["bytes"].get<uint64_t>();
  CHECK(weights == 108891648ull * 4);  // the spec header's count, fp32
  // Derived in tests/unit/workload/test_networks.cpp ("BERT-base's spec").
  CHECK(g["saved_after_forward_bytes"] == 5238493184ull);
}

TEST_CASE("cli run: RMSNorm, SwiGLU and a patch embedding as a training step", "[cli][workload][systolic]") {
  Scratch s("modern");
  s.file("net.yaml", kTinyNet);
  CliResult r =
      run_bpsim("run " + config(s, "configs/arch/systolic_32x32_int8.yaml", "accelerator: {dtype: workload}\n") +
                " --quiet --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto rep = nlohmann::json::parse(slurp(s / "o/report.json"));
  // Forward MACs, batch 2: conv 2·16 patches·32·(3·8·8) = 196,608; gate and up
  // 2·2·17 tokens·32·64 = 139,264; down 2·17·64·32 = 69,632; head 2·32·10 = 640.
  CHECK(rep["phases"]["forward"]["macs"] == 196608 + 139264 + 69632 + 640);
  // The mesh joins branches by an add only and gathers a token's features only after linear
  // layers: it refuses the SwiGLU product and the norm over the patch map, naming both.
  CliResult m =
      run_bpsim("run " + config(s, "configs/arch/mesh_8x8.yaml", "accelerator: {cluster: {sram_kib: 4096}}\n") +
                " --quiet --out " + (s / "m"));
  CHECK(m.code == 2);
  CHECK_THAT(m.err, Catch::Contains("op 'm.glu.fwd' joins 2 branches (mul)"));
  CHECK_THAT(m.err, Catch::Contains("op 'n.fwd' (rmsnorm) reduces over a layer's spatial positions"));
}

TEST_CASE("cli workload: the 1B specs' saved bytes, and the accelerators' refusal of fused attention",
          "[cli][workload]") {
  // Derived in tests/unit/workload/test_network_specs.cpp (= PyTorch 2.11's requested bytes).
  CliResult l = run_bpsim("workload " + kRoot + "/configs/workloads/llama_1b_layers.yaml");
  INFO(l.err);
  REQUIRE(l.code == 0);
  CHECK_THAT(l.out, Catch::Contains("saved_after_forward_bytes 3032752384"));
  CliResult c = run_bpsim("workload " + kRoot + "/configs/workloads/llama_1b_layers.yaml --policy checkpoint");
  CHECK_THAT(c.out, Catch::Contains("saved_after_forward_bytes 142606336"));  // 17 inputs of 8 MiB
  // The systolic array does not cost a fused SDPA kernel: refused up front, nothing written.
  Scratch s("llama");
  s.file("net.yaml", slurp(kRoot + "/configs/workloads/llama_1b_layers.yaml"));
  CliResult r =
      run_bpsim("run " + config(s, "configs/arch/systolic_32x32_int8.yaml", "accelerator: {dtype: workload}\n") +
                " --quiet --out " + (s / "o"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("fused scaled-dot-product attention"));
  CHECK_FALSE(std::filesystem::exists(s / "o/report.json"));
}
