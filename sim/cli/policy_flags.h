#pragma once
/// The memory-policy flags that `bpsim workload` and `bpsim trace export` share: each sets the
/// `workload.policy` key it names, and the kind's own schema checks them as it checks a
/// config's (sim/source/load.h: command_line_section).
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options/options_description.hpp>

namespace bpsim::cli {

class PolicyFlags {
 public:
  /// Adds --policy, --segments, --threshold, --budget, --cost, --flops-per-cycle,
  /// --bytes-per-cycle, --density, --index-bits and --allowable-error to `d`.
  void add_to(boost::program_options::options_description& d);
  /// The (key, value) pairs of the flags given, in declaration order: the policy section.
  std::vector<std::pair<std::string, std::string>> keys() const;

 private:
  struct Flag {
    const char* flag;
    const char* key;  ///< its workload.policy key
    const char* help;
  };
  static const std::array<Flag, 12> kFlags;
  std::array<std::optional<std::string>, 12> m_given;
};

}  // namespace bpsim::cli
