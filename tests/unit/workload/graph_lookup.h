#pragma once
/// Looks up an op of a built training step by name, failing the test when there is none.
#include <string>

#include <catch2/catch.hpp>

#include "sim/ir/ir.h"

namespace bpsim::test {

inline const workload::Op& find_op(const workload::OpGraph& g, const std::string& name) {
  for (const workload::Op& o : g.ops)
    if (o.name == name) return o;
  FAIL("no op " << name);
  return g.ops[0];
}

}  // namespace bpsim::test
