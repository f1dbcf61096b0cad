// The Catch2 runner, compiled once. SystemC owns main(), so Catch starts from sc_main;
// ctest runs each test case in its own process (one SystemC elaboration per process).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

#include "models/register.h"

int sc_main(int argc, char* argv[]) {
  bpsim::register_builtin_models();
  return Catch::Session().run(argc, argv);
}
