// Bad configs, specs, presets and overrides through the real executable (issue #16): each
// case is a small config in its own folder, run with `bpsim validate` and `bpsim run` (and
// `bpsim workload` for specs) under 20 s and 2 GiB; both must give the same exit code, and
// the message must name the file, the line or key path, and what was expected.
#include <fmt/format.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
namespace fs = std::filesystem;

namespace {

struct Case {
  Case() = default;
  Case(std::string n, std::map<std::string, std::string> f, int c, std::vector<std::string> s,
       std::vector<std::string> nv = {}, std::string a = "", bool sp = false,
       std::function<void(const fs::path&)> su = nullptr)
      : name(std::move(n)),
        files(std::move(f)),
        code(c),
        says(std::move(s)),
        never(std::move(nv)),
        args(std::move(a)),
        spec(sp),
        setup(std::move(su)) {}
  std::string name;
  std::map<std::string, std::string> files;  ///< written into the case's folder; "{dir}" = that folder
  int code = 2;
  std::vector<std::string> says;               ///< the output must contain each ("{dir}" replaced)
  std::vector<std::string> never;              ///< and none of these
  std::string args;                            ///< extra arguments of every command ("{dir}" replaced)
  bool spec = false;                           ///< also `bpsim workload {dir}/net.yaml`
  std::function<void(const fs::path&)> setup;  ///< files that text cannot make (FIFOs, links)
  std::string run_args;                        ///< `bpsim run` only, in place of `args` when set
  std::vector<std::string> report_never;       ///< a legal run's report.json must contain none of these
  int mib = 2048;                              ///< the memory bound of each command (cli_harness.h)
};

std::string expand(std::string text, const std::string& dir) {
  for (size_t at; (at = text.find("{dir}")) != std::string::npos;) text.replace(at, 5, dir);
  return text;
}

void expect(const Case& c, const std::string& command, const CliResult& r, const std::string& dir, double seconds) {
  INFO(c.name << ": bpsim " << command << " (exit " << r.code << ", " << seconds << " s)\nstdout: " << r.out
              << "\nstderr: " << r.err);
  CHECK(r.code == c.code);
  CHECK(seconds < 20 * kHangBoundScale);  // a hang guard (cli_harness.h), not a speed target
  // A legal input: validate says ok, run writes its report.
  if (c.code == 0)
    CHECK_THAT(r.out, Catch::Contains(command == "run" ? "report: " : command == "validate" ? ": ok (" : "ops"));
  const std::string all = r.out + r.err;
  for (const auto& s : c.says) CHECK_THAT(all, Catch::Contains(expand(s, dir)));
  for (const auto& s : c.never) CHECK_THAT(all, !Catch::Contains(expand(s, dir)));
}

CliResult timed(const std::string& args, double& seconds, int mib = 2048) {
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = run_bpsim_bounded(args, 20, mib);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

/// Runs every case of one table: validate and run must agree on each.
void run_table(const std::string& tag, const std::vector<Case>& cases) {
  Scratch s("bad_" + tag);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const fs::path dir = s.path / std::to_string(i);
    fs::create_directories(dir);
    for (const auto& [name, text] : c.files) std::ofstream(dir / name) << expand(text, dir.string());
    if (c.setup) c.setup(dir);
    const std::string config = shell_quote((dir / "config.yaml").string()), args = expand(c.args, dir.string());
    const std::string run_args = c.run_args.empty() ? args : expand(c.run_args, dir.string());
    double t = 0;
    const CliResult v = timed(fmt::format("validate {} {}", config, args), t, c.mib);
    expect(c, "validate", v, dir.string(), t);
    const CliResult r = timed(
        fmt::format("run {} --quiet --out {} {}", config, shell_quote((dir / "out").string()), run_args), t, c.mib);
    expect(c, "run", r, dir.string(), t);
    for (const auto& bad : c.report_never)
      CHECK_THAT(slurp((dir / "out" / "report.json").string()), !Catch::Contains(bad));
    if (c.spec) {
      const CliResult w = timed("workload " + shell_quote((dir / "net.yaml").string()), t, c.mib);
      expect(c, "workload", w, dir.string(), t);
    }
  }
}

/// A config of the traffic model (fast to run) on the shipped DDR4 preset, plus `extra`.
std::string traffic(const std::string& extra = "") {
  return preset_includes() + "accelerator: {kind: traffic, requests: 100}\n" + extra;
}

/// The traffic config whose include line (line 1) also names `more`, after the presets.
std::string traffic_including(const std::string& more) {
  std::string inc = preset_includes();  // "include: [a, b]\n"
  inc.insert(inc.size() - 2, ", " + more);
  return inc + "accelerator: {kind: traffic, requests: 100}\n";
}

/// The traffic config with `keys` added to its accelerator (line 2, from column 45).
std::string traffic_with(const std::string& keys) {
  return preset_includes() + "accelerator: {kind: traffic, requests: 100, " + keys + "}\n";
}

/// The traffic config with one memory key changed: `memory: {key: value}` on line 3.
std::string memory_with(const std::string& key_value) { return traffic("memory: {" + key_value + "}\n"); }

/// A shipped accelerator preset's config with `accelerator:` keys changed (line 3) and a
/// small workload (the spec of net.yaml) when it needs one.
std::string arch_with(const std::string& arch, const std::string& keys) {
  return preset_includes(arch) + "accelerator: {" + keys + "}\nworkload: {spec: net.yaml}\n";
}

/// A small network: 8 inputs, linear 4, ReLU (batch 2).
const std::string kNet =
    "name: tiny\nbatch: 2\ninput: {shape: [8]}\nlayers:\n  - {kind: linear, out_features: 4}\n  - {kind: relu}\n";

/// A spec whose `layers:` list is `layers` (line 4 onwards), run on the systolic preset.
Case spec_case(const std::string& name, const std::string& layers, int code, std::vector<std::string> says) {
  Case c;
  c.name = name;
  c.files = {{"config.yaml", arch_with("systolic_32x32_int8.yaml", "dtype: workload")},  // PEs for the spec's fp32
             {"net.yaml", "name: t\nbatch: 2\ninput: {shape: [8]}\nlayers:\n" + layers}};
  c.code = code;
  c.says = std::move(says);
  c.spec = true;
  return c;
}

/// YAML that names 10^levels values through aliases in a few lines (a "billion laughs").
std::string alias_bomb(int levels, const std::string& sep) {
  std::string s = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]" + sep;
  for (int l = 1; l <= levels; ++l) {
    const std::string prev = "*a" + std::to_string(l - 1);
    s += "a" + std::to_string(l) + ": &a" + std::to_string(l) + " [";
    for (int k = 0; k < 10; ++k) s += (k ? ", " : "") + prev;
    s += "]" + (l < levels ? sep : "");
  }
  return s;
}

std::string nested(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

}  // namespace

TEST_CASE("bad inputs: YAML documents (aliases, nesting, size, wide maps)", "[cli][bad_inputs]") {
  std::string wide = "run: {";
  for (int k = 0; k < 300000; ++k) wide += (k ? ", k" : "k") + std::to_string(k) + ": 0";
  wide += "}\n";
  std::vector<Case> t = {
      // 10^9 values from ten lines: stopped at the 10^6-value limit while converting.
      {"alias bomb in a file",
       {{"config.yaml", traffic("bomb: {" + alias_bomb(9, ", ") + "}\n")}},
       2,
       {"{dir}/config.yaml:3:", "more than 1000000 values (YAML aliases counted once per use)"}},
      {"alias bomb in --set",
       {{"config.yaml", traffic()}},
       2,
       {"--set run.name=", "more than 1000000 values"},
       {},
       "--set 'run.name={" + alias_bomb(9, ", ") + "}'"},
      {"65 levels of nesting",
       {{"config.yaml", traffic("run: {name: " + nested(65) + "}\n")}},
       2,
       {"{dir}/config.yaml:3:", "values nest more than 64 levels deep"}},
      {"64 levels of nesting are read (then the type is wrong)",
       {{"config.yaml", traffic("run: {name: " + nested(63) + "}\n")}},
       2,
       {"run.name: expected a string, found a list"}},
      {"nesting past the YAML parser's own guard",
       {{"config.yaml", traffic("run: {name: " + nested(3000) + "}\n")}},
       2,
       {"{dir}/config.yaml:3:", "YAML syntax error"}},
      {"a map of 300000 keys is read in linear time",
       {{"config.yaml", traffic(wide)}},
       2,
       {"{dir}/config.yaml:3:7: run.k0: unknown key"}},
      {"syntax error", {{"config.yaml", traffic("run: {seed: 1\n")}}, 2, {"{dir}/config.yaml:", "YAML syntax error"}},
      {"duplicate key",
       {{"config.yaml", traffic("run: {seed: 1, seed: 2}\n")}},
       2,
       {"{dir}/config.yaml:3:16: seed: duplicate key"}},
      {"a list as a map key", {{"config.yaml", traffic("run: {[a]: 1}\n")}}, 2, {"map keys must be plain names"}},
      {"a list at the top",
       {{"config.yaml", "- a\n- b\n"}},
       2,
       {"{dir}/config.yaml:1:1: expected a map at the top of the file, found a list"}},
      {"an empty file is an empty config", {{"config.yaml", ""}}, 2, {"missing required section 'accelerator'"}},
      {"a config of 17 MiB",
       {{"config.yaml", traffic()}},
       2,
       {"{dir}/config.yaml: config file is ", " bytes, more than 16777216 (a limit of bpsim)"},
       {},
       "",
       false,
       [](const fs::path& d) {
         std::ofstream(d / "config.yaml", std::ios::app) << "#" << std::string(17 << 20, 'x') << "\n";
       }},
      {"a directory as the config",
       {},
       2,
       {"{dir}/config.yaml: cannot open config file: it is a directory"},
       {},
       "",
       false,
       [](const fs::path& d) { fs::create_directory(d / "config.yaml"); }},
      {"a FIFO as the config (never opened: it would block)",
       {},
       2,
       {"{dir}/config.yaml: cannot open config file: it is a FIFO"},
       {},
       "",
       false,
       [](const fs::path& d) { ::mkfifo((d / "config.yaml").c_str(), 0600); }},
      {"/dev/zero as the config",
       {},
       2,
       {"{dir}/config.yaml: cannot open config file: it is a character device"},
       {},
       "",
       false,
       [](const fs::path& d) { fs::create_symlink("/dev/zero", d / "config.yaml"); }},
      {"no config file", {}, 2, {"{dir}/config.yaml: cannot open config file: No such file or directory"}},
      {"a string where the top map should be",
       {{"config.yaml", "hello\n"}},
       2,
       {"expected a map at the top of the file"}},
  };
  run_table("yaml", t);
}

TEST_CASE("bad inputs: includes (files, depth, count, non-YAML content)", "[cli][bad_inputs]") {
  std::map<std::string, std::string> chain{{"config.yaml", traffic_including("i1.yaml")}};
  for (int k = 1; k <= 17; ++k)
    chain["i" + std::to_string(k) + ".yaml"] = "include: [i" + std::to_string(k + 1) + ".yaml]\n";
  chain["i18.yaml"] = "run: {seed: 3}\n";
  // config → 10 × f1 → 10 × f2 → 10 × f3: 1110 includes of three small files.
  std::map<std::string, std::string> fan{
      {"config.yaml",
       traffic_including("f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml")}};
  for (int k = 1; k <= 2; ++k) {
    std::string inc = "include: [";
    for (int j = 0; j < 10; ++j) inc += (j ? ", f" : "f") + std::to_string(k + 1) + ".yaml";
    fan["f" + std::to_string(k) + ".yaml"] = inc + "]\n";
  }
  fan["f3.yaml"] = "run: {seed: 2}\n";
  std::vector<Case> t = {
      {"include of a missing file",
       {{"config.yaml", traffic_including("nope.yaml")}},
       2,
       {"{dir}/config.yaml:1:", "include: no such file: {dir}/nope.yaml"}},
      {"include of a directory",
       {{"config.yaml", traffic_including("sub.yaml")}},
       2,
       {"{dir}/config.yaml:1:", "include: {dir}/sub.yaml: cannot open config file: it is a directory"},
       {},
       "",
       false,
       [](const fs::path& d) { fs::create_directory(d / "sub.yaml"); }},
      {"include of /dev/zero through a .yaml link",
       {{"config.yaml", traffic_including("zero.yaml")}},
       2,
       {"{dir}/config.yaml:1:", "it is a character device"},
       {},
       "",
       false,
       [](const fs::path& d) { fs::create_symlink("/dev/zero", d / "zero.yaml"); }},
      {"include of a FIFO",
       {{"config.yaml", traffic_including("pipe.yaml")}},
       2,
       {"{dir}/config.yaml:1:", "it is a FIFO"},
       {},
       "",
       false,
       [](const fs::path& d) { ::mkfifo((d / "pipe.yaml").c_str(), 0600); }},
      {"include of /dev/zero by name",
       {{"config.yaml", traffic_including("/dev/zero")}},
       2,
       {"{dir}/config.yaml:1:", "include: expected a YAML file (.yaml or .yml), found '/dev/zero'"}},
      {"include of a non-YAML file never shows its content",
       {{"config.yaml", traffic_including("secret.txt")}, {"secret.txt", "password: hunter2\n"}},
       2,
       {"include: expected a YAML file (.yaml or .yml), found '{dir}/secret.txt'"},
       {"hunter2", "password"}},
      {"include cycle",
       {{"config.yaml", traffic_including("a.yaml")}, {"a.yaml", "include: [config.yaml]\n"}},
       2,
       {"include cycle through this file"}},
      {"includes 18 deep", chain, 2, {"{dir}/i16.yaml:1:10: include: includes nest more than 16 files deep"}},
      {"includes fanned out to 1110 files", fan, 2, {"include: more than 256 includes in one configuration"}},
      {"include of a map",
       {{"config.yaml", "include: {a: 1}\n"}},
       2,
       {"{dir}/config.yaml:1:10: include: expected a file name or a list of file names, found a map"}},
      {"include list holding a list",
       {{"config.yaml", "include: [[a.yaml]]\n"}},
       2,
       {"{dir}/config.yaml:1:11: include: expected a file name, found a list"}},
      {"included file is a list",
       {{"config.yaml", traffic_including("l.yaml")}, {"l.yaml", "- 1\n"}},
       2,
       {"{dir}/l.yaml:1:1: expected a map at the top of the file, found a list"}},
      {"included alias bomb",
       {{"config.yaml", traffic_including("b.yaml")}, {"b.yaml", alias_bomb(9, "\n") + "\n"}},
       2,
       {"{dir}/b.yaml:", "more than 1000000 values"}},
      {"included .yml file", {{"config.yaml", traffic_including("r.yml")}, {"r.yml", "run: {seed: 5}\n"}}, 0, {}},
      {"included file's unknown key names that file",
       {{"config.yaml", traffic_including("r.yaml")}, {"r.yaml", "run: {sed: 5}\n"}},
       2,
       {"{dir}/r.yaml:1:7: run.sed: unknown key (did you mean 'seed'?)"}},
  };
  run_table("include", t);
}

TEST_CASE("bad inputs: --set overrides", "[cli][bad_inputs]") {
  const std::map<std::string, std::string> cfg{{"config.yaml", traffic()}};
  std::vector<Case> t = {
      {"no '='", cfg, 2, {"--set accelerator.requests: expected key.path=value"}, {}, "--set accelerator.requests"},
      {"empty key", cfg, 2, {"accelerator..requests: empty key in key path"}, {}, "--set accelerator..requests=5"},
      {"key inside a scalar", cfg, 2, {"cannot set a key inside a scalar"}, {}, "--set accelerator.kind.x=1"},
      {"unknown key",
       cfg,
       2,
       {"--set accelerator.reqests=5: accelerator.reqests: unknown key (did you mean 'requests'?)"},
       {},
       "--set accelerator.reqests=5"},
      {"out of range",
       cfg,
       2,
       {"accelerator.requests: value 0 is out of range [1, 4294967296]"},
       {},
       "--set accelerator.requests=0"},
      {"syntax error",
       cfg,
       2,
       {"--set accelerator.pattern=[", "YAML syntax error"},
       {},
       "'--set=accelerator.pattern=['"},
      {"nested too deep", cfg, 2, {"values nest more than 64 levels deep"}, {}, "--set 'run.name=" + nested(80) + "'"},
      {"a string for an integer",
       cfg,
       2,
       {"accelerator.requests: expected an integer, found 'many'"},
       {},
       "--set accelerator.requests=many"},
      {"a legal override", cfg, 0, {}, {}, "--set accelerator.requests=50"},
      {"a memory key overridden out of range",
       cfg,
       2,
       {"memory.tck_ns: value 1e-300 is out of range [0.01, 1000] ns"},
       {},
       "--set memory.tck_ns=1e-300"},
  };
  run_table("set", t);
}

TEST_CASE("bad inputs: memory presets (ranges, timing, organisation)", "[cli][bad_inputs]") {
  // Each sets one key of the DDR4-2400 preset on line 3; validate must refuse what run refuses.
  struct M {
    const char* key_value;
    int code;
    const char* says;
  };
  const M rows[] = {
      {"tck_ns: 1e-300", 2, "config.yaml:3:18: memory.tck_ns: value 1e-300 is out of range [0.01, 1000] ns"},
      {"tck_ns: 1e300", 2, "memory.tck_ns: value 1e300 is out of range [0.01, 1000] ns"},
      {"tck_ns: 0", 2, "memory.tck_ns: value 0 is out of range [0.01, 1000] ns"},
      {"tck_ns: '1'", 2, "memory.tck_ns: expected a number, found '1'"},
      {"tck_ns: 1000", 0, ""},
      {"trefi: 0", 2, "memory.trefi: tREFI must exceed tRFC"},
      {"tbl: 0", 2, "memory.tbl: must be at least 1"},
      {"device_width: 128", 2, "memory.bus_width: must be a multiple of device_width"},
      {"device_width: 16, bus_width: 72", 2, "memory.bus_width: must be a multiple of device_width"},
      {"channels: 3", 2, "memory.channels: must be a power of two"},
      {"trc: 1", 2, "memory.trc: tRC (1) must be at least tRAS + tRP"},
      {"tccd_l: 1", 2, "memory.tccd_l: tCCD_L must be at least tCCD_S"},
      {"trrd_l: 1", 2, "memory.trrd_l: tRRD_L must be at least tRRD_S"},
      {"idd0: 1", 2, "memory.idd0: IDD0, IDD4R, IDD4W and IDD5B must each be at least IDD3N"},
      {"idd4r: 1e300", 2, "memory.idd4r: value 1e300 is out of range [0, 100000] mA"},
      {"vdd: 1e300", 2, "memory.vdd: value 1e300 is out of range [0.1, 5] V"},
      {"mapping: RoRaBgBaCoXx", 2, "memory.mapping: unknown field 'Xx'"},
      {"mapping: RoRoBgBaCoCh", 2, "memory.mapping: field Ro appears twice"},
      {"mapping: RoRa", 2, "memory.mapping: expected the six fields"},
      {"columns: 8, burst_length: 16", 2, "memory.columns: a row must hold at least one burst"},
      {"cl: 2000000", 2, "memory.cl: value 2000000 is out of range [0, 1048576] cycles"},
      {"queue_depth: 0", 2, "memory.queue_depth: value 0 is out of range [1, 4096] requests"},
      {"page_policy: lazy", 2, "memory.page_policy: 'lazy' is not valid (expected one of: open, closed)"},
      {"tkc_ns: 1", 2, "3:10: memory.tkc_ns: unknown key (did you mean 'tck_ns'?)"},
  };
  std::vector<Case> t;
  for (const M& m : rows) t.push_back({m.key_value, {{"config.yaml", memory_with(m.key_value)}}, m.code, {m.says}});
  t[4].says.clear();  // the legal one
  t.push_back({"memory is a list",
               {{"config.yaml", traffic("memory: [1]\n")}},
               2,
               {"3:9: memory: expected a map, found a list"}});
  t.push_back({"no tck_ns",
               {{"config.yaml", "accelerator: {kind: traffic}\nmemory: {cl: 1}\n"}},
               2,
               {"memory: missing required key 'tck_ns'"}});
  t.push_back({"unaligned base address",
               {{"config.yaml", traffic_with("base_address: 100")}},
               2,
               {"config.yaml:2:59: accelerator.base_address: must be a multiple of the burst size (64 B)"}});
  run_table("memory", t);
}

TEST_CASE("bad inputs: model ranges (clocks, rates, pim, energy)", "[cli][bad_inputs]") {
  const std::string sys = "systolic_32x32_int8.yaml", pim = "pim_ddr4.yaml";
  const std::map<std::string, std::string> net{{"net.yaml", kNet}};
  auto with = [&](const std::string& arch, const std::string& keys) {
    auto f = net;
    f["config.yaml"] = arch_with(arch, keys);
    return f;
  };
  std::vector<Case> t = {
      {"systolic clock 1e-300 GHz",
       with(sys, "clock_ghz: 1e-300"),
       2,
       {"config.yaml:2:26: accelerator.clock_ghz: value 1e-300 is out of range [0.001, 100] GHz"}},
      {"systolic clock 1e300 GHz",
       with(sys, "clock_ghz: 1e300"),
       2,
       {"accelerator.clock_ghz: value 1e300 is out of range"}},
      // The slowest clock still gives finite seconds and joules (never null in the report).
      {"systolic clock 1 MHz", with(sys, "clock_ghz: 0.001, dtype: workload"), 0, {}},
      {"systolic stages not dividing rows", with(sys, "stages: 3"), 2, {"accelerator.stages: stages must divide rows"}},
      {"mesh clock 0",
       {{"config.yaml", preset_includes("mesh_8x8.yaml") + "accelerator: {clock_ghz: 0, mode: synthetic}\n"}},
       2,
       {"accelerator.clock_ghz: value 0 is out of range [0.001, 100] GHz"}},
      {"mesh warmup 10^12 cycles",
       {{"config.yaml", preset_includes("mesh_8x8.yaml") +
                            "accelerator: {mode: synthetic, traffic: {warmup_cycles: 1000000000000}}\n"}},
       2,
       {"accelerator.traffic.warmup_cycles: value 1000000000000 is out of range [0, 10000000000] cycles"}},
      {"traffic rate 1e-300 per ns",
       {{"config.yaml", traffic_with("rate_per_ns: 1e-300")}},
       2,
       {"config.yaml:2:58: accelerator.rate_per_ns: must be 0 (unpaced) or at least 1e-6 requests/ns"}},
      {"traffic rate 1e6 per ns",
       {{"config.yaml", traffic_with("rate_per_ns: 1e6")}},
       2,
       {"accelerator.rate_per_ns: value 1e6 is out of range [0, 1000] requests/ns"}},
      // 100 requests at the slowest rate span 100 µs... of simulated time: 1e-6/ns = one per µs.
      {"traffic at the slowest rate finishes", {{"config.yaml", traffic_with("rate_per_ns: 1e-6")}}, 0, {}},
      {"pim host at 1 MFLOP/s",
       with(pim, "host_gflops: 0.001"),
       2,
       {"accelerator.host_gflops: value 0.001 is out of range [1, 1000000] GFLOP/s"}},
      {"pim subarrays not dividing rows",
       with(pim, "subarrays_per_bank: 3"),
       2,
       {"accelerator.subarrays_per_bank: must divide the memory preset's 65536 rows per bank"}},
      {"pim no data rows",
       with(pim, "subarrays_per_bank: 8192"),
       2,
       {"accelerator.compute_rows: reserved rows (11) leave fewer than 2 data rows in a subarray of 8 rows"}},
      {"pim step wider than the data rows",
       with(pim, "subarrays_per_bank: 2048, max_rows_per_step: 30"),
       2,
       {"accelerator.max_rows_per_step: a charge-sharing step cannot connect 30 rows"}},
      {"pim banks beyond the preset",
       with(pim, "banks: 64"),
       2,
       {"accelerator.banks: exceeds the memory preset's 16 banks per rank"}},
      {"pim parallelism beyond subarrays",
       with(pim, "subarrays_per_bank: 4, subarray_parallelism: 8"),
       2,
       {"accelerator.subarray_parallelism: exceeds subarrays_per_bank (4)"}},
      {"pim second ACT after tRAS",
       with(pim, "second_act_ns: 100"),
       2,
       {"accelerator.second_act_ns: must not exceed tRAS"}},
      {"pim 40-bit gradients",
       with(pim, "gradient_bits: 40"),
       2,
       {"accelerator.gradient_bits: unsupported width 40: the bit-serial micro-programs support 2..32 bits"}},
      {"energy of 1e300 pJ",
       {{"config.yaml", traffic("energy: {actions: {dram.act: {pj: 1e300, source: x}}}\n")}},
       2,
       {"config.yaml:3:35: energy.actions.dram.act.pj: at most 1e9 pJ"}},
      {"negative energy",
       {{"config.yaml", traffic("energy: {actions: {dram.act: {pj: -1, source: x}}}\n")}},
       2,
       {"energy.actions.dram.act.pj: energy and power cannot be negative"}},
      {"leakage of 1e300 mW",
       {{"config.yaml", traffic("energy: {leakage_mw: {dram: {mw: 1e300, source: x}}}\n")}},
       2,
       {"energy.leakage_mw.dram.mw: at most 1e9 mW"}},
  };
  t[2].report_never = {"null"};
  run_table("models", t);
}

TEST_CASE("bad inputs: workload specs (repeat expansion, layers, spec files)", "[cli][bad_inputs]") {
  const std::string lin = "  - {kind: linear, out_features: 4}\n";
  std::vector<Case> t = {
      // 100000 × 100000 = 10^10 layers: stopped when the 100001st layer is written.
      spec_case(
          "repeat nested to 10^10 layers",
          "  - repeat: 100000\n    layers:\n      - repeat: 100000\n        layers: [{kind: relu}]\n", 2,
          {"net.yaml:8:18: layers[0].layers[0].layers[0]: the network has more than 100000 layers once its repeat "
           "groups are expanded"}),
      spec_case("repeat of nothing", "  - {repeat: 100000, layers: [{repeat: 100000, layers: []}]}\n", 2,
                {"net.yaml:5:56: layers[0].layers[0].layers: a repeat group needs at least one layer"}),
      spec_case("repeat 0", "  - {repeat: 0, layers: [{kind: relu}]}\n", 2,
                {"net.yaml:5:14: layers[0].repeat: must be in [1, 100000]"}),
      spec_case("repeat 10^6", "  - {repeat: 1000000, layers: [{kind: relu}]}\n", 2,
                {"layers[0].repeat: must be in [1, 100000]"}),
      spec_case("repeat without layers", "  - {repeat: 2}\n", 2, {"layers[0]: a repeat group needs 'layers'"}),
      spec_case("repeat of a map", "  - {repeat: 2, layers: {kind: relu}}\n", 2,
                {"layers[0].layers: expected a list, found a map"}),
      spec_case("repeat with another key", "  - {repeat: 2, layers: [{kind: relu}], times: 3}\n", 2,
                {"layers[0].times: unknown key (valid: repeat, layers)"}),
      spec_case("repeat that is not a number", "  - {repeat: lots, layers: [{kind: relu}]}\n", 2,
                {"layers[0].repeat: expected an integer, found 'lots'"}),
      spec_case(
          "groups nested 9 deep",
          "  - {repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: "
          "[{repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: [{repeat: 1, layers: "
          "[{kind: relu}]}]}]}]}]}]}]}]}]}]}\n",
          2, {"layer groups nest too deep (at most 8)"}),
      spec_case("a legal repeat of 1000 layers", "  - {repeat: 1000, layers: [{kind: relu}]}\n" + lin, 0, {}),
      spec_case("unknown layer kind", "  - {kind: lstm}\n", 2,
                {"net.yaml:5:12: layers[0].kind: unknown layer kind 'lstm'"}),
      spec_case("no kind", "  - {out_features: 4}\n", 2, {"layers[0]: missing required key 'kind'"}),
      spec_case("zero outputs", "  - {kind: linear, out_features: 0}\n", 2,
                {"layers[0].out_features: value 0 is out of range [1, 4294967296]"}),
      spec_case("a layer that is a list", "  - [linear]\n", 2, {"layers[0]: expected a map, found a list"}),
      spec_case("heads not dividing hidden", "  - {kind: attention, hidden: 10, heads: 3}\n", 2,
                {"layers[0].heads: hidden 10 does not divide by 3 heads"}),
      spec_case("residual with no layers", "  - {kind: residual, layers: []}\n", 2,
                {"layers[0].layers: a residual needs at least one layer"}),
      spec_case("no layers at all", "  []\n", 2, {"layers: a network needs at least one layer"}),
      spec_case("input of width 0", lin, 2, {"input.shape: every dimension must be at least 1"}),
  };
  t.back().files["net.yaml"] = "name: t\nbatch: 2\ninput: {shape: [0]}\nlayers:\n" + lin;
  auto with_config = [](std::string name, const std::string& config_extra, std::vector<std::string> says,
                        std::function<void(const fs::path&)> setup = nullptr) {
    Case c;
    c.name = std::move(name);
    c.files = {{"config.yaml", preset_includes("systolic_32x32_int8.yaml") + config_extra}, {"net.yaml", kNet}};
    c.says = std::move(says);
    c.setup = std::move(setup);
    return c;
  };
  t.push_back(
      with_config("spec of a non-YAML file", "workload: {spec: net.txt}\n",
                  {"config.yaml:2:18: workload.spec: expected a YAML file (.yaml or .yml), found '{dir}/net.txt'"}));
  t.push_back(with_config("spec that is a directory", "workload: {spec: d.yaml}\n",
                          {"config.yaml:2:18: workload.spec:", "cannot open config file: it is a directory"},
                          [](const fs::path& d) { fs::create_directory(d / "d.yaml"); }));
  t.push_back(with_config("spec that is missing", "workload: {spec: no.yaml}\n",
                          {"workload.spec: no such file: {dir}/no.yaml"}));
  t.push_back(with_config("spec that is a map", "workload: {spec: {a: 1}}\n",
                          {"workload.spec: expected a string, found a map"}));
  t.push_back(with_config("spec and inline layers", "workload: {spec: net.yaml, layers: [{kind: relu}]}\n",
                          {"workload.spec: give either 'spec' or inline 'layers', not both"}));
  t.push_back(
      with_config("batch 0", "workload: {spec: net.yaml, batch: 0}\n", {"workload.batch: value 0 is out of range"}));
  t.push_back(with_config("threshold policy without a threshold",
                          "workload: {spec: net.yaml, policy: {kind: threshold}}\n",
                          {"workload.policy: missing required key 'threshold'"}));
  t.push_back(with_config(
      "layers past the limit in an inline spec",
      "workload: {input: {shape: [4]}, layers: [{repeat: 100000, layers: [{repeat: 2, layers: [{kind: relu}]}]}]}\n",
      {"the network has more than 100000 layers", "(limit layers = 100000; raise it with run.limits.layers"}));
  // 60000 × 2 = 120000 layers: past the default, within a raised limit.
  const std::string many =
      "workload: {input: {shape: [4]}, layers: [{repeat: 60000, layers: [{kind: relu}, {kind: relu}]}]}\n";
  t.push_back(with_config("120000 layers at the default limit", many, {"config.yaml:2:", "more than 100000 layers"}));
  // A legal run of 120000 layers (240000 ops) holds all its op entries in memory to write
  // report.json and report.html: 393 MB peak RSS unsanitized (664 MB while report.html's
  // sections each copied the entries; 817 MB while each held entry carried its derived
  // figures and report.html drew every op). Under AddressSanitizer a 439 MB build took
  // 1.40 GB, so these two keep 4 GiB over the 2 GB default (the op entries held as JSON
  // objects, about 1.5 kB each, are what is left to cut).
  t.push_back(
      with_config("120000 layers with run.limits.layers raised", many + "run: {limits: {layers: 150000}}\n", {}));
  t.back().code = 0;
  t.back().mib = 4096;
  t.push_back(with_config("120000 layers with --set run.limits.layers", many, {}));
  t.back().code = 0;
  t.back().mib = 4096;
  t.back().args = "--set run.limits.layers=150000";
  t.push_back(with_config("the limit lowered below a spec", "workload: {spec: net.yaml}\n", {"more than 1 layers"}));
  t.back().args = "--set run.limits.layers=1";
  run_table("spec", t);
}

TEST_CASE("bad inputs: bpsim workload --limit layers", "[cli][bad_inputs]") {
  Scratch s("bad_workload_limit");
  const std::string spec = s.file("net.yaml", kNet);  // 2 layers
  CliResult low = run_bpsim_bounded("workload " + spec + " --limit layers=1");
  CHECK(low.code == 2);
  CHECK_THAT(low.err, Catch::Contains(spec + ":6:5: layers[1]: the network has more than 1 layers"));
  CHECK(run_bpsim_bounded("workload " + spec + " --limit layers=2").code == 0);
  CliResult bad = run_bpsim_bounded("workload " + spec + " --limit layer=2");
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--limit layer=2: unknown limit 'layer'"));
}

TEST_CASE("bad inputs: bpsim run --trace paths", "[cli][bad_inputs]") {
  // A path with a double quote and a backslash is passed as written: run --trace and a
  // config naming it (what validate sees) agree.
  const std::string odd = "we\"ird\\name.jsonl";
  const std::string sample = std::string(BPSIM_SOURCE_DIR) + "/traces/mlp_step.jsonl";
  auto trace_case = [&](std::string name, const std::string& file, int code, std::vector<std::string> says, bool copy) {
    Case c;
    c.name = std::move(name);
    c.files = {{"config.yaml", preset_includes("systolic_32x32_int8.yaml") +
                                   "accelerator: {dtype: workload}\nworkload: {trace: 'TRACE'}\n"}};
    c.code = code;
    c.says = std::move(says);
    c.run_args = "--trace " + shell_quote("{dir}/" + file);
    c.setup = [file, sample, copy](const fs::path& d) {
      if (copy) fs::copy_file(sample, d / file);
      // The config names the same file in single quotes (YAML doubles a quote inside them).
      std::string text = slurp((d / "config.yaml").string());
      text.replace(text.find("TRACE"), 5, (d / file).string());
      std::ofstream(d / "config.yaml") << text;
    };
    return c;
  };
  std::vector<Case> t = {
      trace_case("quote and backslash in the trace path", odd, 0, {}, true),
      trace_case("missing trace with a quote in its name", odd, 2, {"{dir}/" + odd}, false),
  };
  run_table("trace", t);
}
