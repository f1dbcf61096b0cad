// A whole BNN training step from the shipped specs through the real executable: the binary
// layers' integer pre-activation feeds batchnorm, their latent weights are updated in DRAM
// (plain SGD), and every host op is timed by the host roofline. Each figure derived below.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

#include "../../cli/cli_harness.h"

using namespace bpsim::test;

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;

std::string config(const std::string& spec, unsigned batch) {
  return "include: [" + kSrc + "/configs/arch/pim_ddr4.yaml, " + kSrc + "/configs/memory/ddr4_2400.yaml, " + kSrc +
         "/configs/energy/45nm.yaml, " + kSrc + "/configs/energy/45nm/pim.yaml]\nworkload: {spec: " + spec +
         ", batch: " + std::to_string(batch) + "}\nrun: {seed: 1}\n";
}

nlohmann::json run(const Scratch& s, const std::string& tag, const std::string& spec, unsigned batch) {
  const CliResult r = run_bpsim("run " + s.file(tag + ".yaml", config(spec, batch)) + " -q -o " + (s / tag));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / (tag + "/report.json")));
}

std::map<std::string, nlohmann::json> by_name(const nlohmann::json& ops) {
  std::map<std::string, nlohmann::json> m;
  for (const auto& o : ops) m[o["name"].get<std::string>()] = o;
  return m;
}
}  // namespace

TEST_CASE("pim whole step: binary MLP spec, integer pre-activation, update in DRAM, host roofline", "[pim][cli]") {
  const Scratch s("pim_whole_mlp");
  const std::string spec = kSrc + "/configs/workloads/binary_mlp.yaml";
  // The graph: binary_linear2 (K = 2048 inputs, N = 2048 outputs) writes its integer
  // pre-activation y = 2·popcount − K ∈ [−2048, 2048]: ⌈log2 2049⌉ + 1 = 13 bits, packed:
  // 4 samples · 2048 · 13 / 8 = 13,312 bytes, and batchnorm3 reads that tensor.
  const CliResult w = run_bpsim("workload " + spec + " --json --batch 4");
  REQUIRE(w.code == 0);
  const auto g = nlohmann::json::parse(w.out);
  uint64_t y = ~0ull;
  for (const auto& t : g["tensors"])
    if (t["name"] == "binary_linear2.out") {
      y = t["id"];
      CHECK(t["bits"] == 13);
      CHECK(t["bytes"] == 13312);
    }
  REQUIRE(y != ~0ull);
  const auto wops = by_name(g["ops"]);
  CHECK(wops.at("batchnorm3.fwd")["reads"][0] == y);

  const auto rep = run(s, "mlp", spec, 4);
  const auto ops = by_name(rep["ops"]);
  // batchnorm3.fwd on the host moves the 13,312-byte integer input, γ and β (2048 fp32 each,
  // 8192 B each), its fp32 output (4·2048·4 = 32,768 B) and its statistics (2048·2·4 =
  // 16,384 B): 78,848 bytes (an fp32 input would have been 32,768 instead of 13,312).
  CHECK(ops.at("batchnorm3.fwd")["extra"]["interface_bytes"] == 78848);

  // The latent-weight update of binary_linear2 runs in DRAM: 2048·2048 = 4,194,304 weights
  // over 65,536 lanes = 64 rows; per row a 16-bit subtract (9·16 + 1 = 145 AAP/AP: 129 AAP +
  // 16 AP) and one AAP copying the sign into the weight row: 130 AAP, 16 AP. ×64: 8320, 1024.
  for (const char* name : {"binary_linear2.weight.update", "binary_linear4.weight.update"}) {
    INFO(name);
    const auto& e = ops.at(name)["extra"];
    CHECK(e["host_work"] == false);
    CHECK(e["commands"]["aap"] == 8320);
    CHECK(e["commands"]["ap"] == 1024);
    CHECK(e["interface_bytes"] == 0);
  }
  // The weights' sign is what that update left in the weight row: the forward's wsign is free.
  CHECK(ops.at("binary_linear2.wsign")["cycles"] == 0);
  CHECK(ops.at("binary_linear2.wsign")["extra"]["interface_bytes"] == 0);

  // Every host op is timed as a roofline of the host (512 GFLOP/s, 2 FLOPs per MAC) against
  // its own traffic: cycles = max(transfer, ⌈(2·MACs + FLOPs) / (512 GFLOP/s · 0.833 ns)⌉).
  // E.g. fc1.weight.update (sgd, 2 FLOPs per weight): 784·2048·2 = 3,211,264 FLOPs / 426.496
  // FLOP per cycle = 7529.4 → 7530 cycles.
  CHECK(ops.at("fc1.weight.update")["extra"]["host_cycles"] == 7530);
  unsigned host_ops = 0;
  for (const auto& [name, o] : ops) {
    const auto& e = o["extra"];
    if (!e["host_work"].get<bool>()) continue;
    INFO(name);
    ++host_ops;
    const double work = 2.0 * wops.at(name)["macs"].get<double>() + wops.at(name)["flops"].get<double>();
    REQUIRE(work > 0);  // every host op does arithmetic, so every one is timed by the roofline
    const auto host = static_cast<uint64_t>(std::ceil(work / (512.0 * 0.833) - 1e-9));
    CHECK(e["host_cycles"] == host);
    CHECK(o["cycles"] == std::max(e["transfer_cycles"].get<uint64_t>(), host));
  }
  // Host: fc1 (fwd, dW), 3 BN fwd + 3 dW + 3 bwd, 2 sign, 2 STE, the loss, fc_out (fwd, dX,
  // dW, dB), and the updates of fc1, fc_out's weight and bias and the 6 BN parameters.
  CHECK(host_ops == 2 + 9 + 2 + 2 + 1 + 4 + 9);
}

TEST_CASE("pim whole step: binary CNN spec runs with its latent updates in DRAM", "[pim][cli]") {
  const Scratch s("pim_whole_cnn");
  const auto rep = run(s, "cnn", kSrc + "/configs/workloads/binary_cnn.yaml", 2);
  const auto ops = by_name(rep["ops"]);
  // bconv2's 128·128·3·3 = 147,456 latent weights: ⌈147456/65536⌉ = 3 rows of 130 AAP + 16 AP.
  CHECK(ops.at("bconv2.weight.update")["extra"]["host_work"] == false);
  CHECK(ops.at("bconv2.weight.update")["extra"]["commands"]["aap"] == 3 * 130);
  CHECK(ops.at("bconv2.weight.update")["extra"]["commands"]["ap"] == 3 * 16);
  for (const char* name : {"bconv3.weight.update", "bconv4.weight.update", "bfc5.weight.update"})
    CHECK(ops.at(name)["extra"]["host_work"] == false);
  // The real first layer's update stays on the host.
  CHECK(ops.at("conv1.weight.update")["extra"]["host_work"] == true);
}

TEST_CASE("pim whole step: with Adam the latent update runs on the host", "[pim][cli]") {
  const Scratch s("pim_whole_adam");
  std::string text = slurp(kSrc + "/configs/workloads/binary_mlp.yaml");
  const auto at = text.find("optimizer: sgd");
  REQUIRE(at != std::string::npos);
  text.replace(at, 14, "optimizer: adam");
  const auto rep = run(s, "adam", s.file("adam_spec.yaml", text), 2);
  const auto ops = by_name(rep["ops"]);
  // Adam keeps two fp32 moments per weight, which the bit-serial programs do not model: the
  // host runs it (and binarises the weights itself).
  CHECK(ops.at("binary_linear2.weight.update")["extra"]["host_work"] == true);
  CHECK(ops.at("binary_linear2.wsign")["extra"]["host_work"] == true);
}

TEST_CASE("pim whole step: a trace of the binary MLP keeps the integer width and runs alike", "[pim][cli]") {
  const Scratch s("pim_whole_trace");
  const std::string spec = kSrc + "/configs/workloads/binary_mlp.yaml";
  const CliResult e = run_bpsim("trace export " + spec + " --batch 2 -o " + (s / "t.jsonl"));
  INFO(e.err);
  REQUIRE(e.code == 0);
  std::string trace = slurp(s / "t.jsonl");
  // binary_linear2.out: 2 · 2048 outputs at ⌈log2 2049⌉ + 1 = 13 bits = 6656 bytes.
  CHECK_THAT(trace, Catch::Contains(R"("bits":13,"bytes":6656,"name":"binary_linear2.out")"));
  // The step from the trace is the step from the spec: same cycles and energy.
  const auto from_spec = run(s, "spec", spec, 2);
  const std::string cfg = "include: [" + kSrc + "/configs/arch/pim_ddr4.yaml, " + kSrc +
                          "/configs/memory/ddr4_2400.yaml, " + kSrc + "/configs/energy/45nm.yaml, " + kSrc +
                          "/configs/energy/45nm/pim.yaml]\nworkload: {trace: " + (s / "t.jsonl") +
                          "}\nrun: {seed: 1}\n";
  const CliResult r = run_bpsim("run " + s.file("tr.yaml", cfg) + " -q -o " + (s / "tr"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto from_trace = nlohmann::json::parse(slurp(s / "tr/report.json"));
  CHECK(from_trace["totals"]["cycles"] == from_spec["totals"]["cycles"]);
  CHECK(from_trace["totals"]["energy_pj"] == from_spec["totals"]["energy_pj"]);
  // A width past 64 bits is refused at its line, naming the field.
  trace.replace(trace.find(R"("bits":13)"), 9, R"("bits":65)");
  const std::string bad = s.file("bad.jsonl", trace);
  const CliResult b = run_bpsim("trace check " + bad);
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::Contains("bits") && Catch::Contains("1..64"));
}
