// The spec's `loss:` from the user's side: `bpsim workload` (spec key, --loss), a config's
// workload.loss through `bpsim run` on every accelerator kind, and bad values refused.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// Batch 4: X[4×8] → linear 16 → ReLU → linear 4 (fp32). After the forward the ReLU's
/// output (4·16·4 = 256 B, read by its backward and by linear2's dW) is kept whatever the
/// loss; the logits are 4·4·4 = 64 B.
std::string small_spec(const Scratch& s, const std::string& loss_line) {
  return s.file("small.yaml", "name: small\nbatch: 4\n" + loss_line +
                                  "input: {shape: [8]}\nlayers:\n  - {kind: linear, out_features: 16}\n"
                                  "  - {kind: relu}\n  - {kind: linear, out_features: 4}\n");
}

nlohmann::json workload_json(const std::string& args) {
  const CliResult r = run_bpsim("workload " + args + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("loss cli: the spec's loss and --loss set what the step keeps", "[cli][loss]") {
  Scratch s("loss_wl");
  // cross_entropy: ReLU output 256 + log-softmax output 64 + the loss 4 + total_weight 4.
  const auto ce = workload_json(small_spec(s, "loss: cross_entropy\n"));
  CHECK(ce["saved_after_forward_bytes"] == 328);
  bool log_softmax_forward = false;
  for (const auto& o : ce["ops"])
    if (o["name"] == "loss.log_softmax") log_softmax_forward = o["phase"] == "forward";
  CHECK(log_softmax_forward);
  const std::string spec = small_spec(s, "loss: cross_entropy\n");
  // --loss overrides the spec: none keeps the logits (256 + 64); sum keeps a 4-byte scalar
  // (256 + 4); mse keeps the logits and the output-sized squared-error buffer (256 + 64 + 64).
  CHECK(workload_json(spec + " --loss none")["saved_after_forward_bytes"] == 320);
  CHECK(workload_json(spec + " --loss sum")["saved_after_forward_bytes"] == 260);
  CHECK(workload_json(spec + " --loss mse")["saved_after_forward_bytes"] == 384);
  // No loss key: none, the step as before the key existed.
  CHECK(workload_json(small_spec(s, ""))["saved_after_forward_bytes"] == 320);
}

TEST_CASE("loss cli: a bad loss is refused with exit 2 naming the key", "[cli][loss]") {
  Scratch s("loss_bad");
  CliResult r = run_bpsim("workload " + small_spec(s, "loss: softmax\n"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("small.yaml:3:7: loss: 'softmax' is not valid (expected one of: none, sum, mean, "
                             "float_sum, float_mean, cross_entropy, mse)"));
  r = run_bpsim("workload " + small_spec(s, "") + " --loss l2");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("workload.loss: 'l2' is not valid"));
  const std::string cfg = s.file("c.yaml", preset_includes("systolic_32x32_int8.yaml") +
                                               "workload: {spec: " + small_spec(s, "") + ", loss: [sum]}\n");
  r = run_bpsim("run " + cfg + " -q --out " + (s / "o"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Contains("workload.loss"));
}

TEST_CASE("loss cli: every accelerator runs the loss's ops", "[cli][loss][whole_step]") {
  Scratch s("loss_run");
  const std::string spec = small_spec(s, "");
  const struct {
    const char* arch;
    const char* accel;
  } kinds[] = {{"systolic_32x32_int8.yaml", "{dtype: workload}"},
               {"pim_ddr4.yaml", ""},
               {"mesh_8x8.yaml", "{cluster: {sram_kib: 4096}}"}};
  // Saved after the forward, as derived in the test above: the ReLU's output plus each
  // loss's own (mse: logits and the squared-error buffer; cross_entropy: log-softmax
  // output, loss, total_weight; mean: the scalar).
  const struct {
    const char* loss;
    uint64_t saved;
    std::vector<std::string> ops;
  } losses[] = {{"mean", 260, {"loss.fwd", "loss.bwd"}},
                {"cross_entropy", 328, {"loss.log_softmax", "loss.fwd", "loss.nll_bwd", "loss.bwd"}},
                {"mse", 384, {"loss.mse", "loss.fwd", "loss.bwd"}}};
  int n = 0;
  for (const auto& k : kinds)
    for (const auto& l : losses) {
      const std::string name = std::to_string(n++);
      const std::string cfg = s.file(
          name + ".yaml", preset_includes(k.arch) +
                              (std::string(k.accel).empty() ? "" : "accelerator: " + std::string(k.accel) + "\n") +
                              "workload: {spec: " + spec + ", loss: " + l.loss + "}\nrun: {seed: 1}\n");
      const CliResult r = run_bpsim("run " + cfg + " -q --out " + (s / name));
      INFO(k.arch << " " << l.loss << ": " << r.err);
      REQUIRE(r.code == 0);
      const auto rep = nlohmann::json::parse(slurp(s / name + "/report.json"));
      CHECK(rep["memory"]["saved_after_forward_bytes"] == l.saved);
      std::vector<std::string> ops;
      for (const auto& o : rep["ops"])
        if (o["name"].get<std::string>().rfind("loss", 0) == 0) {
          ops.push_back(o["name"]);
          CHECK(o["cycles"].get<uint64_t>() > 0);  // each one takes time on the accelerator
        }
      CHECK(ops == l.ops);
    }
}
