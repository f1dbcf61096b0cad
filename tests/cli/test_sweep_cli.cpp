// bpsim sweep end to end on the traffic model: rows per point, resume, failures recorded,
// and the same results under mpirun as locally.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <filesystem>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {

/// A small traffic config: few requests so each point takes milliseconds.
std::string base_config(const Scratch& s) {
  return s.file("base.yaml",
                preset_includes() + "accelerator: {kind: traffic, pattern: stream, requests: 200}\nrun: {seed: 1}\n");
}

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

/// How often `what` occurs in `text`.
size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

/// The rows of a results.jsonl.
std::vector<nlohmann::json> rows(const std::string& jsonl) {
  std::vector<nlohmann::json> out;
  std::istringstream in(slurp(jsonl));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

/// The points' hashes as `bpsim sweep --list` prints them (second word of each line).
std::vector<std::string> list_hashes(const std::string& sweep) {
  const CliResult r = run_bpsim("sweep " + sweep + " --list");
  std::vector<std::string> hashes;
  std::istringstream in(r.out);
  for (std::string index, hash, rest; in >> index >> hash && std::getline(in, rest);) hashes.push_back(hash);
  return hashes;
}

/// Writes the base config and a 4-point sweep over it (2 patterns × 2 seeds) into `s`, runs
/// it with 2 workers into s/out and requires it to succeed; returns the sweep file.
std::string run_four_points(const Scratch& s) {
  base_config(s);
  std::string sweep =
      s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, random]\n  run.seed: [1, 2]\n");
  CliResult r = run_bpsim("sweep " + sweep + " -j 2 --out " + (s / "out"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return sweep;
}

}  // namespace

TEST_CASE("sweep cli: every point becomes a row, a re-run skips finished points", "[sweep][cli]") {
  Scratch s("sweep_cli");
  const std::string sweep = run_four_points(s);
  std::string jsonl = slurp(s / "out/results.jsonl");
  CHECK(count_lines(jsonl) == 4);  // 2 patterns × 2 seeds
  std::string csv = slurp(s / "out/results.csv");
  CHECK(count_lines(csv) == 5);  // header + 4 rows
  CHECK_THAT(csv, Catch::StartsWith("index,hash,status,accelerator.pattern,run.seed,cycles,"));
  size_t i = 0;
  for (std::istringstream in(jsonl); std::getline(in, jsonl);) {
    auto row = nlohmann::json::parse(jsonl);
    CHECK(row["index"] == i++);  // finalize sorts rows by point
    CHECK(row["status"] == "ok");
    CHECK(row["totals"]["dram_read_bytes"].get<uint64_t>() + row["totals"]["dram_write_bytes"].get<uint64_t>() > 0);
  }
  const std::string before = slurp(s / "out/results.csv");
  CliResult again = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Catch::Contains("4 points, 4 already done"));
  CHECK(slurp(s / "out/results.csv") == before);
}

namespace {

/// `text` without AddressSanitizer's notice about a stack switch it cannot follow (SystemC's
/// coroutines seen from a forked child; google/sanitizers issue 189): three lines a sanitized
/// build prints, not the point's output. A sanitizer error is not removed (it also fails the run).
std::string without_asan_stack_notice(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  int skip = 0;
  while (std::getline(in, line)) {
    if (line.rfind("==", 0) == 0 &&
        line.find("WARNING: ASan is ignoring requested __asan_handle_no_return") != std::string::npos) {
      skip = 2;  // "False positive error reports may follow", "For details see …"
      continue;
    }
    if (skip > 0 && (line.rfind("False positive", 0) == 0 || line.rfind("For details see", 0) == 0)) {
      --skip;
      continue;
    }
    skip = 0;
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("sweep cli: a point run in a fork of the sweep process writes what a separate bpsim run writes",
          "[sweep][cli]") {
  // Points start as forks of the initialised sweep process (no exec per point); their files
  // must be byte for byte those of a fresh `bpsim run` of the same config and --set values.
  Scratch s("sweep_fork");
  const std::vector<std::string> hashes = list_hashes(run_four_points(s));
  REQUIRE(hashes.size() == 4);
  const char* const sets[] = {
      "--set accelerator.pattern=stream --set run.seed=1", "--set accelerator.pattern=stream --set run.seed=2",
      "--set accelerator.pattern=random --set run.seed=1", "--set accelerator.pattern=random --set run.seed=2"};
  for (size_t i = 0; i < 4; ++i) {
    const std::string alone = s / ("alone" + std::to_string(i));
    REQUIRE(run_bpsim("run " + (s / "base.yaml") + " " + sets[i] + " --quiet --out " + alone).code == 0);
    const std::string point = s / ("out/points/" + hashes[i]);
    INFO("point " << i << ": " << sets[i]);
    CHECK(slurp(point + "/report.json") == slurp(alone + "/report.json"));
    CHECK(slurp(point + "/ops.csv") == slurp(alone + "/ops.csv"));
    // The child's output is its own: the report line once, nothing the sweep had printed.
    CHECK(without_asan_stack_notice(slurp(point + ".log")) == "report: " + point + "/report.json\n");
  }
}

TEST_CASE("sweep cli: a point with bad input is reported, the others run, and the sweep exits 2", "[sweep][cli]") {
  Scratch s("sweep_fail");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, zigzag]\n");
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  INFO(r.err);
  CHECK(r.code == 2);  // the zigzag point's run exits 2 (bad input)
  std::string csv = slurp(s / "out/results.csv");
  CHECK(count_lines(csv) == 3);  // header + both points: the failure did not stop the sweep
  CHECK_THAT(csv, Catch::Contains(",ok,stream,"));
  CHECK_THAT(csv, Catch::Contains(",error,zigzag,"));
  CHECK_THAT(csv, Catch::Contains("accelerator.pattern: 'zigzag' is not valid"));
  // On the console: the point with its axes and its error, as it fails and again in the list at the end.
  const std::string failed = "point 1 failed (exit 2: bad input): accelerator.pattern=zigzag";
  CHECK(count(r.err, failed) == 2);
  CHECK(count(r.err, "accelerator.pattern: 'zigzag' is not valid") == 2);
  CHECK_THAT(r.err, Catch::Contains("sweep: 1 of 2 points failed:"));
  CHECK_THAT(r.err, Catch::Contains("2 points: 1 ok, 1 failed"));
}

TEST_CASE("sweep cli: a point that fails inside bpsim makes the sweep exit 1, and a retry that succeeds clears it",
          "[sweep][cli]") {
  Scratch s("sweep_internal");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes: {run.seed: [1, 2]}\n");
  // Point 1's run finds its disk full (the test hook of sim/core/output_files.h fails
  // every write of a path holding the point's hash with ENOSPC): exit 1, not bad input.
  const std::string hash = list_hashes(sweep).at(1);
  setenv("BPSIM_TEST_WRITE_ERROR", ("ENOSPC:" + hash).c_str(), 1);
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  unsetenv("BPSIM_TEST_WRITE_ERROR");
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(count(r.err, "point 1 failed (exit 1): run.seed=2") == 2);
  CHECK_THAT(r.err, Catch::Contains("No space left on device"));
  CHECK_THAT(r.err, Catch::Contains("2 points: 1 ok, 1 failed"));

  CliResult retry = run_bpsim("sweep " + sweep + " --retry-failed --out " + (s / "out"));
  INFO(retry.err);
  CHECK(retry.code == 0);
  CHECK_THAT(retry.err, Catch::Contains("2 points, 1 already done"));
  CHECK_THAT(retry.err, Catch::Contains("2 points: 2 ok, 0 failed"));  // the earlier failed row no longer counts
  CHECK_THAT(retry.err, !Catch::Contains("point 1 failed"));
  CHECK(count(slurp(s / "out/results.csv"), ",ok,") == 2);
}

TEST_CASE("sweep cli: --retry-failed counts each point once, with its latest result", "[sweep][cli]") {
  Scratch s("sweep_retry");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, zigzag, sideways]\n");
  REQUIRE(run_bpsim("sweep " + sweep + " --out " + (s / "out")).code == 2);
  // Each retry re-runs the 2 bad points, which fail again: still 2 failed, not 2 per run so far.
  for (int run = 0; run < 2; ++run) {
    CliResult r = run_bpsim("sweep " + sweep + " --retry-failed --out " + (s / "out"));
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("3 points, 1 already done"));
    CHECK_THAT(r.err, Catch::Contains("sweep: 2 of 3 points failed:"));
    CHECK_THAT(r.err, Catch::Contains("3 points: 1 ok, 2 failed"));
  }
  // A plain re-run runs nothing but still reports (and exits on) the failures it keeps.
  CliResult again = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(again.code == 2);
  CHECK_THAT(again.err, Catch::Contains("3 points, 3 already done"));
  CHECK_THAT(again.err, Catch::Contains("3 points: 1 ok, 2 failed"));
  CHECK(count_lines(slurp(s / "out/results.jsonl")) == 3);  // one row per point after finalize
}

TEST_CASE("sweep cli: on a terminal a failed point's error is printed above the progress bar", "[sweep][cli]") {
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    WARN("util-linux script(1) not found: no terminal to test the progress bar on");
    return;
  }
  Scratch s("sweep_tty");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [zigzag, stream]\n");
  // script(1) runs the sweep on a pseudo-terminal (stderr a tty: the bar is drawn); -e
  // passes the exit status on.
  const std::string cmd = "script -qec '" + std::string(BPSIM_EXE) + " sweep " + sweep + " --out " + (s / "out") +
                          "' /dev/null </dev/null >" + (s / "tty.log") + " 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string tty = slurp(s / "tty.log");
  INFO(tty);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(tty, Catch::Contains("] 2/2 ETA"));  // the bar was drawn
  // The error's lines end in a newline (the terminal turns \n into \r\n) before the bar
  // is drawn again, so the bar's next \r cannot overwrite them.
  CHECK(count(tty, "point 0 failed (exit 2: bad input): accelerator.pattern=zigzag\r\n") == 2);
  CHECK(count(tty, "accelerator.pattern: 'zigzag' is not valid") == 2);
}

TEST_CASE("sweep cli: --list checks every point as bpsim validate does and exits 2 on an invalid one", "[sweep][cli]") {
  Scratch s("sweep_list");
  base_config(s);
  std::string sweep = s.file("s.yaml",
                             "base: base.yaml\n"
                             "axes:\n"
                             "  accelerator.pattern: [stream, zigzag]\n"
                             "  memory.page_policy: [open, sideways]\n");
  CliResult r = run_bpsim("sweep " + sweep + " --list");
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  // 2 patterns × 2 page policies; only stream with open is valid.
  CHECK_THAT(r.out, Catch::Contains(" ok accelerator.pattern=stream memory.page_policy=open\n"));
  CHECK_THAT(r.out, Catch::Contains(" invalid accelerator.pattern=stream memory.page_policy=sideways\n"));
  CHECK_THAT(r.out, Catch::Contains(" invalid accelerator.pattern=zigzag memory.page_policy=open\n"));
  CHECK(count(r.out, "memory.page_policy: 'sideways' is not valid") == 1);  // zigzag fails first at its point
  CHECK(count(r.out, "accelerator.pattern: 'zigzag' is not valid") == 2);
  CHECK_THAT(r.err, Catch::Contains("sweep: 3 of 4 points are invalid"));

  std::string good = s.file("good.yaml", "base: base.yaml\naxes: {run.seed: [1, 2]}\n");
  CliResult ok = run_bpsim("sweep " + good + " --list");
  CHECK(ok.code == 0);
  CHECK(count(ok.out, " ok run.seed=") == 2);
}

TEST_CASE("sweep cli: the point count is the sweep_points limit, which --limit raises", "[sweep][cli]") {
  Scratch s("sweep_limit");
  base_config(s);
  // 3 seeds × 3 request counts = 9 points: over a limit of 8 at the second axis (line 4,
  // whose first value is at column 24), within a limit of 9.
  const std::string sweep = s.file("s.yaml",
                                   "base: base.yaml\naxes:\n  run.seed: [1, 2, 3]\n"
                                   "  accelerator.requests: [10, 20, 30]\n");
  CliResult over = run_bpsim("sweep " + sweep + " --list --limit sweep_points=8");
  CHECK(over.code == 2);
  CHECK_THAT(over.err, Catch::Contains("s.yaml:4:") && Catch::Contains("accelerator.requests") &&
                           Catch::Contains("more than 8 points") && Catch::Contains("--limit sweep_points=N"));
  CliResult within = run_bpsim("sweep " + sweep + " --list --limit sweep_points=9");
  INFO(within.err);
  CHECK(within.code == 0);
  CHECK(count(within.out, " ok run.seed=") == 9);
}

TEST_CASE("sweep cli: --list checks include-axis points too, in a zip group, with errors at the file's line",
          "[sweep][cli]") {
  Scratch s("sweep_list_include");
  base_config(s);
  s.file("open.yaml", "memory: {page_policy: open}\n");
  s.file("bad.yaml", "memory: {page_policy: sideways}\n");
  std::string sweep = s.file("s.yaml",
                             "base: base.yaml\n"
                             "axes:\n"
                             "  accelerator.pattern: [stream, zigzag]\n"
                             "zip:\n"
                             "  - include: [open.yaml, bad.yaml]\n"
                             "    run.seed: [1, 2]\n");
  CliResult r = run_bpsim("sweep " + sweep + " --list");
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  // 2 patterns × 2 zipped (include, seed) pairs; only stream with open.yaml is valid.
  CHECK_THAT(r.out, Catch::Contains(" ok accelerator.pattern=stream include=open.yaml run.seed=1\n"));
  CHECK_THAT(r.out, Catch::Contains(" invalid accelerator.pattern=stream include=bad.yaml run.seed=2\n"));
  CHECK_THAT(r.out, Catch::Contains(" invalid accelerator.pattern=zigzag include=open.yaml run.seed=1\n"));
  // "memory: {page_policy: " is 22 characters: the bad value starts in column 23 of bad.yaml.
  CHECK(count(r.out, "bad.yaml:1:23: memory.page_policy: 'sideways' is not valid") == 1);
  CHECK(count(r.out, "accelerator.pattern: 'zigzag' is not valid") == 2);
  CHECK_THAT(r.err, Catch::Contains("sweep: 3 of 4 points are invalid"));
}

TEST_CASE("sweep cli: an include axis merges a whole file over the base config, like the same values set",
          "[sweep][cli]") {
  Scratch s("sweep_include");
  base_config(s);
  std::filesystem::create_directories(s / "presets");
  s.file("presets/open.yaml", "memory: {page_policy: open}\n");
  s.file("presets/closed.yaml", "memory: {page_policy: closed}\n");
  std::string by_file =
      s.file("files.yaml", "base: base.yaml\naxes: {include: [presets/open.yaml, presets/closed.yaml]}\n");
  std::string by_set = s.file("sets.yaml", "base: base.yaml\naxes: {memory.page_policy: [open, closed]}\n");
  CliResult f = run_bpsim("sweep " + by_file + " --out " + (s / "files"));
  CliResult v = run_bpsim("sweep " + by_set + " --out " + (s / "sets"));
  INFO(f.err << v.err);
  REQUIRE(f.code == 0);
  REQUIRE(v.code == 0);
  const std::vector<nlohmann::json> files = rows(s / "files/results.jsonl"), sets = rows(s / "sets/results.jsonl");
  REQUIRE(files.size() == 2);
  REQUIRE(sets.size() == 2);
  CHECK(files[0]["axes"]["include"] == "presets/open.yaml");  // the path as the sweep file writes it
  for (size_t i = 0; i < 2; ++i) {
    // Merging {memory: {page_policy: X}} over the base resolves to the config --set gives:
    // the same hash, the same results.
    CHECK(files[i]["hash"] == sets[i]["hash"]);
    CHECK(files[i]["totals"] == sets[i]["totals"]);
  }
  CHECK(files[0]["totals"]["cycles"] != files[1]["totals"]["cycles"]);  // the file did change the run
}

TEST_CASE("sweep cli: a missing include-axis file is bad input at its line in the sweep file", "[sweep][cli]") {
  Scratch s("sweep_include_missing");
  base_config(s);
  s.file("open.yaml", "memory: {page_policy: open}\n");
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes:\n  include: [open.yaml, nope.yaml]\n");
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(r.code == 2);
  // "  include: [open.yaml, " is 23 characters: nope.yaml starts in column 24 of line 3.
  CHECK_THAT(r.err, Catch::Contains(sweep + ":3:24: axes.include: no such file: " + (s / "nope.yaml")));
  CHECK_FALSE(std::filesystem::exists(s / "out"));  // refused before any point ran
}

TEST_CASE("sweep cli: a partial last row (crash) is dropped and that point re-run", "[sweep][cli]") {
  Scratch s("sweep_crash");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes: {run.seed: [1, 2, 3]}\n");
  REQUIRE(run_bpsim("sweep " + sweep + " --out " + (s / "out")).code == 0);
  const std::string full = slurp(s / "out/results.jsonl");
  // Simulate kill -9 during the third append: keep two rows and half of the third.
  size_t second_end = full.find('\n', full.find('\n') + 1);
  s.file("out/results.jsonl", full.substr(0, second_end + 1) + full.substr(second_end + 1, 20));
  CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "out"));
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("3 points, 2 already done"));
  CHECK(slurp(s / "out/results.jsonl") == full);
}

namespace {
/// Open MPI's settings for these tests: root allowed (CI runs as root), shared memory only.
const char* const kMpiEnv = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader";

/// Runs `sweep` locally, then under mpirun with `ranks` ranks and `mpi_args`; checks that both
/// wrote the same results.csv, results.jsonl and report.html, and returns what mpirun's ranks printed.
std::string mpi_like_local(const Scratch& s, const std::string& sweep, int ranks, const std::string& mpi_args) {
  REQUIRE(run_bpsim("sweep " + sweep + " -j 2 --out " + (s / "local")).code == 0);
  CliResult r = run_bpsim("sweep " + sweep + " " + mpi_args + " --out " + (s / "mpi"),
                          std::string(kMpiEnv) + " mpirun --oversubscribe -np " + std::to_string(ranks));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(slurp(s / "mpi/results.csv") == slurp(s / "local/results.csv"));
  CHECK(slurp(s / "mpi/results.jsonl") == slurp(s / "local/results.jsonl"));
  // Rank 0 writes the page too (a distributed sweep wrote none before stop 15).
  REQUIRE(std::filesystem::exists(s / "mpi/report.html"));
  CHECK(slurp(s / "mpi/report.html") == slurp(s / "local/report.html"));
  return r.err;
}
}  // namespace

TEST_CASE("sweep cli: mpirun with 3 ranks gives the local results", "[sweep][cli][mpi]") {
  Scratch s("sweep_mpi");
  base_config(s);
  std::string sweep =
      s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, random]\n  run.seed: [1, 2]\n");
  CHECK_THAT(mpi_like_local(s, sweep, 3, ""), Catch::Contains("on 2 MPI workers"));
}

TEST_CASE("sweep cli: mpirun with 2 ranks and -j 3: the worker's points go out in batches, same results",
          "[sweep][cli][mpi]") {
  Scratch s("sweep_mpi_jobs");
  base_config(s);
  std::string sweep =
      s.file("s.yaml", "base: base.yaml\naxes:\n  accelerator.pattern: [stream, random]\n  run.seed: [1, 2, 3]\n");
  // One worker with 3 slots and 6 points: it asks for 3, then for one more as each run ends,
  // and its last request is answered with none.
  const std::string err = mpi_like_local(s, sweep, 2, "-j 3");
  CHECK_THAT(err, Catch::Contains("6 points: 6 ok, 0 failed"));
  CHECK_THAT(err, Catch::Contains("on 1 MPI worker, up to 3 points each at once"));
}

TEST_CASE("sweep cli: under an MPI launcher without the MPI module beside bpsim, exit 2 naming it", "[sweep][cli]") {
  Scratch s("sweep_no_mpi_module");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes: {run.seed: [1, 2]}\n");
  // The same executable under another name in a folder of its own: libbpsim_mpi.so is not
  // beside it. A hard link (no copy of the binary) where the file system allows one.
  const std::string exe = s / "bpsim";
  std::error_code ec;
  std::filesystem::create_hard_link(BPSIM_EXE, exe, ec);
  if (ec) std::filesystem::copy_file(BPSIM_EXE, exe);
  // The variable Open MPI's launcher sets in each rank: 2 ranks, so this process is one of them.
  const std::string cmd =
      "OMPI_COMM_WORLD_SIZE=2 " + exe + " sweep " + sweep + " --out " + (s / "out") + " > " + (s / "log") + " 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string log = slurp(s / "log");
  INFO(log);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(log, Catch::Contains("sweep under mpirun: cannot load the MPI module: no libbpsim_mpi.so "
                                  "in " +
                                  s.path.string()));
  CHECK_FALSE(std::filesystem::exists(s / "out"));  // refused before any point ran
}

// Named for mpirun: scripts/test_sanitized.sh runs MPI's tests without leak checks (Open MPI's
// plugins leak), and this one starts MPI (a singleton: one rank, no launcher).
TEST_CASE("sweep cli: --mpi without mpirun (one rank) loads the module, then refuses", "[sweep][cli][mpi]") {
  Scratch s("sweep_mpi_one_rank");
  base_config(s);
  std::string sweep = s.file("s.yaml", "base: base.yaml\naxes: {run.seed: [1, 2]}\n");
  // The module beside the real executable is found and MPI starts; one rank cannot both
  // hand out and run points.
  CliResult one = run_bpsim("sweep " + sweep + " --mpi --out " + (s / "out"), kMpiEnv);
  INFO(one.err);
  CHECK(one.code == 2);
  CHECK_THAT(one.err, Catch::Contains("MPI started 1 rank; a distributed sweep needs at least 2"));
  CHECK_FALSE(std::filesystem::exists(s / "out"));
}

TEST_CASE("sweep cli: commands other than an MPI sweep load no MPI library", "[sweep][cli]") {
  // The dynamic loader names every shared object it opens (LD_DEBUG=files); Open MPI's are
  // libmpi, libopen-pal and libopen-rte. Linking bpsim against them again makes this fail.
  CliResult r = run_bpsim("--version", "LD_DEBUG=files");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("libsystemc"));  // the loader's trace is there to read
  CHECK_THAT(r.err, !Catch::Contains("libmpi") && !Catch::Contains("libopen-pal"));
}
