#pragma once
/// Shared command-line parsing: visible options plus positional arguments.
#include <boost/program_options.hpp>

#include <string>
#include <utility>
#include <vector>

namespace bpsim::cli {

/// Parses `argv` with the `visible` options and fills each positional target in order.
inline void parse_command_line(int argc, char* argv[], const boost::program_options::options_description& visible,
                               const std::vector<std::pair<const char*, std::string*>>& positionals) {
  namespace po = boost::program_options;
  po::options_description hidden;
  po::positional_options_description pos;
  for (const auto& [name, target] : positionals) {
    hidden.add_options()(name, po::value(target));
    pos.add(name, 1);
  }
  po::options_description all;
  all.add(visible).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  po::notify(vm);
}

}  // namespace bpsim::cli
