#pragma once
/// Mapper: a GEMM (M×K)·(K×N) onto an R×C array — which dimension lies along the rows,
/// the columns and time (SCALE-Sim's Sr, Sc, T), how many folds, and which operand bytes
/// move between DRAM, the buffers and the array under a fixed loop order. Pure C++.
#include <array>
#include <cstdint>

#include "models/systolic/systolic_params.h"

namespace bpsim::systolic {

/// ws: Sr=K, Sc=N, T=M; os: Sr=M, Sc=N, T=K; is: Sr=K, Sc=M, T=N (SCALE-Sim v2's mapping).
struct FoldMap {
  uint64_t sr = 0, sc = 0, t = 0;
  uint64_t rows = 0, cols = 0;      ///< array size
  uint64_t fr = 0, fc = 0;          ///< row folds, column folds
  uint64_t r_last = 0, c_last = 0;  ///< rows / columns used by the last row / column fold
  uint64_t folds() const { return fr * fc; }
  uint64_t r_eff() const { return sr < rows ? sr : rows; }  ///< rows used by a full fold
  uint64_t c_eff() const { return sc < cols ? sc : cols; }
};

FoldMap map_gemm(uint64_t m, uint64_t k, uint64_t n, Dataflow df, unsigned rows, unsigned cols);

enum Operand { kInput = 0, kWeight = 1, kOutput = 2 };
const char* operand_name(int o);

/// Which operand is stationary (Sr×Sc), streamed along the rows (Sr×T) or along the columns (Sc×T).
struct Roles {
  Operand rc, rt, ct;
};
Roles roles_of(Dataflow df);

struct OperandBytes {
  uint64_t dram_read = 0, dram_write = 0, sram_read = 0, sram_write = 0;
};

/// Bytes per operand for one GEMM instance. Loop order: column folds outside, row folds
/// inside, so the column-streamed operand's slice is reused over the row folds and the
/// row-streamed operand over the column folds when it fits its (half, if double
/// buffered) buffer; otherwise it is fetched again. Partial sums that do not fit spill.
struct Traffic {
  std::array<OperandBytes, 3> op{};
  uint64_t first_fold_read_bytes = 0;  ///< what must arrive before the first fold starts
  uint64_t last_fold_write_bytes = 0;  ///< what leaves after the last fold ends
  uint64_t spill_bytes = 0;            ///< partial sums written to and read back from DRAM
  uint64_t dram_read() const { return op[0].dram_read + op[1].dram_read + op[2].dram_read; }
  uint64_t dram_write() const { return op[0].dram_write + op[1].dram_write + op[2].dram_write; }
  uint64_t sram_read() const { return op[0].sram_read + op[1].sram_read + op[2].sram_read; }
  uint64_t sram_write() const { return op[0].sram_write + op[1].sram_write + op[2].sram_write; }
  void scale_streamed(const Roles& r, double f);  ///< tile skipping: streamed operands shrink
  void add(const Traffic& o, uint64_t times);
};

/// Usable capacity of an operand's buffer (half of it when double buffered).
uint64_t usable_bytes(const SramConfig& s, int operand);
/// `input_pass_bytes`: what one full pass over the input operand reads from DRAM (conv:
/// conv_input.h, the line buffer's unique bytes); 0: its GEMM view, Sr·T or Sr·Sc × elem.
Traffic plan_traffic(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned elem_bytes, unsigned acc_bytes,
                     uint64_t input_pass_bytes = 0);

/// "" when one fold's tiles fit every buffer, else what does not fit (SRAM too small).
std::string check_tile_fit(const SystolicSpec& s, unsigned elem_bytes, unsigned acc_bytes);

}  // namespace bpsim::systolic
