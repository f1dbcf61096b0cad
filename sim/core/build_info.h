#pragma once
// Paths fixed when the build tree is configured. They live in one generated source file
// (build_info.cpp in the build tree) rather than in compiler flags, so that every other
// object file compiles identically in any checkout and ccache can share it.

namespace bpsim {
const char* source_dir();  // the checkout's root (configs/, traces/ are found from it)
const char* bpsim_exe();   // the bpsim executable of this build tree (used by CLI tests)
}  // namespace bpsim

#define BPSIM_SOURCE_DIR (::bpsim::source_dir())
#define BPSIM_EXE (::bpsim::bpsim_exe())
