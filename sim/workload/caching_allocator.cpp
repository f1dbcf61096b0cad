#include "sim/workload/caching_allocator.h"

#include <algorithm>
#include <stdexcept>

#include "sim/core/error.h"
#include "sim/ir/liveness.h"

namespace bpsim::workload {

uint64_t CachingAllocator::round_size(uint64_t bytes) {
  if (bytes < kMinBlock) return kMinBlock;
  return (bytes + kMinBlock - 1) / kMinBlock * kMinBlock;
}

uint64_t CachingAllocator::segment_size(uint64_t rounded) {
  if (rounded <= kSmallSize) return kSmallBuffer;
  if (rounded < kMinLargeAlloc) return kLargeBuffer;  // 1–10 MiB requests share 20 MiB segments
  return (rounded + kRoundLarge - 1) / kRoundLarge * kRoundLarge;
}

uint32_t CachingAllocator::new_block(const Block& b) {
  if (!m_unused.empty()) {
    const uint32_t id = m_unused.back();
    m_unused.pop_back();
    m_blocks[id] = b;
    return id;
  }
  m_blocks.push_back(b);
  return uint32_t(m_blocks.size() - 1);
}

uint32_t CachingAllocator::malloc(uint64_t bytes) {
  if (bytes == 0) return kNoBlock;  // an empty tensor takes no block
  const uint64_t size = round_size(bytes);
  const bool small = size <= kSmallSize;
  Pool& p = pool(small);
  // Best fit: the smallest free block that holds the request, the lowest address among equals.
  uint32_t id = kNoBlock;
  const auto it = p.lower_bound({size, 0});
  if (it != p.end()) {
    id = it->second;
    p.erase(it);
  } else {
    Block seg;
    seg.addr = m_next_addr;
    seg.size = segment_size(size);
    seg.small = small;
    m_next_addr += seg.size;
    m_reserved += seg.size;
    ++m_segments;
    id = new_block(seg);
  }
  // Split off the rest when it can serve a later request: any rest of a small block (it is a
  // multiple of 512), only more than 1 MiB of a large one; else the whole block is handed out.
  const uint64_t rest = m_blocks[id].size - size;
  if (small ? rest >= kMinBlock : rest > kSmallSize) {
    Block r = m_blocks[id];
    r.addr += size;
    r.size = rest;
    r.prev = id;
    const uint32_t rid = new_block(r);
    if (m_blocks[rid].next != kNoBlock) m_blocks[m_blocks[rid].next].prev = rid;
    m_blocks[id].next = rid;
    m_blocks[id].size = size;
    p.emplace(std::make_pair(rest, m_blocks[rid].addr), rid);
  }
  Block& b = m_blocks[id];
  b.allocated = true;
  b.requested = bytes;
  m_allocated += b.size;
  m_requested += bytes;
  return id;
}

void CachingAllocator::merge(uint32_t dst, uint32_t src) {
  if (src == kNoBlock || m_blocks[src].allocated) return;
  Block &d = m_blocks[dst], &s = m_blocks[src];
  pool(s.small).erase({s.size, s.addr});
  if (d.prev == src) {  // [src dst]
    d.addr = s.addr;
    d.prev = s.prev;
    if (d.prev != kNoBlock) m_blocks[d.prev].next = dst;
  } else {  // [dst src]
    d.next = s.next;
    if (d.next != kNoBlock) m_blocks[d.next].prev = dst;
  }
  d.size += s.size;
  m_unused.push_back(src);
}

void CachingAllocator::free(uint32_t handle) {
  if (handle == kNoBlock) return;
  Block& b = m_blocks.at(handle);
  if (!b.allocated) throw std::logic_error("caching allocator: block freed twice");
  b.allocated = false;
  m_allocated -= b.size;
  m_requested -= b.requested;
  b.requested = 0;
  merge(handle, m_blocks[handle].prev);
  merge(handle, m_blocks[handle].next);
  const Block& m = m_blocks[handle];
  pool(m.small).emplace(std::make_pair(m.size, m.addr), handle);
}

AllocatorSummary replay_caching_allocator(const OpGraph& g, unsigned warmup_steps) {
  const LiveEvents ev = live_events(g);
  CachingAllocator a;
  std::vector<uint32_t> block(g.tensors.size(), CachingAllocator::kNoBlock);
  auto with_role = [&](TensorRole r) {
    std::vector<uint32_t> ids;
    for (const Tensor& t : g.tensors)
      if (t.role == r) ids.push_back(t.id);
    return ids;
  };
  // model.cuda() moves the parameters in module order, then the batch comes.
  for (uint32_t t : with_role(TensorRole::weight)) block[t] = a.malloc(g.tensors[t].bytes);
  for (uint32_t t : with_role(TensorRole::input)) block[t] = a.malloc(g.tensors[t].bytes);
  int64_t last_forward = -1;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) last_forward = o.id;
  AllocatorSummary s;
  s.warmup_steps = warmup_steps;
  for (unsigned step = 0; step <= warmup_steps; ++step) {
    const uint64_t base = a.allocated();
    uint64_t peak = base, saved = 0;
    for (const Op& o : g.ops) {
      for (uint32_t t : ev.alloc_before[o.id]) block[t] = a.malloc(g.tensors[t].bytes);
      peak = std::max(peak, a.allocated());
      for (uint32_t t : ev.free_after[o.id]) a.free(block[t]);
      if (int64_t(o.id) == last_forward) saved = a.allocated() - base;
    }
    if (step == warmup_steps) {
      s.saved_after_forward_bytes = saved;
      s.peak_bytes = peak - base;
      s.baseline_bytes = base;
    }
    // torch.optim makes its state in its first step(), while the gradients are still held.
    if (step == 0)
      for (uint32_t t : with_role(TensorRole::optimizer_state)) block[t] = a.malloc(g.tensors[t].bytes);
    for (uint32_t t : with_role(TensorRole::weight_gradient)) {  // zero_grad(set_to_none=True)
      a.free(block[t]);
      block[t] = CachingAllocator::kNoBlock;
    }
  }
  s.reserved_bytes = a.reserved();
  s.segments = a.segments();
  return s;
}

void apply_allocator(OpGraph& g, const NetSpec& net) {
  if (net.allocator == Allocator::none) return;
  if (net.framework != Framework::pytorch_cuda)
    throw InputError(
        "allocator: caching replays PyTorch's allocation sequence, which framework none does not model "
        "(write framework: pytorch_cuda)");
  g.memory.allocator = replay_caching_allocator(g, kCachingWarmupSteps);
}

}  // namespace bpsim::workload
