#include "sim/workload/spec_networks.h"

namespace bpsim::workload {

namespace {

const int64_t kBig = int64_t(1) << 32;

/// A primitive of a composite, named after it; `out` and `bias` for a linear, `p` for dropout.
LayerSpec part(const LayerSpec& parent, const std::string& kind, const std::string& suffix, uint64_t out = 0,
               bool bias = true, double p = 0.1) {
  LayerSpec l;
  l.kind = kind;
  l.name = parent.name + "." + suffix;
  l.loc = parent.loc;
  l.out_features = out;
  l.bias = bias;
  l.p = p;
  return l;
}

/// SwiGLU (Shazeer 2020): down(silu(gate(x)) · up(x)). The product group multiplies its two
/// branches, so autograd's MulBackward keeps both factors (the SiLU output and up(x)); SiLU
/// keeps its input, each linear its input (x once, read by gate and up).
void append_swiglu(const LayerSpec& parent, uint64_t hidden, uint64_t intermediate, bool bias,
                   std::vector<LayerSpec>& out) {
  LayerSpec prod = part(parent, "product", "glu");
  prod.body = {part(parent, "linear", "gate", intermediate, bias), part(parent, "silu", "silu")};
  prod.shortcut = {part(parent, "linear", "up", intermediate, bias)};
  out.push_back(prod);
  out.push_back(part(parent, "linear", "down", hidden, bias));
}

/// The MLP of a BERT or ViT encoder block: fc1, GELU, (dropout: torchvision's MLPBlock only),
/// fc2, (dropout).
void append_gelu_mlp(const LayerSpec& parent, uint64_t hidden, uint64_t intermediate, double p, bool mid_dropout,
                     std::vector<LayerSpec>& out) {
  out.push_back(part(parent, "linear", "fc1", intermediate));
  out.push_back(part(parent, "gelu", "gelu"));
  if (p > 0 && mid_dropout) out.push_back(part(parent, "dropout", "drop_mlp", 0, true, p));
  out.push_back(part(parent, "linear", "fc2", hidden));
  if (p > 0) out.push_back(part(parent, "dropout", "drop2", 0, true, p));
}

}  // namespace

bool is_network_layer(const std::string& kind) {
  for (const char* k : {"rmsnorm", "silu", "swiglu", "llama_block", "patch_embedding", "class_token",
                        "position_embedding", "select_token", "vit_block", "bert_embeddings", "bert_block"})
    if (kind == k) return true;
  return false;
}

void network_layer_keys(config::Binder<LayerParams>& s, const std::string& kind) {
  auto hidden = [&] {
    s.integer("hidden", &LayerParams::hidden, "", "model width h (the input's last dimension)").req().range(1, kBig);
  };
  auto heads = [&] {
    s.integer("heads", &LayerParams::heads, "", "attention heads a (h must divide by a)").req().range(1, 1 << 16);
  };
  auto intermediate = [&](const char* what) {
    s.integer("intermediate", &LayerParams::intermediate, "", what).req().range(1, kBig);
  };
  if (kind == "swiglu") {
    hidden();
    intermediate("width of the gate and up projections");
    s.boolean("bias", &LayerParams::bias, "bias vectors on gate, up and down").def(false);
  } else if (kind == "llama_block") {
    hidden();
    heads();
    intermediate("SwiGLU width (gate and up projections)");
    // HF Llama: q/k/v_proj, rotary embeddings, SDPA (flash unless the spec says which kernel).
    attention_keys(s, "flash", true, "separate");
  } else if (kind == "vit_block" || kind == "bert_block") {
    hidden();
    heads();
    intermediate("MLP width (fc1's outputs)");
    // torchvision's nn.MultiheadAttention packs q, k and v in one in-projection and, in
    // training with need_weights=False, runs SDPA (memory-efficient for fp32); BERT has
    // q/k/v Linear layers and explicit softmax attention.
    if (kind == "vit_block") attention_keys(s, "mem_efficient", false, "fused");
    else attention_keys(s, "explicit", false, "separate");
    s.real("dropout", &LayerParams::dropout, "", "dropout probability (0: no dropout layers)")
        .def(kind == "bert_block" ? 0.1 : 0.0)
        .range(0, 0.999999);
  } else if (kind == "patch_embedding") {
    hidden();
    s.integer("patch", &LayerParams::patch, "", "square patch size (the conv's kernel and stride)")
        .req()
        .range(1, 1024);
    s.boolean("class_token", &LayerParams::class_token, "prepend a learned class token").def(true);
  } else if (kind == "position_embedding") {
    s.integer("rows", &LayerParams::rows, "", "rows of the learned table (0: one per input token)")
        .def(0)
        .range(0, kBig);
    s.boolean("lookup", &LayerParams::lookup,
              "rows looked up by torch.arange(tokens) made in the forward (nn.Embedding, GPT-2/BERT: its int64 "
              "ids are kept); false: the table is added whole (ViT)")
        .def(false);
  } else if (kind == "bert_embeddings") {
    s.integer("vocab", &LayerParams::vocab, "", "word embeddings (rows of the word table)").req().range(1, kBig);
    hidden();
    s.integer("positions", &LayerParams::positions, "", "rows of the position table (at least the tokens)")
        .def(512)
        .range(1, kBig);
    s.integer("token_types", &LayerParams::token_types, "", "rows of the token-type table").def(2).range(1, kBig);
    s.real("dropout", &LayerParams::dropout, "", "dropout probability after the LayerNorm (0: none)")
        .def(0.1)
        .range(0, 0.999999);
  }
  // rmsnorm, silu, class_token, select_token: no keys besides kind and name.
}

LayerSpec expand_network_layer(const LayerParams& q, const config::Values& v, const LayerSpec& l) {
  if (l.kind == "rmsnorm" || l.kind == "silu" || l.kind == "class_token" || l.kind == "select_token") return l;
  if (l.kind == "position_embedding") {
    LayerSpec r = l;
    r.vocab = q.rows;
    r.lookup = q.lookup;
    if (!q.lookup && q.rows) throw v.error("rows", "a table added whole has one row per token: leave rows out");
    if (q.lookup && !q.rows) throw v.error("rows", "a looked-up table needs its number of rows");
    return r;
  }
  LayerSpec seq = l;
  seq.kind = "sequence";
  const uint64_t h = q.hidden;
  if (l.kind == "patch_embedding") {
    // torchvision VisionTransformer._process_input and the encoder's first add: conv_proj
    // (kernel = stride = patch), the map's positions as tokens (a view), the class token
    // concatenated in front, the learned position embedding added.
    LayerSpec conv = part(l, "conv2d", "conv_proj");
    conv.out_features = h;
    conv.kernel = conv.stride = q.patch;
    conv.padding = 0;
    seq.body = {conv, part(l, "tokens", "tokens")};
    if (q.class_token) seq.body.push_back(part(l, "class_token", "class_token"));
    seq.body.push_back(part(l, "position_embedding", "pos_embedding"));
    return seq;
  }
  if (l.kind == "bert_embeddings") {
    // word + position + token-type embeddings, LayerNorm, dropout (BERT's embeddings). The
    // position ids (torch.arange) and token-type ids (zeros like the input) are made in the
    // forward and kept by their embeddings' backward (HF's buffers would not count: 8 bytes
    // per token and per sample·token less).
    seq.body.push_back(part(l, "embedding", "word"));
    seq.body.back().vocab = q.vocab;
    seq.body.back().out_features = h;
    seq.body.push_back(part(l, "position_embedding", "position"));
    seq.body.back().vocab = q.positions;
    seq.body.back().lookup = true;
    seq.body.push_back(part(l, "token_type_embedding", "token_type"));
    seq.body.back().vocab = q.token_types;
    seq.body.push_back(part(l, "layernorm", "ln"));
    if (q.dropout > 0) seq.body.push_back(part(l, "dropout", "drop", 0, true, q.dropout));
    return seq;
  }
  seq.hidden = h;
  if (l.kind == "swiglu") {
    append_swiglu(l, h, q.intermediate, q.bias, seq.body);
    return seq;
  }
  // Causal for Llama; the encoders attend both ways. No dropout on the probabilities in Llama
  // and ViT (torchvision's attention_dropout 0), BERT's on them.
  LayerParams qa = q;
  qa.causal = l.kind == "llama_block";
  qa.dropout = l.kind == "bert_block" ? q.dropout : 0.0;
  AttentionSpec a = attention_spec(qa, v);
  if (l.kind == "llama_block") {
    // HF LlamaDecoderLayer: x + o(attn(rmsnorm(x))), then x + down(silu(gate(n)) · up(n)) with
    // n = rmsnorm(x). No bias, no dropout.
    a.bias = false;
    LayerSpec r1 = part(l, "residual", "res1"), r2 = part(l, "residual", "res2");
    r1.body.push_back(part(l, "rmsnorm", "input_norm"));
    append_attention(l, a, r1.body);
    r2.body.push_back(part(l, "rmsnorm", "post_attention_norm"));
    append_swiglu(l, h, q.intermediate, false, r2.body);
    seq.body = {r1, r2};
    return seq;
  }
  LayerSpec r1 = part(l, "residual", "res1"), r2 = part(l, "residual", "res2");
  if (l.kind == "vit_block") {
    // torchvision EncoderBlock: x + drop(MHA(ln_1(x))), then x + MLP(ln_2(x)). The attention is
    // nn.MultiheadAttention (batch_first), whose SDPA output is permuted to a contiguous copy
    // before out_proj: that copy is what out_proj keeps, beside the SDPA output itself. cuDNN
    // attention writes its output in the query's memory layout, which MHA's packed projection
    // makes (tokens, batch, heads, d): the permute is then already contiguous and out_proj
    // keeps the SDPA output itself (measured under autocast: 24, not 36, bf16 [6304, 768]
    // storages saved by ViT-B/16's 12 layers).
    r1.body.push_back(part(l, "layernorm", "ln_1"));
    append_attention(l, a, r1.body);
    if (a.impl != AttnImpl::cudnn) r1.body.insert(r1.body.end() - 1, part(l, "copy", "attn_contiguous"));
    if (q.dropout > 0) r1.body.push_back(part(l, "dropout", "drop1", 0, true, q.dropout));
    r2.body.push_back(part(l, "layernorm", "ln_2"));
    append_gelu_mlp(l, h, q.intermediate, q.dropout, true, r2.body);
    seq.body = {r1, r2};
    return seq;
  }
  // BERT (post-LayerNorm): LN(x + drop(proj(attn(x)))), then LN(x + drop(fc2(GELU(fc1(x))))).
  append_attention(l, a, r1.body);
  if (q.dropout > 0) r1.body.push_back(part(l, "dropout", "drop1", 0, true, q.dropout));
  append_gelu_mlp(l, h, q.intermediate, q.dropout, false, r2.body);
  seq.body = {r1, part(l, "layernorm", "ln_attn"), r2, part(l, "layernorm", "ln_out")};
  return seq;
}

}  // namespace bpsim::workload
