#pragma once
/// Error types that map to the CLI's exit codes (2: bad input, 1: internal).
#include <stdexcept>
#include <string>

namespace bpsim {

/// The process exit codes of every bpsim command (and of a sweep's points).
constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;  ///< bpsim's fault, or the disk's
constexpr int kExitBadInput = 2;  ///< something the user wrote

/// Where a value came from: a file position, or a command-line override.
struct Location {
  std::string file;  ///< path as the user named it; "--set" for overrides
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  std::string str() const;
};

/// Anything the user wrote that bpsim cannot accept: exit code 2.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& msg) : std::runtime_error(msg) {}
  /// "file:line:col: key.path: message" — the format every config error uses.
  InputError(const Location& loc, const std::string& key_path, const std::string& msg);
};

}  // namespace bpsim
