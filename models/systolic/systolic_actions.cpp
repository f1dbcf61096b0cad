#include "models/systolic/systolic_actions.h"

#include "models/systolic/mapper.h"

namespace bpsim::systolic {

namespace {
/// The one of four handles that belongs to a type (int8, fp16, bf16, fp32; binary as int8).
const Action& by_dtype(workload::DType d, const Action& int8, const Action& fp16, const Action& bf16,
                       const Action& fp32) {
  switch (d) {
    case workload::DType::fp32: return fp32;
    case workload::DType::bf16: return bf16;
    case workload::DType::fp16: return fp16;
    case workload::DType::int8:
    case workload::DType::binary: break;
  }
  return int8;
}
}  // namespace

const Action& SystolicActions::mac(workload::DType d) const {
  return by_dtype(d, mac_int8, mac_fp16, mac_bf16, mac_fp32);
}

const Action& SystolicActions::pe(workload::DType d) const { return by_dtype(d, pe_int8, pe_fp16, pe_bf16, pe_fp32); }

const Action& SystolicActions::sram_read(int o) const {
  return o == kInput ? sram_input_read : o == kWeight ? sram_weight_read : sram_output_read;
}

const Action& SystolicActions::sram_write(int o) const {
  return o == kInput ? sram_input_write : o == kWeight ? sram_weight_write : sram_output_write;
}

const SystolicActions& systolic_actions() {
  static const SystolicActions a;
  return a;
}

}  // namespace bpsim::systolic
