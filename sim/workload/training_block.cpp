#include "sim/workload/training_block.h"

#include <set>

#include "sim/core/error.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

const config::Binder<BlockUpdateSpec>& block_update_binder() {
  static const auto b = [] {
    config::Binder<BlockUpdateSpec> u("block_update",
                                      "block coordinate descent: each step updates one block, the blocks in turn");
    u.list("blocks", &BlockUpdateSpec::blocks,
           "the blocks in schedule order: a module or top-level layer name, or A..B (top-level layers from A's "
           "first to B's last); empty: every layer updates");
    u.integer("step", &BlockUpdateSpec::step, "",
              "the step simulated: it updates blocks[step mod the number of blocks]")
        .def(0)
        .range(0, int64_t(1) << 40);
    return u;
  }();
  return b;
}

namespace {

/// The module named `name` in `tree` or its children, or null.
const ModuleSpec* find_module(const std::vector<ModuleSpec>& tree, const std::string& name) {
  for (const ModuleSpec& m : tree) {
    if (m.name == name) return &m;
    if (const ModuleSpec* c = find_module(m.children, name)) return c;
  }
  return nullptr;
}

/// The top-level layers [first, end) that a module or top-level layer named `name` covers.
BlockRange named(const NetSpec& net, const std::string& name, const std::string& key) {
  const std::vector<ModuleSpec> tree = module_tree(net);  // a copy: held while `m` points into it
  if (const ModuleSpec* m = find_module(tree, name)) return {0, m->first, m->end};
  for (size_t i = 0; i < net.layers.size(); ++i)
    if (net.layers[i].name == name) return {0, i, i + 1};
  throw InputError(key + ": no module or top-level layer of network '" + net.name + "' is named '" + name +
                   "' (bpsim workload SPEC lists the layers)");
}

}  // namespace

BlockRange block_of_step(const BlockUpdateSpec& b, const NetSpec& net) {
  const size_t index = size_t(b.step % b.blocks.size());
  const std::string& text = b.blocks[index];
  const std::string key = "training.block_update.blocks[" + std::to_string(index) + "]";
  const size_t dots = text.find("..");
  BlockRange r;
  if (dots == std::string::npos) {
    r = named(net, text, key);
  } else {
    const BlockRange a = named(net, text.substr(0, dots), key), z = named(net, text.substr(dots + 2), key);
    if (z.end <= a.first)
      throw InputError(key + ": '" + text + "' ends before it starts (its layers run in the spec's order)");
    r = {0, a.first, z.end};
  }
  r.index = index;
  return r;
}

void apply_block_update(const BlockUpdateSpec& b, const NetSpec& net, NetPlan& plan) {
  if (b.blocks.empty()) return;
  const BlockRange r = block_of_step(b, net);
  for (Node& n : plan.nodes) {
    n.frozen = n.params && (n.top < r.first || n.top >= r.end);
    n.needs_grad = n.params && !n.frozen;
    for (int i : n.in) n.needs_grad = n.needs_grad || (i >= 0 && plan.nodes[size_t(i)].needs_grad);
  }
  for (const Node& n : plan.nodes)
    if (n.tied >= 0 && n.frozen != plan.nodes[size_t(n.tied)].frozen)
      throw InputError(n.l->loc, n.l->name,
                       "training.block_update: this layer shares its weight with embedding '" +
                           plan.nodes[size_t(n.tied)].l->name + "', which is in another block (put both in one)");
}

void block_update_figures(const BlockUpdateSpec& b, const NetSpec& net, const NetPlan& plan, OpGraph& g) {
  if (b.blocks.empty()) return;
  (void)plan;
  const BlockRange r = block_of_step(b, net);
  // Parameters: weight tensors no op writes before the update (not a binary layer's signs,
  // not a feedback matrix). Updated: an update op reads one first.
  std::set<uint32_t> written, updated;
  for (const Op& o : g.ops) {
    if (o.phase == Phase::update) {
      if (!o.reads.empty()) updated.insert(o.reads[0]);
      continue;
    }
    written.insert(o.writes.begin(), o.writes.end());
  }
  const auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  uint64_t upd = 0, frozen = 0;
  for (const Tensor& t : g.tensors) {
    if (t.role != TensorRole::weight || written.count(t.id) || ends_with(t.name, ".feedback")) continue;
    (updated.count(t.id) ? upd : frozen) += t.bytes;
  }
  // The method keeps each block's optimizer state between its turns (its moments would
  // otherwise restart at zero every cycle): resident, neither read nor written this step.
  const bool adam = net.optimizer == Optimizer::adam || net.optimizer == Optimizer::adamw;
  const unsigned states = adam ? 2 : net.optimizer == Optimizer::momentum ? 1 : 0;
  const uint64_t per_element = states * (dtype_bits(net.state_dtype) / 8) + (net.master_weights ? 4 : 0);
  const uint64_t elem = dtype_bits(net.dtype) / 8;  // a parameter's bytes per element (the network's dtype)
  g.memory.figures["block_update_block"] = double(r.index);
  g.memory.figures["block_update_blocks"] = double(b.blocks.size());
  g.memory.figures["block_update_first_layer"] = double(r.first);
  g.memory.figures["block_update_layers"] = double(r.end - r.first);
  g.memory.figures["updated_parameter_bytes"] = double(upd);
  g.memory.figures["frozen_parameter_bytes"] = double(frozen);
  const uint64_t frozen_state = frozen / elem * per_element;  // whole elements: the bytes divide exactly
  g.memory.figures["frozen_optimizer_state_bytes"] = double(frozen_state);
}

}  // namespace bpsim::workload
