// bpsim command line: run, validate, list, workload, trace, sweep. Exit codes: 0 ok,
// 2 bad input (config, trace, command line), 1 internal error.
#include <sys/mman.h>

#include <systemc>

#include <cstdint>
#include <cstdlib>
#include <new>

#include "sim/cli/commands.h"
#include "sim/core/sanitizer.h"

#ifndef BPSIM_ASAN
// SystemC's temporary heap in huge pages (README, Sweeps: start-up). libsystemc's static
// initialiser allocates `sc_core::sc_temp_heap` in every process, simulating or not: 3 MiB
// by `new char[]`, then cleared with memset (sysc/utils/sc_temporary.h). Those are 768 fresh
// pages, each a page fault, and a third of what `bpsim --version` costs. So bpsim replaces
// the global array new: the first array of 1 MiB or more allocated before main (that heap)
// comes from a mapping aligned and advised for transparent huge pages, two faults instead of
// 768 where the kernel offers them (THP "always" or "madvise"; elsewhere it gets small pages,
// as before). Every other array comes from malloc, as from the default operator new[].
namespace {
bool g_main_started = false;
struct EarlyBlock {
  void* map = nullptr;    ///< the mapping
  size_t length = 0;      ///< its length
  void* block = nullptr;  ///< what operator new[] returned (huge-page aligned, inside the mapping)
  size_t size = 0;        ///< the bytes asked for
  bool cleared = false;   ///< its first clearing (skipped) has happened
} g_early;

void* early_block(std::size_t n) {
  constexpr std::size_t kHuge = std::size_t(2) << 20;
  const std::size_t length = (n + 2 * kHuge - 1) & ~(kHuge - 1);  // room to align the start
  void* map = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return nullptr;
  // The first huge-page boundary inside the mapping.
  const std::size_t pad = (kHuge - reinterpret_cast<std::uintptr_t>(map) % kHuge) % kHuge;
  char* block = static_cast<char*>(map) + pad;
  ::madvise(block, length - pad, MADV_HUGEPAGE);  // advice only: without huge pages, small ones
  g_early = {map, length, block, n};
  return block;
}
}  // namespace

void* operator new[](std::size_t n) {
  if (!g_main_started && !g_early.block && n >= (std::size_t(1) << 20))
    if (void* p = early_block(n)) return p;
  while (true) {  // what the default does: malloc, asking the new-handler to free memory until it gives up
    if (void* p = std::malloc(n ? n : 1)) return p;
    const std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void operator delete[](void* p) noexcept {
  if (p && p == g_early.block) {
    ::munmap(g_early.map, g_early.length);
    g_early = {};
    return;
  }
  std::free(p);
}

void operator delete[](void* p, std::size_t) noexcept { operator delete[](p); }

// The heap's memset, though, still wrote all of it: the kernel zeroed two huge pages (or
// 768 small ones) and libsystemc then cleared them again, a tenth of a small run's CPU
// time. A fresh anonymous mapping already reads as zeros, so clearing that block, and only
// that block, once, before main, is skipped: its pages stay untouched until SystemC uses them.
// bpsim's memset takes the place of the C library's for every caller (the executable comes
// first in the dynamic linker's search); every other call goes on to the C library's own,
// the one chosen for this processor, through __memset_chk with no size to check against
// (bound by its symbol name, so that the compiler does not turn it back into memset).
extern "C" void* libc_memset_chk(void* s, int c, std::size_t n, std::size_t destlen) noexcept __asm__("__memset_chk");

extern "C" void* memset(void* s, int c, std::size_t n) noexcept {
  if (!g_main_started && c == 0 && s == g_early.block && n <= g_early.size && !g_early.cleared) {
    g_early.cleared = true;
    return s;
  }
  return libc_memset_chk(s, c, n, static_cast<std::size_t>(-1));
}
#endif

int sc_main(int argc, char* argv[]) { return bpsim::cli::main(argc, argv); }

// SystemC prints its banner before sc_main runs; silence it first (a user's setting wins).
int main(int argc, char* argv[]) {
#ifndef BPSIM_ASAN
  g_main_started = true;
#endif
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
