#include "sim/workload/spec.h"

#include "sim/core/params.h"

namespace bpsim::workload {

namespace {

const char* const kSupported = "linear, conv2d, maxpool, relu, gelu, dropout, flatten";

std::shared_ptr<const config::Schema> layer_schema(const std::string& kind) {
  auto s = std::make_shared<config::Schema>(kind, kind + " layer");
  s->string("kind", "layer kind").req();
  s->string("name", "layer name (default: kind and index)");
  if (kind == "linear") {
    s->integer("out_features", "", "output features").req().range(1, int64_t(1) << 32);
    s->boolean("bias", "add a bias vector").def(true);
    s->real("weight_density", "", "fraction of weights kept by pruning; dW outputs of pruned weights are not needed")
        .def(1.0)
        .range(0, 1);
  } else if (kind == "conv2d" || kind == "maxpool") {
    if (kind == "conv2d") {
      s->integer("out_channels", "", "filters").req().range(1, int64_t(1) << 24);
      s->boolean("bias", "add a bias per filter").def(true);
      s->real("weight_density", "", "fraction of weights kept by pruning").def(1.0).range(0, 1);
    }
    s->integer("kernel", "", "square window size").req().range(1, 1024);
    config::ParamDecl& stride = s->integer("stride", "", "step of the window (maxpool: default = kernel)").range(1, 1024);
    if (kind == "conv2d") stride.def(1);
    s->integer("padding", "", "zero padding on each side").def(0).range(0, 1024);
  } else if (kind == "relu") {
    s->real("density", "", "fraction of outputs that are non-zero (the ReLU mask density)").def(0.5).range(0, 1);
  } else if (kind == "dropout") {
    s->real("p", "", "drop probability").def(0.1).range(0, 0.999999);
  }
  return s;
}

void parse_layers(const config::Node& list, const std::string& path, std::vector<LayerSpec>& out, int depth) {
  config::expect_seq(list, path);
  for (size_t i = 0; i < list.seq.size(); ++i) {
    const config::Node& n = list.seq[i];
    const std::string p = path + "[" + std::to_string(i) + "]";
    config::expect_map(n, p);
    if (n.find("repeat")) {
      config::check_keys(n, p, {"repeat", "layers"});
      const int64_t times = config::as_int(*n.find("repeat"), p + ".repeat");
      if (times < 1 || times > 100000) throw InputError(n.find("repeat")->loc, p + ".repeat", "must be in [1, 100000]");
      if (depth > 8) throw InputError(n.loc, p, "repeat groups nest too deep (at most 8)");
      const config::Node* inner = n.find("layers");
      if (!inner) throw InputError(n.loc, p, "a repeat group needs 'layers'");
      for (int64_t r = 0; r < times; ++r) parse_layers(*inner, p + ".layers", out, depth + 1);
      continue;
    }
    const config::Node* k = n.find("kind");
    if (!k) throw InputError(n.loc, p, "missing required key 'kind' (one of: " + std::string(kSupported) + ")");
    const std::string kind = config::as_string(*k, p + ".kind");
    if (kind != "linear" && kind != "conv2d" && kind != "maxpool" && kind != "relu" && kind != "gelu" &&
        kind != "dropout" && kind != "flatten")
      throw InputError(k->loc, p + ".kind",
                       "layer kind '" + kind + "' is not supported by this build (supported: " + kSupported + ")");
    config::Values v = config::validate(n, *layer_schema(kind), p);
    LayerSpec l;
    l.kind = kind;
    l.loc = n.loc;
    l.name = v.has("name") ? v.s("name") : kind + std::to_string(out.size());
    if (kind == "linear") {
      l.out_features = static_cast<uint64_t>(v.i("out_features"));
      l.bias = v.b("bias");
      l.weight_density = v.f("weight_density");
    } else if (kind == "conv2d" || kind == "maxpool") {
      l.kernel = static_cast<uint64_t>(v.i("kernel"));
      l.stride = v.has("stride") ? static_cast<uint64_t>(v.i("stride")) : l.kernel;  // pooling: stride = kernel
      l.padding = static_cast<uint64_t>(v.i("padding"));
      if (kind == "conv2d") {
        l.out_features = static_cast<uint64_t>(v.i("out_channels"));
        l.bias = v.b("bias");
        l.weight_density = v.f("weight_density");
      }
    } else if (kind == "relu") {
      l.density = v.f("density");
    } else if (kind == "dropout") {
      l.p = v.f("p");
    }
    out.push_back(l);
  }
}

}  // namespace

NetSpec parse_net_spec(const config::Node& root) {
  auto s = std::make_shared<config::Schema>("workload spec", "a network and its training step");
  s->string("name", "network name").def("\"network\"");
  s->choice("dtype", {"fp32", "bf16", "fp16", "int8"}, "element type of activations and weights").def("fp32");
  s->integer("batch", "samples", "batch size").def(1).range(1, int64_t(1) << 24);
  auto input = std::make_shared<config::Schema>("input", "the network input");
  input->list("shape", config::ParamType::Int, "per-sample shape, e.g. [784] or [3, 224, 224]").req();
  s->group("input", input, "the network input");
  s->choice("optimizer", {"sgd", "momentum", "adam"}, "weight update rule").def("sgd");
  // `layers` holds maps of several kinds: checked by hand below.
  config::Node rest = root;
  rest.erase("layers");
  config::Values v = config::validate(rest, *s, "");
  NetSpec net;
  net.name = v.s("name");
  dtype_from_string(v.s("dtype"), net.dtype);
  net.batch = static_cast<uint64_t>(v.i("batch"));
  for (const auto& d : v.g("input").strings("shape")) {
    const int64_t x = std::stoll(d);
    if (x < 1) throw v.g("input").error("shape", "every dimension must be at least 1");
    net.input_shape.push_back(static_cast<uint64_t>(x));
  }
  if (net.input_shape.empty()) throw v.g("input").error("shape", "needs at least one dimension");
  const std::string opt = v.s("optimizer");
  net.optimizer = opt == "adam" ? Optimizer::adam : opt == "momentum" ? Optimizer::momentum : Optimizer::sgd;
  const config::Node* layers = root.find("layers");
  if (!layers) throw InputError(root.loc, "layers", "missing required key 'layers'");
  parse_layers(*layers, "layers", net.layers, 0);
  if (net.layers.empty()) throw InputError(layers->loc, "layers", "a network needs at least one layer");
  return net;
}

}  // namespace bpsim::workload
