#include "sim/workload/mask_set.h"

#include <map>
#include <optional>
#include <set>

#include "sim/core/binder.h"
#include "sim/core/config_node.h"
#include "sim/core/params.h"

namespace bpsim::workload {

namespace {

struct EntryParams {
  std::string layer;
  uint64_t rows = 0, cols = 0;
  std::string bitmap;
};

const config::Binder<EntryParams>& entry_binder() {
  static const auto b = [] {
    config::Binder<EntryParams> e("mask", "one layer's measured dX mask");
    e.string("layer", &EntryParams::layer, "layer name, as the step names it (bpsim workload)").req();
    e.integer("rows", &EntryParams::rows, "", "the dX GEMM's output rows M").req().range(1, double(int64_t(1) << 40));
    e.integer("cols", &EntryParams::cols, "", "the dX GEMM's output columns N")
        .req()
        .range(1, double(int64_t(1) << 40));
    e.string("bitmap", &EntryParams::bitmap,
             "packed bits, row-major, least significant first, 1 = needed; relative to this file")
        .req();
    return e;
  }();
  return b;
}

/// A layer's dX GEMM, as the step builder names it.
bool is_dx(const Op& op) {
  return op.phase == Phase::backward_data && (op.kind == OpKind::gemm || op.kind == OpKind::conv) &&
         op.name == op.layer + ".dx";
}

}  // namespace

MaskSet read_mask_set(const std::string& path) {
  MaskSet set;
  set.file = path;
  const config::Node root = config::load_file(path);
  config::expect_map(root, "");
  config::check_keys(root, "", {"network", "masks"});
  if (const config::Node* n = root.find("network"))
    set.network = config::as_string(*n, "network"), set.network_where = n->loc;
  const config::Node* list = root.find("masks");
  if (!list) throw InputError(root.loc, "", "missing required key 'masks' (a list of {layer, rows, cols, bitmap})");
  config::expect_seq(*list, "masks");
  std::set<std::string> seen;
  for (size_t i = 0; i < list->seq.size(); ++i) {
    const config::Node& e = list->seq[i];
    const std::string at = "masks[" + std::to_string(i) + "]";
    const config::Values v = config::validate(e, *entry_binder().schema(), at);
    const EntryParams p = entry_binder().parse(v);
    if (!seen.insert(p.layer).second) throw v.error("layer", "layer '" + p.layer + "' is listed twice");
    LayerMask m;
    m.layer = p.layer, m.rows = p.rows, m.cols = p.cols, m.where = e.loc, m.key = at;
    m.bitmap_file = config::resolve_path(*e.find("bitmap"));
    try {
      m.bitmap = read_mask_bitmap(m.bitmap_file, m.rows, m.cols);
    } catch (const InputError& err) {
      throw v.error("bitmap", "layer '" + p.layer + "': " + err.what());
    }
    set.masks.push_back(std::move(m));
  }
  return set;
}

void apply_mask_set(const MaskSet& set, OpGraph& g) {
  if (!set.network.empty() && set.network != g.name)
    throw InputError(set.network_where, "network",
                     "the masks were captured for network '" + set.network + "', the workload is '" + g.name + "'");
  for (const LayerMask& m : set.masks) {
    Op* op = nullptr;
    for (Op& o : g.ops)
      if (o.layer == m.layer && is_dx(o)) op = &o;
    if (!op) {
      std::string have;
      for (const Op& o : g.ops)
        if (is_dx(o)) have += (have.empty() ? "" : ", ") + o.layer;
      throw InputError(m.where, m.key,
                       "layer '" + m.layer + "' has no dX GEMM in this step (layers with one: " +
                           (have.empty() ? std::string("none") : have) + ")");
    }
    if (op->gemm.m != m.rows || op->gemm.n != m.cols)
      throw InputError(m.where, m.key,
                       "the mask is " + std::to_string(m.rows) + "×" + std::to_string(m.cols) + ", op '" + op->name +
                           "' writes " + std::to_string(op->gemm.m) + "×" + std::to_string(op->gemm.n) +
                           " outputs (M×N; captured at another batch or shape?)");
    op->out_mask = OutputMask{};
    op->out_mask.source = OutputMask::Source::bitmap;
    op->out_mask.bitmap_file = m.bitmap_file;
    op->out_mask.bitmap = m.bitmap;
    op->out_mask.density = double(m.bitmap->needed_total()) / (double(m.rows) * double(m.cols));
  }
}

}  // namespace bpsim::workload
