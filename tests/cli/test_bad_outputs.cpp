// Where bpsim writes: output folders and files that cannot be written, disk full, two runs
// into one folder, sweep points that are the same config, a damaged results.jsonl. Every
// case goes through the bpsim executable and checks the exit code, the OS's reason in the
// message, and that no temporary or half-written file is left.
//
// Disk full and read-only folders are reached two ways: through the test hook
// BPSIM_TEST_WRITE_ERROR=NAME[:TEXT] (sim/core/output_files.h: every file operation on a
// path containing TEXT fails with NAME, as the OS would), and, where this process may
// mount, on a real small tmpfs (skipped with a printed reason where it may not).
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
namespace fs = std::filesystem;

namespace {

const std::string kSrc = BPSIM_SOURCE_DIR;

/// A traffic run of a few hundred requests: milliseconds.
std::string traffic_config(const Scratch& s, int requests = 300) {
  return s.file("t.yaml", preset_includes() + "accelerator: {kind: traffic, pattern: random, requests: " +
                              std::to_string(requests) + "}\nrun: {seed: 7}\n");
}

/// Sets an environment variable for the bpsim processes this test starts, until scope exit.
struct Env {
  std::string name;
  Env(const std::string& n, const std::string& value) : name(n) {
    if (!value.empty()) setenv(n.c_str(), value.c_str(), 1);
  }
  ~Env() { unsetenv(name.c_str()); }
};

/// run_bpsim, but a process that hangs is killed after two minutes (exit 124), so a
/// deadlock fails the test instead of stalling the suite.
CliResult run_limited(const std::string& args) {
  return run_bpsim("--version >/dev/null; timeout 120 " + std::string(BPSIM_EXE) + " " + args);
}

/// Temporaries (".NAME.PID.N.tmp", and the old ".NAME.partial") anywhere under `dir`.
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool tmp = name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0;
    if (tmp || name.find(".partial") != std::string::npos) found.push_back(it->path().string());
  }
  return found;
}

/// Holds an flock on `dir`/.bpsim-lock (as a running bpsim does) with `holder` as its text.
std::shared_ptr<void> hold_lock(const fs::path& dir, const std::string& holder) {
  fs::create_directories(dir);
  std::ofstream(dir / ".bpsim-output") << "bpsim output folder\n";
  const int fd = ::open((dir / ".bpsim-lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  REQUIRE(::write(fd, holder.data(), holder.size()) == ssize_t(holder.size()));
  return std::shared_ptr<void>(nullptr, [fd](void*) { ::close(fd); });
}

/// One row of a table: what to run (set up in a fresh scratch folder), the test hook's
/// value, the exit code, texts stderr must hold, and checks of what is left afterwards.
struct Case {
  const char* name;
  std::function<std::string(const Scratch&, std::vector<std::shared_ptr<void>>&)> args;
  const char* inject;  // BPSIM_TEST_WRITE_ERROR, "" for none
  int code;
  std::vector<std::string> err;
  std::function<void(const Scratch&)> after = {};
};

void run_table(const std::vector<Case>& cases) {
  int n = 0;
  for (const Case& c : cases) {
    Scratch s("bad_out" + std::to_string(n++));
    std::vector<std::shared_ptr<void>> keep;
    const std::string args = c.args(s, keep);
    CliResult r;
    {
      Env env("BPSIM_TEST_WRITE_ERROR", c.inject);
      r = run_limited(args);
    }
    INFO(c.name << "\nbpsim " << args << "\nexit " << r.code << "\nstderr: " << r.err);
    CHECK(r.code == c.code);
    for (const std::string& e : c.err) CHECK_THAT(r.err, Catch::Contains(e));
    CHECK_THAT(r.err, !Catch::Contains("internal error"));  // a full disk is said as it is
    CHECK(temporaries(s.path).empty());
    keep.clear();  // locks held for the run are released before the checks
    if (c.after) c.after(s);
  }
}

bool exists(const Scratch& s, const std::string& rel) { return fs::exists(s.path / rel); }

/// The MLP's step exported as a trace and replayed, streamed, on the systolic array into s/out.
std::string streamed_replay(const Scratch& s, const std::string& options) {
  REQUIRE(run_bpsim("trace export " + kSrc + "/configs/workloads/mlp.yaml -o " + (s / "mlp.jsonl")).code == 0);
  return "run " + kSrc + "/configs/examples/mlp_train_systolic.yaml --quiet --trace " + (s / "mlp.jsonl") + options +
         " --out " + (s / "out");
}

/// A successful run into s/out first, to see that a failing one leaves it as it was.
std::string with_previous(const Scratch& s) {
  const std::string cfg = traffic_config(s);
  REQUIRE(run_bpsim("run " + cfg + " --quiet --out " + (s / "out")).code == 0);
  std::ofstream(s.path / "report.before") << slurp(s / "out/report.json");
  std::ofstream(s.path / "ops.before") << slurp(s / "out/ops.csv");
  return cfg;
}
void previous_kept(const Scratch& s) {
  CHECK(slurp(s / "out/report.json") == slurp(s / "report.before"));
  CHECK(slurp(s / "out/ops.csv") == slurp(s / "ops.before"));
  CHECK_FALSE(exists(s, "out/.bpsim-lock"));
}
void nothing_written(const Scratch& s) {
  CHECK_FALSE(exists(s, "out/report.json"));
  CHECK_FALSE(exists(s, "out/ops.csv"));
}

/// A row: `folder` (under the scratch folder) is held by another bpsim, named by a pid,
/// while `command` (given the folder) runs; it is refused at once, naming that pid, and
/// `result` (a file the command would write there) does not appear.
Case held_by_other(const char* name, const std::string& folder, const std::string& pid,
                   std::function<std::string(const Scratch&, const std::string&)> command, const std::string& result) {
  return {name,
          [=](const Scratch& s, std::vector<std::shared_ptr<void>>& keep) {
            keep.push_back(hold_lock(s.path / folder, "pid " + pid + ", started 2030-01-01 10:00:00: bpsim other\n"));
            return command(s, s / folder);
          },
          "",
          2,
          {"in use by another bpsim process (pid " + pid + ", started 2030-01-01 10:00:00: bpsim other"},
          [=](const Scratch& s) { CHECK_FALSE(exists(s, folder + "/" + result)); }};
}

const std::string kLong(300, 'n');  // one path component over the 255 a file name may have

}  // namespace

TEST_CASE("bad outputs: bpsim run --out that cannot be written", "[cli][outputs]") {
  using K = std::vector<std::shared_ptr<void>>;
  run_table({
      {"--out under a file",
       [](const Scratch& s, K&) {
         s.file("plain", "x");
         return "run " + traffic_config(s) + " --out " + (s / "plain/sub");
       },
       "",
       2,
       {"plain/sub", "Not a directory"}},
      {"--out is a file",
       [](const Scratch& s, K&) {
         s.file("plain", "x");
         return "run " + traffic_config(s) + " --out " + (s / "plain");
       },
       "",
       2,
       {"cannot use --out folder", "Not a directory"},
       [](const Scratch& s) { CHECK(slurp(s / "plain") == "x"); }},
      {"--out name over 255 characters",
       [](const Scratch& s, K&) { return "run " + traffic_config(s) + " --out " + (s / kLong); },
       "",
       2,
       {"File name too long"}},
      {"--out on a read-only file system (injected)",
       [](const Scratch& s, K&) { return "run " + traffic_config(s) + " --out " + (s / "ro"); },
       "EROFS:/ro",
       2,
       {"/ro", "Read-only file system"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "ro")); }},
      {"--out without permission (injected)",
       [](const Scratch& s, K&) { return "run " + traffic_config(s) + " --out " + (s / "locked_out"); },
       "EACCES:locked_out",
       2,
       {"Permission denied"}},
      {"disk full writing report.json: exit 1, the reason, no report, no ops.csv",
       [](const Scratch& s, K&) { return "run " + traffic_config(s) + " --quiet --out " + (s / "out"); },
       "ENOSPC:report.json",
       1,
       {"cannot write " + std::string("/"), "out/report.json: No space left on device"},
       nothing_written},
      {"disk full writing ops.csv: the previous run's pair stays",
       [](const Scratch& s, K&) {
         return "run " + with_previous(s) + " --quiet --set run.seed=9 --out " + (s / "out");
       },
       "ENOSPC:ops.csv",
       1,
       {"out/ops.csv: No space left on device"},
       previous_kept},
      {"disk full writing report.json: the previous run's pair stays",
       [](const Scratch& s, K&) {
         return "run " + with_previous(s) + " --quiet --set run.seed=9 --out " + (s / "out");
       },
       "ENOSPC:report.json",
       1,
       {"No space left on device"},
       previous_kept},
      {"a refused run (bad input) removes nothing",
       [](const Scratch& s, K&) {
         return "run " + with_previous(s) + " --set accelerator.requests=-1 --out " + (s / "out");
       },
       "",
       2,
       {"accelerator.requests"},
       previous_kept},
      {"a streamed replay whose op spill hits a full disk",
       [](const Scratch& s, K&) { return streamed_replay(s, " --set run.report_ops=all"); },
       "ENOSPC:report.json.ops",
       1,
       {"report.json.ops", "No space left on device"},
       nothing_written},
      {"a streamed replay whose ops.csv (its only op output, by default) hits a full disk",
       [](const Scratch& s, K&) { return streamed_replay(s, ""); },
       "ENOSPC:ops.csv",
       1,
       {"ops.csv", "No space left on device"},
       nothing_written},
      held_by_other(
          "another bpsim holds the folder: refused at once, naming it", "out", "4242",
          [](const Scratch& s, const std::string& dir) { return "run " + traffic_config(s) + " --quiet --out " + dir; },
          "report.json"),
      {"a lock left by a dead process is taken over",
       [](const Scratch& s, K&) {
         fs::create_directories(s.path / "out");
         s.file("out/.bpsim-output", "bpsim output folder\n");
         s.file("out/.bpsim-lock", "pid 999999, started 2001-01-01 00:00:00: bpsim run crashed.yaml\n");
         return "run " + traffic_config(s) + " --quiet --out " + (s / "out");
       },
       "",
       0,
       {},
       [](const Scratch& s) {
         CHECK(exists(s, "out/report.json"));
         CHECK_FALSE(exists(s, "out/.bpsim-lock"));  // released when the run ended
       }},
  });
}

TEST_CASE("bad outputs: --trace-vcd destinations are checked first, and a full disk ends the run",
          "[cli][outputs][vcd]") {
  using K = std::vector<std::shared_ptr<void>>;
  run_table({
      {"--trace-vcd into a missing folder: refused before the run writes anything",
       [](const Scratch& s, K&) {
         return "run " + traffic_config(s) + " --out " + (s / "out") + " --trace-vcd " + (s / "nope/w.vcd");
       },
       "",
       2,
       {"nope/w.vcd", "No such file or directory"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "out")); }},
      {"--trace-vcd names a folder",
       [](const Scratch& s, K&) {
         fs::create_directories(s.path / "w.vcd");
         return "run " + traffic_config(s) + " --out " + (s / "out") + " --trace-vcd " + (s / "w.vcd");
       },
       "",
       2,
       {"Is a directory"}},
      {"--trace-vcd over an existing file without --force",
       [](const Scratch& s, K&) {
         s.file("w.vcd", "mine");
         return "run " + traffic_config(s) + " --out " + (s / "out") + " --trace-vcd " + (s / "w.vcd");
       },
       "",
       2,
       {"exists (pass --force to replace it)"},
       [](const Scratch& s) { CHECK(slurp(s / "w.vcd") == "mine"); }},
      {"--trace-vcd in a read-only folder (injected)",
       [](const Scratch& s, K&) {
         return "run " + traffic_config(s) + " --out " + (s / "out") + " --trace-vcd " + (s / "w.vcd");
       },
       "EROFS:w.vcd",
       2,
       {"w.vcd: Read-only file system"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "w.vcd")); }},
      {"--trace-vcd onto a full disk: exit 1 with the reason, no hang, no file",
       [](const Scratch& s, K&) {
         return "run " + traffic_config(s) + " --quiet --out " + (s / "out") + " --trace-vcd " + (s / "w.vcd");
       },
       "ENOSPC:w.vcd",
       1,
       {"w.vcd: No space left on device"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "w.vcd")); }},
  });
}

TEST_CASE("bad outputs: trace -o that cannot be written", "[cli][outputs][trace]") {
  using K = std::vector<std::shared_ptr<void>>;
  const std::string mlp = kSrc + "/configs/workloads/mlp.yaml";
  run_table({
      {"trace export -o into a missing folder",
       [mlp](const Scratch& s, K&) { return "trace export " + mlp + " -o " + (s / "missing/t.jsonl"); },
       "",
       2,
       {"missing/t.jsonl", "No such file or directory"}},
      {"trace export -o a name over 255 characters",
       [mlp](const Scratch& s, K&) { return "trace export " + mlp + " -o " + (s / (kLong + ".jsonl")); },
       "",
       2,
       {"File name too long"}},
      {"trace export -o onto a full disk: no file left",
       [mlp](const Scratch& s, K&) { return "trace export " + mlp + " -o " + (s / "t.jsonl"); },
       "ENOSPC:t.jsonl",
       1,
       {"t.jsonl: No space left on device"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "t.jsonl")); }},
      {"trace export -o an existing file",
       [mlp](const Scratch& s, K&) { return "trace export " + mlp + " -o " + s.file("t.jsonl", "mine"); },
       "",
       2,
       {"file exists; refusing to overwrite it"},
       [](const Scratch& s) { CHECK(slurp(s / "t.jsonl") == "mine"); }},
      {"trace export -o a folder",
       [mlp](const Scratch& s, K&) { return "trace export " + mlp + " -o " + s.path.string(); },
       "",
       2,
       {"Is a directory"}},
      {"trace scalesim -o into a missing folder",
       [](const Scratch& s, K&) {
         return "trace scalesim " + s.file("topo.csv", "Layer name, M, N, K,\nfc1, 64, 32, 16,\n") + " -o " +
                (s / "missing/t.jsonl");
       },
       "",
       2,
       {"No such file or directory"}},
  });
}

namespace {
std::string sweep_file(const Scratch& s, const std::string& axes = "{run.seed: [1, 2]}") {
  s.file("base.yaml",
         preset_includes() + "accelerator: {kind: traffic, pattern: stream, requests: 200}\nrun: {seed: 1}\n");
  return s.file("s.yaml", "base: base.yaml\naxes: " + axes + "\n");
}
std::string compare_config(const Scratch& s) {
  return s.file("c.yaml", preset_includes("systolic_32x32_int8.yaml") + "workload: {spec: " + kSrc +
                              "/configs/workloads/mlp.yaml, batch: 4}\n");
}
}  // namespace

TEST_CASE("bad outputs: sweep and compare folders that cannot be written", "[cli][outputs][sweep]") {
  using K = std::vector<std::shared_ptr<void>>;
  run_table({
      {"sweep --out is a file",
       [](const Scratch& s, K&) { return "sweep " + sweep_file(s) + " --out " + s.file("plain", "x"); },
       "",
       2,
       {"plain", "Not a directory"}},
      {"sweep --out on a read-only file system (injected)",
       [](const Scratch& s, K&) { return "sweep " + sweep_file(s) + " --out " + (s / "ro_sweep"); },
       "EROFS:ro_sweep",
       2,
       {"Read-only file system"}},
      {"sweep results onto a full disk with 2 workers: exit 1 with the reason, no abort",
       [](const Scratch& s, K&) {
         return "sweep " + sweep_file(s, "{run.seed: [1, 2, 3, 4]}") + " -j 2 --out " + (s / "out");
       },
       "ENOSPC:results.jsonl",
       1,
       {"results.jsonl: No space left on device", "sweep: stopped"},
       [](const Scratch& s) { CHECK(slurp(s / "out/results.jsonl").empty()); }},
      held_by_other(
          "sweep folder held by another bpsim", "out", "4343",
          [](const Scratch& s, const std::string& dir) { return "sweep " + sweep_file(s) + " --out " + dir; },
          "results.jsonl"),
      {"sweep resumed on a damaged results.jsonl: the file and line, and how to recover",
       [](const Scratch& s, K&) {
         const std::string sweep = sweep_file(s);
         REQUIRE(run_bpsim("sweep " + sweep + " --out " + (s / "out")).code == 0);
         const std::string rows = slurp(s / "out/results.jsonl");
         s.file("out/results.jsonl",
                rows.substr(0, rows.find('\n') + 1) + "garbage\n" + rows.substr(rows.find('\n') + 1));
         return "sweep " + sweep + " --out " + (s / "out");
       },
       "",
       2,
       {"out/results.jsonl:2: not a result row", "Delete this line"}},
      {"compare --out is a file",
       [](const Scratch& s, K&) {
         return "compare " + compare_config(s) + " --policies none --no-plot --out " + s.file("plain", "x");
       },
       "",
       2,
       {"Not a directory"}},
      held_by_other(
          "compare folder held by another bpsim", "cmp", "4444",
          [](const Scratch& s, const std::string& dir) {
            return "compare " + compare_config(s) + " --policies none --no-plot --out " + dir;
          },
          "compare.csv"),
      {"compare results onto a full disk",
       [](const Scratch& s, K&) {
         return "compare " + compare_config(s) + " --policies none --no-plot --out " + (s / "cmp");
       },
       "ENOSPC:compare.csv",
       1,
       {"compare.csv: No space left on device"},
       [](const Scratch& s) { CHECK_FALSE(exists(s, "cmp/compare.csv")); }},
  });
}

TEST_CASE("bad outputs: two runs into one folder at once: one runs, the other is refused naming the lock",
          "[cli][outputs][lock]") {
  Scratch s("bad_out_race");
  // Long enough (about a second) that the two runs overlap whatever the machine's load.
  const std::string cfg = traffic_config(s, 400000);
  const std::string run = std::string(BPSIM_EXE) + " run " + cfg + " --quiet --out " + (s / "out");
  const std::string both = "(" + run + " --set run.seed=1 >" + (s / "a.out") + " 2>" + (s / "a.err") + "; echo $? >" +
                           (s / "a.rc") + ") & (" + run + " --set run.seed=2 >" + (s / "b.out") + " 2>" +
                           (s / "b.err") + "; echo $? >" + (s / "b.rc") + ") & wait";
  REQUIRE(std::system(both.c_str()) == 0);
  const int a = std::stoi(slurp(s / "a.rc")), b = std::stoi(slurp(s / "b.rc"));
  INFO("a: " << a << " " << slurp(s / "a.err") << "\nb: " << b << " " << slurp(s / "b.err"));
  REQUIRE(((a == 0 && b == 2) || (a == 2 && b == 0)));
  const std::string loser_err = slurp(s / (a == 2 ? "a.err" : "b.err"));
  CHECK_THAT(loser_err, Catch::Contains("in use by another bpsim process (pid "));
  CHECK_THAT(loser_err, Catch::Contains("/.bpsim-lock"));
  // The pair in the folder is the winner's: the same bytes as that seed run alone.
  const int seed = a == 0 ? 1 : 2;
  REQUIRE(
      run_bpsim("run " + cfg + " --quiet --set run.seed=" + std::to_string(seed) + " --out " + (s / "alone")).code ==
      0);
  CHECK(slurp(s / "out/report.json") == slurp(s / "alone/report.json"));
  CHECK(slurp(s / "out/ops.csv") == slurp(s / "alone/ops.csv"));
  CHECK(temporaries(s.path).empty());
  CHECK_FALSE(fs::exists(s.path / "out/.bpsim-lock"));
}

TEST_CASE("bad outputs: identical sweep points run once, one row each, the duplicates named", "[cli][outputs][sweep]") {
  Scratch s("bad_out_dups");
  // Points 0, 1 and 3 are one config (run.seed 1; the base's seed is 1 too), 2 another:
  // two distinct points, two duplicates folded.
  const std::string sweep = sweep_file(s, "{run.seed: [1, 1, 2, 1]}");
  CliResult list = run_bpsim("sweep " + sweep + " --list");
  CHECK(list.code == 0);
  CHECK_THAT(list.out, Catch::Contains("duplicate of point 0, runs once as it: run.seed=1"));
  CHECK_THAT(list.err, Catch::Contains("2 points (2 duplicate points with the same config as another folded"));
  CliResult r = run_limited("sweep " + sweep + " -j 4 --out " + (s / "out"));
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("2 points: 2 ok, 0 failed (2 duplicate points"));
  std::istringstream rows(slurp(s / "out/results.jsonl"));
  std::vector<nlohmann::json> got;
  for (std::string line; std::getline(rows, line);) got.push_back(nlohmann::json::parse(line));
  REQUIRE(got.size() == 2);
  CHECK(got[0]["status"] == "ok");
  CHECK(got[1]["status"] == "ok");
  CHECK(got[0]["hash"] != got[1]["hash"]);
}

namespace {
/// A tmpfs of `kib` KiB at `dir`, unmounted at scope exit; `ok` false (with the reason)
/// where this process may not mount.
struct Tmpfs {
  fs::path dir;
  bool ok = false;
  std::string why;
  Tmpfs(const fs::path& d, int kib) : dir(d) {
    fs::create_directories(dir);
    const std::string opts = "size=" + std::to_string(kib) + "k";
    ok = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!ok) why = std::strerror(errno);
  }
  bool remount_read_only() { return ::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0; }
  ~Tmpfs() {
    if (ok) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

/// Fills the file system at `dir` to the last byte.
void fill(const fs::path& dir) {
  const int fd = ::open((dir / "filler").c_str(), O_WRONLY | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  const std::string block(4096, 'f');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  const char one = 'f';
  while (::write(fd, &one, 1) > 0) {
  }
  ::close(fd);
}
}  // namespace

TEST_CASE("bad outputs: a real full disk and a real read-only mount (tmpfs)", "[cli][outputs][tmpfs]") {
  Scratch s("bad_out_tmpfs");
  const std::string cfg = traffic_config(s);
  Tmpfs t(s.path / "mnt", 256);
  if (!t.ok) {
    WARN("skipped: cannot mount a tmpfs here (" << t.why << "); the injected cases cover these paths");
    return;
  }
  // An out folder made while there was room, then the disk filled up.
  REQUIRE(run_bpsim("run " + cfg + " --quiet --out " + (s / "mnt/out")).code == 0);
  const std::string before = slurp(s / "mnt/out/report.json");
  fill(t.dir);
  CliResult full = run_limited("run " + cfg + " --quiet --set run.seed=8 --out " + (s / "mnt/out"));
  CHECK(full.code == 1);
  CHECK_THAT(full.err, Catch::Contains("No space left on device"));
  CHECK(slurp(s / "mnt/out/report.json") == before);
  CliResult vcd = run_limited("run " + cfg + " --quiet --out " + (s / "out") + " --trace-vcd " + (s / "mnt/w.vcd"));
  CHECK(vcd.code == 1);
  CHECK_THAT(vcd.err, Catch::Contains("w.vcd: No space left on device"));
  CHECK_FALSE(fs::exists(s.path / "mnt/w.vcd"));
  CHECK(temporaries(t.dir).empty());

  if (!t.remount_read_only()) {
    WARN("read-only part skipped: cannot remount the tmpfs read-only (" << std::strerror(errno) << ")");
    return;
  }
  CliResult ro = run_limited("run " + cfg + " --quiet --out " + (s / "mnt/out2"));
  CHECK(ro.code == 2);
  CHECK_THAT(ro.err, Catch::Contains("Read-only file system"));
  CliResult ro_trace = run_limited("trace export " + kSrc + "/configs/workloads/mlp.yaml -o " + (s / "mnt/t.jsonl"));
  CHECK(ro_trace.code == 2);
  CHECK_THAT(ro_trace.err, Catch::Contains("t.jsonl: Read-only file system"));
}
