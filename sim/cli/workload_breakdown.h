#pragma once
/// `bpsim workload SPEC --breakdown`: the memory of one training step by what it holds
/// (weights, gradients, optimizer state, input, activations, temporaries), per policy.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bpsim::cli {

/// Builds `spec` (its batch overridden unless `batch` is -1) under each policy kind of
/// `kinds` (comma-separated; empty: none, checkpoint, full_recompute, and optimal when a
/// budget is among `flags`) and prints the breakdown as a table, or as JSON. `flags` are the
/// policy flags given (PolicyFlags::keys); each key goes to the kinds that take it, and one
/// that no listed kind takes is an error (exit 2).
void print_breakdown(const std::string& spec, int64_t batch, const std::string& kinds,
                     const std::vector<std::pair<std::string, std::string>>& flags, const std::string& loss, bool json);

}  // namespace bpsim::cli
