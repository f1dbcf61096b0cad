#pragma once
/// MLCommons Chakra execution traces (protobuf `.et`) as a workload source. The file is a
/// sequence of messages, each preceded by its byte length as a varint: one GlobalMetadata,
/// then Nodes (the framing of Chakra's protolib encodeMessage). What is read, and how each
/// node becomes an op, is documented in traces/README.md ("Chakra execution traces"):
/// - COMP nodes: GEMM and convolution from bpsim's attributes (gemm_m/n/k[/batch],
///   conv_n/c/h/w/k/r/s[/stride/pad/groups]) or, for PyTorch-derived traces, from the op
///   name (aten::mm, addmm, bmm, matmul, linear, convolution, _convolution, conv2d) and
///   the input shapes (an aten op called by another, a ctrl_dep on aten::linear, matmul,
///   conv2d, convolution or _convolution, is counted in its caller: an op with no work);
///   any other COMP node becomes an elementwise op over its tensors;
/// - MEM_LOAD / MEM_STORE nodes: a DRAM read / write of their tensor_size attribute;
/// - METADATA nodes: no op (dependencies pass through them);
/// - dependencies: data_deps ∪ ctrl_deps; ops come out in dependency order.
#include <memory>
#include <string>

#include "sim/ir/ir.h"

namespace bpsim::trace {

struct ChakraOptions {
  /// Element type of every op; tensor bytes from shapes use its size.
  workload::DType dtype = workload::DType::fp32;
};

/// Errors (truncated file, bad length varint, unparsable message, unknown or unsupported
/// node type, missing or mistyped attribute, bad shapes, duplicate ids, dangling
/// dependencies, cycles) are InputErrors naming `file`, the node's index and id and the field.
std::shared_ptr<workload::OpGraph> read_chakra_et(const std::string& bytes, const std::string& file,
                                                  const ChakraOptions& opt = {});
std::shared_ptr<workload::OpGraph> read_chakra_et_file(const std::string& path, const ChakraOptions& opt = {});

}  // namespace bpsim::trace
