// Compiled as if it were a file of the `core` layer (see CMakeLists.txt, layers.*): core sits
// below the engine, so this include must not be found. The test passes when the compiler
// says so.
#include "sim/engine/engine.h"
