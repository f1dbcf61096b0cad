#pragma once
/// The small nested spec the `sequential` group tests (unit and CLI) derive their numbers on.
#include <string>

namespace bpsim::test {

/// Top-level modules [fc0, block, act, head, out]: 5, where the flat list has 8 layers
/// (0 fc0, 1 block.act, 2 block.inner.0, 3 block.inner.1, 4 block.2, 5 act, 6 head.0, 7 out).
/// Batch 4, fp32: an [4×8] activation is 128 bytes, [4×4] 64, the output [4×2] 32.
inline const char* const kNestedSpec = R"(name: nested
batch: 4
input: {shape: [8]}
layers:
  - {kind: linear, name: fc0, out_features: 8}
  - kind: sequential
    name: block
    layers:
      - {kind: relu, name: act}
      - kind: sequential
        name: inner
        layers:
          - repeat: 2
            layers: [{kind: linear, out_features: 8}]
      - {kind: relu}
  - {kind: relu, name: act}
  - kind: sequential
    name: head
    layers: [{kind: linear, out_features: 4}]
  - {kind: linear, name: out, out_features: 2}
)";

/// A ReLU inside `depth` sequential groups, as one flow-style list item.
inline std::string nested_groups(int depth) {
  std::string s = "{kind: relu}";
  for (int i = 0; i < depth; ++i) s = "{kind: sequential, layers: [" + s + "]}";
  return s;
}

}  // namespace bpsim::test
