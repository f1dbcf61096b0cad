// bpsim command line: run, validate, list, workload, trace, sweep. Exit codes: 0 ok,
// 2 bad input (config, trace, command line), 1 internal error.
#include <systemc>

#include <cstdlib>

#include "sim/cli/commands.h"

int sc_main(int argc, char* argv[]) { return bpsim::cli::main(argc, argv); }

// SystemC prints its banner before sc_main runs; silence it first (a user's setting wins).
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
