#include "models/mesh/noc.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bpsim::mesh {

namespace {
/// Ports: 0 local, 1 east (+x), 2 west (−x), 3 south (+y), 4 north (−y).
constexpr unsigned kPorts = 5;
constexpr unsigned kInjPort = 5;  ///< the source's output VCs into its router's local port
unsigned opposite(unsigned p) { return p == 0 ? 0 : (p % 2 == 1 ? p + 1 : p - 1); }
/// Cycles without any flit moving, with flits in routers, before we call it a deadlock.
constexpr uint64_t kStallLimit = 200000;
}  // namespace

Network::Network(const NocConfig& cfg, uint64_t seed) : m_cfg(cfg), m_rng_state(seed * 0x9E3779B97F4A7C15ull + 1) {
  if (cfg.cols == 0 || cfg.rows == 0 || cfg.vcs == 0 || cfg.vcs > 64 || cfg.buf_depth == 0)
    throw std::logic_error("mesh::Network: zero-sized configuration (validated by the parser)");
  const unsigned n = cfg.nodes();
  m_in.resize(size_t(n) * kPorts * cfg.vcs);
  m_buf.resize(m_in.size() * cfg.buf_depth);
  m_ovc_busy.assign(size_t(n) * 6 * cfg.vcs, 0);
  m_ovc_free_at.assign(size_t(n) * 6 * cfg.vcs, 0);
  m_credits.assign(size_t(n) * 6 * cfg.vcs, int32_t(cfg.buf_depth));
  m_router_flits.assign(n, 0);
  m_rr_in.assign(size_t(n) * kPorts, 0);
  m_rr_out.assign(size_t(n) * kPorts, 0);
  m_rr_acc.assign(size_t(n) * kPorts, 0);
  m_rr_vc.assign(size_t(n) * 6 * cfg.vcs, 0);
  m_credit_wheel.resize(cfg.credit_cycles + 1);
  m_src.resize(n);
}

unsigned Network::hops(unsigned a, unsigned b) const {
  int ax = a % m_cfg.cols, ay = a / m_cfg.cols, bx = b % m_cfg.cols, by = b / m_cfg.cols;
  return unsigned(std::abs(ax - bx) + std::abs(ay - by));
}

unsigned Network::neighbour(unsigned r, unsigned port) const {
  switch (port) {
    case 1: return r + 1;
    case 2: return r - 1;
    case 3: return r + m_cfg.cols;
    case 4: return r - m_cfg.cols;
    default: return r;
  }
}

unsigned dor_port(unsigned cols, unsigned r, unsigned dest, bool y_first) {
  const unsigned x = r % cols, y = r / cols, dx = dest % cols, dy = dest / cols;
  const unsigned px = dx > x ? 1 : (dx < x ? 2 : 0), py = dy > y ? 3 : (dy < y ? 4 : 0);
  if (!y_first) return px ? px : py;
  return py ? py : px;
}

uint8_t route_class(Routing routing, size_t dests, uint64_t& rng_state) {
  if (routing != Routing::o1turn || dests != 1) return routing == Routing::yx ? 1 : 0;
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return uint8_t(rng_state & 1);
}

unsigned Network::route_port(unsigned r, uint16_t dest, uint8_t cls) const {
  return dor_port(m_cfg.cols, r, dest, cls != 0);
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
  if (src >= m_cfg.nodes() || dests.empty() || flits == 0 || flits > 0xFFFF)
    throw std::logic_error("mesh::Network::send: bad message (checked by callers)");
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
  m_future.push(Pending{std::max(create, m_now), m_seq++, src, r, uint16_t(flits)});
}

void Network::push_flit(unsigned router, unsigned port, unsigned vc, const Flit& f) {
  const size_t i = ivc_index(router, port, vc);
  InVc& in = m_in[i];
  if (in.count >= m_cfg.buf_depth) throw std::logic_error("mesh::Network: buffer overflow (credit bug)");
  m_buf[i * m_cfg.buf_depth + (in.head + in.count) % m_cfg.buf_depth] = f;
  ++in.count;
  ++m_router_flits[router];
  ++m_flits_in_routers;
  ++m_cnt.buffer_writes;
}

void Network::pop_flits(unsigned router, unsigned port, unsigned vc, InVc& in) {
  uint16_t low = in.br[0].sent;
  for (unsigned b = 1; b < in.nbranch; ++b) low = std::min(low, in.br[b].sent);
  const size_t upstream =
      port == 0 ? ovc_index(router, kInjPort, vc) : ovc_index(neighbour(router, port), opposite(port), vc);
  auto& due = m_credit_wheel[(m_now + m_cfg.credit_cycles) % m_credit_wheel.size()];
  while (in.popped < low) {
    in.head = (in.head + 1) % m_cfg.buf_depth;
    --in.count;
    ++in.popped;
    --m_router_flits[router];
    --m_flits_in_routers;
    ++m_cnt.buffer_reads;
    due.push_back(uint32_t(upstream));
  }
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

void Network::route_head(unsigned router, InVc& in, const Flit& f) {
  // Group the destinations by DOR output port: more than one group is a branch point.
  const std::vector<uint16_t> dests = m_routes[f.route].dests;
  const uint32_t msg = m_routes[f.route].msg;
  const uint8_t cls = m_routes[f.route].cls;
  uint8_t port_of[kPorts] = {0, 0, 0, 0, 0};
  for (uint16_t d : dests) port_of[route_port(router, d, cls)] = 1;
  unsigned groups = 0;
  for (unsigned p = 0; p < kPorts; ++p) groups += port_of[p];
  in.nbranch = 0;
  in.popped = 0;
  in.routed = true;
  in.in_route = f.route;
  for (unsigned p = 0; p < kPorts; ++p) {
    if (!port_of[p]) continue;
    uint32_t r = f.route;
    if (groups > 1) {
      r = new_route(msg, cls);
      for (uint16_t d : dests)
        if (route_port(router, d, cls) == p) m_routes[r].dests.push_back(d);
    }
    in.br[in.nbranch++] = Branch{uint8_t(p), -1, 0, r, f.ready + m_cfg.rc_cycles};
  }
}

void Network::step_router(unsigned r) {
  const unsigned V = m_cfg.vcs;
  // Routing; ejection needs no VC. Heads that need an output VC become VA requesters.
  struct Req {
    uint8_t p, v, b;
  };
  Req reqs[kPorts * 64 * kPorts];
  unsigned nreq = 0;
  for (unsigned p = 0; p < kPorts; ++p)
    for (unsigned v = 0; v < V; ++v) {
      const size_t i = ivc_index(r, p, v);
      InVc& in = m_in[i];
      if (in.count == 0) continue;
      if (!in.routed) {
        const Flit& f = m_buf[i * m_cfg.buf_depth + in.head];
        if (f.ready > m_now) continue;
        route_head(r, in, f);
      }
      for (unsigned b = 0; b < in.nbranch; ++b) {
        Branch& br = in.br[b];
        if (br.ovc >= 0 || br.sa_ready > m_now) continue;
        if (br.port == 0) {
          br.ovc = 0;
          br.sa_ready = m_now + m_cfg.va_cycles;
        } else if (nreq < sizeof(reqs) / sizeof(reqs[0])) {
          reqs[nreq++] = Req{uint8_t(p), uint8_t(v), uint8_t(b)};
        }
      }
    }
  // VC allocation, one iSLIP iteration (BookSim's default): every free output VC grants
  // one requester round-robin; each requester accepts one grant.
  if (nreq) {
    int16_t granted[kPorts * 64 * kPorts];
    for (unsigned q = 0; q < nreq; ++q) granted[q] = -1;
    for (unsigned o = 1; o < kPorts; ++o)
      for (unsigned ovc = 0; ovc < V; ++ovc) {
        const size_t oi = ovc_index(r, o, ovc);
        if (m_ovc_busy[oi] || m_ovc_free_at[oi] > m_now) continue;
        uint32_t& ptr = m_rr_vc[oi];
        int best = -1;
        unsigned best_key = ~0u;
        for (unsigned q = 0; q < nreq; ++q) {
          const Branch& br = m_in[ivc_index(r, reqs[q].p, reqs[q].v)].br[reqs[q].b];
          if (br.port != o) continue;
          if (m_cfg.routing == Routing::o1turn && (m_routes[br.route].cls ? ovc < V / 2 : ovc >= V / 2)) continue;
          const unsigned id = (reqs[q].p * V + reqs[q].v) * kPorts + reqs[q].b;
          const unsigned key = (id + kPorts * V * kPorts - ptr) % (kPorts * V * kPorts);
          if (key < best_key) best_key = key, best = int(q);
        }
        if (best < 0) continue;
        // Accept: a requester keeps the first (lowest) VC granted to it.
        if (granted[best] < 0) granted[best] = int16_t(ovc);
      }
    for (unsigned q = 0; q < nreq; ++q) {
      if (granted[q] < 0) continue;
      Branch& br = m_in[ivc_index(r, reqs[q].p, reqs[q].v)].br[reqs[q].b];
      const size_t oi = ovc_index(r, br.port, unsigned(granted[q]));
      m_ovc_busy[oi] = 1;
      br.ovc = granted[q];
      br.sa_ready = m_now + m_cfg.va_cycles;
      m_rr_vc[oi] = ((reqs[q].p * V + reqs[q].v) * kPorts + reqs[q].b + 1) % (kPorts * V * kPorts);
    }
  }
  // Switch allocation, one iSLIP iteration: inputs request every output one of their VCs
  // can use, each output grants one input, each input accepts one grant.
  uint8_t want[kPorts] = {0, 0, 0, 0, 0};
  const unsigned slots = V * kPorts;
  for (unsigned p = 0; p < kPorts; ++p)
    for (unsigned s = 0; s < slots; ++s) {
      const unsigned v = s / kPorts, b = s % kPorts;
      const size_t i = ivc_index(r, p, v);
      const InVc& in = m_in[i];
      if (!in.routed || b >= in.nbranch) continue;
      const Branch& br = in.br[b];
      if (br.ovc < 0 || br.sa_ready > m_now) continue;
      const unsigned off = br.sent - in.popped;
      if (off >= in.count) continue;
      const Flit& f = m_buf[i * m_cfg.buf_depth + (in.head + off) % m_cfg.buf_depth];
      if (f.ready > m_now || br.sent >= f.size) continue;
      if (br.port != 0 && m_credits[ovc_index(r, br.port, br.ovc)] <= 0) continue;
      want[p] |= uint8_t(1u << br.port);
    }
  int grant_to[kPorts];
  for (unsigned o = 0; o < kPorts; ++o) {
    grant_to[o] = -1;
    const uint32_t ptr = m_rr_out[r * kPorts + o];
    for (unsigned t = 0; t < kPorts; ++t) {
      const unsigned p = (ptr + t) % kPorts;
      if (want[p] & (1u << o)) {
        grant_to[o] = int(p);
        break;
      }
    }
  }
  const uint64_t arrive = m_now + m_cfg.sa_cycles + m_cfg.st_cycles + m_cfg.link_cycles;
  for (unsigned p = 0; p < kPorts; ++p) {
    if (!want[p]) continue;
    int o = -1;
    const uint32_t aptr = m_rr_acc[r * kPorts + p];
    for (unsigned t = 0; t < kPorts && o < 0; ++t) {
      const unsigned oo = (aptr + t) % kPorts;
      if (grant_to[oo] == int(p)) o = int(oo);
    }
    if (o < 0) continue;
    m_rr_out[r * kPorts + unsigned(o)] = (p + 1) % kPorts;
    m_rr_acc[r * kPorts + p] = (unsigned(o) + 1) % kPorts;
    // Which VC (and branch) of this input uses the accepted output: round-robin.
    uint32_t& ptr = m_rr_in[r * kPorts + p];
    for (unsigned t = 0; t < slots; ++t) {
      const unsigned s = (ptr + t) % slots, v = s / kPorts, b = s % kPorts;
      const size_t i = ivc_index(r, p, v);
      InVc& in = m_in[i];
      if (!in.routed || b >= in.nbranch) continue;
      Branch& br = in.br[b];
      if (br.port != unsigned(o) || br.ovc < 0 || br.sa_ready > m_now) continue;
      const unsigned off = br.sent - in.popped;
      if (off >= in.count) continue;
      const Flit f = m_buf[i * m_cfg.buf_depth + (in.head + off) % m_cfg.buf_depth];
      if (f.ready > m_now || br.sent >= f.size) continue;
      if (br.port != 0 && m_credits[ovc_index(r, br.port, br.ovc)] <= 0) continue;
      ptr = (s + 1) % slots;
      ++m_cnt.xbar_flits;
      m_progress = m_now;
      if (o == 0) {
        deliver(br.route, f.idx, f.size, r, arrive);
      } else {
        --m_credits[ovc_index(r, unsigned(o), br.ovc)];
        ++m_cnt.flit_hops;
        push_flit(neighbour(r, unsigned(o)), opposite(unsigned(o)), unsigned(br.ovc),
                  Flit{br.route, f.idx, f.size, arrive});
        if (f.idx + 1u == f.size) {  // the tail frees the VC once it has left the switch
          m_ovc_busy[ovc_index(r, unsigned(o), br.ovc)] = 0;
          m_ovc_free_at[ovc_index(r, unsigned(o), br.ovc)] = m_now + m_cfg.vc_release_cycles;
        }
      }
      ++br.sent;
      pop_flits(r, p, v, in);
      if (in.popped == f.size) {
        if (in.nbranch > 1) free_route(in.in_route);
        in.routed = false;
        in.nbranch = 0;
      }
      break;
    }
  }
}

void Network::inject(unsigned node) {
  SourceQ& s = m_src[node];
  const Pending& pk = s.q[s.qhead];
  if (s.vc < 0) {
    const unsigned V = m_cfg.vcs;
    unsigned lo = 0, n = V;
    if (m_cfg.routing == Routing::o1turn) {
      const uint8_t cls = m_routes[pk.route].cls;
      lo = cls ? V / 2 : 0, n = cls ? V - V / 2 : V / 2;
    }
    for (unsigned t = 0; t < n && s.vc < 0; ++t) {
      const size_t oi = ovc_index(node, kInjPort, lo + t);
      if (!m_ovc_busy[oi]) m_ovc_busy[oi] = 1, s.vc = int16_t(lo + t);
    }
    if (s.vc < 0) return;
  }
  const size_t oi = ovc_index(node, kInjPort, unsigned(s.vc));
  if (m_credits[oi] <= 0) return;
  --m_credits[oi];
  push_flit(node, 0, unsigned(s.vc), Flit{pk.route, s.sent, pk.size, m_now + m_cfg.link_cycles});
  ++m_cnt.injected_flits;
  m_progress = m_now;
  if (++s.sent < pk.size) return;
  m_ovc_busy[oi] = 0;
  s.vc = -1;
  s.sent = 0;
  ++s.qhead;
  --m_queued_msgs;
  if (s.qhead == s.q.size()) s.q.clear(), s.qhead = 0;
}

void Network::step() {
  auto& due = m_credit_wheel[m_now % m_credit_wheel.size()];
  for (uint32_t c : due) ++m_credits[c];
  due.clear();
  while (!m_future.empty() && m_future.top().create <= m_now) {
    const Pending& pk = m_future.top();
    m_src[pk.src].q.push_back(pk);
    ++m_queued_msgs;
    ++m_cnt.packets_injected;
    m_future.pop();
  }
  if (m_queued_msgs)
    for (unsigned n = 0; n < m_cfg.nodes(); ++n)
      if (m_src[n].qhead < m_src[n].q.size()) inject(n);
  if (m_flits_in_routers) {
    for (unsigned r = 0; r < m_cfg.nodes(); ++r)
      if (m_router_flits[r]) step_router(r);
    if (m_now - m_progress > kStallLimit)
      throw std::runtime_error("mesh network: no flit moved for " + std::to_string(kStallLimit) +
                               " cycles (deadlock) at cycle " + std::to_string(m_now));
  }
  ++m_now;
}

void Network::run_until(uint64_t t) {
  while (m_now < t) {
    if (m_flits_in_routers == 0 && m_queued_msgs == 0) {
      const uint64_t next = m_future.empty() ? t : std::min(t, m_future.top().create);
      if (next > m_now + m_cfg.credit_cycles + 1) {
        // Nothing in flight: apply outstanding credits and jump.
        for (auto& due : m_credit_wheel) {
          for (uint32_t c : due) ++m_credits[c];
          due.clear();
        }
        m_now = next;
        m_progress = m_now;
        continue;
      }
    }
    step();
  }
}

uint64_t Network::drain() {
  while (!idle()) {
    const uint64_t next = m_future.empty() ? m_now + 1 : std::max(m_now + 1, m_future.top().create);
    run_until(m_flits_in_routers || m_queued_msgs ? m_now + 1 : next);
  }
  return std::max(m_now, m_last_arrival);
}

}  // namespace bpsim::mesh
