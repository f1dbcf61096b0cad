#pragma once
/// BPSIM_HOT_INLINE: a member function that runs many times per event in a model's inner loop,
/// inlined into its callers whatever the compiler's size heuristics say. Used only where a
/// measurement showed the call itself costing time, not just instructions (docs/mesh.md,
/// "Re-tries made cheaper still": the flow model's avail and pick_vc); the flit router's
/// per-flit helpers, inlined the same way, ran 10 % fewer instructions in no less time, so
/// they are left to the compiler. GCC and Clang both honour the attribute.
#define BPSIM_HOT_INLINE __attribute__((always_inline)) inline
