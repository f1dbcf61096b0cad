// The caching-allocator model's rules, each with numbers derived by hand from PyTorch's
// constants (c10/cuda/CUDACachingAllocator.cpp): 512-byte blocks, the small pool's 2 MiB
// segments, the large pool's 20 MiB ones (requests below 10 MiB) or the request rounded up to
// 2 MiB, best fit, splitting and coalescing.
#include <catch2/catch.hpp>

#include "sim/workload/caching_allocator.h"

using bpsim::workload::CachingAllocator;

namespace {
constexpr uint64_t KiB = 1024, MiB = 1024 * 1024;
}  // namespace

TEST_CASE("caching allocator: sizes round up to 512-byte blocks", "[workload][allocator]") {
  CHECK(CachingAllocator::round_size(1) == 512);
  CHECK(CachingAllocator::round_size(512) == 512);
  CHECK(CachingAllocator::round_size(513) == 1024);
  CHECK(CachingAllocator::round_size(163840) == 163840);  // 320 × 512: already a multiple
  CachingAllocator a;
  CHECK(a.malloc(0) == CachingAllocator::kNoBlock);  // an empty tensor takes no block
  CHECK(a.segments() == 0);
  const uint32_t b = a.malloc(4);  // a 4-byte loss scalar holds a whole 512-byte block
  CHECK(a.block_size(b) == 512);
  CHECK(a.allocated() == 512);
  CHECK(a.requested() == 4);
}

TEST_CASE("caching allocator: segment sizes by pool", "[workload][allocator]") {
  CHECK(CachingAllocator::segment_size(512) == 2 * MiB);         // small pool
  CHECK(CachingAllocator::segment_size(1 * MiB) == 2 * MiB);     // 1 MiB is still small
  CHECK(CachingAllocator::segment_size(MiB + 512) == 20 * MiB);  // large, below 10 MiB
  CHECK(CachingAllocator::segment_size(10 * MiB - 512) == 20 * MiB);
  CHECK(CachingAllocator::segment_size(10 * MiB) == 10 * MiB);        // from 10 MiB: the request …
  CHECK(CachingAllocator::segment_size(11 * MiB + 512) == 12 * MiB);  // … rounded up to 2 MiB
}

TEST_CASE("caching allocator: small blocks split, packed into 2 MiB segments", "[workload][allocator]") {
  CachingAllocator a;
  const uint32_t x = a.malloc(1000);  // 1024 B block from a new 2 MiB segment, 2 MiB − 1 KiB left free
  CHECK(a.block_size(x) == 1024);
  CHECK(a.reserved() == 2 * MiB);
  const uint32_t y = a.malloc(MiB);  // 1 MiB is small: split from the same segment's rest
  CHECK(a.block_size(y) == MiB);
  const uint32_t z = a.malloc(MiB - 1024);  // exactly what is left
  CHECK(a.block_size(z) == MiB - 1024);
  CHECK(a.segments() == 1);
  CHECK(a.allocated() == 2 * MiB);
  a.malloc(512);  // nothing free: a second segment
  CHECK(a.segments() == 2);
  CHECK(a.reserved() == 4 * MiB);
}

TEST_CASE("caching allocator: a large block is split only when more than 1 MiB remains", "[workload][allocator]") {
  CachingAllocator a;
  // 15 MiB: its own segment of 16 MiB (2 MiB rounding); 1 MiB would remain, not more: the whole
  // segment is the block, and memory_allocated counts 16 MiB for a 15 MiB tensor.
  const uint32_t big = a.malloc(15 * MiB);
  CHECK(a.block_size(big) == 16 * MiB);
  CHECK(a.allocated() == 16 * MiB);
  CHECK(a.requested() == 15 * MiB);
  // 3 MiB: a 20 MiB segment, split (17 MiB > 1 MiB remain).
  const uint32_t three = a.malloc(3 * MiB);
  CHECK(a.block_size(three) == 3 * MiB);
  CHECK(a.reserved() == 36 * MiB);
  // 16.5 MiB: best fit is the free 17 MiB rest; 512 KiB would remain, so the whole 17 MiB.
  const uint32_t rest = a.malloc(16 * MiB + 512 * KiB);
  CHECK(a.block_size(rest) == 17 * MiB);
  CHECK(a.segments() == 2);
  CHECK(a.allocated() == (16 + 3 + 17) * MiB);
}

TEST_CASE("caching allocator: best fit, pools kept apart, nothing released", "[workload][allocator]") {
  CachingAllocator a;
  const uint32_t s1 = a.malloc(12 * MiB);  // a 12 MiB segment
  const uint32_t s2 = a.malloc(14 * MiB);  // a 14 MiB segment
  a.free(s2);
  a.free(s1);
  CHECK(a.allocated() == 0);
  CHECK(a.reserved() == 26 * MiB);  // cached, not returned to the driver
  // 11 MiB fits both free blocks: the smaller (12 MiB) is taken, whole (1 MiB would remain).
  const uint32_t b = a.malloc(11 * MiB);
  CHECK(a.block_size(b) == 12 * MiB);
  CHECK(a.segments() == 2);
  // A small request never takes a large block: a new 2 MiB segment.
  a.malloc(4 * KiB);
  CHECK(a.segments() == 3);
  CHECK(a.reserved() == 28 * MiB);
}

TEST_CASE("caching allocator: free neighbours in a segment coalesce", "[workload][allocator]") {
  CachingAllocator a;
  // One 20 MiB segment: A [0, 3), B [3, 6), C [6, 9) MiB and 11 MiB free after them.
  const uint32_t A = a.malloc(3 * MiB), B = a.malloc(3 * MiB), C = a.malloc(3 * MiB);
  CHECK(a.segments() == 1);
  a.free(A);
  a.free(B);  // A and B merge into one free 6 MiB block
  // 5 MiB: the free blocks are 6 and 11 MiB; best fit is the merged 6 MiB, taken whole (1 MiB
  // would remain). Without coalescing neither 3 MiB piece would hold it and the 11 MiB rest
  // would be split instead.
  const uint32_t D = a.malloc(5 * MiB);
  CHECK(a.block_size(D) == 6 * MiB);
  CHECK(a.allocated() == 9 * MiB);
  a.free(C);                              // C merges with the 11 MiB rest: 14 MiB free
  const uint32_t E = a.malloc(14 * MiB);  // fits the merged rest exactly, no new segment
  CHECK(a.block_size(E) == 14 * MiB);
  CHECK(a.segments() == 1);
  a.free(D);
  a.free(E);  // everything merges back into the whole segment
  const uint32_t F = a.malloc(20 * MiB);
  CHECK(a.block_size(F) == 20 * MiB);
  CHECK(a.segments() == 1);
}
