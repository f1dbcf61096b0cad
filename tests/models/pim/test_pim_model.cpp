// The pim model end to end (SystemC): a small binary layer with hand-checked command counts,
// the binary MLP training step (lane utilisation, interface bytes), and bad input.
#include <catch2/catch.hpp>

#include <cstdio>

#include "models/pim/mapper.h"
#include "models/pim/pim_model.h"
#include "pim_test_util.h"
#include "sim/core/error.h"
#include "sim/memory/dram_system.h"
#include "tests/models/record_log.h"

using namespace bpsim;
using namespace bpsim::pim;

TEST_CASE("pim: small binary layer with hand-checked command counts", "[pim]") {
  // Forward xnor_gemm M=64 samples, K=100 inputs, N=4 outputs, default device: 1024-row
  // subarrays, 11 reserved → 1013 data rows ≥ 2·100, so one slice (x and w rows), in the
  // Ambit-XNOR mapping. A sense offset σ of 1 mV makes 100 cells one reliable sense
  // (ΔV(100) = 28.8/2496 = 11.5 mV, Φ(−5.77) = 4e-9 ≤ 1e-6), and the op writes no tensor:
  // its sign is one charge-domain accumulate.
  auto g = std::make_shared<workload::OpGraph>();
  workload::Op op;
  op.name = "fc.fwd";
  op.kind = workload::OpKind::xnor_gemm;
  op.dtype = workload::DType::binary;
  op.gemm = {64, 4, 100, 1};
  g->ops.push_back(op);
  const memory::DdrSpec ddr = testing::ddr4_2400();
  memory::DramSystem mem("mem", ddr);
  PimModel pim("pim", parse_pim_spec(testing::pim_values("{forward_mapping: ambit_xnor, sense_offset_mv: 1}"), ddr), g,
               mem, nullptr);
  const RecordLog log(pim);
  sc_core::sc_start();
  const OpRecord& r = log.records().at(0);
  const auto& c = r.extra["commands"];
  // Lanes: one tile of Mt = 64 samples × Nt = 4 outputs = 256 lanes (32 bytes, 1 burst)
  // of the 65,536; K = 100 ≤ 506 = 1013/2 data rows per input pair: one slice.
  // Layout: 100 x rows + 100 w rows, RowClone-PSM each (2 ACT, 2 PRE, 1 burst): 200 PSM,
  //   400 ACT, 400 PRE, 200 bursts.
  // XNOR in place: 100 × Ambit XNOR (5 AAP + 2 AP; 12 ACT, 7 PRE): 500 AAP, 200 AP,
  //   1200 ACT, 700 PRE.
  // One XNOR-accumulate for the tile: ⌈100/16⌉ = 7 sharing ACTs + 1 output-row ACT, 1 PRE.
  CHECK(c["aap"] == 500);
  CHECK(c["ap"] == 200);
  CHECK(c["psm_rows"] == 200);
  CHECK(c["psm_bursts"] == 200);
  CHECK(c["charge_shares"] == 7);
  CHECK(c["senses"] == 1);
  CHECK(c["act"] == 400 + 1200 + 8);
  CHECK(c["pre"] == 400 + 700 + 1);
  CHECK(r.extra["tiles"] == 1);
  CHECK(r.extra["lane_utilization"] == Approx(256.0 / 65536));
  // Cycles (2 ranks × 16 banks, tFAW 26, tRRD_S 4; AAP = tRAS 39 + ⌈4 ns/0.833⌉ = 5 + tRP 16
  // = 60, AP = 55, PSM = tRCD 16 + tCCD_L 6 + tRP 16 = 38; tFAW counts every wordline):
  //  each layout job: 50 rows per rank, 16 at once → 4 rounds; 32 ACTs → ⌈32/4⌉·26 = 208
  //    > 38: 832 each.
  //  XNOR: 4 rounds; 16·21 = 336 wordlines → 84·26 = 2184 > 5·60 + 2·55 = 410: 8736.
  //  accumulate: one, 7·16 + 39 + 5 + 16 = 172, but it raises 8 ACTs + 94 more rows (the
  //    100 selected rows, the offset row, the output row) = 102 wordlines → 26·26 = 676.
  CHECK(r.extra["compute_cycles"] == 832 + 832 + 8736 + 676);
  // The controller reads the 400 weight bits (50 bytes) it broadcasts; the host transposes
  // X (64·100 bits = 800 bytes read and written). A host computing the layer reads X (800 B)
  // and W (50 B) and writes Y (32 B): this tiny layer moves more in DRAM than on a host.
  CHECK(r.dram_read_bytes == 850);
  CHECK(r.dram_write_bytes == 800);
  CHECK(r.extra["host_baseline"]["read_bytes"] == 850);
  CHECK(r.extra["host_baseline"]["write_bytes"] == 32);
  CHECK(r.actions.count(memory::dram_actions().act) >= 1608);  // compute ACTs plus the interface read's
}

TEST_CASE("pim: binary MLP 784-4096-4096-10 batch 256 step", "[pim]") {
  // Speed is measured by scripts/bench_pim.sh, not here.
  // The Ambit-XNOR mapping, whose lanes hold (sample, output) pairs.
  auto g = testing::binary_mlp(256, {784, 4096, 4096, 10});
  const memory::DdrSpec ddr = testing::ddr4_2400();
  memory::DramSystem mem("mem", ddr);
  PimModel pim("pim", parse_pim_spec(testing::pim_values("{forward_mapping: ambit_xnor}"), ddr), g, mem, nullptr);
  const RecordLog log(pim);
  sc_core::sc_start();
  uint64_t act = 0, base = 0, iface = 0;
  for (const OpRecord& r : log.records()) {
    act += r.extra["row_activations"].get<uint64_t>();
    base += r.extra["host_baseline"]["read_bytes"].get<uint64_t>() +
            r.extra["host_baseline"]["write_bytes"].get<uint64_t>();
    iface += r.dram_read_bytes + r.dram_write_bytes;
  }
  std::printf("binary MLP step: %zu ops, %llu cycles (%.3f ms simulated), %llu ACTs, interface %llu B vs host %llu B\n",
              log.records().size(), (unsigned long long)pim.total_cycles(), pim.total_cycles() * ddr.tck_ns * 1e-6,
              (unsigned long long)act, (unsigned long long)iface, (unsigned long long)base);
  CHECK(log.records().size() == 3 + 2 + 3 + 3);  // 3 fwd, 2 dX, 3 dW, 3 updates
  CHECK(iface < base);                           // the point of computing in DRAM
  // Lane utilisation: fc1.fwd (256 × 4096 outputs) fills 16 tiles of 256 × 256 lanes: 1.
  // fc2.fwd (256 × 10): one tile of 2560 of 65,536 lanes. fc0.dw (784 × 4096): Mt = 784,
  // Nt = ⌊65536/784⌋ = 83, ⌈4096/83⌉ = 50 tiles: 784·4096/(50·65536) = 0.98.
  CHECK(log.records().at(1).extra["lane_utilization"] == Approx(1.0));
  CHECK(log.records().at(1).extra["tiles"] == 16);
  CHECK(log.records().at(2).extra["lane_utilization"] == Approx(2560.0 / 65536));
  CHECK(log.records().at(7).name == "fc0.dw");
  CHECK(log.records().at(7).extra["tiles"] == 50);
  CHECK(log.records().at(7).extra["lane_utilization"] == Approx(784.0 * 4096 / (50.0 * 65536)));
}

TEST_CASE("pim: bad input is an InputError naming the key", "[pim]") {
  const memory::DdrSpec ddr = testing::ddr4_2400();
  // 4096 subarrays of 16 rows: 11 reserved leave 5 data rows, fewer than 16 per step.
  CHECK_THROWS_WITH(parse_pim_spec(testing::pim_values("{subarrays_per_bank: 4096}"), ddr),
                    Catch::Contains("max_rows_per_step") && Catch::Contains("5 data rows"));
  CHECK_THROWS_WITH(parse_pim_spec(testing::pim_values("{gradient_bits: 40}"), ddr),
                    Catch::Contains("pim.yaml:1:") && Catch::Contains("unsupported width 40"));
  CHECK_THROWS_WITH(parse_pim_spec(testing::pim_values("{subarrays_per_bank: 3}"), ddr),
                    Catch::Contains("must divide"));
  CHECK_THROWS_WITH(testing::pim_values("{rows_per_stepp: 3}"), Catch::Contains("unknown key"));
  // A dX layer whose 8-bit gradients and 18-bit accumulator cannot share 5 data rows.
  const config::Values v = testing::pim_values("{subarrays_per_bank: 4096, max_rows_per_step: 4}");
  const PimSpec s = parse_pim_spec(v, ddr);
  auto g = testing::binary_mlp(256, {784, 1024, 10});
  const Mapper m(s, &v);
  CHECK_THROWS_WITH(m.map(g->ops.at(2), *g), Catch::Contains("does not fit") && Catch::Contains("fc1.dx"));
  workload::Op bad;
  bad.name = "b";
  bad.kind = workload::OpKind::bitwise;
  bad.detail = "implies";
  bad.elements = 10;
  CHECK_THROWS_WITH(m.map(bad, *g), Catch::Contains("'implies'"));
}

TEST_CASE("pim: bitwise op runs Ambit XNOR over its bits", "[pim]") {
  const PimSpec s = testing::pim_spec();
  workload::OpGraph g;
  workload::Op op;
  op.name = "x";
  op.kind = workload::OpKind::bitwise;
  op.detail = "xnor";
  op.elements = 3 * 65536 + 1;  // 4 rows of 65,536 lanes
  const OpPlan p = Mapper(s, nullptr).map(op, g);
  REQUIRE(p.jobs.size() == 1);
  CHECK(p.jobs[0].count == 4);
  CHECK(p.jobs[0].seq.aap == 5);  // Ambit XNOR: 5 AAP + 2 AP per row
  CHECK(p.jobs[0].seq.ap == 2);
}
