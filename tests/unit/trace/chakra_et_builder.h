#pragma once
// Builds Chakra .et bytes in tests (with the classes protoc generates from
// sim/trace/chakra_et.proto): each message preceded by its varint length, GlobalMetadata first.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>
#include <vector>

#include "sim/trace/chakra_et.pb.h"

namespace bpsim::test::chakra {

namespace pb = bpsim_chakra;

inline std::string frame(const std::vector<pb::Node>& nodes) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream s(&out);
    google::protobuf::io::CodedOutputStream c(&s);
    pb::GlobalMetadata meta;
    meta.set_version("0.0.4");
    c.WriteVarint32(uint32_t(meta.ByteSizeLong()));
    meta.SerializeToCodedStream(&c);
    for (const pb::Node& n : nodes) {
      c.WriteVarint32(uint32_t(n.ByteSizeLong()));
      n.SerializeToCodedStream(&c);
    }
  }
  return out;
}

inline pb::Node node(uint64_t id, const std::string& name, pb::NodeType type, std::vector<uint64_t> data = {}) {
  pb::Node n;
  n.set_id(id);
  n.set_name(name);
  n.set_type(type);
  for (uint64_t d : data) n.add_data_deps(d);
  return n;
}

inline void int_attr(pb::Node& n, const std::string& name, uint64_t v) {
  pb::AttributeProto* a = n.add_attr();
  a->set_name(name);
  a->set_uint64_val(v);
}

/// A MEM_LOAD node of `bytes`.
inline pb::Node load(uint64_t id, uint64_t bytes) {
  pb::Node n = node(id, "load", pb::MEM_LOAD_NODE);
  int_attr(n, "tensor_size", bytes);
  return n;
}

}  // namespace bpsim::test::chakra
