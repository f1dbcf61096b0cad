// Counters registered once by reference, and energy actions only a vocabulary can name.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "sim/core/energy.h"
#include "sim/core/stats.h"

using namespace bpsim;

namespace {
/// Whether `counts[k]` compiles for a key of type K.
template <class K, class = void>
struct Indexable : std::false_type {};
template <class K>
struct Indexable<K, std::void_t<decltype(std::declval<ActionCounts&>()[std::declval<K>()])>> : std::true_type {};
}  // namespace

// An action nobody declared cannot be counted or priced: the handle has no public
// constructor and the counts take nothing else.
static_assert(!std::is_constructible_v<Action, const char*>);
static_assert(!std::is_constructible_v<Action, std::string>);
static_assert(!Indexable<const char*>::value);
static_assert(!Indexable<std::string>::value);
static_assert(Indexable<const Action&>::value);

TEST_CASE("stats: a registered counter is read when the group is written", "[core][stats]") {
  uint64_t folds = 0;
  double joules = 0;
  StatGroup g;
  g.add("folds", folds, "folds run");
  g.child("energy").add("total_j", joules, "energy");
  g.formula(
      "mean_j_per_fold", [&] { return folds ? joules / double(folds) : 0.0; }, "mean");
  g.set("capacity_bytes", uint64_t{4096}, "fixed at registration");
  folds = 4;  // counted after registration
  joules = 2.0;
  const nlohmann::json v = g.values_json();
  CHECK(v["folds"] == 4);
  CHECK(v["folds"].is_number_unsigned());  // integers stay integers
  CHECK(v["energy"]["total_j"].is_number_float());
  CHECK(v["mean_j_per_fold"].get<double>() == Approx(0.5));  // 2.0 / 4
  CHECK(v["capacity_bytes"] == 4096);
  nlohmann::json d = nlohmann::json::object();
  g.descriptions(d);
  CHECK(d == nlohmann::json{{"folds", "folds run"},
                            {"energy.total_j", "energy"},
                            {"mean_j_per_fold", "mean"},
                            {"capacity_bytes", "fixed at registration"}});
}

TEST_CASE("stats: write_to keeps the values of its moment, a name registers once", "[core][stats]") {
  uint64_t n = 1;
  StatGroup g;
  g.add("n", n, "count");
  g.child("empty");
  StatGroup copy;
  g.write_to(copy);
  n = 2;
  CHECK(copy.values_json() == nlohmann::json{{"n", 1}, {"empty", nlohmann::json::object()}});
  CHECK(g.values_json()["n"] == 2);
  CHECK_THROWS_AS(g.add("n", n, "again"), std::logic_error);
}

TEST_CASE("energy: a vocabulary names its actions once, in order", "[core][energy]") {
  Vocabulary v("arr");
  const Action mac = v.add("mac", "one MAC");
  const Action rd = v.add("sram_read_64b", "one read");
  CHECK(mac.name() == "arr.mac");
  REQUIRE(v.decls().size() == 2);
  CHECK(v.decls()[1].name == "arr.sram_read_64b");
  CHECK(v.decls()[1].description == "one read");
  Vocabulary bare("");
  CHECK(bare.add("dram", "background").name() == "dram");
  ActionCounts a, b;
  a[mac] += 3;
  b[mac] += 2;
  b[rd] += 5;
  a += b;
  CHECK(a.count(mac) == 5);
  CHECK(a.count(rd) == 5);
  CHECK(a.size() == 2);
  CHECK(ActionCounts().count(mac) == 0);
}
