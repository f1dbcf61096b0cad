// bpsim command line: run, validate, list, workload. Exit codes: 0 ok, 2 bad input
// (config, trace, command line), 1 internal error.
#include <systemc>

#include <cstdlib>
#include <iostream>
#include <string>

#include "sim/cli/commands.h"

int sc_main(int argc, char* argv[]) { return bpsim::cli::main(argc, argv); }
