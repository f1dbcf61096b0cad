#pragma once
/// A trace file read through zlib: a gzip-compressed one is decompressed as it is read, a
/// plain one passes through as it is (zlib's transparent mode). Shared by the JSONL trace
/// reader (line by line) and the Chakra importer (whole). Only regular files are opened,
/// and `-`, standard input, streamed as it comes.
#include <istream>
#include <memory>
#include <optional>
#include <string>

#include "sim/core/limits.h"

namespace bpsim::trace {

class TraceFile {
 public:
  /// Throws InputError "PATH: cannot open WHAT: <reason>" (missing, not a regular file, …).
  explicit TraceFile(const std::string& path, const std::string& what = "trace file");
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;
  std::istream& in();
  /// At the end of the text: a decompression error (a damaged or truncated .gz) is an
  /// InputError "PATH: gzip: …", the file's fault rather than the trace's.
  void check_end();
  /// Everything left in the file (then check_end); more than the limit `max` allows is an
  /// InputError, found without reading past it.
  std::string read_all(limits::Id max);

 private:
  class GzBuf;
  static std::unique_ptr<GzBuf> open_buf(const std::string& path, const std::string& what);
  std::string m_path;            ///< as messages name it: the path, or "<stdin>"
  std::unique_ptr<GzBuf> m_buf;  // before m_in: the stream reads from it
  std::unique_ptr<std::istream> m_in;
};

/// Lines of a text input, each at most limits::line_bytes long and, with `total`, all of
/// them together at most that limit: a longer line or file is an InputError at its line,
/// found without holding more than the limit in memory.
class LineReader {
 public:
  LineReader(std::istream& in, const std::string& file, std::optional<limits::Id> total = std::nullopt);
  /// The next line (without its '\n'); false at the end.
  bool next(std::string& line);
  /// 1-based number of the line `next` returned last.
  int line() const { return m_line; }

 private:
  /// Refills m_chunk from the stream; false at its end.
  bool refill();
  std::streambuf& m_buf;
  std::unique_ptr<char[]> m_chunk;  ///< read in blocks, lines cut out of them (not char by char)
  const char *m_pos = nullptr, *m_end = nullptr;
  const std::string& m_file;
  std::optional<limits::Id> m_total;
  uint64_t m_max_line, m_max_total, m_bytes = 0;
  int m_line = 0;
};

}  // namespace bpsim::trace
