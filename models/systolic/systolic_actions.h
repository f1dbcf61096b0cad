#pragma once
/// The array's energy vocabulary, declared once: the actions it counts and the leakage
/// units of its parts (priced in configs/energy/45nm/systolic.yaml), as handles.
#include "sim/core/energy.h"
#include "sim/ir/ir.h"

namespace bpsim::systolic {

struct SystolicActions {
  Vocabulary vocabulary{"systolic"};
  const Action mac_int8 = vocabulary.add("mac_int8", "one int8 multiply with int32 accumulate");
  const Action mac_fp16 = vocabulary.add("mac_fp16", "one fp16 multiply with fp32 accumulate");
  const Action mac_bf16 = vocabulary.add("mac_bf16", "one bf16 multiply with fp32 accumulate");
  const Action mac_fp32 = vocabulary.add("mac_fp32", "one fp32 multiply-accumulate");
  const Action mac_gated =
      vocabulary.add("mac_gated", "one issued MAC whose multiplier and adder are power-gated (clock/residual)");
  const Action reg_write =
      vocabulary.add("reg_write", "one PE pipeline register write (forwarded operand or partial sum)");
  const Action stage_reg_write =
      vocabulary.add("stage_reg_write", "one partial sum latched at a pipeline-stage boundary");
  const Action stage_meta_write = vocabulary.add(
      "stage_meta_write", "one output-mask bit latched at a pipeline-stage boundary with its partial sum");
  const Action sram_input_read = vocabulary.add("sram_input_read_64b", "64-bit read of the input buffer");
  const Action sram_input_write = vocabulary.add("sram_input_write_64b", "64-bit write of the input buffer");
  const Action sram_weight_read = vocabulary.add("sram_weight_read_64b", "64-bit read of the weight buffer");
  const Action sram_weight_write = vocabulary.add("sram_weight_write_64b", "64-bit write of the weight buffer");
  const Action sram_output_read = vocabulary.add("sram_output_read_64b", "64-bit read of the output buffer");
  const Action sram_output_write = vocabulary.add("sram_output_write_64b", "64-bit write of the output buffer");
  const Action metadata_read =
      vocabulary.add("metadata_read_64b", "64-bit word of output-mask metadata read by the array controller");
  const Action vector_op = vocabulary.add("vector_op", "one element operation in the vector unit (fp32 add/mul class)");

  Vocabulary units{"systolic"};
  const Action pe_int8 = units.add("pe_int8", "one int8 PE (multiplier, accumulator, registers)");
  const Action pe_fp16 = units.add("pe_fp16", "one fp16 PE (multiplier, accumulator, registers)");
  const Action pe_bf16 = units.add("pe_bf16", "one bf16 PE (multiplier, accumulator, registers)");
  const Action pe_fp32 = units.add("pe_fp32", "one fp32 PE (multiplier, accumulator, registers)");
  const Action vector_lane = units.add("vector_lane", "one lane of the vector unit (an fp32 adder)");

  /// One MAC of a compute type (binary computes as int8, SystolicSpec::compute_dtype).
  const Action& mac(workload::DType d) const;
  /// One PE built for a type.
  const Action& pe(workload::DType d) const;
  /// Operand `o`'s buffer (mapper.h: kInput, kWeight, kOutput): one 64-bit read / write.
  const Action& sram_read(int o) const;
  const Action& sram_write(int o) const;
};
const SystolicActions& systolic_actions();

}  // namespace bpsim::systolic
