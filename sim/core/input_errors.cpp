#include "sim/core/input_errors.h"

namespace bpsim {

void InputErrors::throw_if_any(size_t shown) const {
  if (m_messages.empty()) return;
  if (m_messages.size() == 1) throw InputError(m_messages.front());
  std::string msg = std::to_string(m_messages.size()) + " problems:";
  for (size_t i = 0; i < std::min(shown, m_messages.size()); ++i) msg += "\n  " + m_messages[i];
  if (m_messages.size() > shown) msg += "\n  and " + std::to_string(m_messages.size() - shown) + " more";
  throw InputError(msg);
}

}  // namespace bpsim
