#pragma once
/// Mapper: a GEMM (M×K)·(K×N) onto an R×C array — which dimension lies along the rows,
/// the columns and time (SCALE-Sim's Sr, Sc, T), how many folds, the tile sizes and loop
/// order of the tile nest around the folds (fixed, or searched), which operand bytes move
/// between DRAM, the buffers and the array (a loop nest, optionally with a pinned slice),
/// and the GEMM's DRAM lower bound on split buffers. Pure C++.
#include <array>
#include <cstdint>

#include "models/systolic/systolic_params.h"

namespace bpsim::systolic {

/// ws: Sr=K, Sc=N, T=M; os: Sr=M, Sc=N, T=K; is: Sr=K, Sc=M, T=N (SCALE-Sim v2's mapping).
struct FoldMap {
  uint64_t sr = 0, sc = 0, t = 0;
  uint64_t rows = 0, cols = 0;          ///< array size
  uint64_t fr = 0, fc = 0;              ///< row folds, column folds
  uint64_t r_last = 0, c_last = 0;      ///< rows / columns used by the last row / column fold
  uint64_t tt = 0, ft = 1, t_last = 0;  ///< T streamed per fold, T tiles, T of the last T tile (untiled: T, 1, T)
  uint64_t folds() const { return fr * fc * ft; }
  uint64_t r_eff() const { return sr < rows ? sr : rows; }  ///< rows used by a full fold
  uint64_t c_eff() const { return sc < cols ? sc : cols; }
};

FoldMap map_gemm(uint64_t m, uint64_t k, uint64_t n, Dataflow df, unsigned rows, unsigned cols);
/// `f` with T cut into tiles of `tt` (at least 1, at most T): every fold streams one T tile.
FoldMap tile_t(FoldMap f, uint64_t tt);

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

/// Bytes per operand for one GEMM instance.
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

/// Bytes of one full pass over each operand between DRAM and its buffer (kInput, kWeight:
/// read; kOutput: the final write of the results). By default the GEMM operand's elements
/// times the element size; a conv whose input stream is built on chip (a line buffer)
/// passes over its unique ifmap bytes instead: set op[kInput] to them. All DRAM traffic,
/// the compulsory bytes and the bound's compulsory term derive from these.
struct PassBytes {
  std::array<uint64_t, 3> op{};
  /// Bytes of a pass that every pass reads at least once: what a pinned slice may hold and
  /// save on each repeat (the pass itself for a GEMM operand; a line buffer's distinct
  /// ifmap bytes; 0 where not known).
  std::array<uint64_t, 3> pinnable{};
};
PassBytes gemm_pass_bytes(const FoldMap& f, Dataflow df, unsigned elem_bytes);

/// Tile-loop dimensions: along the rows (Sr), along the columns (Sc), along time (T).
enum LoopDim { kSr = 0, kSc = 1, kT = 2 };

/// How one GEMM instance runs as a nest of three tile loops around the array's folds (a
/// Timeloop-style mapping with one buffer level): the loops' order, each dimension's tile
/// (a buffer-resident block of whole folds; T in elements), and what that implies for DRAM:
/// how many full passes each operand makes and how often the partial sums spill.
struct Mapping {
  bool fixed = true;                       ///< the fixed plan (below), not a tiled candidate
  std::array<int, 3> order{kSc, kSr, kT};  ///< LoopDims, outermost first
  std::array<uint64_t, 3> tile{};          ///< elements along Sr, Sc, T
  std::array<uint64_t, 3> trips{};         ///< tiles along Sr, Sc, T
  std::array<uint64_t, 3> passes{};  ///< full DRAM passes over kInput, kWeight, kOutput (output: 1, its final write)
  uint64_t spill_passes = 0;         ///< times the partial sums leave for DRAM and come back
  /// Pinned slice: bytes of an input or weight pass that stay in the operand's buffer for the
  /// whole GEMM (loaded once) beside its tile, so only the rest of the pass repeats. 0: the
  /// plain loop nest.
  std::array<uint64_t, 3> pinned{};
  /// Partial sums in the whole output buffer (both halves), not double buffered: each output
  /// block must drain to DRAM before the next block's first partial sums land, and the array
  /// waits for it (drain_stall_cycles). Only with the output column-streamed (ws, is), no spills.
  bool output_single = false;
  uint64_t candidates = 0;  ///< mappings the search compared (1 for the fixed plan)
  /// "fixed", "loop_nest" or "pinned_slice" (a loop nest with a pinned slice).
  const char* family() const;
};

/// Fills m.passes and m.spill_passes from m.order and m.trips (Timeloop's and
/// Interstellar's reuse rule): an operand's tile stays while the loops inside its innermost
/// indexing loop run, so the one loop that does not index it costs a full pass per trip
/// when it lies outside that loop and nothing when inside; loops of one trip change
/// nothing. The output is written once; each extra visit of its tiles is a spill pass.
void derive_passes(Mapping& m, Dataflow df);

/// The fixed plan (SCALE-Sim's order): one stationary fold at a time, column folds outside,
/// row folds inside, T whole. The row-streamed operand is fetched once when all of it fits
/// its (half, if double buffered) buffer, else once per column fold; the column-streamed
/// operand's slice is reused over the row folds when it fits, else fetched again; partial
/// sums that do not fit spill once per row fold after the first.
/// `pass`: one full pass per operand (PassBytes); the row-streamed operand fits when a pass does.
Mapping fixed_mapping(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned elem_bytes, unsigned acc_bytes,
                      const PassBytes& pass);

/// What the search weighs besides the buffers: the timing of a fold and, for objective
/// cycles, the DRAM's peak bytes per array cycle (0: unknown, DRAM time left out).
struct MapTarget {
  const SystolicSpec& spec;
  unsigned elem_bytes = 1, acc_bytes = 4;
  double dram_bytes_per_cycle = 0;
};

/// The mapping of one GEMM instance: the fixed plan (search: fixed), or the best of the
/// fixed plan and every tiled candidate (search: exhaustive): each of the six loop orders
/// × tiles of Sr and Sc of whole folds giving distinct trip counts (every one when a
/// dimension has at most 256 folds; else trips 1..16 and tiles of 1..16 folds) × the
/// longest T tile that fits (os: T whole, its reduction stays in the PEs), every
/// operand's tile within its usable buffer. Each candidate also pins, for an input or
/// weight operand that would repeat passes, the slice of it that the rest of its usable
/// buffer holds (pin_slices). With the output column-streamed (ws, is) and the buffers
/// double buffered, each candidate whose output tile the whole output buffer lets grow is
/// also tried single buffered (Mapping::output_single; not when its order spills), its
/// drains priced as stalls (drain_stall_cycles). Objective: spec.mapper.objective, ties to
/// the other figure, then to the double-buffered output, then to buffer bytes, then to the
/// earlier candidate (the fixed plan first).
Mapping choose_mapping(const FoldMap& f, const MapTarget& target, const PassBytes& pass);

/// Fills m.pinned: an input or weight operand with more than one pass keeps as many bytes of
/// its pass as its whole buffer holds beside its tile's copies (two when double buffered),
/// resident for the whole GEMM: the slice never changes, so it needs no second copy (e.g. a
/// K-slice of B in ws, as for GPT-2's fc2: docs/systolic.md, "Pinned slices"). The slice
/// holds at most the pass's pinnable bytes. The fixed plan never pins.
void pin_slices(Mapping& m, const FoldMap& f, Dataflow df, const SramConfig& s, unsigned elem_bytes,
                const PassBytes& pass);

/// Cycles the array waits for output blocks to drain under a single-buffered output
/// (Mapping::output_single; 0 otherwise): every block but the last leaves for DRAM, at its
/// element size, before the next one starts, at `bytes_per_cycle` (the DRAM's peak; 0:
/// unknown, the buffer port's `sram.bytes_per_cycle`). The last block's drain is the op's
/// trailing write (Traffic::last_fold_write_bytes). Over `instances` instances of the GEMM
/// run back to back, each instance's last block drains before the next instance starts.
uint64_t drain_stall_cycles(const Mapping& m, const FoldMap& f, const SramConfig& s, unsigned elem_bytes,
                            double bytes_per_cycle, uint64_t instances = 1);

/// Bytes per operand of `f` (tiled as `m.tile[kT]` says) under mapping `m`.
Traffic mapped_traffic(const FoldMap& f, Dataflow df, const Mapping& m, const PassBytes& pass, unsigned elem_bytes,
                       unsigned acc_bytes);
/// mapped_traffic of the fixed plan with the GEMM's own pass bytes, or (`input_pass_bytes`
/// non-zero) with that pass over the input (a conv's line buffer, conv_input.h).
Traffic plan_traffic(const FoldMap& f, Dataflow df, const SramConfig& s, unsigned elem_bytes, unsigned acc_bytes,
                     uint64_t input_pass_bytes = 0);

/// The GEMM C[M×N] = A[M×K]·B[K×N] a floor is taken of. A conv whose input stream a line
/// buffer builds loads ifmap elements (`input_elems` distinct ones), each of which stands
/// for up to `input_uses` = ⌈R/stride⌉·⌈S/stride⌉ elements of A; otherwise A's own M·K
/// elements, 1 use each.
struct FloorGemm {
  uint64_t m = 0, k = 0, n = 0;
  uint64_t input_elems = 0, input_uses = 1;
};

/// A lower bound on the DRAM bytes of any schedule of `g` on three separate buffers holding
/// at most `cap` elements of A (ifmap elements for a line buffer), of B, and partial sums of
/// C, with e-byte operand loads and final stores and a-byte partial-sum spills and reloads
/// (docs/systolic.md, "DRAM traffic and its lower bound"; derived there, on the segment
/// argument of Hong & Kung 1981 / Irony, Toledo & Tiskin 2004 / Smith et al. 2019):
///   max over w in [e, 2a] of (e·√w·MNK / (√uses·Σ^1.5) − 1)·(2Σ − w) − (w − e)·M·N,
///   Σ = e·(X_A + X_B) + w·X_C, each X clipped to its operand's size; 0 when negative.
double split_buffer_bound(const FloorGemm& g, const std::array<uint64_t, 3>& cap, unsigned elem_bytes,
                          unsigned acc_bytes);

/// DRAM traffic a GEMM instance cannot avoid. compulsory: one pass over each operand
/// (PassBytes). bound_bytes: split_buffer_bound on the usable buffers (halves when double
/// buffered: the model every mapping lives in); chip_bound_bytes: on the full buffers (any
/// schedule on this chip). Both credit each PE with one register per operand (`pes`).
struct DramFloor {
  uint64_t compulsory_bytes = 0, bound_bytes = 0, chip_bound_bytes = 0;
  uint64_t floor() const { return compulsory_bytes > bound_bytes ? compulsory_bytes : bound_bytes; }
  /// The floor of a mapping outside the usable-halves model (a single-buffered output):
  /// only the whole-chip bound applies to it.
  uint64_t chip_floor() const { return compulsory_bytes > chip_bound_bytes ? compulsory_bytes : chip_bound_bytes; }
};
DramFloor dram_floor(const FloorGemm& g, const SramConfig& s, uint64_t pes, unsigned elem_bytes, unsigned acc_bytes,
                     const PassBytes& pass);

/// GEMM names of the loop dimensions under `df` (ws: Sr=k, Sc=n, T=m; os: m, n, k; is: k, m, n).
std::array<const char*, 3> loop_dim_names(Dataflow df);

/// "" when one fold's tiles fit every buffer, else what does not fit (SRAM too small).
std::string check_tile_fit(const SystolicSpec& s, unsigned elem_bytes, unsigned acc_bytes);

}  // namespace bpsim::systolic
