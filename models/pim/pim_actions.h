#pragma once
/// What in-DRAM compute adds to the DRAM system's energy vocabulary (memory::DramActions),
/// declared once: its actions and its leakage unit (priced in configs/energy/45nm/pim.yaml).
#include "sim/core/energy.h"

namespace bpsim::pim {

struct PimActions {
  Vocabulary vocabulary{"pim"};
  const Action extra_row = vocabulary.add(
      "extra_row", "one wordline raised beyond the first in a multi-row activation (TRA, charge sharing)");
  const Action psm_burst =
      vocabulary.add("psm_burst", "one internal 64-byte burst of a RowClone-PSM row copy (read and write, no I/O)");

  Vocabulary units{"pim"};
  const Action logic =
      units.add("logic", "the in-DRAM compute additions of one memory system (row-decoder groups, dual-contact rows)");
};
const PimActions& pim_actions();

}  // namespace bpsim::pim
