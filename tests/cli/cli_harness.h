#pragma once
// Runs the bpsim executable as a user would and captures exit code, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>
#include "sim/core/build_info.h"
#include "sim/core/sanitizer.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bpsim::test {

struct CliResult {
  int code = -1;
  std::string out, err;
};

/// A scratch folder under the system temp dir, removed at scope exit.
struct Scratch {
  std::filesystem::path path;
  explicit Scratch(const std::string& tag) {
    path = std::filesystem::temp_directory_path() / ("bpsim_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~Scratch() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline std::string slurp(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// `args` is appended to the executable's path as shell words (quote them yourself);
/// `prefix`, shell words before it (e.g. "ulimit -v N; timeout 20").
inline CliResult run_bpsim(const std::string& args, const std::string& prefix = "") {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid());
  const std::string out = (dir / ("bpsim_out_" + tag)).string(), err = (dir / ("bpsim_err_" + tag)).string();
  const std::string cmd = prefix + " " + std::string(BPSIM_EXE) + " " + args + " >" + out + " 2>" + err;
  int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

/// Wall-time bounds in these tests guard against hangs; they are not speed targets (those
/// are benchmarks). A sanitized build checks every access and runs several times slower, so
/// its bounds are scaled by this factor.
#ifdef BPSIM_ASAN
inline constexpr int kHangBoundScale = 5;
#else
inline constexpr int kHangBoundScale = 1;
#endif

/// Shell words that bound a run to `seconds` (× kHangBoundScale) of wall time and `mib` of
/// memory: a run past either exits 124 (timeout) or fails, instead of hanging the test or the
/// machine. Under AddressSanitizer (scripts/test_sanitized.sh), whose shadow memory reserves
/// terabytes of address space, the memory bound is ASan's resident-set limit instead of
/// `ulimit -v`.
inline std::string resource_bounds(int seconds = 20, int mib = 2048) {
  const std::string timeout = "timeout " + std::to_string(seconds * kHangBoundScale);
#ifdef BPSIM_ASAN
  return "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:hard_rss_limit_mb=" + std::to_string(mib) + "\" " + timeout;
#else
  return "ulimit -v " + std::to_string(mib * 1024) + "; " + timeout;
#endif
}

/// run_bpsim within resource_bounds(seconds, mib).
inline CliResult run_bpsim_bounded(const std::string& args, int seconds = 20, int mib = 2048) {
  return run_bpsim(args, resource_bounds(seconds, mib));
}

/// `text` as one single-quoted shell word (any characters, quotes included).
inline std::string shell_quote(const std::string& text) {
  std::string s = "'";
  for (char c : text) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return s + "'";
}

/// `include:` line that pulls in the shipped memory preset and energy table, after the
/// shipped `configs/arch/` preset `arch` when one is named.
inline std::string preset_includes(const std::string& arch = "") {
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/";
  return "include: [" + (arch.empty() ? "" : dir + "arch/" + arch + ", ") + dir + "memory/ddr4_2400.yaml, " + dir +
         "energy/45nm.yaml]\n";
}

}  // namespace bpsim::test
