#include "sim/core/output_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "sim/core/error.h"

namespace fs = std::filesystem;

namespace bpsim::output {

namespace {

/// When this process started (static initialisation), for the lock's holder line.
const std::time_t kStarted = std::time(nullptr);

/// The longest file name most Linux file systems take (NAME_MAX).
constexpr size_t kNameMax = 255;

/// The test hook (header comment): the errno to fail with for `path`, or 0. Write-stage
/// errors (a full disk) fire at the first write, create-stage ones when a file is made.
int injected(const fs::path& path, bool at_write) {
  const char* spec = std::getenv("BPSIM_TEST_WRITE_ERROR");
  if (!spec || !*spec) return 0;
  const std::string s = spec;
  const size_t colon = s.find(':');
  const std::string name = s.substr(0, colon), text = colon == std::string::npos ? "" : s.substr(colon + 1);
  if (!text.empty() && path.string().find(text) == std::string::npos) return 0;
  static const std::pair<const char*, int> kWrite[] = {{"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EIO", EIO}};
  static const std::pair<const char*, int> kCreate[] = {{"EACCES", EACCES}, {"EROFS", EROFS}, {"EPERM", EPERM}};
  for (const auto& [n, e] : at_write ? kWrite : kCreate)
    if (name == n) return e;
  return 0;
}

/// Errors the user fixes by naming another path or changing permissions.
bool user_fixable(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
    case ENAMETOOLONG:
    case ENOTDIR:
    case ENOENT:
    case EEXIST:
    case EISDIR:
    case ELOOP: return true;
    default: return false;
  }
}

/// A stream buffer over a file descriptor that keeps the first OS error instead of
/// throwing through the iostream (which would lose it): after one, writes are dropped
/// and the stream goes bad; File::close() reports it.
class FdBuf : public std::streambuf {
 public:
  FdBuf(int fd, fs::path path, size_t bytes)
      : m_fd(fd), m_path(std::move(path)), m_size(bytes ? bytes : 1), m_buf(new char[m_size]) {
    reset();
  }
  int error() const { return m_error; }
  /// Writes out what is buffered; false after any failure.
  bool drain() {
    const size_t n = size_t(pptr() - pbase());
    if (n && !m_error) m_error = write_all(m_fd, pbase(), n, m_path);
    reset();
    return !m_error;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n > epptr() - pptr()) {
      if (!drain()) return 0;
      if (size_t(n) >= m_size) {  // larger than the buffer: straight through
        m_error = write_all(m_fd, s, size_t(n), m_path);
        return m_error ? 0 : n;
      }
    }
    std::memcpy(pptr(), s, size_t(n));
    pbump(int(n));
    return n;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  void reset() { setp(m_buf.get(), m_buf.get() + m_size); }
  int m_fd;
  fs::path m_path;
  size_t m_size;
  /// Not cleared: a report's 1 MiB buffer would cost 256 page faults and a memset in every
  /// run, where a small report touches a few of its pages (README "Start-up").
  std::unique_ptr<char[]> m_buf;
  int m_error = 0;
};

/// The command line of this process, argv[0] shortened to its file name.
std::string command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), out;
  std::istringstream words(all);
  for (std::string w; std::getline(words, w, '\0');) out += out.empty() ? fs::path(w).filename().string() : " " + w;
  return out;
}

std::string holder_line() {
  char when[32];
  std::tm local{};
  ::localtime_r(&kStarted, &local);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  return "pid " + std::to_string(::getpid()) + ", started " + when + ": " + command_line();
}

/// The holder's line from a lock file it holds. It writes the line right after taking
/// the lock: wait a little for it rather than report a holder without a name.
std::string read_holder(int fd) {
  std::string holder;
  for (int tries = 0; tries < 100; ++tries) {
    char text[1024];
    const ssize_t n = ::pread(fd, text, sizeof text, 0);
    holder = n > 0 ? std::string(text, size_t(n)) : "";
    if (!holder.empty() && holder.back() == '\n') {
      holder.pop_back();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return holder;  // after a second without its end: what there is
}

}  // namespace

[[noreturn]] void fail(const std::string& action, const fs::path& path, int err) {
  const std::string msg = action + " " + path.string() + ": " + std::strerror(err);
  if (user_fixable(err)) throw InputError(msg);
  throw WriteError(msg);
}

int write_all(int fd, const char* data, size_t n, const fs::path& path) {
  if (int e = injected(path, true)) return e;
  while (n > 0) {
    const ssize_t got = ::write(fd, data, n);
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += got;
    n -= size_t(got);
  }
  return 0;
}

void append(const fs::path& file, const std::string& text) {
  if (int e = injected(file, false)) fail("cannot write", file, e);
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write", file, errno);
  const off_t end = ::lseek(fd, 0, SEEK_END);
  int err = write_all(fd, text.data(), text.size(), file);
  if (!err && ::fsync(fd) != 0) err = errno;
  if (err && end >= 0 && ::ftruncate(fd, end) != 0) {
    // The cut failed too: the partial tail stays, and a reader drops an unfinished last line.
  }
  ::close(fd);
  if (err) fail("cannot write", file, err);
}

void make_dirs(const fs::path& dir) {
  if (int e = injected(dir, false)) fail("cannot create folder", dir, e);
  std::error_code ec;
  fs::create_directories(dir, ec);
  // A file where the folder should be comes back as "exists": say what is wrong with it.
  if (ec) fail("cannot create folder", dir, ec.value() == EEXIST ? ENOTDIR : ec.value());
}

// ---- File ---------------------------------------------------------------------------------

struct File::Impl {
  fs::path dest, temp;
  int fd = -1;
  std::unique_ptr<FdBuf> buf;
  std::ostream os{nullptr};
  bool closed = false, committed = false;
};

File::File(fs::path dest, size_t buffer_bytes) : m(std::make_unique<Impl>()) {
  static std::atomic<unsigned> counter{0};
  const std::string name = dest.filename().string();
  if (name.size() > kNameMax) fail("cannot write", dest, ENAMETOOLONG);
  std::error_code ec;
  if (fs::is_directory(dest, ec)) fail("cannot write", dest, EISDIR);
  m->dest = std::move(dest);
  // Unique per process and per file: concurrent writers never share a temporary.
  m->temp = m->dest.parent_path() /
            ("." + name.substr(0, 200) + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp");
  if (int e = injected(m->temp, false)) fail("cannot write", m->dest, e);
  m->fd = ::open(m->temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (m->fd < 0) fail("cannot write", m->dest, errno);
  m->buf = std::make_unique<FdBuf>(m->fd, m->temp, buffer_bytes);
  m->os.rdbuf(m->buf.get());
}

File::~File() {
  if (m->fd >= 0) ::close(m->fd);
  if (!m->committed) ::unlink(m->temp.c_str());
}

std::ostream& File::out() { return m->os; }

void File::close() {
  if (m->closed) return;
  m->closed = true;
  m->buf->drain();
  int err = m->buf->error();
  if (!err && ::fsync(m->fd) != 0) err = errno;
  if (::close(m->fd) != 0 && !err) err = errno;
  m->fd = -1;
  if (err) fail("cannot write", m->dest, err);
}

void File::commit(bool replace) {
  close();
  int rc = 0;
  if (replace) {
    rc = ::rename(m->temp.c_str(), m->dest.c_str());
  } else {
    rc = ::renameat2(AT_FDCWD, m->temp.c_str(), AT_FDCWD, m->dest.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {  // a file system without it: check, then rename
      std::error_code ec;
      if (fs::exists(m->dest, ec)) {
        errno = EEXIST;
      } else {
        rc = ::rename(m->temp.c_str(), m->dest.c_str());
      }
    }
  }
  if (rc != 0) fail("cannot write", m->dest, errno);
  m->committed = true;
}

const fs::path& File::temp_path() const { return m->temp; }
const fs::path& File::dest() const { return m->dest; }

void write_file(const fs::path& dest, const std::string& text) {
  File f(dest);
  f.out() << text;
  f.commit();
}

// ---- FolderLock ---------------------------------------------------------------------------

FolderLock::FolderLock(const fs::path& dir, const std::string& option) {
  make_dirs(dir);
  const fs::path path = dir / kLockFile;
  if (int e = injected(path, false)) fail("cannot lock", path, e);
  for (;;) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot lock", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      std::string holder = err == EWOULDBLOCK ? read_holder(fd) : "";
      ::close(fd);
      if (err != EWOULDBLOCK) fail("cannot lock", path, err);
      throw InputError(option + " " + dir.string() + ": in use by another bpsim process (" +
                       (holder.empty() ? std::string("it is just starting") : holder) + ", lock " + path.string() +
                       "); wait for it to finish or choose another folder");
    }
    // The holder before us may have removed the file between our open and our lock: then
    // we hold a lock on a file nobody else sees, so lock the one that is there now.
    struct stat held {
    }, now{};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      m_fd = fd;
      break;
    }
    ::close(fd);
  }
  m_path = path;
  const std::string line = holder_line() + "\n";
  int err = ::ftruncate(m_fd, 0) == 0 ? 0 : errno;
  if (!err) err = ::pwrite(m_fd, line.data(), line.size(), 0) == ssize_t(line.size()) ? 0 : errno;
  if (!err) err = injected(path, true);
  if (err) {
    release();
    fail("cannot write", path, err);
  }
}

void FolderLock::release() {
  if (m_fd < 0) return;
  ::unlink(m_path.c_str());  // before unlocking: a waiter then sees the file is gone
  ::close(m_fd);
  m_fd = -1;
}

FolderLock::~FolderLock() { release(); }

FolderLock::FolderLock(FolderLock&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)), m_path(std::move(o.m_path)) {}

FolderLock& FolderLock::operator=(FolderLock&& o) noexcept {
  if (this != &o) {
    release();
    m_fd = std::exchange(o.m_fd, -1);
    m_path = std::move(o.m_path);
  }
  return *this;
}

// ---- claiming a folder --------------------------------------------------------------------

namespace {
/// Marks an output folder as bpsim's, so a later command may replace its files.
const char* const kMarker = ".bpsim-output";
}  // namespace

FolderLock claim_folder(const fs::path& dir, bool force, const std::string& option, const std::string& command) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec && ec.value() != ENOENT) fail("cannot use " + option + " folder", dir, ec.value());
  if (fs::exists(st) && !fs::is_directory(st)) fail("cannot use " + option + " folder", dir, ENOTDIR);
  // The lock first: another bpsim setting the folder up (its marker still a temporary)
  // is then refused as the holder, not mistaken for someone else's files.
  FolderLock lock(dir, option);
  if (!force && !fs::exists(dir / kMarker)) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename() != kLockFile)
        throw InputError(option + " " + dir.string() +
                         ": folder is not empty and was not made by bpsim; refusing to write into it "
                         "(choose another folder, or pass --force)");
  }
  if (!fs::exists(dir / kMarker))
    write_file(dir / kMarker, "bpsim output folder; bpsim " + command + " may replace its files here\n");
  return lock;
}

}  // namespace bpsim::output
