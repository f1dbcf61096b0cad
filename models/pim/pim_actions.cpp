#include "models/pim/pim_actions.h"

namespace bpsim::pim {

const PimActions& pim_actions() {
  static const PimActions a;
  return a;
}

}  // namespace bpsim::pim
