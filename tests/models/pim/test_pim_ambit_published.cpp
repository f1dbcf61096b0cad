// Ambit's bulk bitwise operations on a DDR3-1600 system like Ambit's (one rank, eight
// banks, 8 KiB rows: configs/examples/pim_ambit_ddr3.yaml; Seshadri et al., MICRO 2017)
// through the executable, against the throughput derived for that system: bits per row ×
// banks / latency of the op's row sequence. scripts/compare_ambit.sh prints the same table;
// docs/pim.md, "Validation against published figures", says which figures could be read.
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/models/pim/pim_cli_util.h"

using namespace bpsim::test;

namespace {
const std::string kConfig = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/pim_ambit_ddr3.yaml";
constexpr double kTckNs = 1.25;                     // DDR3-1600 (configs/memory/ddr3_1600.yaml)
constexpr double kBits = 1u << 20;                  // output bits of every op of the trace
constexpr double kRowBitsTimesBanks = 65536.0 * 8;  // 8 KiB row × 8 banks

// Row sequences (Ambit Fig. 8; XNOR as XOR with C0/C1 swapped, test_pim_ambit_sequences.cpp):
// {AAP, AP}.
const std::map<std::string, std::pair<int, int>> kSeq = {{"and", {4, 0}}, {"or", {4, 0}},  {"nand", {5, 0}},
                                                         {"nor", {5, 0}}, {"xor", {5, 2}}, {"xnor", {5, 2}},
                                                         {"not", {2, 0}}};

double gops(const nlohmann::json& rep, const std::string& op) {
  return kBits / (op_named(rep, op)["cycles"].get<double>() * kTckNs);
}
}  // namespace

TEST_CASE("pim ambit ddr3: cycles per op derived by hand, with and without tFAW", "[pim][cli][ambit]") {
  const Scratch s("pim_ambit_ddr3");
  const auto shipped = run_report(s, kConfig, "tfaw", "");
  const auto free = run_report(s, kConfig, "free", "--set accelerator.obey_tfaw=false");
  // Preset: tRAS 28, tRP 11, tCK 1.25 ns, tFAW 24, tRRD 5. AAP = tRAS + ⌈4 ns / tCK⌉ + tRP
  // = 28 + 4 + 11 = 43 tCK; AP = tRAS + tRP = 39 tCK. 2^20 bits = 16 rows of 65,536 lanes
  // over 8 banks (units_per_rank = min(8, 16)): 2 rounds of one row per bank.
  // Without tFAW a round is the sequence: AND 4·43 = 172, NAND 5·43 = 215,
  // XOR 5·43 + 2·39 = 293, NOT 2·43 = 86.
  // With tFAW every raised wordline counts (docs/pim.md): per bank and row, AND/OR 8 ACTs +
  // 2 extra rows (the TRA) = 10 wordlines; NAND/NOR 10 ACTs + 2 = 12; XOR/XNOR 12 ACTs + 9
  // (TRA of the last AAP 2, two TRA APs 4, three two-row B-group copies 3) = 21; NOT 4.
  // Eight banks: ⌈8·w / 4⌉ · 24 tCK per round, above the sequence and above tRRD
  // (8 · ACTs · 5): AND 20·24 = 480, NAND 24·24 = 576, XOR 42·24 = 1008, NOT 8·24 = 192.
  // {op, round without tFAW, round with it}; two rounds each.
  const std::map<std::string, std::pair<int, int>> rounds = {
      {"and", {172, 480}},  {"or", {172, 480}},    {"nand", {215, 576}}, {"nor", {215, 576}},
      {"xor", {293, 1008}}, {"xnor", {293, 1008}}, {"not", {86, 192}}};
  for (const auto& [op, r] : rounds) {
    INFO(op);
    CHECK(op_named(free, op)["cycles"] == 2 * r.first);
    CHECK(op_named(shipped, op)["cycles"] == 2 * r.second);
  }
  CHECK(op_named(shipped, "and")["extra"]["lanes_used"] == 65536);
}

TEST_CASE("pim ambit ddr3: throughput against the bank-parallel derivation on the same timings", "[pim][cli][ambit]") {
  const Scratch s("pim_ambit_derivation");
  const auto shipped = run_report(s, kConfig, "tfaw", "");
  const auto free = run_report(s, kConfig, "free", "--set accelerator.obey_tfaw=false");
  // The derivation in ns from the JEDEC timings, every bank at full rate (no four-activate
  // window): AAP = tRAS + 4 ns + tRP = 35 + 4 + 13.75 = 52.75 ns, AP = 48.75 ns; AND:
  // 8 · 65536 / (4 · 52.75) = 2484.8 GOps/s. bpsim rounds the 4-ns second ACT up to 4 tCK =
  // 5 ns, 1 ns more per AAP: AND 8 · 65536 / (4 · 53.75) = 2438.5 (ratio 52.75/53.75 = 0.981),
  // XOR (5·52.75 + 2·48.75) / (5·53.75 + 2·48.75) = 361.25/366.25 = 0.986. The ratio therefore
  // lies in [1 − 1/52.75, 1): one extra ns per AAP is the whole difference.
  for (const auto& [op, seq] : kSeq) {
    INFO(op);
    const double derived = kRowBitsTimesBanks / (seq.first * 52.75 + seq.second * 48.75);
    const double ratio = gops(free, op) / derived;
    CHECK(ratio < 1.0);
    CHECK(ratio >= 1.0 - 1.0 / 52.75);
    const double exact = (seq.first * 52.75 + seq.second * 48.75) / (seq.first * 53.75 + seq.second * 48.75);
    CHECK(ratio == Approx(exact).epsilon(1e-9));
  }
  CHECK(gops(free, "and") == Approx(2438.5).epsilon(1e-4));
  // As shipped, tFAW per wordline bounds eight banks: AND 2^20 / (960 · 1.25 ns) = 873.8
  // GOps/s, 0.3517 of the derivation (2484.8); XOR 2^20 / (2016 · 1.25) = 416.1, 0.287.
  CHECK(gops(shipped, "and") == Approx(873.8).epsilon(1e-4));
  CHECK(gops(shipped, "and") / (kRowBitsTimesBanks / (4 * 52.75)) == Approx(0.3517).epsilon(1e-3));
  CHECK(gops(shipped, "xor") == Approx(416.1).epsilon(1e-4));
}
