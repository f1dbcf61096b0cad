// Compiled as if it were a file of the `workload` layer: workload and trace are on one floor
// and neither may include the other, so this include must not be found.
#include "sim/trace/trace_io.h"
