#include "models/mesh/noc_flow.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace bpsim::mesh {

namespace {
constexpr unsigned kPorts = 5;  ///< 0 local (ejection), 1 east, 2 west, 3 south, 4 north, as in noc.h
}  // namespace

std::unique_ptr<NocModel> make_noc_model(const NocConfig& cfg, uint64_t seed) {
  if (cfg.model == NocModelKind::flow) return std::make_unique<FlowNetwork>(cfg, seed);
  return std::make_unique<Network>(cfg, seed);
}

FlowNetwork::FlowNetwork(const NocConfig& cfg, uint64_t seed)
    : m_cfg(cfg), m_rng_state(seed * 0x9E3779B97F4A7C15ull + 1) {
  if (cfg.cols == 0 || cfg.rows == 0 || cfg.vcs == 0)
    throw std::logic_error("mesh::FlowNetwork: zero-sized configuration (validated by the parser)");
  m_inj_free.assign(cfg.nodes(), 0);
  m_link.resize(size_t(cfg.nodes()) * kPorts);
  m_vc_free.assign(size_t(cfg.nodes()) * (kPorts - 1) * cfg.vcs, 0);
  m_in_free.assign(size_t(cfg.nodes()) * kPorts * cfg.vcs, 0);
  m_wheel.resize(kWheel);
  m_input.resize(size_t(cfg.nodes()) * kPorts);
}

unsigned FlowNetwork::hops(unsigned a, unsigned b) const {
  const int ax = int(a % m_cfg.cols), ay = int(a / m_cfg.cols), bx = int(b % m_cfg.cols), by = int(b / m_cfg.cols);
  return unsigned(std::abs(ax - bx) + std::abs(ay - by));
}

std::pair<unsigned, unsigned> FlowNetwork::vc_class(uint8_t cls) const {
  const unsigned V = m_cfg.vcs;
  if (m_cfg.routing != Routing::o1turn) return {0, V};
  return cls ? std::pair{V / 2, V - V / 2} : std::pair{0u, V / 2};
}

void FlowNetwork::push(uint64_t time, uint32_t pkt, uint32_t lo, uint32_t hi, uint32_t router, Kind kind, unsigned port,
                       unsigned vc) {
  ++m_pkts[pkt].live;
  const Event e{time, m_seq++, pkt, lo, hi, router, kind, uint8_t(port), uint8_t(vc)};
  if (time < m_cur + kWheel) {
    m_wheel[time % kWheel].push_back(e);
    ++m_in_wheel;
  } else {
    m_far.push(e);
  }
}

void FlowNetwork::migrate() {
  while (!m_far.empty() && m_far.top().time < m_cur + kWheel) {
    m_wheel[m_far.top().time % kWheel].push_back(m_far.top());
    ++m_in_wheel;
    m_far.pop();
  }
}

void FlowNetwork::release(uint32_t pkt) {
  if (--m_pkts[pkt].live == 0) m_free_pkts.push_back(pkt);
}

void FlowNetwork::send(uint32_t src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create,
                       uint32_t tag) {
  if (src >= m_cfg.nodes() || dests.empty() || flits == 0 || flits > 0xFFFF)
    throw std::logic_error("mesh::FlowNetwork::send: bad message (checked by callers)");
  uint32_t id;
  if (!m_free_pkts.empty()) {
    id = m_free_pkts.back();
    m_free_pkts.pop_back();
  } else {
    id = uint32_t(m_pkts.size());
    m_pkts.emplace_back();
  }
  Packet& p = m_pkts[id];
  p.create = std::max(create, m_now);
  p.tag = tag;
  p.src = src;
  p.flits = uint16_t(flits);
  p.cls = route_class(m_cfg.routing, dests.size(), m_rng_state);  // as the flit-level Network draws it
  // Sorted by (first dimension, second dimension) of the routing order, the destinations
  // below any router of the tree are one contiguous range, split by port into ranges again.
  // A destination listed twice is delivered once, as by the flit-level Network.
  p.dests = dests;
  const unsigned cols = m_cfg.cols;
  const auto key = [cols, yx = p.cls != 0](uint16_t d) { return yx ? uint32_t(d) : (d % cols) * 65536u + d / cols; };
  std::sort(p.dests.begin(), p.dests.end(), [&](uint16_t a, uint16_t b) { return key(a) < key(b); });
  p.dests.erase(std::unique(p.dests.begin(), p.dests.end()), p.dests.end());
  p.live = 1;
  const Event e{p.create, m_seq++, id, 0, uint32_t(p.dests.size()), src, Kind::inject, 0, 0};
  if (m_inj_sorted && m_inj.size() > m_inj_head && m_inj.back() > e) m_inj_sorted = false;
  m_inj.push_back(e);
}

bool FlowNetwork::next_event(uint64_t before, Event& e) {
  if (!m_inj_sorted) {
    std::sort(m_inj.begin() + std::ptrdiff_t(m_inj_head), m_inj.end(),
              [](const Event& a, const Event& b) { return b > a; });
    m_inj_sorted = true;
  }
  const bool inj = m_inj_head < m_inj.size();
  const uint64_t inj_time = inj ? m_inj[m_inj_head].time : UINT64_MAX;
  // Move the cursor to the wheel's earliest event, but never past the next injection or
  // `before` (injections and later sends push events from there on).
  for (;;) {
    std::vector<Event>& b = m_wheel[m_cur % kWheel];
    if (m_pos < b.size()) break;
    if (m_pos) b.clear(), m_pos = 0;
    if (m_cur >= inj_time || m_cur + 1 >= before) break;
    if (m_in_wheel == 0) {
      if (m_far.empty() && !inj) break;
      m_cur = std::min({inj_time, before - 1, m_far.empty() ? UINT64_MAX : m_far.top().time});
    } else {
      ++m_cur;
    }
    migrate();
  }
  std::vector<Event>& b = m_wheel[m_cur % kWheel];
  const bool queued = m_pos < b.size();
  if (inj && (!queued || b[m_pos] > m_inj[m_inj_head])) {
    if (m_inj[m_inj_head].time >= before) return false;
    e = m_inj[m_inj_head++];
    if (m_inj_head == m_inj.size()) {
      m_inj.clear(), m_inj_head = 0;
    } else if (m_inj_head >= 4096 && m_inj_head * 2 >= m_inj.size()) {  // sends keep coming: drop the done half
      m_inj.erase(m_inj.begin(), m_inj.begin() + std::ptrdiff_t(m_inj_head));
      m_inj_head = 0;
    }
    return true;
  }
  if (!queued || b[m_pos].time >= before) return false;
  e = b[m_pos++];
  --m_in_wheel;
  return true;
}

void FlowNetwork::route(const Event& e) {
  const Packet& p = m_pkts[e.pkt];
  const uint64_t F = p.flits;
  const unsigned r = e.router, V = m_cfg.vcs;
  m_cnt.buffer_reads += F;  // every flit leaves this input buffer once, whatever the fan-out
  // Destinations by output port; each port's share is one contiguous run (see send).
  uint32_t lo[kPorts], hi[kPorts];
  std::fill(lo, lo + kPorts, 0u), std::fill(hi, hi + kPorts, 0u);
  int last = -1;
  for (uint32_t i = e.lo; i < e.hi; ++i) {
    const unsigned port = dor_port(m_cfg.cols, r, p.dests[i], p.cls != 0);
    if (int(port) != last) {
      if (hi[port] != 0) throw std::logic_error("mesh::FlowNetwork: multicast subtree is not contiguous");
      lo[port] = i, last = int(port);
    }
    hi[port] = i + 1;
  }
  // The head is routed once the packet ahead of it in the same input VC has left (the cycle
  // after its tail's switch grant), and requests output VCs rc_cycles after it arrived.
  uint64_t& in_vc = m_in_free[(size_t(r) * kPorts + e.port) * V + e.vc];
  const uint64_t routed = std::max(std::max(e.time, in_vc), e.time + m_cfg.rc_cycles);
  // Branches in port order; an input port sends one flit per cycle through the crossbar,
  // whatever its VCs, so packets and a packet's branches take turns there.
  Calendar& input = m_input[size_t(r) * kPorts + e.port];
  // The earliest cycle from `t` at which both the input and output `link` are free for F cycles.
  const auto slot = [&](uint64_t t, Calendar& link) {
    for (;;) {
      const uint64_t a = link.first_free(t, F, e.time), b = input.first_free(a, F, e.time);
      if (a == b) return a;
      t = b;
    }
  };
  for (unsigned port = 0; port < kPorts; ++port) {
    if (hi[port] == 0) continue;
    uint64_t sa;  // switch allocation of the head flit
    unsigned out_vc = 0;
    Calendar& link = m_link[size_t(r) * kPorts + port];
    if (port == 0) {  // ejection needs no virtual channel
      sa = slot(routed + m_cfg.va_cycles, link);
    } else {
      // The lowest output VC of the packet's class free when the head asks, else the one
      // that frees first. It stays allocated from the head's VA until the cycle after the
      // tail's switch grant, or, with wait_for_tail_credit, until the tail's credit is back:
      // the tail crosses to the next router, leaves its buffer at the earliest one switch
      // allocation later, and the credit is usable 1 + credit_cycles after that (the
      // zero-load hold; a tail that waits downstream holds the VC longer in the flit model).
      const auto [v0, nv] = vc_class(p.cls);
      uint64_t* vcs = &m_vc_free[(size_t(r) * (kPorts - 1) + port - 1) * V + v0];
      uint64_t* vc = std::find_if(vcs, vcs + nv, [routed](uint64_t f) { return f <= routed; });
      if (vc == vcs + nv) vc = std::min_element(vcs, vcs + nv);
      out_vc = unsigned(vc - m_vc_free.data()) % V;
      sa = slot(std::max(routed, *vc) + m_cfg.va_cycles, link);
      const uint64_t tail_sa = sa + F - 1;
      *vc = m_cfg.wait_for_tail_credit ? tail_sa + m_cfg.sa_cycles + m_cfg.st_cycles + m_cfg.link_cycles +
                                             m_cfg.sa_cycles + 1 + m_cfg.credit_cycles
                                       : tail_sa + 1;
    }
    link.reserve(sa, F);
    input.reserve(sa, F);
    in_vc = std::max(in_vc, sa + F);
    m_cnt.xbar_flits += F;
    const uint64_t traversed = uint64_t(m_cfg.sa_cycles) + m_cfg.st_cycles + m_cfg.link_cycles;
    if (port == 0) {
      push(sa + F - 1 + traversed, e.pkt, lo[0], hi[0], r, Kind::deliver);
    } else {
      const unsigned next = port == 1 ? r + 1 : port == 2 ? r - 1 : port == 3 ? r + m_cfg.cols : r - m_cfg.cols;
      m_cnt.flit_hops += F;
      m_cnt.buffer_writes += F;
      const unsigned in_port = port % 2 == 1 ? port + 1 : port - 1;  // the opposite side
      push(sa + traversed, e.pkt, lo[port], hi[port], next, Kind::head, in_port, out_vc);
    }
  }
}

void FlowNetwork::process(const Event& e) {
  Packet& p = m_pkts[e.pkt];
  switch (e.kind) {
    case Kind::inject: {
      // The source's channel takes one flit per cycle, packets in order of creation.
      const uint64_t start = std::max(e.time, m_inj_free[p.src]);
      m_inj_free[p.src] = start + p.flits;
      ++m_cnt.packets_injected;
      m_cnt.injected_flits += p.flits;
      m_cnt.buffer_writes += p.flits;
      // Into the lowest injection VC of its class: the source frees it with the tail.
      push(start + m_cfg.ni_cycles + m_cfg.link_cycles, e.pkt, e.lo, e.hi, p.src, Kind::head, 0, vc_class(p.cls).first);
      break;
    }
    case Kind::head: route(e); break;
    case Kind::deliver:
      ++m_cnt.deliveries;
      m_cnt.ejected_flits += p.flits;
      m_last_arrival = std::max(m_last_arrival, e.time);
      if (m_sink) m_sink(p.tag, e.router, p.create, e.time);
      break;
  }
  release(e.pkt);
}

uint64_t FlowNetwork::Calendar::first_free(uint64_t from, uint64_t len, uint64_t now) {
  while (m_head < m_busy.size() && m_busy[m_head].second <= now) ++m_head;
  if (m_head > 64 && m_head * 2 > m_busy.size()) {
    m_busy.erase(m_busy.begin(), m_busy.begin() + std::ptrdiff_t(m_head));
    m_head = 0;
  }
  uint64_t t = from;
  auto it = std::upper_bound(m_busy.begin() + std::ptrdiff_t(m_head), m_busy.end(), std::pair{t, UINT64_MAX});
  if (it != m_busy.begin() + std::ptrdiff_t(m_head) && std::prev(it)->second > t) t = std::prev(it)->second;
  for (; it != m_busy.end() && it->first < t + len; ++it) t = std::max(t, it->second);
  return t;
}

void FlowNetwork::Calendar::reserve(uint64_t t, uint64_t len) {
  // Runs are kept merged: a reservation that touches its neighbours joins them.
  auto it = std::lower_bound(m_busy.begin() + std::ptrdiff_t(m_head), m_busy.end(), std::pair{t, uint64_t(0)});
  const uint64_t end = t + len;
  const bool join_prev = it != m_busy.begin() + std::ptrdiff_t(m_head) && std::prev(it)->second == t;
  const bool join_next = it != m_busy.end() && it->first == end;
  if (join_prev && join_next) {
    std::prev(it)->second = it->second;
    m_busy.erase(it);
  } else if (join_prev) {
    std::prev(it)->second = end;
  } else if (join_next) {
    it->first = t;
  } else {
    m_busy.insert(it, {t, end});
  }
}

void FlowNetwork::run_until(uint64_t t) {
  Event e{};
  while (next_event(t, e)) process(e);
  m_now = std::max(m_now, t);
}

uint64_t FlowNetwork::drain() {
  Event e{};
  while (next_event(UINT64_MAX, e)) process(e);
  m_now = std::max(m_now, m_last_arrival);
  return m_now;
}

}  // namespace bpsim::mesh
