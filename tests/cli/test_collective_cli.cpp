// `bpsim collective` (docs/system.md "Collectives"): a collective's cost through the command
// line, as a user (or scripts/compare_astrasim.sh) asks for it, and its refusals.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {
nlohmann::json figures(const std::string& args) {
  const CliResult r = run_bpsim("collective " + args + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}
}  // namespace

TEST_CASE("collective cli: ring all-reduce on a ring is 2(p−1)·(α + n/(pβ))", "[cli][collective]") {
  // p = 8, n = 8 MB, β = 1 GB/s, α = 1 µs: each of the 2·7 = 14 steps sends 1 MB over one link
  // of its own: T = 14·(1 µs + 1 ms) = 14.014 ms. Each step moves 8·1 MB over one hop: link
  // bytes 14·8 MB = 112 MB; at 2 pJ/B, 224 µJ.
  const std::string args =
      "--topology ring --devices 8 --bytes 8e6 --bandwidth-gbps 1 --latency-ns 1000 --energy-pj-per-byte 2";
  const nlohmann::json j = figures(args);
  CHECK(j["seconds"].get<double>() == Approx(14 * (1e-6 + 1e-3)).epsilon(1e-12));
  CHECK(j["steps"] == 14);
  CHECK(j["link_bytes"] == 112000000);
  CHECK(j["energy_pj"].get<double>() == Approx(224e6).epsilon(1e-12));
  // The console says the same in human units.
  const CliResult r = run_bpsim("collective " + args);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("all_reduce of 8 MB by ring over 8 of 8 devices on a ring"));
  CHECK_THAT(r.out, Catch::Contains("time        14.01 ms"));
  CHECK_THAT(r.out, Catch::Contains("steps       14"));
  CHECK_THAT(r.out, Catch::Contains("link bytes  112 MB"));
  CHECK_THAT(r.out, Catch::Contains("energy      224 µJ"));
  // Same command, same bytes.
  CHECK(run_bpsim("collective " + args).out == r.out);
}

TEST_CASE("collective cli: a torus, a group order, the tree and the hierarchical algorithm", "[cli][collective]") {
  const std::string link = " --bandwidth-gbps 1 --latency-ns 1000";
  // Torus 2×2 in index order: 1→2 and 3→0 cross 2 links (x then y): 6·(2 µs + 1 ms) for 4 MB.
  CHECK(figures("--topology torus2d --devices 4 --dims 2,2 --bytes 4e6" + link)["seconds"].get<double>() ==
        Approx(6 * (2e-6 + 1e-3)).epsilon(1e-12));
  // The snake order 0,1,3,2 makes every message one hop: 6·(1 µs + 1 ms).
  CHECK(figures("--topology torus2d --devices 4 --dims 2,2 --group 0,1,3,2 --bytes 4e6" + link)["seconds"]
            .get<double>() == Approx(6 * (1e-6 + 1e-3)).epsilon(1e-12));
  // Binomial tree on a switch, p = 4, n = 1 MB: 2·⌈log2 4⌉ = 4 steps of 2α + n/β.
  const nlohmann::json t = figures("--topology switch --devices 4 --algorithm tree --bytes 1e6" + link);
  CHECK(t["seconds"].get<double>() == Approx(4 * (2e-6 + 1e-3)).epsilon(1e-12));
  CHECK(t["steps"] == 4);
  // Hierarchical on a 4×4 torus, inner groups = rows (4), n = 16 MB: 2·3 steps of α + 4 MB/β in
  // the rows, 2·3 of α + 1 MB/β across them: 6·(1 µs + 4 ms) + 6·(1 µs + 1 ms).
  CHECK(figures("--topology torus2d --devices 16 --dims 4,4 --algorithm hierarchical --inner-group 4 --bytes 16e6" +
                link)["seconds"]
            .get<double>() == Approx(6 * (1e-6 + 4e-3) + 6 * (1e-6 + 1e-3)).epsilon(1e-12));
  // Broadcast by a pipelined ring chain on a ring of 4, n = 4 MB: 6 steps of α + 1 MB/β.
  CHECK(figures("--devices 4 --op broadcast --bytes 4e6" + link)["seconds"].get<double>() ==
        Approx(6 * (1e-6 + 1e-3)).epsilon(1e-12));
}

TEST_CASE("collective cli: what it cannot price is refused with exit 2 and the reason", "[cli][collective]") {
  const std::string base = "collective --bandwidth-gbps 1 --bytes 1000 ";
  struct Case {
    std::string args, message;
  };
  const Case cases[] = {
      {"--devices 4 --topology hypercube", "--topology: 'hypercube' is not one of ring, switch, torus2d, mesh"},
      {"--devices 4 --topology torus2d", "--dims: required for torus2d (ROWS,COLS)"},
      {"--devices 6 --topology mesh --dims 2,2", "--dims: expected ROWS,COLS with ROWS · COLS = 6 devices, got 2,2"},
      {"--devices 4 --dims 2,2", "--dims: applies to torus2d and mesh, not to ring"},
      {"--devices 8 --algorithm hierarchical --inner-group 3",
       "collective: a hierarchical collective's inner group (3) must divide the group's 8 devices"},
      {"--devices 8 --algorithm hierarchical", "--inner-group: required by the hierarchical algorithm"},
      {"--devices 8 --inner-group 2", "--inner-group: applies to the hierarchical algorithm, not to ring"},
      {"--devices 4 --group 0,9", "collective: group device 9 is not on a fabric of 4 devices"},
      {"--devices 4 --group 0,1,1", "collective: device 1 is twice in the group"},
      {"--devices 4 --group 0,x", "--group: 'x' is not a whole number"},
      {"--devices 4 --op gather", "--op: 'gather' is not one of all_reduce, reduce_scatter, all_gather, broadcast"},
      {"--devices 4.5", "--devices: expected a whole number in [1, 1048576], got 4.5"},
      {"--devices 4 --latency-ns=-1", "--latency-ns: expected 0 or more, got -1"},
  };
  for (const Case& c : cases) {
    const CliResult r = run_bpsim(base + c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
  }
  CHECK_THAT(run_bpsim("collective --devices 4 --bytes 1").err, Catch::Contains("--bandwidth-gbps: required"));
  CHECK_THAT(run_bpsim("collective --devices 4 --bandwidth-gbps 1 --bytes 1.5").err,
             Catch::Contains("--bytes: expected a whole number"));
  // It is listed in the usage and has its own help.
  CHECK_THAT(run_bpsim("--help").out, Catch::Contains("collective --devices N"));
  const CliResult h = run_bpsim("collective --help");
  CHECK(h.code == 0);
  CHECK_THAT(h.out, Catch::Contains("usage: bpsim collective"));
}
