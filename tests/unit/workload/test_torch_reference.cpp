// bpsim's memory accounting against PyTorch itself, through the CLI. The measured figures are
// tests/unit/workload/torch_measured.jsonl, written from scripts/torch_memory.py's output on
// one NVIDIA H200 (torch 2.11.0+cu130; each line names torch, GPU, CUDA, cuDNN and date); the
// torch code of each case is its definition. tests/unit/workload/torch_cases.json maps a case
// to a bpsim spec, batch, policy and spec overrides, with its tolerances. The torch side is the
// caching allocator's requested_bytes (what the tensors asked for): memory_allocated counts
// allocator blocks instead (512-B multiples, and a cached block handed out whole when less than
// 1 MiB would remain), which moves with the allocator's history (e.g. ResNet-18: 694,326,272
// allocated, 690,653,696 requested = bpsim's figure). scripts/torch_compare.py prints the same
// comparison as a table.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include "sim/core/build_info.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "tests/cli/cli_harness.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using nlohmann::json;

namespace {

const std::string kDir = std::string(BPSIM_SOURCE_DIR) + "/tests/unit/workload/";

const std::map<std::string, json>& measured() { return test::torch_measured(); }

json table() { return json::parse(test::slurp(kDir + "torch_cases.json")); }

/// A row's name: its case, or "case/variant" for a second row of the same case (e.g. the same
/// measurement under `framework: pytorch_cuda`).
std::string row_name(const json& c) {
  return c["case"].get<std::string>() + (c.contains("variant") ? "/" + c["variant"].get<std::string>() : "");
}

/// A JSON value as a YAML node (JSON text is YAML flow text).
config::Node node_of(const json& v) { return config::parse_yaml(v.dump(), "torch_cases.json"); }

/// layers_replace / layers_set of a case on every layer of the named kinds, inside groups too.
void edit_layers(config::Node& layers, const json& c) {
  for (config::Node& l : layers.seq) {
    if (!l.is_map()) continue;
    if (config::Node* inner = l.find("layers")) edit_layers(*inner, c);
    const config::Node* kind_node = l.find("kind");
    if (!kind_node) continue;
    const std::string kind = kind_node->scalar;
    if (c.contains("layers_replace") && c["layers_replace"].contains(kind)) {
      config::Node repl = node_of(c["layers_replace"][kind]);
      if (const config::Node* name = l.find("name")) repl.set("name", *name);
      l = repl;
    }
    if (c.contains("layers_set") && c["layers_set"].contains(kind))
      for (const auto& [key, value] : c["layers_set"][kind].items()) l.set(key, node_of(value));
  }
}

/// The policy map as `bpsim workload` flags (sim/cli/policy_flags.cpp's names).
std::string policy_flags(const json& policy) {
  std::string out;
  for (const auto& [key, value] : policy.items()) {
    std::string flag = key == "kind" ? "policy" : key == "budget_bytes" ? "budget" : key;
    for (char& ch : flag)
      if (ch == '_') ch = '-';
    out += " --" + flag + " " + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out;
}

struct Outcome {
  bool ran = false;
  std::string why;  ///< why bpsim did not run the case
  uint64_t saved = 0, peak = 0;
};

/// Writes the case's spec with its overrides and runs `bpsim workload … --json` on it.
Outcome run_case(const json& c, const test::Scratch& dir) {
  Outcome o;
  config::Node spec;
  try {
    spec = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/" + c["spec"].get<std::string>());
  } catch (const InputError&) {
    o.why = "no spec " + c["spec"].get<std::string>();
    return o;
  }
  if (c.contains("set"))
    for (const auto& [key, value] : c["set"].items()) spec.set(key, node_of(value));
  if (config::Node* layers = spec.find("layers")) edit_layers(*layers, c);
  std::string base = row_name(c);
  std::replace(base.begin(), base.end(), '/', '_');
  const std::string file = dir.file(base + ".yaml", spec.to_yaml());
  std::string args = "workload " + file + " --json" + policy_flags(c["policy"]);
  if (c.contains("batch")) args += " --batch " + std::to_string(c["batch"].get<uint64_t>());
  const test::CliResult r = test::run_bpsim(args);
  if (r.code != 0) {
    o.why = r.err.substr(0, r.err.find('\n'));
    return o;
  }
  const json j = json::parse(r.out);
  o.ran = true;
  o.saved = j.at("saved_after_forward_bytes").get<uint64_t>();
  o.peak = j.at("peak_bytes").get<uint64_t>();
  return o;
}

double rel(uint64_t bpsim, uint64_t torch) { return (double(bpsim) - double(torch)) / double(torch); }

std::string fmt_pct(double r) { return fmt::format("{:+.2f}%", 100.0 * r); }

}  // namespace

TEST_CASE("torch reference: every measured case has a row in the case table and back", "[workload][torch]") {
  const auto m = measured();
  const json t = table();
  REQUIRE(m.size() >= 59);
  std::map<std::string, int> rows, names;
  for (const json& c : t) {
    ++rows[c["case"].get<std::string>()];
    ++names[row_name(c)];
  }
  for (const auto& [name, n] : names) {
    INFO(name);
    CHECK(n == 1);  // a row name is unique
  }
  for (const auto& [name, rec] : m) {
    INFO(name);
    CHECK(rows[name] >= 1);
    CHECK_FALSE(rec.contains("error"));
    // The allocator never hands out fewer bytes than the tensors asked for.
    CHECK(rec["saved_after_forward_bytes"].get<uint64_t>() >= rec["saved_requested_bytes"].get<uint64_t>());
    CHECK(rec["peak_bytes"].get<uint64_t>() >= rec["peak_requested_bytes"].get<uint64_t>());
  }
  for (const auto& [name, n] : rows) {
    INFO(name);
    CHECK(m.count(name) == 1);
  }
}

TEST_CASE("torch reference: saved and peak bytes agree with PyTorch on a GPU", "[workload][torch][cli]") {
  const auto m = measured();
  const test::Scratch dir("torch_reference");
  int checked = 0;
  std::string not_modelled;
  for (const json& c : table()) {
    const std::string name = row_name(c);
    const json& rec = m.at(c["case"].get<std::string>());
    const uint64_t saved = rec["saved_requested_bytes"].get<uint64_t>(),
                   peak = rec["peak_requested_bytes"].get<uint64_t>();
    const Outcome o = run_case(c, dir);
    INFO(name << ": torch saved " << saved << " peak " << peak << "; bpsim saved " << o.saved << " peak " << o.peak
              << (o.ran ? "" : "; not run: " + o.why));
    const bool saved_ok =
        o.ran && uint64_t(std::llabs(int64_t(o.saved) - int64_t(saved))) <= c.value("saved_tol_bytes", uint64_t(0));
    const bool has_peak_tol = !c["peak_tol"].is_null();
    const bool peak_ok = o.ran && (!has_peak_tol || std::abs(rel(o.peak, peak)) <= c["peak_tol"].get<double>());
    if (!c["modelled"].get<bool>()) {  // listed, not checked: the feature it needs has not landed
      not_modelled += "\n  " + name + ": " +
                      (o.ran ? fmt_pct(rel(o.saved, saved)) + " saved, " + fmt_pct(rel(o.peak, peak)) + " peak" +
                                   (saved_ok && peak_ok ? " (passes: set modelled true)" : "")
                             : "not run: " + o.why);
      continue;
    }
    ++checked;
    REQUIRE(o.ran);
    CHECK(saved_ok);
    if (has_peak_tol) CHECK(peak_ok);
    else WARN(name << ": known peak gap " << fmt_pct(rel(o.peak, peak)) << ": " << c.value("why", std::string()));
  }
  // The 15 cases of the 2026-11-28 measurements (MLP b4096, ResNet-18, GPT-2 small × 5 policies)
  // plus ResNet-50, the bf16 GELU MLP and 4 GPT-2 blocks are checked; every other case is listed
  // until the table marks it modelled.
  CHECK(checked >= 20);
  if (!not_modelled.empty()) WARN("torch cases not modelled yet:" << not_modelled);
}
