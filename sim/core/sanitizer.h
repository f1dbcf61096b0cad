// What bpsim does only in its AddressSanitizer build (scripts/test_sanitized.sh).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define BPSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BPSIM_ASAN 1
#endif
#endif

#ifdef BPSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#endif

namespace bpsim {

/// Registers the calling thread's own stack with AddressSanitizer again, after SystemC has run
/// on it. libsystemc announces each switch to a coroutine (__sanitizer_start_switch_fiber, a
/// weak reference that a sanitized bpsim defines), but the thread is left registered with the
/// stack of the last coroutine it ran (256 KiB, seen with LSAN_OPTIONS=verbosity=1) once
/// sc_start returns. LeakSanitizer then scans that stack, freed by the time the process ends,
/// in place of the real one: it read whatever the freed pages had become, and crashed ("Tracer
/// caught signal 11") when one of them was no longer mapped. A no-op in other builds.
inline void sanitizer_rebind_thread_stack() noexcept {
#ifdef BPSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  size_t size = 0;
  const int rc = pthread_attr_getstack(&attr, &bottom, &size);
  pthread_attr_destroy(&attr);
  if (rc != 0) return;
  // A "switch" from the registered stack to the thread's own, on which it already runs.
  __sanitizer_start_switch_fiber(nullptr, bottom, size);
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

}  // namespace bpsim
