// The Catch2 runner, compiled once. SystemC owns main(), so Catch starts from sc_main;
// ctest runs each test case in its own process (one SystemC elaboration per process).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

#include "models/register.h"
#include "sim/core/sanitizer.h"

int sc_main(int argc, char* argv[]) {
  bpsim::register_builtin_models();
  const int failed = Catch::Session().run(argc, argv);
  // Tests call sc_start themselves: before LeakSanitizer looks at this thread at exit, its
  // stack is its own again, not a SystemC coroutine's (sim/core/sanitizer.h).
  bpsim::sanitizer_rebind_thread_stack();
  return failed;
}
