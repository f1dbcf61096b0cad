// Pipeline schedules, the gradient all-reduce's overlap with the backward pass and the stage
// cuts, as plain arithmetic (sim/system/pipeline.h, parallel.h), each case derived by hand.
#include <catch2/catch.hpp>

#include "sim/system/parallel.h"
#include "sim/system/pipeline.h"

using namespace bpsim;
using namespace bpsim::system;

namespace {

std::string orders(Schedule s, uint32_t P, uint32_t stage, uint32_t M) {
  std::string text;
  for (const StageTask& t : stage_order(s, P, stage, M))
    text += (t.backward ? "B" : "F") + std::to_string(t.microbatch) + " ";
  return text;
}

PipelineInput equal_stages(Schedule s, uint32_t P, uint32_t M, double f, double b) {
  PipelineInput in;
  in.schedule = s;
  in.microbatches = M;
  in.stages.assign(P, StageCost{f, b});
  in.boundaries.assign(P - 1, StageBoundary{});
  return in;
}

}  // namespace

TEST_CASE("pipeline: each schedule's task order per stage", "[system][pipeline]") {
  // GPipe: every forward, then the backwards newest first (Huang et al. 2019, fig. 2c).
  CHECK(orders(Schedule::gpipe, 4, 0, 3) == "F0 F1 F2 B2 B1 B0 ");
  // 1F1B: stage s warms up with P−s−1 forwards (Narayanan et al. 2021, fig. 4 top).
  CHECK(orders(Schedule::one_f_one_b, 4, 0, 4) == "F0 F1 F2 F3 B0 B1 B2 B3 ");
  CHECK(orders(Schedule::one_f_one_b, 4, 2, 4) == "F0 F1 B0 F2 B1 F3 B2 B3 ");
  CHECK(orders(Schedule::one_f_one_b, 4, 3, 4) == "F0 B0 F1 B1 F2 B2 F3 B3 ");
  // Fewer micro-batches than the warm-up wants: all forwards, then the backwards.
  CHECK(orders(Schedule::one_f_one_b, 4, 0, 2) == "F0 F1 B0 B1 ");
}

TEST_CASE("pipeline: equal stages give the bubble (P−1)/(M+P−1)", "[system][pipeline]") {
  // P = 4 equal stages, M = 8, forward 1 s, backward 2 s, free transfers. GPipe: the last
  // stage's last forward ends at (M+P−1)·f = 11; stage 0's last backward at
  // 11 + (M+P−1)·b = 33 = (M+P−1)(f+b). Busy per stage M(f+b) = 24:
  // bubble 1 − 4·24/(4·33) = 9/33 = 3/11 = (P−1)/(M+P−1).
  for (Schedule s : {Schedule::gpipe, Schedule::one_f_one_b}) {
    const PipelineResult r = simulate_pipeline(equal_stages(s, 4, 8, 1, 2));
    INFO(config::enum_name(kPipelineScheduleNames, s));
    CHECK(r.end_s == Approx(33));
    CHECK(r.bubble_fraction == Approx(3.0 / 11));
    CHECK(r.stage_busy_s[2] == Approx(24));
  }
  // Held micro-batches: GPipe keeps all M on every stage, 1F1B at most P−s on stage s.
  const PipelineResult g = simulate_pipeline(equal_stages(Schedule::gpipe, 4, 8, 1, 2));
  const PipelineResult o = simulate_pipeline(equal_stages(Schedule::one_f_one_b, 4, 8, 1, 2));
  CHECK(g.max_in_flight == std::vector<uint32_t>{8, 8, 8, 8});
  CHECK(o.max_in_flight == std::vector<uint32_t>{4, 3, 2, 1});
}

TEST_CASE("pipeline: 1F1B on two stages, task by task", "[system][pipeline]") {
  // P = 2, M = 2, f = b = 1. Stage 0: F0 0–1, F1 1–2, B0 3–4 (after stage 1's B0), B1 5–6.
  // Stage 1: F0 1–2, B0 2–3, F1 3–4, B1 4–5. End 6 = (M+P−1)(f+b); bubble 1 − 8/12 = 1/3.
  const PipelineResult r = simulate_pipeline(equal_stages(Schedule::one_f_one_b, 2, 2, 1, 1));
  CHECK(r.end_s == Approx(6));
  CHECK(r.stage_end_s == std::vector<double>{6, 5});
  CHECK(r.last_backward_s == std::vector<double>{5, 4});
  CHECK(r.bubble_fraction == Approx(1.0 / 3));
}

TEST_CASE("pipeline: transfers delay the next stage and share their links", "[system][pipeline]") {
  // One micro-batch, f = b = 1, activation 0.5 s, gradient 0.25 s: stage 0 F 0–1, stage 1
  // F 1.5–2.5 and B 2.5–3.5, stage 0 B 3.75–4.75.
  PipelineInput in = equal_stages(Schedule::gpipe, 2, 1, 1, 1);
  in.boundaries[0] = {0.5, 0.25, {0}, {1}};
  PipelineResult r = simulate_pipeline(in);
  CHECK(r.end_s == Approx(4.75));
  CHECK(r.transfer_s == Approx(0.75));
  REQUIRE(r.transfers.size() == 2);
  CHECK(r.transfers[1].gradient);
  CHECK(r.transfers[1].start_s == Approx(3.5));
  // The last task (stage 0's backward) waited for the gradient's transfer from stage 1's.
  CHECK(r.tasks.back().transfer == 1);
  CHECK(r.tasks[size_t(r.tasks.back().after)].stage == 1);
  // Two micro-batches, GPipe, activation 1.5 s on link 0: F0's transfer 1–2.5, F1's waits for
  // the link, 2.5–4. Stage 1: F0 2.5–3.5, F1 4–5, B1 5–6, B0 6–7; stage 0 (free gradient
  // transfers): B1 6–7, B0 7–8.
  in = equal_stages(Schedule::gpipe, 2, 2, 1, 1);
  in.boundaries[0] = {1.5, 0, {0}, {}};
  r = simulate_pipeline(in);
  CHECK(r.end_s == Approx(8));
  CHECK(r.tasks.size() == 8);
}

TEST_CASE("pipeline: bad shapes are refused", "[system][pipeline]") {
  PipelineInput in = equal_stages(Schedule::gpipe, 2, 1, 1, 1);
  in.boundaries.clear();
  CHECK_THROWS_AS(simulate_pipeline(in), std::invalid_argument);
  in = equal_stages(Schedule::gpipe, 2, 1, 1, 1);
  in.microbatches = 0;
  CHECK_THROWS_AS(simulate_pipeline(in), std::invalid_argument);
}

namespace {

// fwd 1 s; two backward ops each finishing one gradient (1 s each); two optimizer ops, each
// waiting for one gradient (0.5 s each). Gradients of 100 bytes; an all-reduce takes 1.5 s
// per 100 bytes.
std::vector<TimedOp> two_grads() {
  return {{1, {}, {}, 0}, {1, {0}, {}, 0}, {1, {1}, {}, 0}, {0.5, {}, {0}, 0}, {0.5, {}, {1}, 0}};
}
double per_100_bytes(uint64_t b) { return 1.5 * double(b) / 100; }

}  // namespace

TEST_CASE("data parallel: buckets all-reduced as the backward finishes them", "[system][data_parallel]") {
  const std::vector<uint64_t> bytes{100, 100};
  // Overlap, 100-byte buckets: bucket 0 (g0) ready at 2, all-reduced 2–3.5; bucket 1 (g1)
  // ready at 3, waits for the fabric, 3.5–5. Optimizers: 3.5–4 and 5–5.5. Compute 4 s,
  // communication 3 s, waiting 1.5 s.
  AllReduceTimeline r = allreduce_timeline(two_grads(), bytes, 100, true, 0, per_100_bytes);
  REQUIRE(r.buckets.size() == 2);
  CHECK(r.buckets[0].start_s == Approx(2));
  CHECK(r.buckets[1].start_s == Approx(3.5));
  CHECK(r.end_s == Approx(5.5));
  CHECK(r.compute_s == Approx(4));
  CHECK(r.communication_s == Approx(3));
  CHECK(r.waiting_s == Approx(1.5));
  CHECK(r.op_start_s[4] == Approx(5));
  // The chain that ends last: op 4 waited for bucket 1, which waited for bucket 0 on the
  // fabric, which started after op 1 (its gradient's writer), after op 0.
  CHECK(r.critical == std::vector<int64_t>{4, -2, -1, 1, 0});
  // Without overlap both start after the backward (3): 3–4.5, 4.5–6; optimizers 4.5–5, 6–6.5.
  r = allreduce_timeline(two_grads(), bytes, 100, false, 0, per_100_bytes);
  CHECK(r.buckets[0].start_s == Approx(3));
  CHECK(r.end_s == Approx(6.5));
  // One 150-byte bucket holds both (200 B, 3 s): 3–6; optimizers 6–6.5, 6.5–7. From t0 = 10,
  // everything 10 s later.
  r = allreduce_timeline(two_grads(), bytes, 150, true, 10, per_100_bytes);
  REQUIRE(r.buckets.size() == 1);
  CHECK(r.buckets[0].bytes == 200);
  CHECK(r.end_s == Approx(17));
  // One replica: no all-reduce, the ops back to back (4 s).
  r = allreduce_timeline(two_grads(), bytes, 100, true, 0, {});
  CHECK(r.buckets.empty());
  CHECK(r.end_s == Approx(4));
  CHECK(r.waiting_s == Approx(0));
}

TEST_CASE("data parallel: an op waiting for a gradient nobody writes is refused", "[system][data_parallel]") {
  std::vector<TimedOp> ops = two_grads();
  ops[3].grads_waited = {1};
  ops[4].grads_waited = {1};
  ops[2].grads_written = {};
  CHECK_THROWS_AS(allreduce_timeline(ops, {100, 100}, 100, true, 0, per_100_bytes), std::invalid_argument);
}

TEST_CASE("pipeline stages: contiguous cuts that minimise the largest stage", "[system][pipeline]") {
  // {1,2,3,4,5} in 2: {1,2,3 | 4,5} has largest 9, {1,2,3,4 | 5} 10: cut before unit 3.
  CHECK(balanced_cuts({1, 2, 3, 4, 5}, 2) == std::vector<size_t>{0, 3});
  // in 3: {1,2,3 | 4 | 5}, largest 6 (any other has a run of 7 or more).
  CHECK(balanced_cuts({1, 2, 3, 4, 5}, 3) == std::vector<size_t>{0, 3, 4});
  CHECK(balanced_cuts({1, 1, 1, 1}, 2) == std::vector<size_t>{0, 2});
  CHECK(balanced_cuts({1, 1}, 2) == std::vector<size_t>{0, 1});
  CHECK_THROWS_AS(balanced_cuts({1, 1}, 3), std::invalid_argument);
}
