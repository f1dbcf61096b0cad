#include "sim/core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sim/core/error.h"

namespace bpsim {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what, const std::string& reason) {
  throw InputError(Location{path}, "", "cannot open " + what + ": " + reason);
}

/// What a non-regular file is, in words, for the error.
std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "it is a directory";
  if (S_ISFIFO(mode)) return "it is a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "it is a character device";
  if (S_ISBLK(mode)) return "it is a block device";
  if (S_ISSOCK(mode)) return "it is a socket";
  return "it is not a regular file";
}

}  // namespace

uint64_t regular_file_size(const std::string& path, const std::string& what) {
  // stat(), not open(): opening a FIFO would block until a writer appears.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) refuse(path, what, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) refuse(path, what, kind_of(st.st_mode) + " (only regular files are read as inputs)");
  return uint64_t(st.st_size);
}

std::ifstream open_regular_file(const std::string& path, const std::string& what) {
  regular_file_size(path, what);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, what, errno ? std::strerror(errno) : "the file cannot be read");
  return in;
}

std::string read_regular_file(const std::string& path, const std::string& what) {
  const uint64_t size = regular_file_size(path, what);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) refuse(path, what, std::strerror(errno));
  // One byte more than the size: a read that fills it says the file grew, and reading goes on.
  std::string text(size + 1, '\0');
  size_t have = 0;
  while (true) {
    if (have == text.size()) text.resize(2 * text.size());
    const ssize_t got = ::read(fd, text.data() + have, text.size() - have);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      const int e = errno;
      ::close(fd);
      refuse(path, what, std::strerror(e));
    }
    if (got == 0) break;
    have += size_t(got);
  }
  ::close(fd);
  text.resize(have);
  return text;
}

int claim_stdin(const std::string& what) {
  static std::string first;  // what read it: standard input holds one input per process
  const Location where{kStdinLabel};
  if (!first.empty())
    throw InputError(where, "", "cannot read the " + what + " from standard input: it already gave the " + first);
  if (::isatty(STDIN_FILENO))
    throw InputError(
        where, "",
        "the " + what + " is '-' (standard input), which is a terminal: pipe or redirect it (bpsim ... - < FILE)");
  first = what;
  return STDIN_FILENO;
}

std::string read_stdin(const std::string& what, uint64_t max_bytes) {
  claim_stdin(what);
  const Location where{kStdinLabel};
  std::string text;
  char chunk[1 << 16];
  for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, stdin)) > 0;) {
    if (text.size() + n > max_bytes)
      throw InputError(
          where, "",
          what + " on standard input is more than " + std::to_string(max_bytes) + " bytes (a limit of bpsim)");
    text.append(chunk, n);
  }
  if (std::ferror(stdin)) throw InputError(where, "", "cannot read the " + what + ": " + std::strerror(errno));
  return text;
}

}  // namespace bpsim
