#pragma once
/// `example`: the smallest accelerator kind that runs a training step, the worked example of
/// docs/adding_a_model.md. Registered only by its tests (test_example_kind.cpp), so the shipped
/// bpsim does not list it; a real model is a folder models/<kind>/ whose register.cpp CMake finds.
#include "sim/engine/accelerator.h"

namespace bpsim::example {

/// Adds the `example` kind to `r` (once per process; a second call does nothing).
void register_example(Registry& r);

}  // namespace bpsim::example
