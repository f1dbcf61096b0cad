#pragma once
/// Resource limits of the input readers (README "Limits"): each bounds how much time or
/// memory one input file may cost before bpsim stops with an input error (exit 2) that
/// names the limit and how to raise it. Process-wide: set once, before any reader runs,
/// from a config's `run: limits:` group (bpsim run, validate) or `--limit NAME=N` (bpsim
/// trace). Declared in one table here so that other readers' limits join it.
#include <array>
#include <cstdint>
#include <string>

namespace bpsim {
namespace config {
template <class T>
class Binder;
}  // namespace config

namespace limits {

enum class Id {
  line_bytes,    ///< one line of a JSONL trace or SCALE-Sim CSV
  trace_bytes,   ///< a JSONL trace, decompressed
  chakra_bytes,  ///< a Chakra .et file, decompressed (it is read whole)
  ops,           ///< ops of a trace, Chakra file or SCALE-Sim topology
  tensors,       ///< tensors (and tensor ids) of a trace or Chakra file
  bitmap_bytes,  ///< one output-mask bitmap file
  scalesim_dim,  ///< any size field of a SCALE-Sim row
  layers,        ///< layers of a workload spec once its `repeat` groups are expanded
  nesting,       ///< depth of a workload spec's layer groups (repeat, sequential, residual)
  sweep_points,  ///< points of a sweep (the product of its axes)
};
inline constexpr size_t kCount = size_t(Id::sweep_points) + 1;

/// A value for every limit, indexed by Id.
struct Table {
  std::array<uint64_t, kCount> values{};
};

/// The limit's current value.
uint64_t get(Id id);
/// Its name, as written in `run: limits:` and `--limit`.
const char* name(Id id);

/// The `run: limits:` group: one integer per limit, its default the built-in value, bound
/// to the limit's entry of a Table.
const config::Binder<Table>& binder();
/// Takes every limit from `table` (a parsed `run: limits:` group).
void apply(const Table& table);
/// Takes one `--limit NAME=N`; an unknown name or a bad number is an InputError.
void apply_flag(const std::string& text);

/// The message of an input that goes past limit `id`: "<what> (limit NAME = N; raise it
/// with …)", for an InputError at the input's location.
std::string exceeded(Id id, const std::string& what);

}  // namespace limits
}  // namespace bpsim
