#pragma once
/// A model of PyTorch's CUDA caching allocator (c10/cuda/CUDACachingAllocator.cpp, PyTorch 2.x
/// with default PYTORCH_CUDA_ALLOC_CONF) and its replay over a step's allocations
/// (`allocator: caching`): what torch.cuda.memory_allocated() (blocks) and memory_reserved()
/// (segments) read where bpsim's peak_bytes is the tensors' requested bytes. docs/workloads.md,
/// "Caching allocator", gives the rules and how close they come to measured PyTorch.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// One device, one stream, no CUDA graphs, no expandable segments, no max_split_size, no
/// release to the driver (cudaMalloc never fails): the allocator of an eager training loop.
class CachingAllocator {
 public:
  static constexpr uint64_t kMinBlock = 512;            ///< every size rounds up to a multiple
  static constexpr uint64_t kSmallSize = 1 << 20;       ///< the largest request of the small pool
  static constexpr uint64_t kSmallBuffer = 2 << 20;     ///< a small pool's segment
  static constexpr uint64_t kLargeBuffer = 20 << 20;    ///< segment of a large request < kMinLargeAlloc
  static constexpr uint64_t kMinLargeAlloc = 10 << 20;  ///< from here a segment is the request itself
  static constexpr uint64_t kRoundLarge = 2 << 20;      ///< … rounded up to this
  static constexpr uint32_t kNoBlock = UINT32_MAX;      ///< what a 0-byte request gets

  /// The block size of a request: at least kMinBlock, rounded up to a multiple of it.
  static uint64_t round_size(uint64_t bytes);
  /// The segment cudaMalloc'd when no cached block fits a rounded request.
  static uint64_t segment_size(uint64_t rounded);

  /// Hands out a block for `bytes` (best fit among the pool's free blocks, else a new segment;
  /// split when the rest may be used): returns its handle, kNoBlock for 0 bytes.
  uint32_t malloc(uint64_t bytes);
  /// Returns a block to its pool, merged with free neighbours of its segment.
  void free(uint32_t handle);

  uint64_t allocated() const { return m_allocated; }  ///< memory_allocated(): sizes of blocks in use
  uint64_t reserved() const { return m_reserved; }    ///< memory_reserved(): sizes of segments
  uint64_t requested() const { return m_requested; }  ///< the requested_bytes statistic
  size_t segments() const { return m_segments; }
  uint64_t block_size(uint32_t handle) const { return m_blocks.at(handle).size; }

 private:
  struct Block {
    uint64_t addr = 0, size = 0, requested = 0;
    uint32_t prev = kNoBlock, next = kNoBlock;  ///< neighbours in the segment
    bool small = false, allocated = false;
  };
  using Pool = std::map<std::pair<uint64_t, uint64_t>, uint32_t>;  ///< free blocks by (size, address)
  Pool& pool(bool small) { return small ? m_small : m_large; }
  uint32_t new_block(const Block& b);
  /// Folds free neighbour `src` into `dst` (PyTorch's try_merge_blocks).
  void merge(uint32_t dst, uint32_t src);

  std::vector<Block> m_blocks;
  std::vector<uint32_t> m_unused;  ///< slots of merged-away blocks
  Pool m_small, m_large;
  uint64_t m_next_addr = 0;  ///< segments get increasing addresses (cudaMalloc's are the driver's)
  uint64_t m_allocated = 0, m_reserved = 0, m_requested = 0;
  size_t m_segments = 0;
};

/// The warm-up steps before the step `allocator: caching` reports: scripts/torch_memory.py
/// measures the third step of a process, and on every measured case the replay's figures no
/// longer change after two (a third warm-up step gives the same).
inline constexpr unsigned kCachingWarmupSteps = 2;

/// Replays a built step through a CachingAllocator as a training process runs it: weights and
/// the input allocated first, `warmup_steps` steps, then the measured step (weight gradients
/// freed after each, as zero_grad(set_to_none=True); optimizer state made in the first step and
/// kept). The figures of the measured step, relative to what is allocated when it starts.
AllocatorSummary replay_caching_allocator(const OpGraph& g, unsigned warmup_steps);

/// Applies net.allocator to a built, accounted step (no-op for none): fills g.memory.allocator.
/// Throws InputError when the allocator cannot apply (caching needs framework: pytorch_cuda).
void apply_allocator(OpGraph& g, const NetSpec& net);

}  // namespace bpsim::workload
