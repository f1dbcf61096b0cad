#include "sim/trace/trace_file.h"

#include <unistd.h>

#include <cstring>
#include <streambuf>

#include <zlib.h>

#include "sim/core/error.h"
#include "sim/core/input_file.h"

namespace bpsim::trace {

class TraceFile::GzBuf : public std::streambuf {
 public:
  explicit GzBuf(const std::string& path) : f_(gzopen(path.c_str(), "rb")) {}
  /// Reads a descriptor (standard input), plain or gzip-compressed alike; closing the
  /// stream closes `fd`, a duplicate, not the process's standard input.
  explicit GzBuf(int fd) : f_(gzdopen(fd, "rb")) {}
  ~GzBuf() override {
    if (f_) gzclose(f_);
  }
  GzBuf(const GzBuf&) = delete;
  GzBuf& operator=(const GzBuf&) = delete;
  bool is_open() const { return f_ != nullptr; }
  const char* error() {
    int code = Z_OK;
    const char* msg = f_ ? gzerror(f_, &code) : nullptr;
    return code == Z_OK || code == Z_STREAM_END ? nullptr : msg;
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(f_, buf_, sizeof buf_);
    if (n <= 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile f_;
  char buf_[1 << 16];
};

/// Checked before gzopen, which would block on a FIFO and read a device without end;
/// `-` is standard input, read as it comes (claimed once per process).
std::unique_ptr<TraceFile::GzBuf> TraceFile::open_buf(const std::string& path, const std::string& what) {
  if (is_stdio(path)) return std::make_unique<GzBuf>(::dup(claim_stdin(what)));
  regular_file_size(path, what);
  return std::make_unique<GzBuf>(path);
}

TraceFile::TraceFile(const std::string& path, const std::string& what)
    : m_path(is_stdio(path) ? std::string(kStdinLabel) : path), m_buf(open_buf(path, what)) {
  if (!m_buf->is_open()) throw InputError(Location{m_path}, "", "cannot open " + what);
  m_in = std::make_unique<std::istream>(m_buf.get());
}

TraceFile::~TraceFile() = default;

std::istream& TraceFile::in() { return *m_in; }

void TraceFile::check_end() {
  if (const char* e = m_buf->error()) throw InputError(Location{m_path}, "", std::string("gzip: ") + e);
}

std::string TraceFile::read_all(limits::Id max) {
  const uint64_t limit = limits::get(max);
  std::string bytes;
  char chunk[1 << 16];
  for (std::streamsize n; (n = m_buf->sgetn(chunk, sizeof chunk)) > 0;) {
    if (bytes.size() + uint64_t(n) > limit)
      throw InputError(Location{m_path}, "",
                       limits::exceeded(max, "file larger than " + std::to_string(limit) + " bytes (decompressed)"));
    bytes.append(chunk, size_t(n));
  }
  check_end();
  return bytes;
}

LineReader::LineReader(std::istream& in, const std::string& file, std::optional<limits::Id> total)
    : m_buf(*in.rdbuf()),
      m_file(file),
      m_total(total),
      m_max_line(limits::get(limits::Id::line_bytes)),
      m_max_total(total ? limits::get(*total) : UINT64_MAX) {}

namespace {
constexpr size_t kChunk = size_t(1) << 16;
}  // namespace

bool LineReader::refill() {
  if (!m_chunk) m_chunk = std::make_unique<char[]>(kChunk);
  const std::streamsize n = m_buf.sgetn(m_chunk.get(), std::streamsize(kChunk));
  m_pos = m_chunk.get();
  m_end = m_pos + (n > 0 ? n : 0);
  return m_pos != m_end;
}

bool LineReader::next(std::string& line) {
  line.clear();
  if (m_pos == m_end && !refill()) return false;
  ++m_line;
  bool newline = false;
  do {
    const char* nl = static_cast<const char*>(std::memchr(m_pos, '\n', size_t(m_end - m_pos)));
    const size_t take = size_t((nl ? nl : m_end) - m_pos);
    if (line.size() + take > m_max_line)
      throw InputError(
          Location{m_file, m_line, 0}, "",
          limits::exceeded(limits::Id::line_bytes, "line longer than " + std::to_string(m_max_line) + " bytes"));
    line.append(m_pos, take);
    m_pos += take;
    if (nl) {
      ++m_pos;
      newline = true;
    }
  } while (!newline && (m_pos != m_end || refill()));
  m_bytes += line.size() + (newline ? 1 : 0);
  if (m_bytes > m_max_total)
    throw InputError(Location{m_file, m_line, 0}, "",
                     limits::exceeded(*m_total, "file larger than " + std::to_string(m_max_total) +
                                                    " bytes (decompressed) by this line"));
  return true;
}

}  // namespace bpsim::trace
