#include "models/mesh/noc.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bpsim::mesh {

namespace {
constexpr unsigned kInjPort = kPorts;  ///< the source's output VCs into its router's local port
/// Cycles without any flit moving, with flits in routers, before we call it a deadlock.
constexpr uint64_t kStallLimit = 200000;
/// Round-robin over the set bits of words[0..⌈n/64⌉): the first at or after `from` (< n),
/// else the first one; n when none is set.
unsigned cyclic_first(const uint64_t* words, unsigned n, unsigned from) {
  const unsigned nw = (n + 63) / 64, fw = from / 64;
  uint64_t bits = words[fw] & (~uint64_t(0) << (from % 64));
  for (unsigned k = fw;;) {
    if (bits) return k * 64 + unsigned(__builtin_ctzll(bits));
    if (++k == nw) break;
    bits = words[k];
  }
  for (unsigned k = 0; k <= fw; ++k)
    if (words[k]) return k * 64 + unsigned(__builtin_ctzll(words[k]));
  return n;
}
}  // namespace

Network::Network(const NocConfig& cfg, uint64_t seed) : m_cfg(cfg), m_rng_state(seed * 0x9E3779B97F4A7C15ull + 1) {
  // vcs ≤ 64 and buf_depth ≤ 1024 (mesh_params.cpp) let VC numbers, ring positions and credits be narrow.
  if (cfg.cols == 0 || cfg.rows == 0 || cfg.vcs == 0 || cfg.vcs > 64 || cfg.buf_depth == 0 || cfg.buf_depth > 1024 ||
      cfg.input_speedup == 0 || cfg.input_speedup > cfg.vcs)
    throw std::logic_error("mesh::Network: configuration out of range (validated by the parser)");
  const unsigned n = cfg.nodes(), xbar_inputs = kPorts * cfg.input_speedup;
  m_in.resize(size_t(n) * kPorts * cfg.vcs);
  m_more_br.resize(m_in.size() * (kMaxBranches - 1));
  m_buf.resize(m_in.size() * cfg.buf_depth);
  m_ovc_free.assign(size_t(n) * 6, cfg.vcs == 64 ? ~uint64_t(0) : (uint64_t(1) << cfg.vcs) - 1);
  m_ovc_tail.assign(size_t(n) * 6 * cfg.vcs, 0);
  m_credits.assign(size_t(n) * 6 * cfg.vcs, int16_t(cfg.buf_depth));
  m_rc_wait.resize(n, kPorts * cfg.vcs);
  m_sa_req.resize(n, kPorts * cfg.vcs);
  m_va_list.resize(n);
  m_va_at.assign(n, 0);
  m_active.resize(n);
  // Every timer a router sets ends within max(sa + st + link, ni + link, rc, va) cycles, and a
  // requester joins its allocator within max(sa + st + link, ni + link) + rc, or va, so a
  // wheel longer than their sum never wraps onto a pending wake.
  size_t wheel = 1;
  while (wheel <= size_t(cfg.sa_cycles) + cfg.st_cycles + 2 * cfg.link_cycles + cfg.ni_cycles + cfg.rc_cycles +
                      cfg.va_cycles + 1)
    wheel *= 2;
  m_wake_wheel.resize(wheel);
  m_va_wheel.resize(wheel);
  m_sa_wheel.resize(wheel);
  m_wake_mask = wheel - 1;
  const uint64_t all = cfg.vcs == 64 ? ~uint64_t(0) : (uint64_t(1) << cfg.vcs) - 1;
  const uint64_t low = (uint64_t(1) << (cfg.vcs / 2)) - 1;  // vc_class_ok: class 0 below V/2, class 1 from it
  m_class_vcs[0] = cfg.routing == Routing::o1turn ? low : all;
  m_class_vcs[1] = cfg.routing == Routing::o1turn ? all & ~low : all;
  for (unsigned pv = 0; pv < kPorts * cfg.vcs; ++pv) {
    m_vc_of_pv.push_back(uint8_t(pv % cfg.vcs));
    m_port_of_pv.push_back(uint8_t(pv / cfg.vcs));
    m_xbar_of_pv.push_back(uint16_t(pv / cfg.vcs * cfg.input_speedup + pv % cfg.vcs % cfg.input_speedup));
  }
  m_busy_sources.resize(n);
  m_sw_grant.assign(size_t(n) * kPorts, 0);
  m_sw_accept.assign(size_t(n) * xbar_inputs, 0);
  m_sw_vc.assign(size_t(n) * xbar_inputs, 0);
  m_va_grant.assign(size_t(n) * 6 * cfg.vcs, 0);
  m_va_accept.assign(m_in.size() * kPorts, 0);
  // Credits fall due at most one cycle plus the credit channel after an ejected flit's arrival.
  // A power of two, so that a cycle's slot is a mask, not a 64-bit division (perf: most of pop_flits).
  size_t credit_wheel = 1;
  while (credit_wheel < size_t(cfg.sa_cycles) + cfg.st_cycles + cfg.link_cycles + cfg.credit_cycles + 2)
    credit_wheel *= 2;
  m_credit_wheel.resize(credit_wheel);
  m_credit_mask = credit_wheel - 1;
  m_src.resize(n);
  m_col.resize(n);
  m_row.resize(n);
  for (unsigned i = 0; i < n; ++i) m_col[i] = uint16_t(i % cfg.cols), m_row[i] = uint16_t(i / cfg.cols);
  for (unsigned p = 0; p < kPorts; ++p) m_port_step[p] = port_step(p, cfg.cols);
}

unsigned Network::hops(unsigned a, unsigned b) const {
  int ax = a % m_cfg.cols, ay = a / m_cfg.cols, bx = b % m_cfg.cols, by = b / m_cfg.cols;
  return unsigned(std::abs(ax - bx) + std::abs(ay - by));
}

unsigned dor_port(unsigned cols, unsigned r, unsigned dest, bool y_first) {
  return dor_port_xy(r % cols, r / cols, dest % cols, dest / cols, y_first);
}

uint8_t route_class(Routing routing, size_t dests, uint64_t& rng_state) {
  if (routing != Routing::o1turn || dests != 1) return routing == Routing::yx ? 1 : 0;
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return uint8_t(rng_state & 1);
}

uint32_t Network::new_route(uint32_t msg, uint8_t cls) {
  uint32_t id;
  if (!m_free_routes.empty()) {
    id = m_free_routes.back();
    m_free_routes.pop_back();
  } else {
    id = uint32_t(m_routes.size());
    m_routes.emplace_back();
  }
  m_routes[id].msg = msg;
  m_routes[id].cls = cls;
  m_routes[id].dests.clear();
  return id;
}

void Network::send(uint32_t src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create, uint32_t tag) {
  if (src >= m_cfg.nodes() || dests.empty() || flits == 0 || flits > 0xFFFF ||
      (dests.size() > 1 && flits > m_cfg.buf_depth))
    throw std::logic_error("mesh::Network::send: bad message (checked by callers; a multicast packet must fit a VC)");
  uint32_t msg;
  if (!m_free_msgs.empty()) {
    msg = m_free_msgs.back();
    m_free_msgs.pop_back();
  } else {
    msg = uint32_t(m_msgs.size());
    m_msgs.emplace_back();
  }
  m_msgs[msg] = Msg{std::max(create, m_now), tag, uint32_t(dests.size())};
  const uint8_t cls = route_class(m_cfg.routing, dests.size(), m_rng_state);
  const uint32_t r = new_route(msg, cls);
  m_routes[r].dests = dests;
  m_routes[r].dests_set();
  m_future.push(Pending{std::max(create, m_now), m_seq++, src, r, uint16_t(flits)});
}

void Network::push_flit(unsigned router, unsigned port, unsigned vc, uint32_t route, uint16_t idx, uint16_t size,
                        uint64_t ready) {
  const size_t i = ivc_index(router, port, vc);
  InVc& in = m_in[i];
  if (in.count >= m_cfg.buf_depth) throw std::logic_error("mesh::Network: buffer overflow (credit bug)");
  // Field by field (a braced Flit passed in would be built in pieces on the stack and reloaded
  // whole, a store-forwarding stall).
  Flit& f = m_buf[i * m_cfg.buf_depth + ring(in.head + in.count)];
  f.route = route, f.idx = idx, f.size = size, f.ready = ready;
  if (in.count++ == 0 && !in.routed) {
    // A head reaching an empty VC is at its front on arrival, so its route computation starts
    // when it is ready whatever else happens: done now; its branches wake the router when VC
    // allocation may start (m_va_wheel).
    route_head(router, in, route, size, ready);
  } else {
    wake(router, ready);
  }
  ++m_flits_in_routers;
  ++m_cnt.buffer_writes;
}

void Network::pop_flits(unsigned router, unsigned port, unsigned vc, InVc& in) {
  uint16_t low = in.br0.sent;
  const size_t i = size_t(&in - m_in.data());
  for (unsigned b = 1; b < in.nbranch; ++b) low = std::min(low, branch(i, b).sent);
  const size_t upstream =
      port == 0 ? ovc_index(router, kInjPort, vc) : ovc_index(neighbour(router, port), opposite_port(port), vc);
  while (in.popped < low) {
    in.head = ring(in.head + 1);
    --in.count;
    ++in.popped;
    --m_flits_in_routers;
    ++m_cnt.buffer_reads;
    // The credit leaves at the end of this cycle and crosses the credit channel.
    due_credit(m_now + 1 + m_cfg.credit_cycles, upstream);
  }
}

// Output VC indices fit 32 bits (routers × 6 × vcs ≤ 65,536 × 6 × 64), and a 32-bit division is the cheaper.
void Network::set_ovc_busy(size_t oi) {
  const uint32_t rp = uint32_t(oi) / m_cfg.vcs;
  m_ovc_free[rp] &= ~(uint64_t(1) << (uint32_t(oi) - rp * m_cfg.vcs));
}
void Network::set_ovc_free(size_t oi) {
  const uint32_t rp = uint32_t(oi) / m_cfg.vcs;
  m_ovc_free[rp] |= uint64_t(1) << (uint32_t(oi) - rp * m_cfg.vcs);
  if (rp % 6 != kInjPort) m_va_at[rp / 6] = 0;  // a head waiting for a VC may take this one
}

void Network::return_credit(uint32_t ovc) {
  ++m_credits[ovc];
  if (m_ovc_tail[ovc] && m_credits[ovc] == int16_t(m_cfg.buf_depth)) m_ovc_tail[ovc] = 0, set_ovc_free(ovc);
  // A credit (or the VC it frees) may let the router's waiting flits or heads go; a source
  // (the injection port's VCs) tries every cycle it has a packet anyway.
  const uint32_t rp = ovc / m_cfg.vcs;
  if (rp % 6 == kInjPort) return;
  // Only a free VC is allocated, so only its credits can change what VC allocation may grant.
  if (m_ovc_free[rp] >> (ovc - rp * m_cfg.vcs) & 1) m_va_at[rp / 6] = 0;
  wake(rp / 6, m_now);
}

void Network::tail_sent(size_t ovc) {
  if (m_cfg.wait_for_tail_credit) m_ovc_tail[ovc] = 1;  // the credit just spent is still out, so the VC stays held
  else set_ovc_free(ovc);
}

void Network::deliver(uint32_t route, uint16_t idx, uint16_t size, unsigned dest, uint64_t at) {
  ++m_cnt.ejected_flits;
  if (idx + 1u != size) return;
  Msg& m = m_msgs[m_routes[route].msg];
  ++m_cnt.deliveries;
  m_last_arrival = std::max(m_last_arrival, at);
  if (m_sink) m_sink(m.tag, dest, m.create, at);
  if (--m.remaining == 0) m_free_msgs.push_back(m_routes[route].msg);
  free_route(route);
}

void Network::route_head(unsigned router, InVc& in, uint32_t route, uint16_t size, uint64_t start) {
  const size_t i = size_t(&in - m_in.data());
  m_rc_wait.erase(router, unsigned(i - ivc_index(router, 0, 0)));
  in.nbranch = 0;
  in.popped = 0;
  in.routed = true;
  in.in_route = route;
  in.size = size;
  const uint64_t ready = start + m_cfg.rc_cycles;
  const Route& rt = m_routes[route];
  if (rt.unicast) {
    in.br0 = Branch{ready, route, 0, -1, uint8_t(route_port(router, rt.dest, rt.cls)), rt.cls, 1};
    in.nbranch = 1;
    va_request(router, i, 0);
    return;
  }
  // Group the destinations by DOR output port: more than one group is a branch point.
  const uint32_t msg = rt.msg;
  const uint8_t cls = rt.cls;
  const size_t nd = rt.dests.size();
  m_port_scratch.resize(nd);
  unsigned ports = 0;
  for (size_t k = 0; k < nd; ++k) {
    m_port_scratch[k] = uint8_t(route_port(router, rt.dests[k], cls));
    ports |= 1u << m_port_scratch[k];
  }
  if (!(ports & (ports - 1))) {
    in.br0 = Branch{ready, route, 0, -1, uint8_t(__builtin_ctz(ports)), cls, 0};
    in.nbranch = 1;
    va_request(router, i, 0);
    return;
  }
  // The branches' routes are made first, as new_route may move m_routes.
  uint32_t sub_route[kPorts];
  for (unsigned p = 0; p < kPorts; ++p)
    if (ports >> p & 1) sub_route[p] = new_route(msg, cls);
  const std::vector<uint16_t>& dests = m_routes[route].dests;
  for (unsigned p = 0; p < kPorts; ++p) {
    if (!(ports >> p & 1)) continue;
    Route& sub = m_routes[sub_route[p]];
    for (size_t k = 0; k < nd; ++k)
      if (m_port_scratch[k] == p) sub.dests.push_back(dests[k]);
    sub.dests_set();
    branch(i, in.nbranch++) = Branch{ready, sub_route[p], 0, -1, uint8_t(p), cls, sub.unicast};
  }
  for (unsigned b = 0; b < in.nbranch; ++b) va_request(router, i, b);
}

bool Network::vc_class_ok(uint8_t cls, unsigned vc) const {
  if (m_cfg.routing != Routing::o1turn) return true;
  const unsigned V = m_cfg.vcs;
  return cls ? vc >= V / 2 : vc < V / 2;
}

bool Network::may_take(bool unicast, unsigned size, size_t ovc) const {
  // A route that still branches downstream is allocated only a VC with room for the whole
  // packet (virtual cut-through), so a branch never waits for flits held back by a sibling
  // (docs/mesh.md, deadlock freedom of tree multicast).
  return unicast || m_credits[ovc] >= int32_t(size);
}

inline uint64_t Network::va_takes(unsigned r, const VaReq& e) const {
  uint64_t takes = m_ovc_free[size_t(r) * 6 + e.port] & m_class_vcs[e.cls];
  if (!e.unicast)
    for (uint64_t t = takes; t; t &= t - 1)
      if (!may_take(false, e.size, ovc_index(r, e.port, unsigned(__builtin_ctzll(t))))) takes &= ~(t & -t);
  return takes;
}

inline void Network::va_accept(unsigned r, VaReq& e, uint64_t granted) {
  const unsigned V = m_cfg.vcs;
  const uint32_t ids = kPorts * V * kPorts;
  const uint32_t in = e.in;
  Branch& br = branch(in, e.b);
  uint8_t& aptr = m_va_accept[size_t(in) * kPorts + e.b];
  // Round-robin from aptr (< V): the lowest granted VC at or above it, else the lowest.
  const uint64_t from = granted & (~uint64_t(0) << aptr);
  const unsigned ovc = unsigned(__builtin_ctzll(from ? from : granted));
  m_ovc_free[size_t(r) * 6 + br.port] &= ~(uint64_t(1) << ovc);
  br.ovc = int8_t(ovc);
  br.sa_ready = m_now + m_cfg.va_cycles;
  m_va_grant[ovc_index(r, br.port, ovc)] = uint16_t(e.id + 1u == ids ? 0 : e.id + 1u);
  aptr = uint8_t(ovc + 1 == V ? 0 : ovc + 1);
  m_step_acted = true;
  m_va_at[r] = m_now + 1;  // a requester granted nothing may take a VC granted to another but not accepted
  const unsigned pv = unsigned(in - ivc_index(r, 0, 0));
  if (br.sa_ready > m_now) {
    m_sa_wheel[br.sa_ready & m_wake_mask].emplace_back(r, pv);
    ++m_sa_due;
  } else {
    m_sa_req.insert(r, pv);
  }
}

void Network::va_allocate(unsigned r) {
  // Requesters: routed heads' branches without an output VC, their VC allocation stage begun.
  // One iSLIP iteration (BookSim's default): each free output VC grants one requester
  // round-robin, each requester accepts one of its grants round-robin; pointers move only on
  // acceptance.
  std::vector<VaReq>& list = m_va_list[r];
  if (list.empty()) return;
  // Until a requester joins, or a VC or credit of this router comes free, a round that grants
  // nothing is repeated unchanged: skip it (m_va_at).
  if (m_va_at[r] > m_now) {
    wake_by(m_va_at[r]);
    return;
  }
  m_va_at[r] = kNever;
  const size_t len = list.size();
  if (len == 1) {
    // The round below with one requester: it wins every free VC of its port it may take.
    if (const uint64_t g = va_takes(r, list[0])) va_accept(r, list[0], g), list.clear();
    return;
  }
  unsigned asked = 0, shared = 0;  // ports with a requester; with more than one
  for (size_t k = 0; k < len; ++k) {
    const unsigned bit = 1u << list[k].port;
    shared |= asked & bit;
    asked |= bit;
  }
  // A requester that no free output VC of its port can take waits for a VC to be freed or a
  // credit to return, both of which wake the router.
  const uint64_t* free = &m_ovc_free[size_t(r) * 6];
  unsigned ports = 0;
  for (unsigned a = asked; a; a &= a - 1)
    if (free[__builtin_ctz(a)]) ports |= a & -a;
  if (!ports) return;
  shared &= ports;
  // Grants depend only on the state before any acceptance, and ports do not share VCs, so a
  // port's lone requester wins every free VC it may take and accepts at once. Where requesters
  // share a port, the round-robin winner of an output VC with pointer g is the eligible
  // requester with the smallest id ≥ g, else the one with the smallest id.
  uint64_t* granted = nullptr;
  if (shared) {
    if (m_va_granted.size() < 3 * len) m_va_granted.resize(3 * len);
    granted = m_va_granted.data();
    uint64_t* takes = granted + len;
    uint64_t* order = takes + len;  // the shared ports' requesters, grouped by port
    unsigned start[kPorts + 1] = {0, 0, 0, 0, 0, 0}, fill[kPorts];
    for (size_t k = 0; k < len; ++k)
      if (shared >> list[k].port & 1) ++start[list[k].port + 1];
    for (unsigned o = 0; o < kPorts; ++o) start[o + 1] += start[o];
    std::copy_n(start, kPorts, fill);
    for (size_t k = 0; k < len; ++k) {
      const VaReq& e = list[k];
      if (!(shared >> e.port & 1)) continue;
      granted[k] = 0;
      takes[k] = va_takes(r, e);
      order[fill[e.port]++] = k;
    }
    for (unsigned o = 0; o < kPorts; ++o) {
      if (!(shared >> o & 1)) continue;
      for (uint64_t fr = free[o]; fr; fr &= fr - 1) {
        const unsigned ovc = unsigned(__builtin_ctzll(fr));
        const uint32_t g = m_va_grant[ovc_index(r, o, ovc)];
        size_t best = len, wrapped = len;
        for (unsigned j = start[o]; j < start[o + 1]; ++j) {
          const size_t k = order[j];
          if (!(takes[k] >> ovc & 1)) continue;
          const uint16_t id = list[k].id;
          if (id >= g && (best == len || id < list[best].id)) best = k;
          if (wrapped == len || id < list[wrapped].id) wrapped = k;
        }
        if (best == len) best = wrapped;
        if (best < len) granted[best] |= uint64_t(1) << ovc;
      }
    }
  }
  // Each requester accepts one grant; the granted leave the list, the others keep their order.
  size_t w = 0;
  for (size_t k = 0; k < len; ++k) {
    VaReq& e = list[k];
    uint64_t g = 0;
    if (ports >> e.port & 1) g = shared >> e.port & 1 ? granted[k] : va_takes(r, e);
    if (g) {
      va_accept(r, e, g);
      continue;
    }
    if (w != k) list[w] = e;
    ++w;
  }
  list.resize(w);
}

void Network::va_request(unsigned router, size_t i, unsigned b) {
  const Branch& br = branch(i, b);
  const unsigned pv = unsigned(i - ivc_index(router, 0, 0));
  // Field by field: a braced temporary is built in bytes on the stack and reloaded in words,
  // which stalls store forwarding (perf: most of this function's time).
  VaReq* req;
  if (br.sa_ready > m_now) {
    VaDue& d = m_va_wheel[br.sa_ready & m_wake_mask].emplace_back();
    ++m_va_due;
    d.router = router;
    req = &d.req;
  } else {
    // Routed by this visit with no route computation cycles: a requester at once.
    req = &m_va_list[router].emplace_back();
    m_va_at[router] = 0;
  }
  VaReq& e = *req;
  e.in = uint32_t(i);
  e.id = uint16_t(pv * kPorts + b);
  e.b = uint8_t(b);
  e.port = br.port;
  e.cls = br.cls;
  e.unicast = br.unicast;
  e.size = m_in[i].size;
}

inline bool Network::ready_flit(unsigned r, size_t i, const InVc& in, unsigned b) {
  // Whether the next flit of branch b of the routed input VC `in` (index i) can send this cycle.
  // A flit not yet in the buffer wakes the router when it arrives, a credit when it returns.
  const Branch& br = branch(i, b);
  if (br.ovc < 0 || br.sent >= in.size) return false;
  if (br.sa_ready > m_now) {
    wake_by(br.sa_ready);
    return false;
  }
  const unsigned off = br.sent - in.popped;
  if (off >= in.count) return false;
  // The head (offset 0 of an unsent packet) was in the buffer when its route was computed; a
  // later flit may still be on its way.
  if (br.sent) {
    const uint64_t ready = m_buf[i * m_cfg.buf_depth + ring(in.head + off)].ready;
    if (ready > m_now) {
      wake_by(ready);
      return false;
    }
  }
  return m_credits[ovc_index(r, br.port, unsigned(br.ovc))] > 0;
}

inline void Network::sa_send(unsigned r, size_t i, unsigned b, unsigned o, unsigned p) {
  const uint64_t arrive = m_now + m_cfg.sa_cycles + m_cfg.st_cycles + m_cfg.link_cycles;
  const unsigned v = m_vc_of_pv[i - ivc_index(r, 0, 0)];
  InVc& in = m_in[i];
  Branch& br = branch(i, b);
  // The flit at the branch's place is the packet's flit number br.sent (flits stay in order).
  const uint16_t idx = br.sent, size = in.size;
  const size_t oi = ovc_index(r, o, unsigned(br.ovc));
  ++m_cnt.xbar_flits;
  m_progress = m_now;
  m_step_acted = true;
  --m_credits[oi];
  if (o == 0) {
    // The network interface takes the flit off the ejection channel on arrival.
    deliver(br.route, idx, size, r, arrive);
    due_credit(arrive + 1 + m_cfg.credit_cycles, oi);
  } else {
    ++m_cnt.flit_hops;
    push_flit(neighbour(r, o), opposite_port(o), unsigned(br.ovc), br.route, idx, size, arrive);
  }
  if (idx + 1u == size) tail_sent(oi);
  ++br.sent;
  pop_flits(r, p, v, in);
  if (in.popped == in.size) {
    if (in.nbranch > 1) free_route(in.in_route);
    in.routed = false;
    in.nbranch = 0;
    const unsigned pv = unsigned(i - ivc_index(r, 0, 0));
    m_sa_req.erase(r, pv);
    if (in.count) m_rc_wait.insert(r, pv);
  }
}

void Network::sa_allocate(unsigned r) {
  // Switch allocation, one iSLIP iteration on crossbar inputs × outputs: input port p has
  // `input_speedup` crossbar inputs, VC v on input v mod speedup (BookSim's expansion). Each
  // crossbar input requests every output one of its VCs can use, each output grants one
  // crossbar input, each crossbar input accepts one grant; then the winning crossbar input
  // sends from its VCs round-robin over slots s = v·kPorts + b.
  const unsigned V = m_cfg.vcs, S = m_cfg.input_speedup, X = kPorts * S, slots = V * kPorts;
  // The branches with a flit ready, found once: a crossbar input's send changes only its own
  // input VC and the output it won, which no other crossbar input uses this cycle.
  struct Ready {
    uint16_t s, x;    ///< slot, crossbar input
    uint8_t b, o, p;  ///< branch, output, input port
    uint32_t i;       ///< input VC index
  };
  Ready ready[kPorts * 64 * kPorts];  // in input VC order: by port, then slot
  unsigned n = 0, outs = 0;
  const size_t base = ivc_index(r, 0, 0);
  m_sa_req.each(r, [&](unsigned pv) {
    const size_t i = base + pv;
    const InVc& in = m_in[i];
    for (unsigned b = 0; b < in.nbranch; ++b)
      if (ready_flit(r, i, in, b)) {
        const uint8_t o = branch(i, b).port;
        ready[n++] = Ready{
            uint16_t(m_vc_of_pv[pv] * kPorts + b), m_xbar_of_pv[pv], uint8_t(b), o, m_port_of_pv[pv], uint32_t(i)};
        outs |= 1u << o;
      }
  });
  if (!n) return;
  if (n == 1) {
    // One candidate: its output grants its crossbar input, which accepts it and sends from it
    // (the rounds below with one request).
    const Ready& c = ready[0];
    m_sw_grant[r * kPorts + c.o] = c.x + 1u == X ? 0 : c.x + 1u;
    m_sw_accept[r * X + c.x] = c.o + 1u == kPorts ? 0 : c.o + 1u;
    m_sw_vc[r * X + c.x] = c.s + 1u == slots ? 0 : c.s + 1u;
    sa_send(r, c.i, c.b, c.o, c.p);
    return;
  }
  constexpr unsigned kWords = (kPorts * 64 + 63) / 64;
  uint64_t want[kPorts][kWords];  // per output, the crossbar inputs requesting it
  const unsigned words = (X + 63) / 64;
  for (unsigned o = 0; o < kPorts; ++o)
    if (outs >> o & 1)
      for (unsigned w = 0; w < words; ++w) want[o][w] = 0;
  for (unsigned k = 0; k < n; ++k) want[ready[k].o][ready[k].x / 64] |= uint64_t(1) << (ready[k].x % 64);
  // Each requested output grants the first requesting crossbar input from its pointer; the
  // granted crossbar inputs (at most one per output), in increasing order, each accept one grant.
  struct Grant {
    unsigned x, outs;  ///< crossbar input, the outputs that granted it
  };
  Grant grants[kPorts];
  unsigned ngrants = 0;
  for (unsigned o = 0; o < kPorts; ++o) {
    if (!(outs >> o & 1)) continue;
    const unsigned x = cyclic_first(want[o], X, m_sw_grant[r * kPorts + o]);
    unsigned k = 0;
    while (k < ngrants && grants[k].x < x) ++k;
    if (k < ngrants && grants[k].x == x) {
      grants[k].outs |= 1u << o;
      continue;
    }
    std::copy_backward(grants + k, grants + ngrants, grants + ngrants + 1);
    grants[k] = Grant{x, 1u << o};
    ++ngrants;
  }
  for (unsigned k = 0; k < ngrants; ++k) {
    const unsigned x = grants[k].x, granted = grants[k].outs;
    uint32_t& aptr = m_sw_accept[r * X + x];
    const unsigned from = granted & (~0u << aptr);
    const int o = __builtin_ctz(from ? from : granted);
    m_sw_grant[r * kPorts + unsigned(o)] = x + 1 == X ? 0 : x + 1;
    aptr = unsigned(o) + 1 == kPorts ? 0 : unsigned(o) + 1;
    uint32_t& ptr = m_sw_vc[r * X + x];
    // Round-robin from slot ptr: the first candidate at or after it, else the first one.
    const Ready* pick = nullptr;
    const Ready* wrapped = nullptr;
    for (unsigned c_k = 0; c_k < n; ++c_k) {
      const Ready& c = ready[c_k];
      if (c.x != x || c.o != unsigned(o)) continue;
      if (c.s >= ptr) {
        pick = &c;
        break;
      }
      if (!wrapped) wrapped = &c;
    }
    if (!pick) pick = wrapped;
    if (!pick) continue;
    ptr = pick->s + 1u == slots ? 0 : pick->s + 1u;
    sa_send(r, pick->i, pick->b, unsigned(o), pick->p);
  }
}

void Network::step_router(unsigned r) {
  // Route computation for heads at the front of their VC, then VC and switch allocation.
  const size_t base = ivc_index(r, 0, 0);
  m_rc_wait.each(r, [&](unsigned pv) {
    InVc& in = m_in[base + pv];
    const Flit& f = m_buf[(base + pv) * m_cfg.buf_depth + in.head];
    if (f.ready <= m_now) {
      route_head(r, in, f.route, f.size, m_now);  // erases pv from m_rc_wait
      m_step_acted = true;
    } else {
      wake_by(f.ready);
    }
  });
  va_allocate(r);
  sa_allocate(r);
}

void Network::inject(unsigned node) {
  SourceQ& s = m_src[node];
  const Pending& pk = s.q[s.qhead];
  if (s.vc < 0) {
    // The network interface takes an idle VC of the router's local input with a free buffer
    // slot (room for the whole packet if it branches), searching round-robin.
    const unsigned V = m_cfg.vcs;
    const Route& rt = m_routes[pk.route];
    for (unsigned t = 1, v = s.last_vc; t <= V && s.vc < 0; ++t) {
      v = v + 1 == V ? 0 : v + 1;
      const size_t oi = ovc_index(node, kInjPort, v);
      if (!vc_class_ok(rt.cls, v) || !ovc_free(node, kInjPort, v) || m_credits[oi] <= 0 ||
          !may_take(rt.unicast, pk.size, oi))
        continue;
      set_ovc_busy(oi), s.vc = int16_t(v), s.last_vc = uint16_t(v);
    }
    if (s.vc < 0) return;
  }
  const size_t oi = ovc_index(node, kInjPort, unsigned(s.vc));
  if (m_credits[oi] <= 0) return;
  --m_credits[oi];
  push_flit(node, 0, unsigned(s.vc), pk.route, s.sent, pk.size, m_now + m_cfg.ni_cycles + m_cfg.link_cycles);
  ++m_cnt.injected_flits;
  m_progress = m_now;
  if (++s.sent < pk.size) return;
  tail_sent(oi);
  s.vc = -1;
  s.sent = 0;
  ++s.qhead;
  --m_queued_msgs;
  if (s.qhead == s.q.size()) s.q.clear(), s.qhead = 0, m_busy_sources.erase(node);
}

void Network::step() {
  auto& due = m_credit_wheel[m_now & m_credit_mask];
  m_credits_due -= due.size();
  for (uint32_t c : due) return_credit(c);
  due.clear();
  auto& woken = m_wake_wheel[m_now & m_wake_mask];
  m_wakes_due -= woken.size();
  for (uint32_t r : woken) m_active.insert(r);
  woken.clear();
  auto& requesters = m_va_wheel[m_now & m_wake_mask];
  m_va_due -= requesters.size();
  for (const VaDue& d : requesters) {
    m_va_list[d.router].push_back(d.req);
    m_va_at[d.router] = 0;
    m_active.insert(d.router);
  }
  requesters.clear();
  auto& senders = m_sa_wheel[m_now & m_wake_mask];
  m_sa_due -= senders.size();
  for (const auto& [r, pv] : senders) {
    m_sa_req.insert(r, pv);
    m_active.insert(r);
  }
  senders.clear();
  while (!m_future.empty() && m_future.top().create <= m_now) {
    const Pending& pk = m_future.top();
    m_src[pk.src].q.push_back(pk);
    m_busy_sources.insert(pk.src);
    ++m_queued_msgs;
    ++m_cnt.packets_injected;
    m_future.pop();
  }
  // Sources with a packet queued, then the routers woken for this cycle, in id order. A
  // router acts on what it holds and on credits returned by this cycle; what another router
  // sends it this cycle arrives a link later, so skipping a router with nothing due, and the
  // order among the others, change nothing but the order of deliveries, kept by id.
  if (m_queued_msgs)
    for (unsigned n = m_busy_sources.next(0); n < m_busy_sources.size(); n = m_busy_sources.next(n + 1)) inject(n);
  const bool busy = m_flits_in_routers != 0;
  for (unsigned r = m_active.next(0); r < m_active.size(); r = m_active.next(r + 1)) {
    m_active.erase(r);
    m_step_wake = kNever;
    m_step_acted = false;
    step_router(r);
    // A router that acted is visited again next cycle; one that did not sleeps until its
    // earliest timer, or until a flit or a credit arrives (push_flit, return_credit).
    const uint64_t t = m_step_acted ? m_now + 1 : m_step_wake;
    if (t != kNever) wake(r, t);
  }
  if (busy && m_now - m_progress > kStallLimit)
    throw std::runtime_error("mesh network: no flit moved for " + std::to_string(kStallLimit) +
                             " cycles (deadlock) at cycle " + std::to_string(m_now));
  ++m_now;
}

uint64_t Network::next_event() const {
  if (m_queued_msgs || m_active.any()) return m_now;
  uint64_t t = m_future.empty() ? kNever : std::max(m_now, m_future.top().create);
  if (m_credits_due)
    for (uint64_t k = 0; k < m_credit_wheel.size() && m_now + k < t; ++k)
      if (!m_credit_wheel[(m_now + k) & m_credit_mask].empty()) {
        t = m_now + k;
        break;
      }
  if (m_wakes_due || m_va_due || m_sa_due)
    for (uint64_t k = 0; k <= m_wake_mask && m_now + k < t; ++k)
      if (const uint64_t w = (m_now + k) & m_wake_mask;
          !m_wake_wheel[w].empty() || !m_va_wheel[w].empty() || !m_sa_wheel[w].empty()) {
        t = m_now + k;
        break;
      }
  return t;
}

void Network::check_stall(uint64_t upto) const {
  // The cycle-by-cycle watchdog's verdict for cycles [now, upto) in which nothing moves.
  if (!m_flits_in_routers) return;
  const uint64_t c = std::max(m_now, m_progress + kStallLimit + 1);
  if (c < upto)
    throw std::runtime_error("mesh network: no flit moved for " + std::to_string(kStallLimit) +
                             " cycles (deadlock) at cycle " + std::to_string(c));
}

void Network::run_until(uint64_t t) {
  while (m_now < t) {
    if (m_flits_in_routers == 0 && m_queued_msgs == 0) {
      const uint64_t next = m_future.empty() ? t : std::min(t, m_future.top().create);
      if (next > m_now + m_credit_wheel.size()) {
        // Nothing in flight: return the outstanding credits and jump; no router has work.
        for (auto& due : m_credit_wheel) {
          for (uint32_t c : due) return_credit(c);
          due.clear();
        }
        m_credits_due = 0;
        for (auto& woken : m_wake_wheel) woken.clear();
        m_wakes_due = 0;
        for (size_t r = m_active.next(0); r < m_active.size(); r = m_active.next(r + 1)) m_active.erase(r);
        m_now = next;
        m_progress = m_now;
        continue;
      }
    }
    const uint64_t next = next_event();
    if (next > m_now) {
      // Cycles in which no router, source or credit acts: jump over them.
      const uint64_t to = std::min(next, t);
      check_stall(to);
      m_now = to;
      continue;
    }
    step();
  }
}

uint64_t Network::drain() {
  while (!idle()) {
    if (m_flits_in_routers || m_queued_msgs) {
      // One event at a time, so the clock stops in the cycle after the last flit leaves.
      const uint64_t next = next_event();
      check_stall(next);
      run_until(next + 1);
      continue;
    }
    run_until(std::max(m_now + 1, m_future.top().create));
  }
  return std::max(m_now, m_last_arrival);
}

}  // namespace bpsim::mesh
