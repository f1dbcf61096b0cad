// include: merging, relative paths, cycles — with real files in a temporary folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "sim/core/config_node.h"

using namespace bpsim;
using namespace bpsim::config;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("bpsim_cfg_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path / "sub");
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};
}  // namespace

TEST_CASE("config: includes merge in order, the including file wins", "[core][config]") {
  TempDir t;
  t.write("sub/mem.yaml", "memory: {channels: 1, ranks: 2}\nrun: {seed: 5}\n");
  t.write("sub/energy.yaml", "energy: {name: e}\nmemory: {ranks: 4}\n");
  std::string main = t.write("main.yaml", "include: [sub/mem.yaml, sub/energy.yaml]\nmemory: {channels: 2}\n");
  Node n = load_file(main);
  CHECK(n.find("include") == nullptr);
  CHECK(n.find("memory")->find("channels")->scalar == "2");
  CHECK(n.find("memory")->find("ranks")->scalar == "4");
  CHECK(n.find("run")->find("seed")->scalar == "5");
  // Values remember the file they came from, so errors point at the right file.
  CHECK(n.find("run")->find("seed")->loc.file == (t.path / "sub/mem.yaml").lexically_normal().string());
  CHECK(n.find("memory")->find("channels")->loc.file == main);
}

TEST_CASE("config: paths resolve relative to the file that names them", "[core][config]") {
  TempDir t;
  t.write("sub/inner.yaml", "workload: {spec: ../w.yaml}\n");
  Node n = load_file(t.write("main.yaml", "include: sub/inner.yaml\n"));
  CHECK(resolve_path(*n.find("workload")->find("spec")) == (t.path / "w.yaml").lexically_normal().string());
}

TEST_CASE("config: include errors", "[core][config]") {
  TempDir t;
  std::string a = t.write("a.yaml", "include: b.yaml\n");
  t.write("b.yaml", "include: a.yaml\n");
  CHECK_THROWS_WITH(load_file(a), Catch::Contains("include cycle"));
  std::string m = t.write("m.yaml", "x: 1\ninclude: [nope.yaml]\n");
  CHECK_THROWS_WITH(load_file(m), m + ":2:11: include: no such file: " + (t.path / "nope.yaml").string());
  std::string l = t.write("l.yaml", "- 1\n- 2\n");
  CHECK_THROWS_WITH(load_file(l), l + ":1:1: expected a map at the top of the file, found a list");
  CHECK_THROWS_WITH(load_file((t.path / "missing.yaml").string()),
                    Catch::Contains("cannot open config file: No such file or directory"));
}

// Files without includes are kept once parsed (sim/core/config_node.cpp, LeafCache): a file
// included twice, or loaded again later in the same process (sweep points, the Python
// package), gives the values its text gives, wherever it is named from.
TEST_CASE("config: a file included twice gives its values, from the file it is in, both times", "[core][config]") {
  TempDir t;
  const std::string leaf = t.write("sub/table.yaml", "energy:\n  name: t\n  actions: {a: 1, b: 2}\n");
  t.write("sub/group.yaml", "include: [table.yaml]\nenergy: {actions: {b: 3}}\n");
  // The second include of table.yaml (after group.yaml set b to 3) sets b back to 2.
  Node n = load_file(t.write("main.yaml", "include: [sub/group.yaml, sub/table.yaml]\n"));
  CHECK(n.find("energy")->find("actions")->find("a")->scalar == "1");
  CHECK(n.find("energy")->find("actions")->find("b")->scalar == "2");
  const Location& at = n.find("energy")->find("actions")->find("b")->loc;
  CHECK(at.file == fs::path(leaf).lexically_normal().string());
  CHECK(at.line == 3);
  CHECK(at.column == 22);  // "  actions: {a: 1, b: 2}": the 2 is its 22nd character
}

TEST_CASE("config: a file rewritten between loads is read again, whatever its times say", "[core][config]") {
  TempDir t;
  // Same name, same size, written within the file system's timestamp granularity (a few ms
  // on ext4): only the text tells the two versions apart.
  const std::string leaf = t.write("leaf.yaml", "run: {seed: 1}\n");
  const std::string main = t.write("main.yaml", "include: leaf.yaml\n");
  CHECK(load_file(main).find("run")->find("seed")->scalar == "1");
  t.write("leaf.yaml", "run: {seed: 2}\n");
  CHECK(load_file(main).find("run")->find("seed")->scalar == "2");
  // A file that now has a syntax error is reported as such, not served from before.
  t.write("leaf.yaml", "run: {seed: 2\n");
  CHECK_THROWS_WITH(load_file(main), Catch::Contains(leaf + ":2:1: YAML syntax error"));
}
