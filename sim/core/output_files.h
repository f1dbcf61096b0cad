#pragma once
/// Writing what bpsim produces, honestly. Every file is written under a temporary name
/// unique to this process, in its destination folder, and renamed into place only when
/// complete; every OS failure names the path and the OS's reason; an output folder is
/// locked while a command writes into it, so two bpsim processes never share one.
///
/// Exit codes follow from the OS error: a path problem the user can fix (permissions, a
/// read-only file system, a name too long, a file where a folder should be, a missing
/// folder, a file that exists) is an InputError (exit 2); anything else (disk full, I/O
/// error) a WriteError (exit 1, reported as it is, not as an internal error).
///
/// Test hook: BPSIM_TEST_WRITE_ERROR=NAME[:TEXT] makes every file operation here on a path
/// containing TEXT (every path when TEXT is empty) fail as the OS would with NAME
/// (ENOSPC, EDQUOT, EIO at the first write; EACCES, EROFS, EPERM when the file or folder
/// is created), so tests reach each error path without filling a disk.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

namespace bpsim::output {

/// The machine could not store what bpsim wrote (disk full, I/O error): exit 1.
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws for OS error `err` on `path`: "ACTION PATH: REASON" (exit 2 or 1, as above).
[[noreturn]] void fail(const std::string& action, const std::filesystem::path& path, int err);

/// Writes all of data[0, n) to `fd` (the file `path`); 0, or the errno of the failure.
/// Every file bpsim writes goes through here (the test hook acts here).
int write_all(int fd, const char* data, size_t n, const std::filesystem::path& path);

/// Appends `text` to `file` (created if missing) with one write and an fsync. On failure
/// the file is cut back to its old length, so no partial line stays, and fail() reports it.
void append(const std::filesystem::path& file, const std::string& text);

/// Creates `dir` and its parents; an OS failure is reported by fail().
void make_dirs(const std::filesystem::path& dir);

/// A file being written: a temporary ".NAME.PID.N.tmp" next to `dest`, created at once
/// (so a bad destination fails before any work), moved over `dest` by commit(), removed
/// by the destructor otherwise, whatever went wrong.
class File {
 public:
  explicit File(std::filesystem::path dest, size_t buffer_bytes = size_t(1) << 16);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  std::ostream& out();
  /// Writes out what is buffered, syncs and closes; throws with the OS reason when any
  /// write failed. Idempotent.
  void close();
  /// close(), then renames the temporary to `dest`: over an existing file with `replace`,
  /// else refused (exit 2) when `dest` exists.
  void commit(bool replace = true);
  const std::filesystem::path& temp_path() const;
  const std::filesystem::path& dest() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

/// Writes `text` to `dest` through a File.
void write_file(const std::filesystem::path& dest, const std::string& text);

/// Exclusive use of an output folder while this object lives: an flock on DIR/.bpsim-lock,
/// which also names the holder (pid, start time, command). A lock left by a process that
/// died is free again (the kernel drops its flock) and is taken over.
class FolderLock {
 public:
  FolderLock() = default;
  /// Creates `dir` if needed and locks it; another live holder: InputError naming it
  /// (`option` is the command-line option that named the folder, for the message).
  FolderLock(const std::filesystem::path& dir, const std::string& option);
  ~FolderLock();
  FolderLock(FolderLock&& o) noexcept;
  FolderLock& operator=(FolderLock&& o) noexcept;

 private:
  void release();
  int m_fd = -1;
  std::filesystem::path m_path;
};

/// The lock file's name in a locked folder.
inline constexpr const char* kLockFile = ".bpsim-lock";

/// Claims `dir` for a command's results: refuses a non-empty folder bpsim did not make
/// unless `force` (a file where the folder should be: exit 2), creates it, locks it, and
/// marks it as bpsim's (`command` says in the marker what may be replaced there).
/// Nothing in the folder is removed.
FolderLock claim_folder(const std::filesystem::path& dir, bool force, const std::string& option,
                        const std::string& command);

}  // namespace bpsim::output
