#include "sim/trace/trace_file.h"

#include <iterator>
#include <streambuf>

#include <zlib.h>

#include "sim/core/error.h"

namespace bpsim::trace {

class TraceFile::GzBuf : public std::streambuf {
 public:
  explicit GzBuf(const std::string& path) : f_(gzopen(path.c_str(), "rb")) {}
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

TraceFile::TraceFile(const std::string& path, const std::string& what)
    : m_path(path), m_buf(std::make_unique<GzBuf>(path)) {
  if (!m_buf->is_open()) throw InputError(Location{path}, "", "cannot open " + what);
  m_in = std::make_unique<std::istream>(m_buf.get());
}

TraceFile::~TraceFile() = default;

std::istream& TraceFile::in() { return *m_in; }

void TraceFile::check_end() {
  if (const char* e = m_buf->error()) throw InputError(Location{m_path}, "", std::string("gzip: ") + e);
}

std::string TraceFile::read_all() {
  std::string bytes{std::istreambuf_iterator<char>(*m_in), std::istreambuf_iterator<char>()};
  check_end();
  return bytes;
}

}  // namespace bpsim::trace
