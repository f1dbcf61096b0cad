// The fabric: link numbering, routes, α–β transfers and collectives (docs/system.md "Fabric"
// and "Collectives"; formulas cited in docs/references.md).
#include "sim/system/fabric.h"

#include <algorithm>
#include <stdexcept>

namespace bpsim::system {
namespace {

// Ring, torus2d and mesh are one shape: a grid of R rows × C columns whose x dimension (along
// a row) and y dimension (along a column) wrap or not. A ring of n is a 1 × n torus. A
// dimension of 2 has one link pair per line even when it wraps (its "wrap" link would join
// the same two devices again), so it is numbered as a line; a dimension of 1 has no links.
//
// Directed links, in this order: x+ (r, i) → (r, i+1 mod C), for each row r and i < Lx;
// x− (r, i+1 mod C) → (r, i); y+ (j, c) → (j+1 mod R, c), for each column c and j < Ly;
// y− ((j+1 mod R), c) → (j, c). Lx = C on a wrapping x of C ≥ 3, else C − 1 (likewise Ly).
struct Grid {
  uint32_t rows = 1, cols = 1;
  bool wrap_x = false, wrap_y = false;
  uint32_t lx = 0, ly = 0;  // positive links per row / per column

  uint32_t xpos(uint32_t r, uint32_t i) const { return r * lx + i; }
  uint32_t xneg(uint32_t r, uint32_t i) const { return rows * lx + r * lx + i; }
  uint32_t ypos(uint32_t c, uint32_t j) const { return 2 * rows * lx + c * ly + j; }
  uint32_t yneg(uint32_t c, uint32_t j) const { return 2 * rows * lx + cols * ly + c * ly + j; }
  uint32_t count() const { return 2 * (rows * lx + cols * ly); }
};

uint32_t positive_links(uint32_t k, bool wrap) { return k == 0 ? 0 : (wrap && k >= 3 ? k : k - 1); }

Grid grid_of(const Fabric& f) {
  Grid g;
  if (f.topology == Topology::ring) {
    g.rows = 1;
    g.cols = f.devices;
  } else {
    g.rows = f.rows;
    g.cols = f.cols;
  }
  const bool wrap = f.topology != Topology::mesh;
  g.wrap_x = wrap && g.cols >= 3;
  g.wrap_y = wrap && g.rows >= 3;
  g.lx = positive_links(g.cols, g.wrap_x);
  g.ly = positive_links(g.rows, g.wrap_y);
  return g;
}

// Walks one dimension of length k from position a to b, calling pos(i) for the link i → i+1
// and neg(i) for the link i+1 → i. With wrap-around, the shorter direction (ties: forward).
template <class Pos, class Neg>
void walk(uint32_t a, uint32_t b, uint32_t k, bool wrap, Pos pos, Neg neg) {
  if (a == b) return;
  bool forward = b > a;
  uint32_t distance = forward ? b - a : a - b;
  if (wrap) {
    const uint32_t ahead = (b + k - a) % k;
    forward = ahead <= k - ahead;
    distance = forward ? ahead : k - ahead;
  }
  uint32_t cur = a;
  for (uint32_t t = 0; t < distance; ++t) {
    if (forward) {
      pos(cur);
      cur = (cur + 1) % k;
    } else {
      cur = (cur + k - 1) % k;
      neg(cur);
    }
  }
}

// Calls visit(link) for each directed link of the route src → dst, in order (route() and the
// collectives' step pricing share it, so a route is never materialised per message).
template <class Visit>
void for_each_link(const Fabric& f, uint32_t src, uint32_t dst, Visit visit) {
  if (src == dst) return;
  if (f.topology == Topology::switch_) {
    visit(src);              // d_src → sw
    visit(f.devices + dst);  // sw → d_dst
    return;
  }
  const Grid g = grid_of(f);
  const uint32_t r0 = src / g.cols, c0 = src % g.cols, r1 = dst / g.cols, c1 = dst % g.cols;
  // Dimension order: x (along the source's row) first, then y (along the destination's column).
  walk(
      c0, c1, g.cols, g.wrap_x, [&](uint32_t i) { visit(g.xpos(r0, i)); }, [&](uint32_t i) { visit(g.xneg(r0, i)); });
  walk(
      r0, r1, g.rows, g.wrap_y, [&](uint32_t j) { visit(g.ypos(c1, j)); }, [&](uint32_t j) { visit(g.yneg(c1, j)); });
}

void check_device(const Fabric& f, uint32_t d, const char* what) {
  if (d >= f.devices)
    throw std::invalid_argument(std::string(what) + " device " + std::to_string(d) + " is not on a fabric of " +
                                std::to_string(f.devices) + " devices");
}

// ---- Collectives -----------------------------------------------------------------------------

struct Msg {
  uint32_t src = 0, dst = 0;
  uint64_t bytes = 0;
};

/// Chunk j of n bytes cut into p chunks: the first n mod p chunks carry one byte more.
uint64_t chunk(uint64_t n, uint32_t p, uint32_t j) { return n / p + (j < n % p ? 1 : 0); }
uint64_t chunk_max(uint64_t n, uint32_t p) { return n / p + (n % p ? 1 : 0); }
/// Bytes of chunks [a, b) of n cut into p.
uint64_t chunk_range(uint64_t n, uint32_t p, uint32_t a, uint32_t b) {
  auto prefix = [&](uint32_t j) { return j * (n / p) + std::min<uint64_t>(j, n % p); };
  return prefix(b) - prefix(a);
}

/// Prices one step of a collective: its messages take their routes at once; messages that
/// share a directed link serialise on it. Step time = α · (hops of the longest route) +
/// (bytes of the most loaded link) / β.
class StepPricer {
 public:
  explicit StepPricer(const Fabric& f) : f_(f), load_(link_count(f), 0) {}

  /// The step's time.
  double price(const std::vector<Msg>& msgs) {
    uint32_t max_hops = 0;
    uint64_t max_load = 0;
    for (const Msg& m : msgs) {
      if (m.bytes == 0) continue;  // nothing to send: no message
      uint32_t h = 0;
      for_each_link(f_, m.src, m.dst, [&](uint32_t l) {
        if (load_[l] == 0) touched_.push_back(l);
        load_[l] += m.bytes;
        max_load = std::max(max_load, load_[l]);
        ++h;
      });
      max_hops = std::max(max_hops, h);
    }
    for (uint32_t l : touched_) load_[l] = 0;
    touched_.clear();
    return max_hops * f_.link.latency_s + static_cast<double>(max_load) / f_.link.bandwidth_bytes_per_s;
  }

 private:
  const Fabric& f_;
  std::vector<uint64_t> load_;
  std::vector<uint32_t> touched_;
};

/// The collective's running totals. carry() is the one place bytes are put on links: the
/// link-byte total and, when the caller asked for it, each link's share.
struct Acc {
  const Fabric& f;
  std::vector<uint64_t>* per_link = nullptr;
  CollectiveCost c;
  void add(double seconds, uint32_t steps) {
    c.seconds += seconds;
    c.steps += steps;
  }
  /// `bytes` from src to dst over their route, in total over the collective.
  void carry(uint32_t src, uint32_t dst, uint64_t bytes) {
    for_each_link(f, src, dst, [&](uint32_t l) {
      c.link_bytes += bytes;
      if (per_link) (*per_link)[l] += bytes;
    });
  }
};

/// Ring reduce-scatter (own_offset 0) or all-gather (own_offset 1) over `rings`, all of the
/// same size p and run at once, ring r on a buffer of sizes[r] bytes cut into p chunks. p − 1
/// steps; in each, member k sends one chunk to member k+1. The steps are identical but for
/// which chunk each member sends (the chunks differ by at most a byte), so one step is priced
/// with every message at the largest chunk ⌈n/p⌉ and multiplied by p − 1: O(p) work, not
/// O(p²). Link bytes are exact: over the phase, member k sends every chunk but one (reduce-
/// scatter: all but its own chunk k, which it ends up owning; all-gather: all but chunk k+1,
/// the one it receives last), each over the hops of its route to member k+1.
void ring_phase(StepPricer& pricer, const std::vector<std::vector<uint32_t>>& rings, const std::vector<uint64_t>& sizes,
                uint32_t own_offset, Acc& acc) {
  const uint32_t p = static_cast<uint32_t>(rings.front().size());
  if (p < 2) return;
  std::vector<Msg> step;
  for (size_t r = 0; r < rings.size(); ++r) {
    const std::vector<uint32_t>& m = rings[r];
    for (uint32_t k = 0; k < p; ++k) {
      const uint32_t next = m[(k + 1) % p];
      step.push_back({m[k], next, chunk_max(sizes[r], p)});
      acc.carry(m[k], next, sizes[r] - chunk(sizes[r], p, (k + own_offset) % p));
    }
  }
  acc.add((p - 1) * pricer.price(step), p - 1);
}

/// Pipelined chain broadcast over `chains` (each of p members, member 0 the root, each on a
/// buffer of n bytes), run at once: the buffer is cut into p chunks; chunk j leaves the root
/// at step j and moves one member down the chain per step, so the last chunk arrives after
/// (p − 1) + (p − 1) = 2(p − 1) steps. At step s the senders are the window of members
/// max(0, s − p + 1) … min(s, p − 2); fill and drain make the steps differ, but the window
/// only slides, so each step is priced from the last by adding the sender that enters and
/// removing the one that leaves (per-link message counts and a histogram of them give the
/// most loaded link; a histogram of route lengths the longest route): O(p · hops), not O(p²).
/// As in ring_phase, every message paces its step at the largest chunk ⌈n/p⌉; link bytes are
/// exact (every chunk crosses every link of the chain: n · Σ hops).
void chain_broadcast(const Fabric& f, const std::vector<std::vector<uint32_t>>& chains, uint64_t n, Acc& acc) {
  const uint32_t p = static_cast<uint32_t>(chains.front().size());
  if (p < 2) return;
  std::vector<std::vector<std::vector<uint32_t>>> routes(chains.size());  // [chain][sender]
  uint32_t longest = 0;
  for (size_t r = 0; r < chains.size(); ++r)
    for (uint32_t t = 0; t + 1 < p; ++t) {
      routes[r].push_back(route(f, chains[r][t], chains[r][t + 1]));
      longest = std::max(longest, static_cast<uint32_t>(routes[r].back().size()));
      acc.carry(chains[r][t], chains[r][t + 1], n);  // every chunk crosses every link of the chain
    }
  std::vector<uint32_t> per_link(link_count(f), 0);
  std::vector<uint32_t> load_hist(chains.size() * p + 1, 0), hop_hist(longest + 1, 0);
  uint32_t max_load = 0, max_hops = 0;
  auto enter = [&](uint32_t t) {
    for (size_t r = 0; r < chains.size(); ++r) {
      for (uint32_t l : routes[r][t]) {
        if (per_link[l]) --load_hist[per_link[l]];
        ++load_hist[++per_link[l]];
        max_load = std::max(max_load, per_link[l]);
      }
      ++hop_hist[routes[r][t].size()];
      max_hops = std::max(max_hops, static_cast<uint32_t>(routes[r][t].size()));
    }
  };
  auto leave = [&](uint32_t t) {
    for (size_t r = 0; r < chains.size(); ++r) {
      for (uint32_t l : routes[r][t]) {
        --load_hist[per_link[l]];
        if (--per_link[l]) ++load_hist[per_link[l]];
      }
      --hop_hist[routes[r][t].size()];
    }
    while (max_load > 0 && load_hist[max_load] == 0) --max_load;
    while (max_hops > 0 && hop_hist[max_hops] == 0) --max_hops;
  };
  const double chunk_seconds = static_cast<double>(chunk_max(n, p)) / f.link.bandwidth_bytes_per_s;
  double seconds = 0;
  for (uint32_t s = 0; s < 2 * (p - 1); ++s) {
    if (s <= p - 2) enter(s);  // sender s sends its first chunk
    if (s >= p) leave(s - p);  // sender s − p sent its last chunk (p − 1) at step s − 1
    seconds += max_hops * f.link.latency_s + max_load * chunk_seconds;
  }
  acc.add(seconds, 2 * (p - 1));
}

uint32_t ceil_log2(uint32_t p) {
  uint32_t l = 0;
  while ((uint64_t{1} << l) < p) ++l;
  return l;
}

enum class TreePhase { reduce, broadcast, scatter, gather };

/// One phase of a binomial tree rooted at member 0 of `m` (p members): ⌈log2 p⌉ steps, each
/// priced on its own. Reduce: at mask 1, 2, 4, …, member r with r mod 2·mask = mask sends the
/// whole buffer to r − mask. Broadcast: masks from the top down, member r with r mod 2·mask = 0
/// sends the buffer to r + mask. Scatter: as broadcast, but the message carries only the
/// chunks of the receiver's subtree [r + mask, min(r + 2·mask, p)). Gather: as reduce, but the
/// message carries the chunks of the sender's subtree [r, min(r + mask, p)).
void tree_phase(StepPricer& pricer, const std::vector<uint32_t>& m, uint64_t n, TreePhase phase, Acc& acc) {
  const uint32_t p = static_cast<uint32_t>(m.size());
  const uint32_t levels = ceil_log2(p);
  std::vector<Msg> step;
  for (uint32_t l = 0; l < levels; ++l) {
    const bool up = phase == TreePhase::reduce || phase == TreePhase::gather;
    const uint32_t mask = 1u << (up ? l : levels - 1 - l);
    step.clear();
    for (uint32_t r = 0; r < p; r += 2 * mask) {
      if (r + mask >= p) continue;
      const uint32_t hi = std::min(r + 2 * mask, p);
      switch (phase) {
        case TreePhase::reduce: step.push_back({m[r + mask], m[r], n}); break;
        case TreePhase::broadcast: step.push_back({m[r], m[r + mask], n}); break;
        case TreePhase::scatter: step.push_back({m[r], m[r + mask], chunk_range(n, p, r + mask, hi)}); break;
        case TreePhase::gather: step.push_back({m[r + mask], m[r], chunk_range(n, p, r + mask, hi)}); break;
      }
    }
    for (const Msg& m : step) acc.carry(m.src, m.dst, m.bytes);
    acc.add(pricer.price(step), 1);
  }
}

}  // namespace

uint32_t link_count(const Fabric& f) {
  if (f.topology == Topology::switch_) return 2 * f.devices;
  return grid_of(f).count();
}

std::string link_name(const Fabric& f, uint32_t link) {
  if (link >= link_count(f))
    throw std::invalid_argument("link " + std::to_string(link) + " is not on a fabric of " +
                                std::to_string(link_count(f)) + " links");
  auto d = [](uint32_t i) { return "d" + std::to_string(i); };
  if (f.topology == Topology::switch_) return link < f.devices ? d(link) + "->sw" : "sw->" + d(link - f.devices);
  const Grid g = grid_of(f);
  auto id = [&](uint32_t r, uint32_t c) { return r * g.cols + c; };
  uint32_t src = 0, dst = 0;
  if (link < 2 * g.rows * g.lx) {
    const bool neg = link >= g.rows * g.lx;
    const uint32_t k = neg ? link - g.rows * g.lx : link;
    const uint32_t r = k / g.lx, i = k % g.lx;
    src = id(r, i);
    dst = id(r, (i + 1) % g.cols);
    if (neg) std::swap(src, dst);
  } else {
    const uint32_t base = link - 2 * g.rows * g.lx;
    const bool neg = base >= g.cols * g.ly;
    const uint32_t k = neg ? base - g.cols * g.ly : base;
    const uint32_t c = k / g.ly, j = k % g.ly;
    src = id(j, c);
    dst = id((j + 1) % g.rows, c);
    if (neg) std::swap(src, dst);
  }
  return d(src) + "->" + d(dst);
}

std::vector<uint32_t> route(const Fabric& f, uint32_t src, uint32_t dst) {
  check_device(f, src, "source");
  check_device(f, dst, "destination");
  std::vector<uint32_t> links;
  for_each_link(f, src, dst, [&](uint32_t l) { links.push_back(l); });
  return links;
}

double transfer_seconds(const LinkParams& l, uint64_t bytes, uint32_t hops) {
  if (hops == 0) return 0;  // a device's own memory: no link crossed
  return hops * l.latency_s + static_cast<double>(bytes) / l.bandwidth_bytes_per_s;
}

void check_fabric(const Fabric& f) {
  if (f.devices == 0) throw std::invalid_argument("a fabric needs at least one device");
  if ((f.topology == Topology::torus2d || f.topology == Topology::mesh) &&
      (f.rows == 0 || f.cols == 0 || uint64_t{f.rows} * f.cols != f.devices))
    throw std::invalid_argument("rows × cols (" + std::to_string(f.rows) + " × " + std::to_string(f.cols) +
                                ") must equal the device count " + std::to_string(f.devices));
  if (!(f.link.bandwidth_bytes_per_s > 0)) throw std::invalid_argument("link bandwidth must be above 0");
  if (!(f.link.latency_s >= 0)) throw std::invalid_argument("link latency must be 0 or more");
  if (!(f.link.energy_pj_per_byte >= 0)) throw std::invalid_argument("link energy per byte must be 0 or more");
}

CollectiveCost collective(const Fabric& f, Collective op, Algorithm algorithm, uint64_t bytes,
                          const std::vector<uint32_t>& group, uint32_t inner_group,
                          std::vector<uint64_t>* bytes_by_link) {
  check_fabric(f);
  if (group.empty()) throw std::invalid_argument("a collective needs at least one device");
  {
    std::vector<uint32_t> sorted = group;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) {
      check_device(f, sorted[i], "group");
      if (i > 0 && sorted[i] == sorted[i - 1])
        throw std::invalid_argument("device " + std::to_string(sorted[i]) + " is twice in the group");
    }
  }
  const uint32_t p = static_cast<uint32_t>(group.size());
  if (algorithm == Algorithm::hierarchical && (inner_group == 0 || p % inner_group != 0))
    throw std::invalid_argument("a hierarchical collective's inner group (" + std::to_string(inner_group) +
                                ") must divide the group's " + std::to_string(p) + " devices");
  if (bytes_by_link) {
    if (bytes_by_link->empty()) bytes_by_link->assign(link_count(f), 0);
    if (bytes_by_link->size() != link_count(f))
      throw std::invalid_argument("bytes_by_link has " + std::to_string(bytes_by_link->size()) +
                                  " entries, the fabric " + std::to_string(link_count(f)) + " links");
  }
  Acc acc{f, bytes_by_link, {}};
  if (p < 2 || bytes == 0) return acc.c;
  StepPricer pricer(f);
  const std::vector<std::vector<uint32_t>> whole{group};
  const std::vector<uint64_t> whole_size{bytes};

  switch (algorithm) {
    case Algorithm::ring:
      switch (op) {
        case Collective::all_reduce:
          ring_phase(pricer, whole, whole_size, 0, acc);
          ring_phase(pricer, whole, whole_size, 1, acc);
          break;
        case Collective::reduce_scatter: ring_phase(pricer, whole, whole_size, 0, acc); break;
        case Collective::all_gather: ring_phase(pricer, whole, whole_size, 1, acc); break;
        case Collective::broadcast: chain_broadcast(f, whole, bytes, acc); break;
      }
      break;
    case Algorithm::tree:
      switch (op) {
        case Collective::all_reduce:
          tree_phase(pricer, group, bytes, TreePhase::reduce, acc);
          tree_phase(pricer, group, bytes, TreePhase::broadcast, acc);
          break;
        case Collective::reduce_scatter:
          tree_phase(pricer, group, bytes, TreePhase::reduce, acc);
          tree_phase(pricer, group, bytes, TreePhase::scatter, acc);
          break;
        case Collective::all_gather:
          tree_phase(pricer, group, bytes, TreePhase::gather, acc);
          tree_phase(pricer, group, bytes, TreePhase::broadcast, acc);
          break;
        case Collective::broadcast: tree_phase(pricer, group, bytes, TreePhase::broadcast, acc); break;
      }
      break;
    case Algorithm::hierarchical: {
      // q inner groups of g consecutive members; the cross ring at position k joins the k-th
      // member of every inner group and works on shard k (chunk k of the buffer cut into g),
      // the one that member owns after the inner reduce-scatter.
      const uint32_t g = inner_group, q = p / g;
      std::vector<std::vector<uint32_t>> inner(q), cross(g);
      std::vector<uint64_t> inner_sizes(q, bytes), shards(g);
      for (uint32_t i = 0; i < q; ++i)
        for (uint32_t k = 0; k < g; ++k) {
          inner[i].push_back(group[i * g + k]);
          cross[k].push_back(group[i * g + k]);
        }
      for (uint32_t k = 0; k < g; ++k) shards[k] = chunk(bytes, g, k);
      switch (op) {
        case Collective::all_reduce:
          ring_phase(pricer, inner, inner_sizes, 0, acc);
          ring_phase(pricer, cross, shards, 0, acc);
          ring_phase(pricer, cross, shards, 1, acc);
          ring_phase(pricer, inner, inner_sizes, 1, acc);
          break;
        case Collective::reduce_scatter:
          ring_phase(pricer, inner, inner_sizes, 0, acc);
          ring_phase(pricer, cross, shards, 0, acc);
          break;
        case Collective::all_gather:
          ring_phase(pricer, cross, shards, 1, acc);
          ring_phase(pricer, inner, inner_sizes, 1, acc);
          break;
        case Collective::broadcast: {
          // The root (member 0) broadcasts to the inner groups' first members, then each of
          // them to its own inner group, all groups at once.
          std::vector<uint32_t> leaders;
          for (uint32_t i = 0; i < q; ++i) leaders.push_back(group[i * g]);
          chain_broadcast(f, {leaders}, bytes, acc);
          chain_broadcast(f, inner, bytes, acc);
          break;
        }
      }
      break;
    }
  }
  acc.c.energy_pj = static_cast<double>(acc.c.link_bytes) * f.link.energy_pj_per_byte;
  return acc.c;
}

}  // namespace bpsim::system
