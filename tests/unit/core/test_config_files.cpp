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
