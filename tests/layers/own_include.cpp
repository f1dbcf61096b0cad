// Compiled as if it were a file of the `models` layer: the engine is below it, so this
// include is found and the file compiles (the control for the layers.* probes).
#include "sim/engine/engine.h"
#include "sim/memory/dram_system.h"
