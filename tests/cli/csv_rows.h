#pragma once
/// Splits a CSV file bpsim wrote (ops.csv, compare.csv) into rows of fields, for the CLI tests.
#include <sstream>
#include <string>
#include <vector>

namespace bpsim::test {

/// A CSV text's rows of fields, split at every comma (for files without quoted fields); a
/// line ending in a comma ends in an empty field.
inline std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream l(line);
    for (std::string c; std::getline(l, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

}  // namespace bpsim::test
