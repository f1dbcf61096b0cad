#pragma once
/// A trace file read through zlib: a gzip-compressed one is decompressed as it is read, a
/// plain one passes through as it is (zlib's transparent mode). Shared by the JSONL trace
/// reader (line by line) and the Chakra importer (whole).
#include <istream>
#include <memory>
#include <string>

namespace bpsim::trace {

class TraceFile {
 public:
  /// Throws InputError "PATH: cannot open WHAT".
  explicit TraceFile(const std::string& path, const std::string& what = "trace file");
  ~TraceFile();
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;
  std::istream& in();
  /// At the end of the text: a decompression error (a damaged or truncated .gz) is an
  /// InputError "PATH: gzip: …", the file's fault rather than the trace's.
  void check_end();
  /// Everything left in the file (then check_end).
  std::string read_all();

 private:
  class GzBuf;
  std::string m_path;
  std::unique_ptr<GzBuf> m_buf;  // before m_in: the stream reads from it
  std::unique_ptr<std::istream> m_in;
};

}  // namespace bpsim::trace
