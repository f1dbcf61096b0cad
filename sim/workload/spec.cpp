#include "sim/workload/spec.h"

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "sim/core/binder.h"
#include "sim/core/limits.h"
#include "sim/core/param_text.h"
#include "sim/core/params.h"
#include "sim/workload/layer_reference.h"
#include "sim/workload/spec_blocks.h"
#include "sim/workload/spec_networks.h"

namespace bpsim::workload {

namespace {

/// Every kind a `layers:` map may name, with what it adds to the training step's op graph
/// (one line each, the layer reference's; docs/workloads.md gives the rules behind them).
/// Groups (`group`) hold layers of their own; `repeat` is written as a key, not a kind.
struct KindEffect {
  const char* kind;
  bool group;
  const char* effect;
};
constexpr KindEffect kLayerKinds[] = {
    {"linear", false,
     "a GEMM x·Wᵀ (+ b); backward: a dX GEMM (when its input needs a gradient) and a dW GEMM with the bias "
     "gradient; an optimizer update of W and b; keeps its input"},
    {"conv2d", false,
     "a convolution (its GEMM dims by im2col); backward: dX and dW convolutions and the bias gradient; an "
     "optimizer update; keeps its input"},
    {"maxpool", false, "a pooling op; keeps its input and the int64 argmax indices; backward: one pooling op"},
    {"avgpool", false,
     "a pooling op; keeps its input (global, over the whole map to 1×1: nothing, as mean() keeps only the "
     "shape); backward: one pooling op"},
    {"relu", false,
     "an elementwise op whose output has `density` non-zero values (an output mask for the models); keeps its "
     "output; backward: one elementwise op"},
    {"gelu", false, "an elementwise op (8 FLOPs per element); keeps its input; backward: one elementwise op"},
    {"dropout", false,
     "an elementwise op writing a 1-byte mask per element (kept; 1 − p of the outputs non-zero); backward: one "
     "elementwise op"},
    {"flatten", false, "a view of its input: no op, no new tensor"},
    {"layernorm", false,
     "a normalization op over the last dimension; keeps its input and fp32 mean and rstd per row; backward: dX "
     "and the weight and bias gradients; an optimizer update"},
    {"batchnorm", false,
     "a normalization op per channel; keeps its input and fp32 mean and rstd per channel; backward: dX and the "
     "weight and bias gradients; an optimizer update"},
    {"softmax", false, "a softmax op over the last dimension; keeps its output; backward: one softmax op"},
    {"embedding", false,
     "a row lookup in a vocab × dim table (the input holds token ids, kept); backward: the table's gradient, a "
     "scatter-add of the output gradient; an optimizer update"},
    {"attention", false,
     "multi-head self-attention: q, k, v projections (one linear or three), the attention core (explicit QKᵀ, "
     "softmax, dropout and ·V ops, or one fused SDPA kernel) and the output projection"},
    {"transformer_block", false,
     "a pre-LayerNorm GPT block: x + proj(attention(LN(x))), then x + fc2(GELU(fc1(LN(x)))), with dropouts; "
     "expands into those layers inside residual groups"},
    {"residual", true,
     "a group: its `layers` (the main branch) and its `shortcut` (identity when absent) added; the backward of "
     "the add passes the gradient to both"},
    {"sequential", true,
     "a group (nn.Sequential): its layers in place, and one module for the checkpoint policies' `level` and `at`"},
    {"repeat", true, "a group written `repeat: N`: its layers copied N times, in order"},
    {"basic_block", false,
     "torchvision's BasicBlock: 3×3 conv, batchnorm, ReLU, 3×3 conv, batchnorm, plus the shortcut (a 1×1 conv "
     "and batchnorm when the shape changes), then ReLU"},
    {"bottleneck", false,
     "torchvision's Bottleneck: 1×1, 3×3 (the stride) and 1×1 (4× wide) convs with batchnorms and ReLUs, plus "
     "the shortcut (projected when the shape changes), then ReLU"},
    {"binary_linear", false,
     "an XNOR-popcount GEMM over sign-binarised inputs and weights, writing packed integers; keeps the packed "
     "signs of input and weights and the straight-through bits 1{|x| ≤ 1}; backward: dX (through the "
     "straight-through estimator) and dW GEMMs; an optimizer update of the latent real weights"},
    {"binary_conv2d", false,
     "an XNOR-popcount convolution over sign-binarised inputs and weights, writing packed integers; keeps the "
     "packed signs of input and weights and the straight-through bits; backward: dX (through the "
     "straight-through estimator) and dW convolutions; an optimizer update of the latent real weights"},
    // layers of current networks (spec_networks.cpp)
    {"rmsnorm", false,
     "a normalization op over the last dimension (weight, no bias); keeps its input and an fp32 rstd per row; "
     "backward: dX and the weight gradient; an optimizer update"},
    {"silu", false, "an elementwise op (4 FLOPs per element); keeps its input; backward: one elementwise op"},
    {"swiglu", false,
     "down(silu(gate(x)) · up(x)): three linears, a SiLU and a product whose backward keeps both factors"},
    {"llama_block", false,
     "a Llama decoder layer: x + o(attention(rmsnorm(x))) with rotary q and k, then x + swiglu(rmsnorm(x)); no "
     "bias, no dropout"},
    {"patch_embedding", false,
     "a conv with kernel = stride = patch (keeps the image), the map's positions read as tokens (a view), a "
     "class token concatenated in front, a learned position table added"},
    {"class_token", false,
     "concatenates a learned token in front of the sequence (keeps nothing); backward: the token's gradient"},
    {"position_embedding", false,
     "a learned [tokens, h] table added whole (keeps nothing), or with `lookup` rows looked up by arange ids "
     "made in the forward (keeps the ids); backward: the table's gradient"},
    {"select_token", false,
     "x[:, 0], a view (no op; a reader that keeps it keeps the whole input); backward: a zero-filled "
     "input-shaped gradient"},
    {"vit_block", false,
     "torchvision's ViT EncoderBlock: pre-LayerNorm multi-head attention (a contiguous copy before out_proj), "
     "then a GELU MLP, each added to its input"},
    {"bert_embeddings", false,
     "word, position and token-type embeddings added, a LayerNorm and dropout; the position and token-type ids "
     "are made in the forward and kept"},
    {"bert_block", false,
     "a post-LayerNorm BERT layer: LN(x + dropout(o(attention(x)))), then LN(x + dropout(fc2(GELU(fc1(x)))))"},
};

const KindEffect& kind_effect(const std::string& kind) {
  for (const auto& k : kLayerKinds)
    if (kind == k.kind) return k;
  throw std::logic_error("layer kind '" + kind + "' has no entry in kLayerKinds");
}

/// The kinds a `kind:` key accepts (all but `repeat`).
const std::vector<std::string>& user_kinds() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (const auto& e : kLayerKinds)
      if (std::string(e.kind) != "repeat") v.emplace_back(e.kind);
    return v;
  }();
  return k;
}

std::string kinds_text() { return config::join(user_kinds(), ", "); }

/// The keys of the groups, declared once: the parser checks a group's keys against these,
/// and its layers lists by hand (they hold maps of every kind).
std::shared_ptr<const config::Schema> make_group_schema(const std::string& kind) {
  auto s = std::make_shared<config::Schema>(kind, kind_effect(kind).effect);
  if (kind == "repeat") {
    s->integer("repeat", "", "copies of the layers").req().range(1, 100000);
    s->list("layers", config::ParamType::Group, "the layers copied, in order (at least one)").req();
    return s;
  }
  s->string("kind", "layer kind").req();
  s->string("device", "a system's device for every op of the group's layers (docs/system.md)");
  if (kind == "residual") {
    s->string("name", "layer name (default: kind and index)");
    s->list("layers", config::ParamType::Group, "the main branch (at least one layer)").req();
    s->list("shortcut", config::ParamType::Group, "the shortcut branch (absent: identity)");
  } else {  // sequential
    s->string("name", "module name without '.', qualified as named_modules() writes it (default: its index)");
    s->list("layers", config::ParamType::Group, "its layers (at least one)").req();
  }
  return s;
}

const std::shared_ptr<const config::Schema>& group_schema(const std::string& kind) {
  static const std::map<std::string, std::shared_ptr<const config::Schema>> schemas = {
      {"residual", make_group_schema("residual")},
      {"sequential", make_group_schema("sequential")},
      {"repeat", make_group_schema("repeat")}};
  return schemas.at(kind);
}

std::vector<std::string> key_names(const config::Schema& s) {
  std::vector<std::string> v;
  for (const auto& d : s.params()) v.push_back(d.name);
  return v;
}

void pruning(config::Binder<LayerParams>& s) {
  s.real("weight_density", &LayerParams::weight_density, "",
         "fraction of weights kept by pruning; dW outputs of pruned weights are not needed")
      .def(1.0)
      .range(0, 1);
  s.choice("weight_format", &LayerParams::weight_format, kWeightFormatNames,
           "how the weights are stored: dense (zeros kept in place), csr (kept values, a column index each, row "
           "pointers), bitmap (kept values, a bit per position) or triplet (kept values with both neurons' "
           "indices); compact formats size the weight, its gradient and optimizer state by the kept weights "
           "(docs/techniques.md)")
      .def("dense");
  s.integer("index_bits", &LayerParams::index_bits, "bits",
            "weight_format csr, triplet: bits of each index of a kept weight")
      .def(16)
      .range(1, 32);
}

void window(config::Binder<LayerParams>& s, bool conv) {
  s.integer("kernel", &LayerParams::kernel, "", "square window size").req().range(1, 1024);
  config::BoundParam stride =
      s.integer("stride", &LayerParams::stride, "", conv ? "step of the window" : "step (default = kernel)");
  stride.range(1, 1024);
  if (conv) stride.def(1);
  s.integer("padding", &LayerParams::padding, "", "zero padding on each side").def(0).range(0, 1024);
}

/// Parameters of one layer kind, declared once (also the documentation of the spec).
config::Binder<LayerParams> make_layer_binder(const std::string& kind) {
  config::Binder<LayerParams> s(kind, kind_effect(kind).effect);
  s.string("kind", &LayerParams::kind, "layer kind").req();
  s.string("name", &LayerParams::name, "layer name (default: kind and index)");
  s.string("device", &LayerParams::device,
           "in a system (docs/system.md): the device that runs the layer's forward, backward and update ops "
           "(default: its group's, else placement.default); a one-device run ignores it")
      .def("\"\"");
  const int64_t big = int64_t(1) << 32;
  if (kind == "linear" || kind == "binary_linear") {
    s.integer("out_features", &LayerParams::out_features, "", "output features").req().range(1, big);
    if (kind == "linear") {
      s.boolean("bias", &LayerParams::bias, "add a bias vector").def(true);
      s.string("tied", &LayerParams::tied, "name of an earlier embedding whose table is this weight (tied LM head)")
          .def("\"\"");
      pruning(s);
    }
  } else if (kind == "conv2d" || kind == "binary_conv2d") {
    s.integer("out_channels", &LayerParams::out_channels, "", "filters").req().range(1, int64_t(1) << 24);
    window(s, true);
    if (kind == "conv2d") {
      s.integer("groups", &LayerParams::groups, "", "channel groups (depthwise: groups = channels)")
          .def(1)
          .range(1, int64_t(1) << 24);
      s.boolean("bias", &LayerParams::bias, "add a bias per filter").def(true);
      pruning(s);
    }
  } else if (kind == "maxpool") {
    window(s, false);
  } else if (kind == "avgpool") {
    s.boolean("global", &LayerParams::global, "average the whole map (adaptive 1×1), ignoring kernel").def(false);
    s.integer("kernel", &LayerParams::kernel, "", "square window size").def(2).range(1, 1024);
    s.integer("stride", &LayerParams::stride, "", "step (default = kernel)").range(1, 1024);
    s.integer("padding", &LayerParams::padding, "", "zero padding on each side").def(0).range(0, 1024);
  } else if (kind == "relu") {
    s.real("density", &LayerParams::density, "", "fraction of outputs that are non-zero (the ReLU mask density)")
        .def(0.5)
        .range(0, 1);
  } else if (kind == "dropout") {
    s.real("p", &LayerParams::p, "", "drop probability").def(0.1).range(0, 0.999999);
  } else if (kind == "embedding") {
    s.integer("vocab", &LayerParams::vocab, "", "number of embeddings (rows of the table)").req().range(1, big);
    s.integer("dim", &LayerParams::dim, "", "embedding width").req().range(1, big);
  } else if (kind == "attention" || kind == "transformer_block") {
    s.integer("hidden", &LayerParams::hidden, "", "model width h (the input's last dimension)").req().range(1, big);
    s.integer("heads", &LayerParams::heads, "", "attention heads a (h must divide by a)").req().range(1, 1 << 16);
    s.boolean("causal", &LayerParams::causal, "causal mask (GPT style)").def(true);
    s.real("dropout", &LayerParams::dropout, "", "dropout probability (0: no dropout layers)")
        .def(kind == "attention" ? 0.0 : 0.1)
        .range(0, 0.999999);
    attention_keys(s, "explicit", false, "fused");
    if (kind == "transformer_block")
      s.integer("mlp_ratio", &LayerParams::mlp_ratio, "", "MLP width / h").def(4).range(1, 64);
  } else if (kind == "basic_block" || kind == "bottleneck") {
    s.integer("out_channels", &LayerParams::out_channels, "",
              kind == "bottleneck" ? "width of the 3×3 conv (output: 4× this)" : "filters")
        .req()
        .range(1, int64_t(1) << 20);
    s.integer("stride", &LayerParams::stride, "", "stride of the block (shortcut projected when shapes change)")
        .def(1)
        .range(1, 64);
    s.real("density", &LayerParams::density, "", "ReLU mask density inside the block").def(0.5).range(0, 1);
  } else if (is_network_layer(kind)) {
    network_layer_keys(s, kind);
  }
  return s;
}

/// Built once per kind: a network of a million layers validates a million maps.
const config::Binder<LayerParams>& layer_binder(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<const config::Binder<LayerParams>>> cache;
  auto& b = cache[kind];
  if (!b) b = std::make_unique<const config::Binder<LayerParams>>(make_layer_binder(kind));
  return *b;
}

LayerSpec parse_one(const config::Node& n, const std::string& p, const std::string& default_name,
                    const std::string& name_prefix, bool qualified);

/// Layers written so far, `repeat` groups counted out: nested repeats multiply, so the
/// count stops them at the `layers` limit rather than after 10^10 copies.
struct LayerCount {
  uint64_t written = 0;
  void add(const config::Node& at, const std::string& path) {
    const uint64_t max = limits::get(limits::Id::layers);
    if (++written > max)
      throw InputError(at.loc, path,
                       limits::exceeded(limits::Id::layers, "the network has more than " + std::to_string(max) +
                                                                " layers once its repeat groups are expanded"));
  }
};

/// Where a list's layers go and how they are named.
struct Scope {
  std::string prefix;  ///< start of the names of the list's layers
  /// Inside a `sequential`: names are qualified as named_modules() writes them, a given
  /// name after the prefix, else the module's index in the group (torchvision's
  /// "layer1.0"). Elsewhere a given name stands alone and the default is kind and index.
  bool qualified = false;
  std::vector<ModuleSpec>* modules = nullptr;  ///< the list's modules (null inside a residual)
  size_t next = 0;                             ///< index of the group's next module
  std::string device;                          ///< the enclosing group's `device:` (its layers' default)
};

void parse_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out, int depth,
                LayerCount& count, Scope& scope);

/// A `sequential` group: its layers join `out` where it stands, its module keeps the tree.
void parse_sequential(const config::Node& n, const std::string& p, std::vector<LayerSpec>& out, int depth,
                      LayerCount& count, Scope& scope) {
  config::check_keys(n, p, key_names(*group_schema("sequential")));
  const config::Node* inner = n.find("layers");
  if (!inner) throw InputError(n.loc, p, "a sequential group needs 'layers'");
  if (config::expect_seq(*inner, p + ".layers").seq.empty())
    throw InputError(inner->loc, p + ".layers", "a sequential group needs at least one layer");
  std::string name;
  if (const config::Node* given = n.find("name")) {
    name = config::as_string(*given, p + ".name");
    if (name.empty() || name.find('.') != std::string::npos)
      throw InputError(given->loc, p + ".name", "a group name must be non-empty and without '.' (got '" + name + "')");
    if (scope.qualified) name = scope.prefix + name;
  } else {
    name = scope.prefix + (scope.qualified ? std::to_string(scope.next) : "sequential" + std::to_string(out.size()));
  }
  ++scope.next;
  ModuleSpec m;
  m.name = name;
  m.loc = n.loc;
  m.group = true;
  m.first = out.size();
  Scope inside{name + ".", true, scope.modules ? &m.children : nullptr, 0, scope.device};
  if (const config::Node* dev = n.find("device")) inside.device = config::as_string(*dev, p + ".device");
  parse_list(*inner, p + ".layers", out, depth + 1, count, inside);
  m.end = out.size();
  if (scope.modules) scope.modules->push_back(std::move(m));
}

void parse_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out, int depth,
                LayerCount& count, Scope& scope) {
  config::expect_seq(list, path);
  const uint64_t max_depth = limits::get(limits::Id::nesting);
  if (uint64_t(depth) > max_depth)
    throw InputError(list.loc, path,
                     limits::exceeded(limits::Id::nesting,
                                      "layer groups nest too deep (at most " + std::to_string(max_depth) + ")"));
  for (size_t i = 0; i < list.seq.size(); ++i) {
    const config::Node& n = list.seq[i];
    const std::string p = path + "[" + std::to_string(i) + "]";
    config::expect_map(n, p);
    if (n.find("repeat")) {
      const config::Schema& group = *group_schema("repeat");
      config::check_keys(n, p, key_names(group));
      const int64_t times = config::as_int(*n.find("repeat"), p + ".repeat");
      const config::ParamDecl& bound = *group.find("repeat");
      if (double(times) < bound.min || double(times) > bound.max)
        throw InputError(n.find("repeat")->loc, p + ".repeat", "must be in " + config::range_text(bound));
      const config::Node* inner = n.find("layers");
      if (!inner) throw InputError(n.loc, p, "a repeat group needs 'layers'");
      // Every copy must add a layer, or a repeat of nothing would loop without counting.
      if (config::expect_seq(*inner, p + ".layers").seq.empty())
        throw InputError(inner->loc, p + ".layers", "a repeat group needs at least one layer");
      for (int64_t r = 0; r < times; ++r) parse_list(*inner, p + ".layers", out, depth + 1, count, scope);
      continue;
    }
    if (const config::Node* k = n.find("kind");
        k && k->type == config::Node::Type::Scalar && k->scalar == "sequential") {
      parse_sequential(n, p, out, depth, count, scope);
      continue;
    }
    count.add(n, p);
    const std::string index = std::to_string(scope.qualified ? scope.next : out.size());
    out.push_back(
        parse_one(n, p, scope.prefix + (scope.qualified ? index : "#" + index), scope.prefix, scope.qualified));
    LayerSpec& l = out.back();
    if (l.device.empty()) l.device = scope.device;
    if (scope.modules) scope.modules->push_back(ModuleSpec{l.name, l.loc, out.size() - 1, out.size(), false, {}});
    ++scope.next;
    if (l.kind == "residual") {
      Scope body{l.name + ".", false, nullptr, 0, l.device};
      parse_list(*n.find("layers"), p + ".layers", l.body, depth + 1, count, body);
      if (l.body.empty()) throw InputError(n.find("layers")->loc, p + ".layers", "a residual needs at least one layer");
      if (const config::Node* sc = n.find("shortcut")) {
        Scope shortcut{l.name + ".sc.", false, nullptr, 0, l.device};
        parse_list(*sc, p + ".shortcut", l.shortcut, depth + 1, count, shortcut);
      }
    }
  }
}

/// `default_name` is "<prefix>#<index>": the kind replaces '#' unless a name is given.
/// `qualified` (inside a `sequential`): the default name is as it is, and a given name
/// follows `name_prefix`.
LayerSpec parse_one(const config::Node& n, const std::string& p, const std::string& default_name,
                    const std::string& name_prefix, bool qualified) {
  const config::Node* k = n.find("kind");
  if (!k) throw InputError(n.loc, p, "missing required key 'kind' (one of: " + kinds_text() + ")");
  const std::string kind = config::as_string(*k, p + ".kind");
  bool known = false;
  for (const auto& u : user_kinds()) known = known || u == kind;
  if (!known)
    throw InputError(k->loc, p + ".kind", "unknown layer kind '" + kind + "' (supported: " + kinds_text() + ")");
  const size_t hash = default_name.rfind('#');
  const std::string auto_name =
      qualified ? default_name : default_name.substr(0, hash) + kind + default_name.substr(hash + 1);
  const std::string given_prefix = qualified ? name_prefix : "";
  LayerSpec l;
  l.kind = kind;
  l.loc = n.loc;
  if (kind == "residual") {
    config::check_keys(n, p, key_names(*group_schema("residual")));
    if (!n.find("layers")) throw InputError(n.loc, p, "a residual needs 'layers' (its main branch)");
    l.name = n.find("name") ? given_prefix + config::as_string(*n.find("name"), p + ".name") : auto_name;
    if (const config::Node* dev = n.find("device")) l.device = config::as_string(*dev, p + ".device");
    return l;  // branches parsed by the caller
  }
  const config::Binder<LayerParams>& binder = layer_binder(kind);
  const config::Values v = config::validate(n, *binder.schema(), p);
  const LayerParams q = binder.parse(v);
  l.name = q.name ? given_prefix + *q.name : auto_name;
  l.device = q.device;
  if (kind == "linear" || kind == "binary_linear") {
    l.out_features = q.out_features;
    l.bias = kind == "linear" && q.bias;
    if (kind == "linear") {
      l.weight_density = q.weight_density;
      l.weight_format = q.weight_format;
      l.index_bits = unsigned(q.index_bits);
      l.tied = q.tied;
    }
  } else if (kind == "conv2d" || kind == "binary_conv2d" || kind == "maxpool" || kind == "avgpool") {
    l.kernel = q.kernel;
    l.stride = q.stride.value_or(l.kernel);  // pooling: stride = kernel
    l.padding = q.padding;
    if (kind == "conv2d" || kind == "binary_conv2d") {
      l.out_features = q.out_channels;
      l.bias = kind == "conv2d" && q.bias;
      if (kind == "conv2d") {
        l.groups = q.groups;
        l.weight_density = q.weight_density;
        l.weight_format = q.weight_format;
        l.index_bits = unsigned(q.index_bits);
        if (l.out_features % l.groups) throw v.error("groups", "out_channels must divide by groups");
      }
    }
    if (kind == "avgpool") l.global = q.global;
  } else if (kind == "relu") {
    l.density = q.density;
  } else if (kind == "dropout") {
    l.p = q.p;
  } else if (kind == "embedding") {
    l.vocab = q.vocab;
    l.out_features = q.dim;
  } else if (kind == "attention" || kind == "transformer_block" || kind == "basic_block" || kind == "bottleneck") {
    return expand_block(q, v, l);
  } else if (is_network_layer(kind)) {
    return expand_network_layer(q, v, l);
  }
  return l;
}

}  // namespace

void parse_layer_list(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out,
                      std::vector<ModuleSpec>* modules) {
  LayerCount count;
  Scope top{"", false, modules, 0, ""};
  parse_list(list, path, out, 0, count, top);
}

std::vector<LayerKindInfo> layer_reference() {
  std::vector<LayerKindInfo> out;
  for (const auto& k : kLayerKinds) {
    out.push_back({k.kind, k.group, k.group ? group_schema(k.kind) : layer_binder(k.kind).schema()});
  }
  return out;
}

std::vector<ModuleSpec> module_tree(const NetSpec& net) {
  if (!net.modules.empty()) return net.modules;
  std::vector<ModuleSpec> leaves;
  for (size_t i = 0; i < net.layers.size(); ++i)
    leaves.push_back({net.layers[i].name, net.layers[i].loc, i, i + 1, false, {}});
  return leaves;
}

namespace {

/// The spec's keys other than `layers` (checked by hand, its maps being of several kinds).
struct NetInput {
  std::vector<int64_t> shape;  ///< checked after parsing: each at least 1, at least one
};
struct NetHeader {
  std::string name;
  DType dtype;
  uint64_t batch;
  NetInput input;
  Optimizer optimizer;
  Loss loss;
  Autocast autocast;
  std::optional<bool> loss_scale;  ///< absent: on with fp16 autocast, as GradScaler is used there
  Framework framework;
  Allocator allocator;
  GpuSpec gpu;
  TrainingSpec training;
};
/// `optimizer: {kind: K, state_dtype: D, master_weights: B}`, the map form of `optimizer: K`.
struct OptimizerParams {
  Optimizer kind;
  DType state_dtype;
  bool master_weights;
};

/// Floating-point dtypes an optimizer state may have.
constexpr config::EnumName<DType> kStateDtypeNames[] = {
    {DType::fp32, "fp32"}, {DType::bf16, "bf16"}, {DType::fp16, "fp16"}};

const config::Binder<NetHeader>& net_binder() {
  static const auto b = [] {
    config::Binder<NetInput> input("input", "the network input");
    input.list("shape", &NetInput::shape, "per-sample shape, e.g. [784], [3, 224, 224] or [1024, 768]").req();
    config::Binder<NetHeader> s("workload spec", "a network and its training step");
    s.string("name", &NetHeader::name, "network name").def("\"network\"");
    s.choice("dtype", &NetHeader::dtype, dtype_names(false), "element type of activations, weights and gradients")
        .def("fp32");
    s.integer("batch", &NetHeader::batch, "samples", "batch size").def(1).range(1, int64_t(1) << 24);
    s.group("input", &NetHeader::input, input, "the network input");
    s.choice("optimizer", &NetHeader::optimizer, kOptimizerNames,
             "weight update rule (or a map: {kind, state_dtype, master_weights})")
        .def("sgd");
    s.choice("autocast", &NetHeader::autocast, kAutocastNames,
             "run the forward under torch.autocast in this dtype; the parameters (dtype) stay fp32")
        .def("none");
    s.boolean("loss_scale", &NetHeader::loss_scale,
              "GradScaler: scale the loss, unscale the gradients before the update (default: on with fp16 autocast)");
    s.choice("loss", &NetHeader::loss, kLossNames,
             "loss on the output: none (an external output-sized gradient), sum, mean, float_sum and "
             "float_mean (of the output cast to fp32), cross_entropy (int64 class targets, classes = the "
             "output's last dimension, mean), mse (mean)")
        .def("none");
    s.choice("framework", &NetHeader::framework, kFrameworkNames,
             "memory accounting: none (each tensor freed after its last reader) or pytorch_cuda (PyTorch "
             "eager autograd's frees and CUDA kernels' temporary buffers; docs/workloads.md, Peak memory)")
        .def("none");
    s.choice("allocator", &NetHeader::allocator, kAllocatorNames,
             "framework pytorch_cuda: also replay the step through PyTorch's CUDA caching allocator (caching: "
             "block and segment bytes, docs/workloads.md, Caching allocator)")
        .def("none");
    s.group("gpu", &NetHeader::gpu, gpu_binder(), "the GPU of framework: pytorch_cuda (default: H200)");
    s.group("training", &NetHeader::training, training_binder(),
            "training techniques beyond the memory policy, each off unless given (docs/techniques.md)");
    return s;
  }();
  return b;
}

const config::Binder<OptimizerParams>& optimizer_binder() {
  static const auto b = [] {
    config::Binder<OptimizerParams> s("optimizer", "the weight update and the dtype of its state");
    s.choice("kind", &OptimizerParams::kind, kOptimizerNames, "weight update rule").req();
    s.choice("state_dtype", &OptimizerParams::state_dtype, kStateDtypeNames,
             "element type of the state tensors (momentum, Adam's moments); torch.optim keeps the "
             "parameter's dtype")
        .def("fp32");
    s.boolean("master_weights", &OptimizerParams::master_weights,
              "keep an fp32 copy of each bf16/fp16 parameter, updated and written back (apex O2, Megatron)")
        .def(false);
    return s;
  }();
  return b;
}

}  // namespace

const config::Binder<GpuSpec>& gpu_binder() {
  static const auto b = [] {
    config::Binder<GpuSpec> g("gpu", "the CUDA GPU of framework: pytorch_cuda");
    g.integer("sms", &GpuSpec::sms, "", "streaming multiprocessors (H200, H100 SXM: 132; A100: 108)")
        .def(132)
        .range(1, 1 << 16);
    g.integer("threads_per_sm", &GpuSpec::threads_per_sm, "", "resident threads per SM (sm_80, sm_90: 2048)")
        .def(2048)
        .range(32, 1 << 16);
    return g;
  }();
  return b;
}

std::shared_ptr<const config::Schema> net_spec_schema() { return net_binder().schema(); }
std::shared_ptr<const config::Schema> optimizer_schema() { return optimizer_binder().schema(); }

NetSpec parse_net_spec(const config::Node& root) {
  // `layers` holds maps of several kinds: checked by hand below.
  config::Node rest = root;
  rest.erase("layers");
  const config::Node* opt_map = root.find("optimizer");
  if (opt_map && opt_map->type != config::Node::Type::Map) opt_map = nullptr;
  if (opt_map) rest.erase("optimizer");  // the map form, checked by its own schema below
  const config::Values v = config::validate(rest, *net_binder().schema(), "");
  const NetHeader h = net_binder().parse(v);
  NetSpec net;
  net.name = h.name;
  net.dtype = h.dtype;
  net.batch = h.batch;
  for (const int64_t x : h.input.shape) {
    if (x < 1) throw v.error("input.shape", "every dimension must be at least 1");
    net.input_shape.push_back(static_cast<uint64_t>(x));
  }
  if (net.input_shape.empty()) throw v.error("input.shape", "needs at least one dimension");
  net.optimizer = h.optimizer;
  net.loss = h.loss;
  if (opt_map) {
    const config::Values ov = config::validate(*opt_map, *optimizer_binder().schema(), "optimizer");
    const OptimizerParams o = optimizer_binder().parse(ov);
    net.optimizer = o.kind;
    net.state_dtype = o.state_dtype;
    net.master_weights = o.master_weights;
    if (o.master_weights && net.dtype == DType::fp32)
      throw ov.error("master_weights", "the parameters are fp32 (dtype), their own master copy");
    if (o.master_weights && (net.dtype == DType::int8 || net.dtype == DType::binary))
      throw ov.error("master_weights", "needs bf16 or fp16 parameters (dtype)");
  }
  net.autocast = h.autocast;
  if (net.autocast != Autocast::none && net.dtype != DType::fp32)
    throw v.error("autocast", std::string("torch.autocast casts fp32 parameters; dtype is ") + to_string(net.dtype) +
                                  " (write dtype: fp32)");
  net.loss_scale = h.loss_scale.value_or(net.autocast == Autocast::fp16);
  if (net.autocast != Autocast::none && net.loss != Loss::none) throw v.error("loss", kAutocastLossRefusal);
  net.framework = h.framework;
  net.allocator = h.allocator;
  net.gpu = h.gpu;
  if (const config::Node* t = root.find("training")) overlay_training(net.training, h.training, *t);
  const config::Node* layers = root.find("layers");
  if (!layers) throw InputError(root.loc, "layers", "missing required key 'layers'");
  parse_layer_list(*layers, "layers", net.layers, &net.modules);
  if (net.layers.empty()) throw InputError(layers->loc, "layers", "a network needs at least one layer");
  return net;
}

}  // namespace bpsim::workload
