#pragma once
/// How a declared parameter's type and range are written for people: the pieces of
/// `bpsim list`'s lines (ParamDecl::describe) and of the layer reference's tables
/// (`bpsim list --layers --markdown`, docs/layers.md).
#include <string>

#include "sim/core/params.h"

namespace bpsim::config {

/// "int", "float", "bool", "string", "one of a|b|c", "map" or "list".
std::string type_text(const ParamDecl& d);
/// "[1, 1024]" or "(0, inf]" when a bound is declared, else "".
std::string range_text(const ParamDecl& d);

}  // namespace bpsim::config
