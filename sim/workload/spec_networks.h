#pragma once
/// Layers of current networks (Llama, ViT, BERT): their spec keys and their expansion into
/// primitives, each written as the PyTorch module it stands for runs it.
#include <string>

#include "sim/core/binder.h"
#include "sim/workload/spec_blocks.h"

namespace bpsim::workload {

/// Whether `kind` is one of these layers (rmsnorm, silu, swiglu, llama_block, patch_embedding,
/// class_token, position_embedding, select_token, vit_block, bert_embeddings, bert_block).
bool is_network_layer(const std::string& kind);

/// Declares the keys of one of these kinds on its binder.
void network_layer_keys(config::Binder<LayerParams>& s, const std::string& kind);

/// The layer `l` (kind, name and location set) with its parameters `q` filled in: a primitive,
/// or a `sequence` of primitives and groups for a composite.
LayerSpec expand_network_layer(const LayerParams& q, const config::Values& v, const LayerSpec& l);

}  // namespace bpsim::workload
