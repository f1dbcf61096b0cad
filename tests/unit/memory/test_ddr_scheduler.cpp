// The per-bank indexed FR-FCFS scheduler against the queue scan it replaced: random request
// streams (patterns, read fractions, page and scheduler policies, queue depths, arrival
// rates, three presets) must give the same command sequence, completions and counters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>

#include "tests/unit/memory/ddr_test_util.h"

using namespace bpsim;
using namespace bpsim::memory;
using namespace bpsim::memory::testing;

namespace {

struct Arrival {
  uint64_t cycle;
  DdrRequest r;
};

struct Outcome {
  std::vector<DdrCommand> commands;
  std::vector<std::pair<uint64_t, uint64_t>> done;  ///< (id, cycle), in completion order
  DdrCounters c;
};

/// Drives one channel as DramSystem does: a request enters at its arrival cycle when the
/// queue has room (an idle channel first catches up on refresh), and time jumps from one
/// issuable command or arrival to the next.
Outcome run(const DdrSpec& s, const std::vector<Arrival>& in, bool scan) {
  Outcome o;
  DdrChannel ch(s, o.c);
  ch.use_queue_scan(scan);
  ch.record_commands(&o.commands);
  const AddressMapper m(s);
  std::vector<DdrCompletion> out;
  uint64_t now = 0;
  size_t next = 0;
  while (next < in.size() || !ch.idle()) {
    while (next < in.size() && in[next].cycle <= now && !ch.full()) {
      if (ch.idle()) ch.idle_until(now);
      DdrRequest r = in[next++].r;
      r.a = m.decode(r.addr);
      r.arrive = now;
      ch.enqueue(r);
    }
    uint64_t t = ch.next_issue(now, now);
    if (next < in.size() && !ch.full()) t = std::min(t, in[next].cycle);
    REQUIRE(t != UINT64_MAX);
    if (t > now) {
      now = t;  // as the scheduler's wait: ask again at the new cycle
      continue;
    }
    out.clear();
    ch.issue(now, out);
    for (const auto& d : out) o.done.emplace_back(d.id, d.done);
    ++now;
  }
  return o;
}

enum class Pattern { stream, random, hot };

/// `n` requests: sequential bursts, uniform addresses, or bursts near a few random rows
/// (row hits and conflicts); reads with probability `reads`; arrival gaps uniform in
/// [0, 2 gap] cycles (0: all at once, saturating).
std::vector<Arrival> make_stream(const DdrSpec& s, Pattern p, double reads, uint64_t gap, size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  const uint64_t bb = s.burst_bytes(), bursts = s.capacity_bytes() / bb;
  std::vector<uint64_t> hot(2 + rng() % 7);
  for (auto& h : hot) h = rng() % bursts;
  const uint64_t base = rng() % bursts;
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  std::vector<Arrival> v;
  uint64_t cycle = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t burst = 0;
    switch (p) {
      case Pattern::stream: burst = base + i; break;
      case Pattern::random: burst = rng() % bursts; break;
      case Pattern::hot: burst = hot[rng() % hot.size()] + rng() % 64; break;
    }
    DdrRequest r = coin(rng) < reads ? rd(i + 1, burst % bursts * bb) : wr(i + 1, burst % bursts * bb);
    if (gap > 0) cycle += rng() % (2 * gap + 1);
    v.push_back({cycle, r});
  }
  return v;
}

}  // namespace

TEST_CASE("ddr scheduler: the per-bank index issues the queue scan's commands", "[memory][ddr_scheduler]") {
  const char* presets[] = {"ddr4_2400.yaml", "ddr3_1600.yaml", "hbm2.yaml"};
  const char* pages[] = {"open", "closed"};
  const char* schedulers[] = {"fr_fcfs", "fcfs"};
  const unsigned depths[] = {1, 4, 32, 64};
  const Pattern patterns[] = {Pattern::stream, Pattern::random, Pattern::hot};
  const double read_fractions[] = {1.0, 0.67, 0.3, 0.0};
  // 0: saturating; 3: near the column rate; 40: mostly idle; 5000: idle across refreshes.
  const uint64_t gaps[] = {0, 3, 40, 5000};
  std::set<char> kinds;  // commands seen over all streams
  size_t differ_by_policy = 0;
  // Every preset × page policy × scheduler × depth (48); pattern, reads and rate vary too.
  for (uint32_t k = 0; k < 96; ++k) {
    const std::string preset_file = presets[k % 3];
    const std::string page = pages[k / 3 % 2], sched = schedulers[k / 6 % 2];
    const unsigned depth = depths[k / 12 % 4];
    const Pattern pattern = patterns[k % 3 == 0 ? k / 48 : (k + k / 48) % 3];
    const double reads = read_fractions[(k / 2 + k / 48) % 4];
    const uint64_t gap = gaps[(k / 3 + k / 48) % 4];
    const DdrSpec s =
        ddr_spec_from(preset_values(preset_file, {"memory.page_policy=" + page, "memory.scheduler=" + sched,
                                                  "memory.queue_depth=" + std::to_string(depth), "memory.channels=1"}));
    const size_t n = gap >= 5000 ? 300 : 2500;
    const auto stream = make_stream(s, pattern, reads, gap, n, 1000 + k);
    INFO("case " << k << ": " << preset_file << " " << page << " " << sched << " depth " << depth << " pattern "
                 << int(pattern) << " reads " << reads << " gap " << gap);
    const Outcome scan = run(s, stream, true), index = run(s, stream, false);
    REQUIRE(scan.done.size() == n);
    const auto mismatch =
        std::mismatch(scan.commands.begin(), scan.commands.end(), index.commands.begin(), index.commands.end(),
                      [](const DdrCommand& a, const DdrCommand& b) { return a == b; });
    if (mismatch.first != scan.commands.end() || mismatch.second != index.commands.end()) {
      auto text = [](auto it, auto end) {
        if (it == end) return std::string("none");
        return std::string(1, it->kind) + " at " + std::to_string(it->cycle) + " rank " + std::to_string(it->rank) +
               " bank " + std::to_string(it->bank) + " request " + std::to_string(it->request);
      };
      FAIL("command " << mismatch.first - scan.commands.begin() << ": scan "
                      << text(mismatch.first, scan.commands.end()) << ", index "
                      << text(mismatch.second, index.commands.end()));
    }
    CHECK(scan.done == index.done);
    using C = DdrCounters;
    for (uint64_t C::*f : {&C::act, &C::pre, &C::rd, &C::wr, &C::ref, &C::row_hits, &C::row_misses, &C::row_conflicts,
                           &C::read_bytes, &C::write_bytes, &C::requests, &C::latency_cycles})
      CHECK(scan.c.*f == index.c.*f);
    for (const auto& c : scan.commands) kinds.insert(c.kind);
    if (sched == "fr_fcfs" && depth > 1) {
      // The same stream under FCFS: the log must see the policy's decisions.
      const DdrSpec f = ddr_spec_from(
          preset_values(preset_file, {"memory.page_policy=" + page, "memory.scheduler=fcfs",
                                      "memory.queue_depth=" + std::to_string(depth), "memory.channels=1"}));
      if (run(f, stream, false).commands != index.commands) ++differ_by_policy;
    }
  }
  // The streams exercised every command (A, P, R, W and refresh F) and the comparison is
  // sensitive to the scheduling policy.
  CHECK(kinds == std::set<char>{'A', 'F', 'P', 'R', 'W'});
  CHECK(differ_by_policy > 0);
}
