// Tensor parallelism's split of a network spec (sim/system/tensor_parallel.h), checked on
// GPT-2's block: Megatron-LM (Shoeybi et al. 2019, §3) splits q/k/v and the MLP's first linear
// by columns and the output projection and second linear by rows, so each of T devices does
// 1/T of the block's linear MACs.
#include <catch2/catch.hpp>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/system/tensor_parallel.h"
#include "sim/workload/builder.h"

using namespace bpsim;

namespace {

workload::NetSpec spec(const std::string& yaml) {
  return workload::parse_net_spec(config::parse_yaml(yaml, "net.yaml"));
}

const char* kBlock =
    "name: b\ndtype: bf16\nbatch: 2\ninput: {shape: [128, 768]}\noptimizer: adam\n"
    "layers:\n  - {kind: transformer_block, hidden: 768, heads: 12, mlp_ratio: 4, dropout: 0.1}\n"
    "  - {kind: layernorm, name: ln_f}\n";

uint64_t linear_macs(const workload::OpGraph& g, const std::string& layer_suffix) {
  uint64_t m = 0;
  for (const workload::Op& o : g.ops)
    if (o.phase == workload::Phase::forward && o.kind == workload::OpKind::gemm &&
        o.layer.size() >= layer_suffix.size() &&
        o.layer.compare(o.layer.size() - layer_suffix.size(), layer_suffix.size(), layer_suffix) == 0)
      m += o.macs;
  return m;
}

}  // namespace

TEST_CASE("tensor parallel: GPT-2's block split 4 ways does a quarter of each linear's MACs", "[system][tensor]") {
  workload::NetSpec net = spec(kBlock);
  const workload::OpGraph whole = workload::build_step(net);
  const system::TensorSharding sh = system::shard_transformer_blocks(net, 4, "system.parallel.tensor");
  CHECK(sh.blocks == 1);
  CHECK(sh.row_parallel.size() == 2);     // proj, fc2
  CHECK(sh.column_parallel.size() == 2);  // qkv, fc1
  CHECK(sh.replicated == std::vector<std::string>{"ln_f"});
  const workload::OpGraph part = workload::build_step(net);
  // Batch 2 × 128 tokens = 256 rows. qkv: 256·768·2304 MACs whole, 256·768·576 split.
  CHECK(linear_macs(whole, ".qkv") == 256ull * 768 * 2304);
  CHECK(linear_macs(part, ".qkv") == 256ull * 768 * 576);
  // proj (row-parallel): its input is 768/4 = 192 wide, its output whole: 256·192·768.
  CHECK(linear_macs(part, ".proj") == 256ull * 192 * 768);
  // MLP: fc1 256·768·(3072/4), fc2 256·(3072/4)·768: both a quarter.
  CHECK(linear_macs(part, ".fc1") * 4 == linear_macs(whole, ".fc1"));
  CHECK(linear_macs(part, ".fc2") * 4 == linear_macs(whole, ".fc2"));
}

TEST_CASE("tensor parallel: what cannot be split is refused", "[system][tensor]") {
  // 12 heads do not split 5 ways.
  workload::NetSpec net = spec(kBlock);
  CHECK_THROWS_WITH(system::shard_transformer_blocks(net, 5, "system.parallel.tensor"),
                    Catch::Contains("12 attention heads, not a multiple of 5"));
  // A network without blocks.
  net = spec("name: m\nbatch: 2\ninput: {shape: [16]}\nlayers:\n  - {kind: linear, out_features: 8}\n");
  CHECK_THROWS_WITH(system::shard_transformer_blocks(net, 2, "system.parallel.tensor"),
                    Catch::Contains("outside a block"));
  net = spec("name: m\nbatch: 2\ninput: {shape: [16]}\nlayers:\n  - {kind: relu}\n");
  CHECK_THROWS_WITH(system::shard_transformer_blocks(net, 2, "system.parallel.tensor"), Catch::Contains("has none"));
}
