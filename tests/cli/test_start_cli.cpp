// What a bpsim process pays to start: SystemC's temporary heap in huge pages (sim/cli/main.cpp).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fstream>
#include <string>

#include "tests/cli/cli_harness.h"

extern char** environ;

namespace {

/// The minor page faults of one `bpsim ARG` (its stdout discarded), from the child's rusage.
long page_faults_of(const char* arg) {
  std::string exe = BPSIM_EXE, a = arg;
  char* argv[] = {exe.data(), a.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int status = 0;
  struct rusage ru {};
  REQUIRE(::wait4(pid, &status, 0, &ru) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return ru.ru_minflt;
}

}  // namespace

TEST_CASE("start: SystemC's 3 MiB temporary heap costs bpsim --version fewer than its 768 small-page faults",
          "[cli][start]") {
#ifdef BPSIM_TEST_ASAN
  return;  // the sanitized build keeps the default allocation functions (ASan's own)
#endif
  std::string modes;
  std::getline(std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled"), modes);
  if (modes.empty() || modes.find("[never]") != std::string::npos) {
    WARN("transparent huge pages are off on this machine: the heap gets small pages, nothing to check");
    return;
  }
  // The heap alone, in 4 KiB pages, is 3 MiB / 4 KiB = 768 faults; the rest of a start (the
  // loader, libraries' data, bpsim's own) about 320 more on the machine this was written on
  // (1,090 in all before). In 2 MiB pages the heap is 2 faults, so the whole start stays
  // below 768 only when it is.
  const long faults = page_faults_of("--version");
  INFO("page faults of bpsim --version: " << faults);
  CHECK(faults < 768);
}
