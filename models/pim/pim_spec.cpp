#include "models/pim/pim_spec.h"

#include "models/pim/charge.h"
#include "models/pim/rtl_column.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/core/binder.h"

namespace bpsim::pim {

unsigned PimSpec::second_act_cycles() const {
  return static_cast<unsigned>(std::ceil(second_act_ns / ddr.tck_ns - 1e-9));
}

unsigned PimSpec::units_per_rank() const { return std::min(banks * subarray_parallelism, max_active_per_rank); }

namespace {

const config::Binder<PimSpec>& pim_binder() {
  static const config::Binder<PimSpec> m = [] {
    config::Binder<PimSpec> m("pim",
                              "DRAM that computes in its subarrays (timing and organisation from the memory: preset)");
    m.integer("subarrays_per_bank", &PimSpec::subarrays_per_bank, "",
              "subarrays per bank; rows per subarray = memory rows / this")
        .def(64)
        .range(1, 1 << 16);
    m.integer("compute_rows", &PimSpec::compute_rows, "rows",
              "reserved compute rows per subarray (T0..; the adder needs 6)")
        .def(6)
        .range(6, 64);
    m.integer("dcc_rows", &PimSpec::dcc_rows, "rows", "reserved dual-contact rows per subarray (NOT)")
        .def(2)
        .range(2, 16);
    m.integer("constant_rows", &PimSpec::constant_rows, "rows", "reserved all-0 / all-1 rows per subarray")
        .def(2)
        .range(2, 16);
    m.integer("offset_rows", &PimSpec::offset_rows, "rows",
              "reserved offset-voltage rows (sense threshold) per subarray")
        .def(1)
        .range(1, 64);
    m.integer("max_rows_per_step", &PimSpec::max_rows_per_step, "rows",
              "rows one charge-sharing step connects (timing only: the cells one sense resolves follow from the "
              "charge physics, rows_per_sense)")
        .def(16)
        .range(1, 1 << 16);
    m.boolean("overlapped_aap", &PimSpec::overlapped_aap,
              "issue the second ACT of an AAP early (Ambit) instead of after tRAS")
        .def(true);
    m.real("second_act_ns", &PimSpec::second_act_ns, "ns", "delay of the overlapped second ACT (Ambit: 4 ns)")
        .def(4.0)
        .positive();
    m.boolean("obey_tfaw", &PimSpec::obey_tfaw, "compute activations obey tFAW and tRRD (PRADA argues they need not)")
        .def(true);
    m.integer("banks", &PimSpec::banks, "", "banks per rank that compute (0: all of the memory preset's banks)")
        .def(0)
        .range(0, 1 << 16);
    m.integer("subarray_parallelism", &PimSpec::subarray_parallelism, "", "subarrays of one bank computing at once")
        .def(1)
        .range(1, 1 << 16);
    m.integer("max_active_per_rank", &PimSpec::max_active_per_rank, "",
              "power limit: subarrays activating at once per rank")
        .def(16)
        .range(1, 1 << 20);
    m.integer("gradient_bits", &PimSpec::gradient_bits, "bits", "width of gradients in bit-serial arithmetic (2..32)")
        .def(8)
        .range(1, 64);
    m.integer("latent_bits", &PimSpec::latent_bits, "bits", "width of latent (real-valued) weights (2..32)")
        .def(16)
        .range(1, 64);
    m.choice("host_work", &PimSpec::host_work, kHostWorkNames,
             "non-binary elementwise ops: on the host (traffic counted) or bit-serial in DRAM")
        .def("host");
    m.real("host_gflops", &PimSpec::host_gflops, "GFLOP/s",
           "peak FP32 rate of the host that runs non-binary ops: a host op takes max(its DRAM traffic, FLOPs / this), "
           "2 FLOPs per MAC (default: Intel Core i7-6700K, 4 cores x 4.0 GHz x 32 FP32 FLOP/cycle from two 256-bit FMA "
           "units)")
        .def(512.0)
        .range(1, 1e6);
    m.choice("backend", &PimSpec::rtl_backend, config::kBackendNames,
             "model: the step formula; rtl: every XNOR-accumulate runs on the Verilated 64-row column "
             "(rtl/pim/xnor_column.sv, 16 rows per step) with seeded operands, its step cycles used")
        .def("model");
    m.choice("forward_mapping", &PimSpec::forward_mapping, kForwardMappingNames,
             "binary forward: weight_selected (the weight bit picks the stored x or not-x row: Micron's charge-domain "
             "scheme), ambit_xnor (operands laid out per lane, Ambit XNOR), auto (per layer, the one of fewer "
             "estimated cycles)")
        .def("weight_selected");
    m.choice("readout", &PimSpec::readout, kReadoutNames,
             "how a binary forward reads its counts: charge (one sense of the sign, or successive approximation "
             "against per-lane reference cells), bit_serial (SIMDRAM popcount), auto (per op, fewer estimated cycles)")
        .def("auto");
    m.real("cell_ff", &PimSpec::cell_ff, "fF", "DRAM cell capacitance C_c (charge-domain accumulate)")
        .def(24.0)
        .range(1, 1000);
    m.real("bitline_ff", &PimSpec::bitline_ff, "fF", "bitline capacitance C_b (charge-domain accumulate)")
        .def(96.0)
        .range(1, 10000);
    m.real("array_volts", &PimSpec::array_volts, "V", "bitline swing: a cell holds this or 0 V, precharge at half")
        .def(1.2)
        .range(0.1, 5);
    m.real("sense_offset_mv", &PimSpec::sense_offset_mv, "mV",
           "standard deviation of the sense amplifier's Gaussian input offset")
        .def(10.0)
        .range(0.01, 1000);
    m.choice("wordline_policy", &PimSpec::wordline_policy, kWordlinePolicyNames,
             "open: wordlines of earlier charge-sharing steps stay open (all cells of a sense share); close: each "
             "step shares with the bitline alone (earlier cells attenuated; a sense kept within one step)")
        .def("open");
    m.real("target_sense_error", &PimSpec::target_sense_error, "",
           "largest accepted probability that one sense decides wrongly (count next to the threshold)")
        .def("1e-6")  // as text: the double prints as 9.9999999999999995e-07
        .range(1e-15, 0.5);
    m.integer("rows_per_sense", &PimSpec::rows_per_sense, "rows",
              "cells one charge-domain sense resolves (0: the largest within target_sense_error; a larger value is "
              "refused)")
        .def(0)
        .range(0, 1 << 16);
    return m;
  }();
  return m;
}

}  // namespace

std::shared_ptr<const config::Schema> pim_schema() { return pim_binder().schema(); }

PimSpec parse_pim_spec(const config::Values& v, const memory::DdrSpec& ddr) {
  PimSpec s = pim_binder().parse(v);
  s.ddr = ddr;
  if (ddr.rows % s.subarrays_per_bank != 0 || ddr.rows < s.subarrays_per_bank)
    throw v.error("subarrays_per_bank",
                  "must divide the memory preset's " + std::to_string(ddr.rows) + " rows per bank");
  s.rows_per_subarray = static_cast<unsigned>(ddr.rows / s.subarrays_per_bank);
  s.lanes = ddr.row_bytes() * 8;
  if (s.reserved_rows() + 2 > s.rows_per_subarray)
    throw v.error("compute_rows", "reserved rows (" + std::to_string(s.reserved_rows()) +
                                      ") leave fewer than 2 data rows in a subarray of " +
                                      std::to_string(s.rows_per_subarray) + " rows");
  if (s.max_rows_per_step > s.data_rows())
    throw v.error("max_rows_per_step", "a charge-sharing step cannot connect " + std::to_string(s.max_rows_per_step) +
                                           " rows: a subarray has " + std::to_string(s.data_rows()) +
                                           " data rows beyond its " + std::to_string(s.reserved_rows()) +
                                           " reserved rows");
  if (s.second_act_ns > ddr.tras * ddr.tck_ns)
    throw v.error("second_act_ns", "must not exceed tRAS (" + std::to_string(ddr.tras * ddr.tck_ns) + " ns)");
  if (s.banks == 0) s.banks = ddr.banks();  // 0: all of them
  if (s.banks > ddr.banks())
    throw v.error("banks", "exceeds the memory preset's " + std::to_string(ddr.banks()) + " banks per rank");
  if (s.subarray_parallelism > s.subarrays_per_bank)
    throw v.error("subarray_parallelism", "exceeds subarrays_per_bank (" + std::to_string(s.subarrays_per_bank) + ")");
  // The micro-programs are generated for 2..32-bit operands (SIMDRAM evaluates 8..64; we
  // keep accumulators, which are wider than their operands, within 64 bits).
  for (const auto& [key, bits] : {std::pair{"gradient_bits", s.gradient_bits}, {"latent_bits", s.latent_bits}})
    if (bits < 2 || bits > 32)
      throw v.error(key,
                    "unsupported width " + std::to_string(bits) + ": the bit-serial micro-programs support 2..32 bits");
  if (s.rtl_backend && s.max_rows_per_step != RtlColumn::kRowsPerStep)
    throw v.error("backend", "rtl needs max_rows_per_step " + std::to_string(RtlColumn::kRowsPerStep) +
                                 " (the verilated column's rows per charge-sharing step), not " +
                                 std::to_string(s.max_rows_per_step));
  const ChargeModel charge(s);
  const uint64_t reliable = charge.max_reliable_rows(s.data_rows());
  if (reliable == 0)
    throw v.error("sense_offset_mv",
                  "not even one cell per sense is reliable: " + charge.describe(1) + ", above target_sense_error");
  if (s.rows_per_sense > reliable)
    throw v.error("rows_per_sense",
                  std::to_string(s.rows_per_sense) + " cells per sense: " + charge.describe(s.rows_per_sense) +
                      ", above target_sense_error; at most " + std::to_string(reliable) + " cells are reliable");
  return s;
}

}  // namespace bpsim::pim
