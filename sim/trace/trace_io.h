#pragma once
/// bpsim's workload trace: JSON Lines, one record per line (traces/README.md). A header,
/// then tensors and ops in execution order, with optional alloc/free events so memory
/// accounting works from a trace too.
#include <iosfwd>
#include <memory>
#include <string>

#include "sim/ir/ir.h"
#include "sim/ir/op_stream.h"

namespace bpsim::trace {

constexpr int kFormatVersion = 1;

/// Writes `g` as a trace: header, every tensor before its first use, every op.
void write_trace(const workload::OpGraph& g, std::ostream& out);

/// Reads a trace. Errors (malformed JSON, unknown kinds, missing fields, dangling
/// dependencies, cycles) are InputErrors naming `file`, the line and the field.
std::shared_ptr<workload::OpGraph> read_trace(std::istream& in, const std::string& file);
std::shared_ptr<workload::OpGraph> read_trace_file(const std::string& path);

/// Opens a trace for replay as it is read (same checks, same errors, found as the replay
/// reaches them); memory holds the tensors' sizes, not the ops.
std::unique_ptr<workload::OpStream> open_trace_stream(const std::string& path);

}  // namespace bpsim::trace
