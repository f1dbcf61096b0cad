#pragma once
/// Gathers the input errors of a check that spans many items (ops, layers), so that one
/// message lists them all and the user fixes them in one try.
#include <set>
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace bpsim {

class InputErrors {
 public:
  /// Runs `check`; an InputError it throws is kept (once per distinct message).
  template <class F>
  void collect(F&& check) {
    try {
      check();
    } catch (const InputError& e) {
      if (m_seen.insert(e.what()).second) m_messages.emplace_back(e.what());
    }
  }
  bool empty() const { return m_messages.empty(); }
  /// One InputError with every message (the first `shown`, then how many more).
  void throw_if_any(size_t shown = 5) const;

 private:
  std::vector<std::string> m_messages;
  std::set<std::string> m_seen;
};

}  // namespace bpsim
