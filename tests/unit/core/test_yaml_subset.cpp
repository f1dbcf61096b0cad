// The subset YAML reader (sim/core/yaml_subset.h) against yaml-cpp: on every YAML file of the
// checkout, on hand-written cases at the subset's edges, and on random documents. Whatever
// the subset accepts must read, through yaml-cpp and bpsim's conversion, to the same tree
// with the same locations; whatever it declines goes to yaml-cpp unchanged.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <random>

#include "sim/core/data_dir.h"
#include "sim/core/input_file.h"
#include "sim/core/yaml_subset.h"
#include "tests/yaml_difference.h"

using namespace bpsim;
using namespace bpsim::config;
namespace fs = std::filesystem;

namespace {

std::optional<Node> subset(const std::string& text) {
  uint64_t nodes = 0;
  return parse_yaml_subset(text, "t.yaml", 1000000, 64, nodes);
}

std::string check_same(const std::string& text) { return testing::subset_difference(text, "t.yaml"); }

}  // namespace

TEST_CASE("yaml subset: every YAML file of the checkout reads as yaml-cpp reads it", "[core][config][yaml]") {
  // configs/ are what runs load (presets, examples, energy tables, workloads, sweeps): each
  // must take the fast path, or the speed-up would not reach the runs it was made for.
  unsigned files = 0, fast = 0;
  for (const char* dir : {"configs", "tests", "traces", "python"}) {
    const fs::path root = fs::path(data_dir()) / dir;
    if (!fs::is_directory(root)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
      const std::string text = read_regular_file(e.path().string(), "YAML file");
      INFO(e.path().string());
      ++files;
      const std::string d = check_same(text);
      INFO(d);
      CHECK(d.empty());
      const bool accepted = subset(text).has_value();
      fast += accepted;
      if (e.path().string().find("/configs/") != std::string::npos) CHECK(accepted);
    }
  }
  INFO(files << " files, " << fast << " read by the subset");
  // `git ls-files '*.yaml' '*.yml'`: 84 tracked, 78 in configs/, 4 in tests/ (the fuzz
  // corpus), 2 in traces/ (the mask files); a walk that found fewer missed some. The 78 of
  // configs/ must take the fast path (checked one by one above); today all 84 do.
  CHECK(files >= 84);
  CHECK(fast >= 78);
}

TEST_CASE("yaml subset: the places yaml-cpp gives", "[core][config][yaml]") {
  // Each accepted, and equal to yaml-cpp's tree (places included); a few places spelled out.
  const char* accepted[] = {
      "a: 1\nb:\n  c: x\n  d: [1, \"é\", z]\ne:\n- 1\n- k: v\n  j: null\nf:\ng: ~\nh: {x: 1, é: 2, y: 3}\n",
      "a: 1\nf:\n",
      "- \n- a\n-\n",
      "a:\n  5\nb: 2\n",
      "a: [ ]\nb: {}\nc: x y  \nd: \"a#b\" # c\ne: a#b\n",
      "# only a comment first\n\n  k: v\n  l: w # trailing\n",
      "noc: { vcs: 2, buf_depth: 8,\n       credit_cycles: 1 }\nx: 1\n",
      "'q k': 'it''s'\n\"d\": \"x: y, z\"\n",
      "layers:\n  - { kind: relu, name: r1 }\n  - [1, [2, {a: b}], c]\n",
      "a: -5\nb: -x\nc: x-y\nd: 1e-3\ne: 'null'\nf: Null\ng: NULL\n",
      "a: b:c\nc: it's\nd: x,y\n",
      "5\n",
      "stream",
      "[1, 2]",
      "{a: 1}",
      "a:\n  b:\nc: 1",
      "a: 1  # no newline at the end",
      "a:\n  - x\n  - y\nb:\n- z\n",
      "a:\n  -\n    b: 1\n    c: 2\n  - d\n",
      "a: 1 # c\n      # a comment indented past everything\n# and one at column 1\n   \nb: [x,\n  y]\n",
      "-a: 1\n\"k: v\": 'x'\n1: .inf\nµs: 3 µs\n",
  };
  for (const char* text : accepted) {
    INFO(text);
    CHECK(subset(text).has_value());
    const std::string d = check_same(text);
    INFO(d);
    CHECK(d.empty());
  }
  const Node n = *subset("a:\n  - x\nb:\nc: { d: 1 }\n");
  CHECK(n.loc.str() == "t.yaml:1:1");
  CHECK(n.find("a")->loc.str() == "t.yaml:2:3");  // a block list: its first dash
  CHECK(n.find("b")->is_null());
  CHECK(n.find("b")->loc.str() == "t.yaml:4:1");  // an empty value: what follows it
  CHECK(n.find("c")->loc.str() == "t.yaml:4:4");  // a flow map: its brace
  CHECK(n.find("c")->find("d")->loc.str() == "t.yaml:4:9");
  CHECK(n.entry("c")->key_loc.str() == "t.yaml:4:1");
}

TEST_CASE("yaml subset: what it leaves to yaml-cpp", "[core][config][yaml]") {
  // Outside the subset, or errors: declined, so yaml-cpp reads them (and words the errors).
  const char* declined[] = {
      "",                        // no document: yaml-cpp's null
      "# only\n",                //
      "a: &x 1\nb: *x\n",        // anchors and aliases
      "a: !!str 1\n",            // tags
      "a: |\n  text\n",          // block scalars
      "a: >\n  text\n",          //
      "a:\tb\n",                 // tabs
      "a: 1\r\nb: 2\r\n",        // carriage returns
      "a: multi\n  line\n",      // a plain scalar over two lines
      "a: \"esc\\n\"\n",         // escapes
      "a: \"two\n  lines\"\n",   // a quoted scalar over two lines
      "a: 1\na: 2\n",            // duplicate keys (yaml-cpp's error)
      "{a: 1, a: 2}",            //
      "---\na: 1\n",             // document markers and directives
      "%YAML 1.2\n---\na: 1\n",  //
      "a: 1\n---\nb: 2\n",       //
      "? a\n: 1\n",              // complex keys
      "[1, 2, ]",                // a flow collection's trailing comma
      "a: b: c\n",               // a key where a value should be
      "a: 1\n  b: 2\n",          // indented past its map
      "- - a\n",                 // a list in a list's entry on one line
      "a: [1, 2\n",              // an unclosed flow list
      "{a:1}",                   // a flow key without a space after its colon
      "a: \xff\n",               // not UTF-8
      "a: \xc2\x85\n",           // NEL, a line break to YAML 1.1
      "null: 1\n",               // a null key
      "a: [x: 1]\n",             // a pair in a flow list
      "a: { b: 1 # c\n }\n",     // a comment in a flow collection
      "a : 1\n",                 // a space before a key's colon
      "a: 1\nb:",                // an empty value at the end of an unterminated last line
      "  -\n#",                  // (yaml-cpp places this one at column 2, "-\n# c" at 1)
  };
  for (const char* text : declined) {
    INFO(text);
    CHECK_FALSE(subset(text).has_value());
  }
  // Declined texts still parse as before: parse_yaml hands them to yaml-cpp.
  CHECK(parse_yaml("a: &x 1\nb: *x\n", "t.yaml").find("b")->scalar == "1");
  CHECK_THROWS_WITH(parse_yaml("a: 1\na: 2\n", "t.yaml"), "t.yaml:2:1: a: duplicate key");
  // Past the limits it declines too, so that the limit's message is yaml-cpp's path's.
  uint64_t nodes = 0;
  CHECK(parse_yaml_subset("[1, 2, 3]", "t", 4, 64, nodes).has_value());
  CHECK(nodes == 4);  // the list and its three items
  CHECK_FALSE(parse_yaml_subset("[1, 2, 3]", "t", 3, 64, nodes).has_value());
  CHECK(parse_yaml_subset("a: {b: [c]}", "t", 100, 3, nodes).has_value());  // depths 0 to 3
  CHECK_FALSE(parse_yaml_subset("a: {b: [c]}", "t", 100, 2, nodes).has_value());
}

TEST_CASE("yaml subset: random documents read as yaml-cpp reads them", "[core][config][yaml]") {
  // Documents assembled from the pieces configs are made of, then some mutated a character
  // at a time (indicators, spaces, breaks, quotes, non-ASCII), so that most land just inside
  // or just outside the subset. Fixed seed: the same 20,000 documents on every run.
  std::mt19937 rng(12345);
  auto pick = [&](unsigned n) { return unsigned(rng() % n); };
  const char* scalars[] = {"1", "x",   "-2",  "1e-3", "a b",      "null", "~", "'q'", "\"d\"", "'it''s'",
                           "é", "a#b", "x,y", "true", "\"a: b\"", "k:v",  "-", "x ",  "Null"};
  const char* pieces[] = {" ", "\n", ":", ": ", "- ", "#", " #", "'", "\"", "[", "]",   "{",  "}",  ",", "a",
                          "1", "~",  "é", "\t", "&",  "*", "!",  "|", ">",  "?", "---", "\\", "\r", "  "};
  std::function<std::string(int, int)> value;
  std::function<std::string(int, int)> block = [&](int indent, int depth) {
    std::string s, pad(size_t(indent), ' ');
    const bool list = pick(3) == 0;
    const unsigned n = 1 + pick(3);
    for (unsigned i = 0; i < n; ++i) {
      s += pad + (list ? "- " : "k" + std::to_string(i) + ":");
      if (depth < 3 && pick(3) == 0) {
        s += pick(4) ? "\n" + block(indent + 2, depth + 1) : (pick(2) ? " # c\n" : "\n");
      } else {
        s += (list ? "" : " ") + value(indent, depth) + (pick(5) ? "" : "  # note") + "\n";
      }
      if (!pick(6)) s += pick(2) ? "\n" : pad + "# comment\n";
    }
    return s;
  };
  value = [&](int indent, int depth) -> std::string {
    const unsigned k = depth < 3 ? pick(6) : 0;
    if (k == 4 || k == 5) {
      const bool map = k == 4;
      std::string s = map ? "{" : "[";
      const unsigned n = pick(4);
      for (unsigned i = 0; i < n; ++i) {
        if (i) s += pick(5) ? ", " : ",\n" + std::string(size_t(indent) + 3, ' ');
        s += (map ? "f" + std::to_string(i) + ": " : "") + value(indent, depth + 1);
      }
      return s + (map ? "}" : "]");
    }
    return scalars[pick(sizeof scalars / sizeof *scalars)];
  };
  unsigned accepted = 0, mutated_accepted = 0;
  for (int t = 0; t < 20000; ++t) {
    std::string doc = block(pick(3) == 0 ? 2 : 0, 0);
    const bool mutate = t % 2 == 1;
    if (mutate)
      for (unsigned m = 1 + pick(3); m > 0; --m) {
        const size_t at = pick(unsigned(doc.size() + 1));
        if (pick(3) == 0 && at < doc.size()) doc.erase(at, 1);
        else doc.insert(at, pieces[pick(sizeof pieces / sizeof *pieces)]);
      }
    const std::string d = check_same(doc);
    if (!d.empty()) FAIL(d << "\n---- document:\n" << doc);
    if (subset(doc)) (mutate ? mutated_accepted : accepted) += 1;
  }
  INFO(accepted << " of 10,000 generated and " << mutated_accepted << " of 10,000 mutated documents accepted");
  // That the comparison is not vacuous: with this seed the subset reads 8,274 of the generated
  // documents (the rest hold a "-" scalar or "x,y" in a flow map, which it declines) and
  // 2,903 of the mutated ones; mutations land on both sides of the subset's edge.
  CHECK(accepted > 7500);
  CHECK(mutated_accepted > 2000);
  CHECK(mutated_accepted < 9000);
}
