#pragma once
/// Input files (configs, traces, bitmaps, …) are opened only when they are regular files:
/// a directory, FIFO, socket or device (`/dev/zero`, `/dev/stdin`) is refused up front, so
/// a reader neither blocks on a pipe nor reads without end. Errors name the path and what
/// the file was for, never its content.
#include <cstdint>
#include <fstream>
#include <string>

namespace bpsim {

/// The size in bytes of `path` when it is a regular file (symlinks followed). Otherwise
/// throws InputError "PATH: cannot open WHAT: <reason>" (no such file, a directory, a FIFO,
/// a device, …). `what` names the input, e.g. "trace file".
uint64_t regular_file_size(const std::string& path, const std::string& what);

/// regular_file_size's check, then the file opened for binary reading; an open that fails
/// (no read permission) is the same InputError with the system's reason.
std::ifstream open_regular_file(const std::string& path, const std::string& what);

}  // namespace bpsim
