// The Verilated XNOR-accumulate column against the arithmetic it stands for, with seeded
// random stimulus: popcount(XNOR(x, w)) and its comparison with a threshold, bit-exact,
// and the cycle count the block's documentation derives.
#include <catch2/catch.hpp>
#include <systemc>

#include <bitset>
#include <random>

#include "Vxnor_column.h"

using namespace sc_core;

namespace {

// LANES = 64, ROWS_PER_STEP = 16 (the RTL defaults): ceil(64/16) = 4 charge-sharing steps
// plus one compare cycle = 5 cycles from the start edge to done.
constexpr int kLatency = 64 / 16 + 1;

struct Bench : sc_module {
  sc_clock clk{"clk", 1, SC_NS};
  sc_signal<bool> rst{"rst"}, start{"start"}, busy{"busy"}, done{"done"}, sign_out{"sign_out"}, readout{"readout"};
  sc_signal<bool> add_valid{"add_valid"}, add_first{"add_first"}, a_bit{"a_bit"}, b_bit{"b_bit"}, sum_bit{"sum_bit"};
  sc_signal<uint64_t> x{"x"}, w{"w"};
  sc_signal<uint32_t> threshold{"threshold"}, count{"count"}, value{"value"};
  Vxnor_column dut{"dut"};
  uint64_t seed;
  int trials = 0, mismatches = 0, latency_errors = 0, readout_errors = 0;
  int add_trials = 0, add_mismatches = 0, last_cycles = 0;

  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, uint64_t s) : sc_module(n), seed(s) {
    dut.clk(clk);
    dut.rst(rst);
    dut.start(start);
    dut.x(x);
    dut.w(w);
    dut.threshold(threshold);
    dut.busy(busy);
    dut.done(done);
    dut.count(count);
    dut.sign_out(sign_out);
    dut.readout(readout);
    dut.value(value);
    dut.add_valid(add_valid);
    dut.add_first(add_first);
    dut.a_bit(a_bit);
    dut.b_bit(b_bit);
    dut.sum_bit(sum_bit);
    SC_THREAD(drive);
  }

  void tick() { wait(clk.posedge_event()); }

  void drive() {
    std::mt19937_64 rng(seed);
    rst = true;
    tick();
    tick();
    rst = false;
    for (int t = 0; t < 200; ++t) {
      const uint64_t xv = rng(), wv = rng();
      const uint32_t th = static_cast<uint32_t>(rng() % 65);
      // Every other trial reads the count out: 7 successive-approximation comparisons
      // (⌈log2 65⌉ bits, MSB first) in place of the single compare cycle.
      const bool ro = t % 2 == 1;
      x = xv;
      w = wv;
      threshold = th;
      readout = ro;
      start = true;
      tick();
      start = false;
      // A thread reading signals at an edge sees the values from before that edge, so the
      // edge at which done is first seen is one after the edge that set it.
      int edges = 0;
      while (!done.read() && edges < 100) {
        tick();
        ++edges;
      }
      const int cycles = edges - 1;
      // A weight bit 1 keeps x, 0 takes ~x: XNOR; the column counts the kept ones.
      const uint32_t expect = static_cast<uint32_t>(std::bitset<64>(~(xv ^ wv)).count());
      ++trials;
      if (count.read() != expect || sign_out.read() != (expect >= th)) ++mismatches;
      if (ro && value.read() != expect) ++readout_errors;
      last_cycles = cycles;
      if (cycles != (ro ? kLatency - 1 + 7 : kLatency)) ++latency_errors;
    }
    // Bit-serial add of two 16-bit numbers, LSB first, result bits one cycle later.
    for (int t = 0; t < 50; ++t) {
      const uint32_t a = static_cast<uint32_t>(rng() & 0xffff), b = static_cast<uint32_t>(rng() & 0xffff);
      uint32_t sum = 0;
      for (int bit = 0; bit < 17; ++bit) {
        add_valid = true;
        add_first = bit == 0;
        a_bit = (a >> bit) & 1;
        b_bit = (b >> bit) & 1;
        tick();
        wait(SC_ZERO_TIME);
        sum |= static_cast<uint32_t>(sum_bit.read()) << bit;
      }
      add_valid = false;
      ++add_trials;
      if (sum != a + b) ++add_mismatches;
    }
    sc_stop();
  }
};

}  // namespace

TEST_CASE("cosim: Verilated XNOR column matches popcount/threshold and its cycle count", "[cosim][pim]") {
  Bench bench("bench", 42);
  sc_start();
  CHECK(bench.trials == 200);
  CHECK(bench.mismatches == 0);
  INFO("cycles " << bench.last_cycles);
  CHECK(bench.latency_errors == 0);
  CHECK(bench.readout_errors == 0);
  CHECK(bench.add_trials == 50);
  CHECK(bench.add_mismatches == 0);
}
