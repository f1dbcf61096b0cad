#pragma once
// Shared by the libFuzzer harnesses: a scratch folder for inputs that parsers read from
// files, splitting one input into several files, and the rule every harness checks.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace bpsim::fuzz {

/// Separates the files packed into one input (configs with includes, sweeps with their
/// base): a line of its own, so a seed stays readable YAML between separators.
inline constexpr const char* kPartSeparator = "\n@@\n";

inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t max_parts) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const std::string sep = kPartSeparator;
  std::vector<std::string> parts;
  size_t from = 0;
  while (parts.size() + 1 < max_parts) {
    const size_t at = all.find(sep, from);
    if (at == std::string::npos) break;
    parts.push_back(all.substr(from, at - from));
    from = at + sep.size();
  }
  parts.push_back(all.substr(from));
  parts.resize(max_parts);
  return parts;
}

/// One folder per fuzzing process (libFuzzer's -jobs/-workers run several), made once;
/// each input overwrites the files of the previous one.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("bpsim_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string write_scratch(const std::string& name, const std::string& bytes) {
  const std::filesystem::path p = scratch_dir() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  return p.string();
}

/// The house rule under test: bad input is an InputError (exit 2). Any other exception
/// would reach the user as exit 1 "internal error", so it is a finding: abort, and
/// libFuzzer keeps the input as a crash. BPSIM_FUZZ_VERBOSE=1 prints the input errors
/// (to check that seeds are valid, or what an input is refused for).
template <class Fn>
void expect_input_errors_only(Fn&& parse) {
  static const bool verbose = std::getenv("BPSIM_FUZZ_VERBOSE") != nullptr;
  try {
    parse();
    if (verbose) std::fprintf(stderr, "bpsim fuzz: accepted\n");
  } catch (const InputError& e) {
    if (verbose) std::fprintf(stderr, "bpsim fuzz: input error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bpsim fuzz: not an InputError: %s\n", e.what());
    std::abort();
  }
}

}  // namespace bpsim::fuzz
