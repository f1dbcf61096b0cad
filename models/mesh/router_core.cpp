#include "models/mesh/router_core.h"

#include <algorithm>

#include "models/mesh/noc.h"

namespace bpsim::mesh {

namespace {
bool same_box(const Box& a, const Box& b) {
  return std::equal(a.lo, a.lo + 3, b.lo) && std::equal(a.hi, a.hi + 3, b.hi);
}
}  // namespace

bool RouterEntryResult::operator==(const RouterEntryResult& o) const {
  return same_box(range, o.range) && same_box(overlap, o.overlap) && hit == o.hit && port == o.port;
}

RouterResult router_evaluate(const std::vector<ControlEntry>& store, unsigned cols, const RouterFiring& f) {
  RouterResult r;
  r.entries.reserve(store.size());
  for (const ControlEntry& e : store) {
    RouterEntryResult x;
    x.range = f.backward ? backward_range(e.conn, f.x, f.y, f.c) : forward_range(e.conn, f.x, f.y, f.c);
    x.overlap = x.range.intersect(e.dest_box);
    x.hit = !x.overlap.empty();
    x.port = uint8_t(dor_port(cols, f.router, e.dest_cluster, false));
    if (x.hit) r.port_mask |= uint8_t(1u << x.port);
    r.entries.push_back(x);
  }
  return r;
}

uint64_t logic_cycles(uint64_t entries, unsigned units) { return (entries + units - 1) / units; }

RouterSchedule router_schedule(const std::vector<uint64_t>& gaps, uint64_t entries) {
  RouterSchedule s;
  for (size_t i = 0; i < gaps.size(); ++i) {
    const uint64_t offer = i == 0 ? gaps[0] : s.accept[i - 1] + 1 + gaps[i];
    const uint64_t a = i == 0 ? offer : std::max(offer, s.last[i - 1]);
    s.accept.push_back(a);
    s.last.push_back(a + logic_cycles(entries, 1));
  }
  s.edges = gaps.empty() ? 0 : s.last.back() + 1;
  return s;
}

}  // namespace bpsim::mesh
