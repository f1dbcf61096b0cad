#pragma once
/// A fast reader for the part of YAML that bpsim's configs are written in, in front of
/// yaml-cpp: block maps and lists, flow maps and lists, plain and simply quoted scalars,
/// comments. yaml-cpp's scanner tries regular expressions at every character and took 42 %
/// of a small run's instructions (14 KB of included configs: 13 of 31 M; docs/architecture.md,
/// "Config parsing"). This reader makes the same tree in a single pass, or declines: anything
/// outside that part (anchors, tags, block scalars, escapes, tabs, multi-line plain scalars,
/// several documents, duplicate keys, any error) is left to yaml-cpp, so that every message
/// about bad YAML stays yaml-cpp's. The unit test and the fuzz target (tests/yaml_difference.h)
/// check that whatever it accepts, yaml-cpp reads to the same values at the same places.
#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/config_node.h"

namespace bpsim::config {

/// The document `text` (named `file` in locations) as yaml-cpp followed by bpsim's conversion
/// would give it: the same types, texts, quoted flags, key order and locations. nullopt when
/// the text is outside the subset, or would make more than `max_nodes` values (a root, list
/// items and map values; keys are not counted) or nest deeper than `max_depth` (the root at
/// 0): the caller then parses it with yaml-cpp, whose limits and errors apply. `nodes` is
/// set to the count of values made.
std::optional<Node> parse_yaml_subset(const std::string& text, const std::string& file, uint64_t max_nodes,
                                      int max_depth, uint64_t& nodes);

/// The document read by yaml-cpp alone, as parse_yaml reads what the subset declines (the
/// same limits and messages): the reference the subset is tested against.
Node parse_yaml_cpp(const std::string& text, const std::string& file);

}  // namespace bpsim::config
