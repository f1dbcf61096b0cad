#include "sim/core/error.h"

namespace bpsim {

std::string Location::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (column > 0) s += ":" + std::to_string(column);
  }
  return s;
}

static std::string format_input_error(const Location& loc, const std::string& key_path, const std::string& msg) {
  std::string s = loc.str() + ": ";
  if (!key_path.empty()) s += key_path + ": ";
  return s + msg;
}

InputError::InputError(const Location& loc, const std::string& key_path, const std::string& msg)
    : std::runtime_error(format_input_error(loc, key_path, msg)) {}

}  // namespace bpsim
