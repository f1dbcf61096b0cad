#include "sim/core/yaml_subset.h"

#include <unordered_set>

namespace bpsim::config {

namespace {

/// Thrown inside the reader when the text leaves the subset; parse_yaml_subset turns it into
/// nullopt, and the caller hands the text to yaml-cpp.
struct Decline {};

/// yaml-cpp reads these plain scalars as null (its IsNullString).
bool null_text(const std::string& s) { return s == "~" || s == "null" || s == "Null" || s == "NULL"; }

/// Bytes yaml-cpp passes through unchanged and counts one column each: printable ASCII, line
/// feeds, and well-formed UTF-8 other than C1 controls and the characters YAML treats as line
/// breaks or byte-order marks (U+0085, U+2028, U+2029, U+FEFF). Tabs, carriage returns and
/// NULs are left to yaml-cpp too.
bool plain_text(const std::string& t) {
  const auto* s = reinterpret_cast<const unsigned char*>(t.data());
  const size_t n = t.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = s[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++i;
      continue;
    }
    const unsigned len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (!len || c > 0xf4 || i + len > n) return false;
    uint32_t cp = c & (0x7fu >> len);
    for (unsigned k = 1; k < len; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f) ||
        cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
      return false;
    i += len;
  }
  return true;
}

/// Keys already in one map: a scan while the map is small, a set once it is not, so that a
/// wide map costs no scan per key.
class SeenKeys {
 public:
  /// False when `key` was seen before.
  bool insert(const std::string& key) {
    if (m_list.size() < kScan) {
      for (const std::string& k : m_list)
        if (k == key) return false;
      m_list.push_back(key);
      if (m_list.size() == kScan) m_set.insert(m_list.begin(), m_list.end());
      return true;
    }
    return m_set.insert(key).second;
  }

 private:
  static constexpr size_t kScan = 16;
  std::vector<std::string> m_list;  ///< the first kScan keys
  std::unordered_set<std::string> m_set;
};

class Reader {
 public:
  Reader(const std::string& text, const std::string& file, uint64_t max_nodes, int max_depth)
      : m_text(text), m_file(file), m_max_nodes(max_nodes), m_max_depth(max_depth) {}

  Node document() {
    if (!plain_text(m_text)) throw Decline{};
    skip_spaces();
    if (line_end()) next_content();
    if (eof()) throw Decline{};  // no value at all: yaml-cpp's null, at its own place
    check_line_start();
    Node root = block_node(-1, 0);
    if (!eof()) throw Decline{};
    return root;
  }

  uint64_t nodes() const { return m_nodes; }

 private:
  const std::string& m_text;
  const std::string& m_file;
  const uint64_t m_max_nodes;
  const int m_max_depth;
  uint64_t m_nodes = 0;
  size_t m_p = 0;    ///< the next byte
  size_t m_bol = 0;  ///< where its line begins
  int m_line = 0;    ///< its line, from 0

  bool eof() const { return m_p >= m_text.size(); }
  char at(size_t k = 0) const { return m_p + k < m_text.size() ? m_text[m_p + k] : '\0'; }
  int col() const { return int(m_p - m_bol); }
  /// A value's or key's place as yaml-cpp marks it, 1-based.
  Location loc() const { return Location{m_file, m_line + 1, col() + 1}; }

  /// A new value here, counted against the limits (past them, yaml-cpp reads the text and
  /// bpsim's conversion reports the limit).
  Node make(Node::Type type, int depth) {
    if (++m_nodes > m_max_nodes || depth > m_max_depth) throw Decline{};
    Node n;
    n.type = type;
    n.loc = loc();
    return n;
  }
  /// An empty value: null, placed where the next token starts. At the text's end that is
  /// column 1 of the line after the last break; but after a last line without a break,
  /// yaml-cpp's column varies with what that line holds, so such a text is declined.
  Node empty_value(int depth) {
    if (eof() && (m_text.empty() || m_text.back() != '\n')) throw Decline{};
    return make(Node::Type::Null, depth);
  }

  void skip_spaces() {
    while (at() == ' ') ++m_p;
  }
  /// A comment starts at the line's start or after a space.
  bool comment_here() const { return at() == '#' && (m_p == m_bol || m_text[m_p - 1] == ' '); }
  bool line_end() const { return eof() || at() == '\n' || comment_here(); }
  /// A block list's entry: a dash followed by a space or the line's end.
  bool entry_here() const { return at() == '-' && (at(1) == ' ' || at(1) == '\n' || m_p + 1 == m_text.size()); }

  /// From a line's end (or a comment), to the first character of the next line holding a
  /// value, or to the end of the text.
  void next_content() {
    for (;;) {
      while (!eof() && at() != '\n') ++m_p;
      if (eof()) return;
      ++m_p;
      ++m_line;
      m_bol = m_p;
      skip_spaces();
      if (!eof() && at() != '\n' && at() != '#') {
        check_line_start();
        return;
      }
    }
  }
  /// Document markers and directives start a line at column 0.
  void check_line_start() const {
    if (col() == 0 && (at() == '%' || m_text.compare(m_p, 3, "---") == 0 || m_text.compare(m_p, 3, "...") == 0))
      throw Decline{};
  }

  /// After a value written on its line: nothing but a comment may follow, and the next line
  /// holding a value must not be indented past `parent` (that would continue the value).
  void end_of_value(int parent) {
    skip_spaces();
    if (!line_end()) throw Decline{};
    next_content();
    if (!eof() && col() > parent) throw Decline{};
  }

  /// The first character of a plain scalar: not an indicator (nor a dash, colon or question
  /// mark before a space).
  void check_plain_start() const {
    const char c = at();
    if (std::string_view(",[]{}#&*!|>%@`'\"?:").find(c) != std::string_view::npos) throw Decline{};
    if (c == '-' && (at(1) == ' ' || at(1) == '\n' || m_p + 1 == m_text.size())) throw Decline{};
  }

  /// Past the closing quote of the quoted scalar that opens at `p`, when it closes on its
  /// line without escapes other than '' in single quotes; npos otherwise.
  size_t quoted_end(size_t p) const {
    const char q = m_text[p];
    const size_t n = m_text.size();
    for (++p; p < n && m_text[p] != '\n'; ++p) {
      if (q == '"' && m_text[p] == '\\') return std::string::npos;
      if (m_text[p] != q) continue;
      if (q == '\'' && p + 1 < n && m_text[p + 1] == '\'') {
        ++p;
        continue;
      }
      return p + 1;
    }
    return std::string::npos;
  }

  /// The text of the quoted scalar here; the reader is left past its closing quote.
  std::string quoted_text() {
    const size_t end = quoted_end(m_p);
    if (end == std::string::npos) throw Decline{};
    const bool single = at() == '\'';
    std::string s;
    for (size_t p = m_p + 1; p + 1 < end; ++p) {
      s += m_text[p];
      if (single && m_text[p] == '\'') ++p;  // inside single quotes, a quote is always doubled
    }
    m_p = end;
    return s;
  }

  /// Where the colon of a block map's key starting here is, if this line starts one: a plain
  /// key runs to the first colon before a space or the line's end, a quoted key is followed
  /// by one.
  size_t key_colon() const {
    const size_t n = m_text.size();
    const auto colon = [&](size_t p) {
      return m_text[p] == ':' && (p + 1 == n || m_text[p + 1] == ' ' || m_text[p + 1] == '\n');
    };
    size_t p = m_p;
    if (at() == '"' || at() == '\'') {
      p = quoted_end(p);
      if (p == std::string::npos) return p;
      while (p < n && m_text[p] == ' ') ++p;
      return p < n && colon(p) ? p : std::string::npos;
    }
    for (; p < n && m_text[p] != '\n'; ++p) {
      if (m_text[p] == '#' && p > m_bol && m_text[p - 1] == ' ') break;
      if (colon(p)) return p;
    }
    return std::string::npos;
  }

  /// A block map's key, which ends at `colon`; the reader is left past the colon.
  std::string block_key(size_t colon) {
    std::string key;
    if (at() == '"' || at() == '\'') {
      key = quoted_text();
      if (m_p != colon) throw Decline{};  // spaces before the colon
    } else {
      check_plain_start();
      if (m_text[colon - 1] == ' ') throw Decline{};
      key.assign(m_text, m_p, colon - m_p);
      if (null_text(key)) throw Decline{};
    }
    m_p = colon + 1;
    return key;
  }

  /// A scalar on one line: quoted, or plain with its trailing spaces dropped. A plain scalar
  /// runs to the line's end or a comment, and in a flow collection (`flow`) also to a comma
  /// or a closing bracket. Declined: a colon before a space (a key where a value should be),
  /// and what yaml-cpp would end the scalar at or might read otherwise (brackets; in a flow
  /// collection any colon or question mark).
  Node scalar(int depth, bool flow) {
    Node n = make(Node::Type::Scalar, depth);
    if (at() == '"' || at() == '\'') {
      n.scalar = quoted_text();
      n.quoted = true;
      return n;
    }
    check_plain_start();
    const size_t start = m_p;
    size_t end = m_p;
    for (; !line_end(); ++m_p) {
      const char c = at();
      if (flow && (c == ',' || c == ']' || c == '}')) break;
      if (c == ':' && (flow || at(1) == ' ' || at(1) == '\n' || m_p + 1 == m_text.size())) throw Decline{};
      if (c == '[' || c == '{' || (flow ? c == '?' : (c == ']' || c == '}'))) throw Decline{};
      if (c != ' ') end = m_p + 1;
    }
    m_p = end;
    n.scalar.assign(m_text, start, end - start);
    if (null_text(n.scalar)) n.scalar.clear(), n.type = Node::Type::Null;
    return n;
  }

  /// A value at the first character of its line, indented past `parent`.
  Node block_node(int parent, int depth) {
    if (entry_here()) return block_list(col(), depth);
    if (at() != '{' && at() != '[' && key_colon() != std::string::npos) return block_map(col(), depth);
    return inline_value(parent, depth);
  }

  /// A value written after a key's colon or a list's dash, on the same line.
  Node inline_value(int parent, int depth) {
    Node n = at() == '{' || at() == '[' ? flow_node(parent, depth) : scalar(depth, false);
    end_of_value(parent);
    return n;
  }

  /// The value after a block map's key at column `indent`.
  Node map_value(int indent, int depth) {
    skip_spaces();
    if (!line_end()) return inline_value(indent, depth);
    next_content();
    if (!eof() && col() > indent) return block_node(indent, depth);
    if (!eof() && col() == indent && entry_here()) return block_list(indent, depth);  // not indented
    return empty_value(depth);
  }

  Node block_map(int indent, int depth) {
    Node map = make(Node::Type::Map, depth);
    SeenKeys seen;
    for (;;) {
      const size_t colon = key_colon();
      if (colon == std::string::npos) throw Decline{};
      Location key_loc = loc();
      std::string key = block_key(colon);
      Node value = map_value(indent, depth + 1);
      map.map.push_back(Node::Entry{std::move(key), std::move(key_loc), std::move(value)});
      if (!seen.insert(map.map.back().key)) throw Decline{};  // yaml-cpp's duplicate-key error
      if (eof() || col() < indent) return map;
      if (col() > indent || entry_here()) throw Decline{};
    }
  }

  Node block_list(int indent, int depth) {
    Node list = make(Node::Type::Sequence, depth);
    for (;;) {
      ++m_p;  // the dash
      skip_spaces();
      if (line_end()) {
        next_content();
        list.seq.push_back(!eof() && col() > indent ? block_node(indent, depth + 1) : empty_value(depth + 1));
      } else if (entry_here()) {
        throw Decline{};  // a list in a list's entry on one line
      } else if (at() != '{' && at() != '[' && key_colon() != std::string::npos) {
        list.seq.push_back(block_map(col(), depth + 1));  // "- key: value", further keys below it
      } else {
        list.seq.push_back(inline_value(indent, depth + 1));
      }
      if (eof() || col() < indent || (col() == indent && !entry_here())) return list;
      if (col() > indent) throw Decline{};
    }
  }

  /// Spaces and line breaks inside a flow collection; a line continuing it is indented past
  /// `parent`, and holds no comment.
  void flow_space(int parent) {
    for (;;) {
      if (at() == ' ') {
        ++m_p;
      } else if (at() == '\n') {
        ++m_p;
        ++m_line;
        m_bol = m_p;
        skip_spaces();
        if (at() != '\n' && (col() <= parent || col() == 0)) throw Decline{};
      } else if (eof() || comment_here()) {
        throw Decline{};
      } else {
        return;
      }
    }
  }

  Node flow_value(int parent, int depth) {
    return at() == '{' || at() == '[' ? flow_node(parent, depth) : scalar(depth, true);
  }

  /// A flow map's key: quoted or plain, followed at once by a colon and a space or a break;
  /// the reader is left past the colon.
  std::string flow_key() {
    std::string key;
    if (at() == '"' || at() == '\'') {
      key = quoted_text();
    } else {
      check_plain_start();
      const size_t start = m_p;
      while (!eof() && std::string_view(":,?[]{}#\n ").find(at()) == std::string_view::npos) ++m_p;
      key.assign(m_text, start, m_p - start);
      if (null_text(key)) throw Decline{};
    }
    if (at() != ':' || (at(1) != ' ' && at(1) != '\n')) throw Decline{};
    ++m_p;
    return key;
  }

  Node flow_node(int parent, int depth) {
    const bool is_map = at() == '{';
    const char close = is_map ? '}' : ']';
    Node n = make(is_map ? Node::Type::Map : Node::Type::Sequence, depth);
    SeenKeys seen;
    ++m_p;
    flow_space(parent);
    if (at() == close) {
      ++m_p;
      return n;
    }
    for (;;) {
      if (is_map) {
        Location key_loc = loc();
        std::string key = flow_key();
        flow_space(parent);
        Node value = flow_value(parent, depth + 1);
        n.map.push_back(Node::Entry{std::move(key), std::move(key_loc), std::move(value)});
        if (!seen.insert(n.map.back().key)) throw Decline{};
      } else {
        n.seq.push_back(flow_value(parent, depth + 1));
      }
      flow_space(parent);
      if (at() == close) {
        ++m_p;
        return n;
      }
      if (at() != ',') throw Decline{};
      ++m_p;
      flow_space(parent);
      if (at() == close || at() == ',') throw Decline{};  // an empty entry
    }
  }
};

}  // namespace

std::optional<Node> parse_yaml_subset(const std::string& text, const std::string& file, uint64_t max_nodes,
                                      int max_depth, uint64_t& nodes) {
  Reader reader(text, file, max_nodes, max_depth);
  nodes = 0;
  try {
    Node doc = reader.document();
    nodes = reader.nodes();
    return doc;
  } catch (const Decline&) {
    return std::nullopt;
  }
}

}  // namespace bpsim::config
