#pragma once
/// Input files (configs, traces, bitmaps, …) are opened only when they are regular files:
/// a directory, FIFO, socket or device (`/dev/zero`, `/dev/stdin`) is refused up front, so
/// a reader neither blocks on a pipe nor reads without end. Errors name the path and what
/// the file was for, never its content. The one exception is `-`, standard input, which a
/// command reads whole (up to a size limit) where it takes a config, spec or trace.
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

/// regular_file_size's check, then the whole file in one string, read with as few calls as
/// its size allows (no stream buffer); a read that fails is the same InputError.
std::string read_regular_file(const std::string& path, const std::string& what);

/// The name that stands for standard input (and, for outputs, standard output).
inline constexpr const char* kStdioName = "-";
/// How standard input is named in messages ("<stdin>:5:3: accelerator.rows: …").
inline constexpr const char* kStdinLabel = "<stdin>";

/// Whether `path` names standard input or output (`-`).
inline bool is_stdio(const std::string& path) { return path == kStdioName; }

/// Standard input's descriptor, claimed for `what` ("config", "trace"): it holds one input
/// per process, so a second claim is an InputError naming the first, and so is standard
/// input on a terminal (the command would wait for typing).
int claim_stdin(const std::string& what);

/// All of standard input (claim_stdin's checks); more than `max_bytes` is an InputError.
std::string read_stdin(const std::string& what, uint64_t max_bytes);

}  // namespace bpsim
