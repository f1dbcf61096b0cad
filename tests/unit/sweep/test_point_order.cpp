// The order in which a sweep hands out its points (PointOrder): index order until a run has
// ended or with one worker; then the point whose nearest ended runs (most axis values shared)
// took the longest CPU time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim::sweep;
using bpsim::test::Scratch;

namespace {

/// 2 seeds × pattern {stream, random} × page policy {open, closed}: points 0–3 are seed 1
/// (stream/open, stream/closed, random/open, random/closed), points 4–7 the same for seed 2.
SweepSpec eight_points(const Scratch& s) {
  s.file("base.yaml", "accelerator: {kind: traffic, rows: 1}\nrun: {seed: 1}\n");
  return load_sweep(s.file("s.yaml",
                           "base: base.yaml\naxes:\n  run.seed: [1, 2]\n  accelerator.pattern: [stream, random]\n"
                           "  memory.page_policy: [open, closed]\n"),
                    {});
}

std::vector<const Point*> all(const SweepSpec& spec) {
  std::vector<const Point*> v;
  for (const auto& p : spec.points) v.push_back(&p);
  return v;
}

std::vector<size_t> take(PointOrder& order, size_t n) {
  std::vector<size_t> got;
  for (size_t i = 0; i < n; ++i) got.push_back(order.take()->index);
  return got;
}

}  // namespace

TEST_CASE("sweep order: index order before any run has ended, and always with one worker", "[sweep]") {
  Scratch s("sweep_order_index");
  const SweepSpec spec = eight_points(s);
  PointOrder parallel(all(spec), 4);
  CHECK(take(parallel, 3) == std::vector<size_t>{0, 1, 2});
  PointOrder one(all(spec), 1);
  CHECK(one.take()->index == 0);
  one.ended({&spec.points[0], 0, 0.01});
  one.ended({&spec.points[1], 0, 5.0});  // even when another point is known to be long
  CHECK(take(one, 6) == std::vector<size_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("sweep order: the point whose nearest ended runs took longest goes first", "[sweep]") {
  Scratch s("sweep_order_longest");
  const SweepSpec spec = eight_points(s);
  PointOrder order(all(spec), 4);
  CHECK(take(order, 4) == std::vector<size_t>{0, 1, 2, 3});  // the whole of seed 1
  // Seed 1's runs: random/closed (3) is the longest, then random/open (2), stream/closed (1)
  // and stream/open (0). Each of seed 2's points shares two values (pattern, policy) with
  // exactly one of them and at most one with the others: its prediction is that run's time.
  order.ended({&spec.points[0], 0, 0.04});
  order.ended({&spec.points[1], 0, 0.05});
  order.ended({&spec.points[2], 0, 0.11});
  order.ended({&spec.points[3], 0, 0.14});
  CHECK(take(order, 4) == std::vector<size_t>{7, 6, 5, 4});
}

TEST_CASE("sweep order: failed runs teach nothing, points sharing no value get the mean of all", "[sweep]") {
  Scratch s("sweep_order_failed");
  const SweepSpec spec = eight_points(s);
  PointOrder order(all(spec), 2);
  CHECK(take(order, 2) == std::vector<size_t>{0, 1});
  // A failed run of point 0 after 9 s: ignored, so nothing has ended and the order stays.
  order.ended({&spec.points[0], 2, 9.0});
  CHECK(order.take()->index == 2);
  // Point 1 (seed 1, stream, closed) ended after 0.1 s. Point 6 (seed 2, random, open) shares no
  // value with it and is predicted the mean of all ended runs (0.1 s), as are the others sharing
  // one or two values with point 1 only: all tie, and ties go to the lower index.
  order.ended({&spec.points[1], 0, 0.1});
  CHECK(order.take()->index == 3);
  // Point 3 (seed 1, random, closed) ended after 1 s. Point 7 (seed 2, random, closed) shares
  // two values with 3 and one with 1 → 1 s; point 6 (seed 2, random, open) one with 3, none
  // with 1 → 1 s; point 5 (seed 2, stream, closed) two with 1 → 0.1 s; point 4 (seed 2, stream,
  // open) one with 1, none with 3 → 0.1 s.
  order.ended({&spec.points[3], 0, 1.0});
  CHECK(take(order, 4) == std::vector<size_t>{6, 7, 4, 5});
}

TEST_CASE("sweep order: only the last `window` points are reordered", "[sweep]") {
  Scratch s("sweep_order_window");
  const SweepSpec spec = eight_points(s);
  PointOrder order(all(spec), 4, 3);
  CHECK(take(order, 2) == std::vector<size_t>{0, 1});
  // Points 0 and 1 ended, 1 (seed 1, stream, closed) the longer. Points 2–4 still go in index
  // order (more than 3 are left), however long point 3 or 5 is predicted.
  order.ended({&spec.points[0], 0, 0.01});
  order.ended({&spec.points[1], 0, 1.0});
  CHECK(take(order, 3) == std::vector<size_t>{2, 3, 4});
  // The last three: 5 (seed 2, stream, closed) shares two values with 1 → 1 s; 6 (seed 2,
  // random, open) one with 0 → 0.01 s; 7 (seed 2, random, closed) one with 1 → 1 s.
  CHECK(take(order, 3) == std::vector<size_t>{5, 7, 6});
  CHECK(order.empty());
}
