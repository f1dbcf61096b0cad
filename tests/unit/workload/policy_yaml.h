#pragma once
/// Tests make policies the way every entry point does: a policy node through make_policy.
#include <memory>
#include <string>

#include "sim/core/config_node.h"
#include "sim/workload/policy.h"

namespace bpsim::test {

/// The policy of a YAML flow map such as "{kind: checkpoint_sequential, segments: 2}".
inline std::unique_ptr<const workload::Policy> policy(const std::string& yaml,
                                                      const workload::PolicyContext& ctx = {}) {
  return workload::make_policy(config::parse_yaml(yaml, "policy.yaml"), "policy", ctx);
}

}  // namespace bpsim::test
