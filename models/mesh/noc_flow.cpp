#include "models/mesh/noc_flow.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "sim/core/hot_inline.h"

namespace bpsim::mesh {
namespace {
constexpr unsigned kNiPort = kPorts;  ///< the network interface's output VCs into its router's local input
/// Index of a free entry of `pool`: a recycled one from `free`, else a new one.
template <class T>
uint32_t allocate(std::vector<T>& pool, std::vector<uint32_t>& free) {
  if (free.empty()) {
    pool.emplace_back();
    return uint32_t(pool.size() - 1);
  }
  const uint32_t i = free.back();
  free.pop_back();
  return i;
}
}  // namespace

std::unique_ptr<NocModel> make_noc_model(const NocConfig& cfg, uint64_t seed) {
  if (cfg.model == NocModelKind::flow) return std::make_unique<FlowNetwork>(cfg, seed);
  return std::make_unique<Network>(cfg, seed);
}

FlowNetwork::FlowNetwork(const NocConfig& cfg, uint64_t seed)
    : m_cfg(cfg), m_rng_state(seed * 0x9E3779B97F4A7C15ull + 1) {
  if (cfg.cols == 0 || cfg.rows == 0 || cfg.vcs == 0 || cfg.buf_depth == 0 || cfg.input_speedup == 0)
    throw std::logic_error("mesh::FlowNetwork: zero-sized configuration (validated by the parser)");
  const size_t ovcs = size_t(cfg.nodes()) * 6 * cfg.vcs;
  m_inj_free.assign(cfg.nodes(), 0);
  m_link.resize(size_t(cfg.nodes()) * kPorts);
  m_vc_free.assign(ovcs, 0);
  m_vc_slot.assign(ovcs, 0);
  m_credit.assign(ovcs * cfg.buf_depth, 0);
  m_sum_first.assign(ovcs, kNoPending);
  m_sum_len.assign(ovcs, 0);
  m_sum_raw.assign(ovcs, 0);
  m_sum_max_c.assign(ovcs * cfg.buf_depth, 0);
  m_sum_max_sa.assign(ovcs * cfg.buf_depth, 0);
  m_vc_rr.assign(size_t(cfg.nodes()) * (kPorts * kPorts * cfg.vcs + 1), 0);
  m_in_free.assign(size_t(cfg.nodes()) * kPorts * cfg.vcs, 0);
  m_split.assign(m_in_free.size(), Split{});
  m_front.assign(m_in_free.size() + cfg.nodes(), kNone);
  m_front_at.assign(m_front.size(), 0);
  m_wait_head.assign(m_front.size(), kNone);
  m_wait_tail.assign(m_front.size(), kNone);
  m_wheel.resize(kWheel);
  m_input.resize(size_t(cfg.nodes()) * kPorts * cfg.input_speedup);
  // The spacing rule of run_offsets assumes a VC is free again the cycle after its tail's
  // grant and the same route class for every message: not with wait_for_tail_credit (a VC
  // waits for its tail's credit) or o1turn (a class drawn per message).
  m_runs = !cfg.wait_for_tail_credit && cfg.routing != Routing::o1turn;
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

BPSIM_HOT_INLINE void FlowNetwork::push(const Event& e) {
  ++m_pkts[e.pkt].live;
  if (e.time < m_cur + kWheel) {
    m_wheel[e.time % kWheel].push_back(e);
    ++m_in_wheel;
  } else {
    m_far.push(e);
  }
}

void FlowNetwork::push(uint64_t time, uint32_t pkt, uint32_t lo, uint32_t hi, uint32_t router, Kind kind, unsigned port,
                       unsigned vc, unsigned slot, unsigned fan) {
  push(Event{time, m_seq++, time, pkt, lo, hi, router, kind, uint8_t(port), uint8_t(vc), uint8_t(fan), uint16_t(slot)});
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
  create = std::max(create, m_now);
  if (m_open != kNone && extends(m_pkts[m_open], src, dests, flits, create, tag)) {
    Packet& p = m_pkts[m_open];
    if (p.count == 1) p.step = uint32_t(create - p.create);
    ++p.count;
    p.flits = p.count * flits;
    return;
  }
  const uint32_t id = allocate(m_pkts, m_free_pkts);
  Packet& p = m_pkts[id];
  p.serial = ++m_serial;
  p.create = create;
  p.tag = tag;
  p.src = src;
  p.flits = flits;
  p.msg_flits = uint16_t(flits);
  p.count = 1, p.step = 0, p.delay = 0;
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
  const Event e{p.create, m_seq++, p.create, id, 0, uint32_t(p.dests.size()), src, Kind::inject, 0, 0, 1, 0};
  if (m_inj_sorted && m_inj.size() > m_inj_head && m_inj.back() > e) m_inj_sorted = false;
  m_inj.push_back(e);
  if (m_runs) m_open = id, m_open_dests = dests;
}

bool FlowNetwork::extends(const Packet& p, unsigned src, const std::vector<uint16_t>& dests, unsigned flits,
                          uint64_t create, uint32_t tag) const {
  // The next message of the run: the same source, destinations (as sent), size and tag,
  // created `step` after the last (any step ≥ 0 for the second)...
  if (p.src != src || p.msg_flits != flits || p.tag != tag || dests != m_open_dests) return false;
  // ... and credits never hold it back: a credit slot is busy for R cycles (the flit crosses
  // to the next router, is granted there, its credit returns), in which one VC sends at most
  // R flits, and at most ⌈R / P⌉ packets of F flits; the VC's buf_depth slots must cover them.
  const unsigned P = flits + m_cfg.rc_cycles + m_cfg.va_cycles;
  const unsigned R = m_cfg.rc_cycles + m_cfg.va_cycles + m_cfg.sa_cycles + m_cfg.st_cycles + m_cfg.link_cycles + 1 +
                     m_cfg.credit_cycles;
  if (m_cfg.buf_depth < std::min(R, (R + P - 1) / P * flits)) return false;
  const uint64_t next = p.create + uint64_t(p.count) * p.step;
  if (p.count == 1 ? create < p.create || create - p.create > UINT32_MAX : create != next) return false;
  return uint64_t(p.flits) * (kPorts + 1) + (create - p.create) + P < UINT32_MAX;  // spans fit 32 bits
}

uint64_t FlowNetwork::run_span(uint64_t n, uint64_t F, unsigned fan, uint8_t cls) const {
  // run_offsets without creation times, in closed form: with G = fan·F, the last grant is at
  // max((n−1)·G, ⌊(n−1)/V⌋·P + ((n−1) mod V)·G), P = G + rc + va, and its F flits follow.
  const uint64_t V = vc_class(cls).second, G = fan * F, P = G + m_cfg.rc_cycles + m_cfg.va_cycles, k = n - 1;
  return std::max(k * G, k / V * P + k % V * G) + F;
}

void FlowNetwork::run_offsets(const Packet& p, unsigned fan, std::vector<uint64_t>& g) const {
  // Back-to-back packets of F flits from one source on an idle path of the flit-level network:
  // a link carries one flit per cycle, so grants are F apart at least; a packet in the same VC
  // as the one V packets before starts route computation the cycle after that one's tail
  // grant, then VC allocation, so grants in one VC are P = F + rc + va apart; and a message
  // cannot leave before it is created (relative to the first message's actual start). Past a
  // router where the tree branches `fan` ways, its crossbar input sends every message's F
  // flits once per branch: F becomes fan·F (a buffer slot frees when all branches have sent).
  const uint64_t F = uint64_t(fan) * p.msg_flits, V = vc_class(p.cls).second;
  const uint64_t P = F + m_cfg.rc_cycles + m_cfg.va_cycles;
  g.assign(p.count, 0);
  for (size_t k = 1; k < p.count; ++k) {
    const uint64_t created = uint64_t(k) * p.step;
    g[k] = std::max(g[k - 1] + F, created > p.delay ? created - p.delay : 0);
    if (k >= V) g[k] = std::max(g[k], g[k - V] + P);
  }
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

size_t FlowNetwork::upstream_ovc(unsigned r, unsigned port, unsigned vc) const {
  if (port == 0) return ovc_index(r, kNiPort, vc);
  return ovc_index(r + port_step(port, m_cfg.cols), opposite_port(port), vc);
}

void FlowNetwork::summarise(size_t o, unsigned n) const {
  // The credit slots in the order the VC's next flits use them, from the first not yet
  // summarised up to n or the first pending one: that one's offset and value, and before it
  // the running maxima that avail takes over its first n slots.
  const unsigned B = m_cfg.buf_depth;
  const uint64_t* credit = &m_credit[o * B];
  uint64_t* max_c = &m_sum_max_c[o * B];
  uint64_t* max_sa = &m_sum_max_sa[o * B];
  unsigned i = m_sum_len[o];
  uint64_t c_hi = i ? max_c[i - 1] : 0, sa_hi = i ? max_sa[i - 1] : 0;
  unsigned k = m_vc_slot[o] + i;  // both < buf_depth
  if (k >= B) k -= B;
  for (; i < n; ++i, k = k + 1 == B ? 0 : k + 1) {
    const uint64_t c = credit[k];
    if (c & kPending) {
      m_sum_first[o] = i, m_sum_raw[o] = c;
      break;
    }
    c_hi = std::max(c_hi, c), sa_hi = std::max(sa_hi, send_bound(c, i));
    max_c[i] = c_hi, max_sa[i] = sa_hi;
  }
  m_sum_len[o] = i;
}

BPSIM_HOT_INLINE FlowNetwork::Avail FlowNetwork::avail(size_t o, uint64_t alloc, unsigned stage, unsigned flits,
                                                       bool whole) const {
  const uint64_t vc_free = m_vc_free[o];
  if (vc_free & kPending) return {resolve_at(vc_free), true};
  // Flit i is sent no earlier than its slot's credit; a route that still branches takes the
  // VC only with credits for the whole packet (the flit model's multicast rule). Flits past
  // buf_depth reuse slots of the packet's own flits, which stream through (cut-through).
  // The first pending slot and the maxima come from the VC's summary (summarise), extended as
  // far as a caller needs and kept until its credits or its next slot change.
  const unsigned B = m_cfg.buf_depth, n = std::min(flits, B);
  if (n < kSummaryFrom) {
    uint64_t va = std::max(alloc, vc_free), sa = 0;
    for (unsigned i = 0, k = m_vc_slot[o]; i < n; ++i, k = k + 1 == B ? 0 : k + 1) {
      const uint64_t c = m_credit[o * B + k];
      if (c & kPending) return {resolve_at(c), true};
      if (whole) va = std::max(va, c);
      sa = std::max(sa, send_bound(c, i));
    }
    return {std::max(va + stage, sa), false};
  }
  if (m_sum_first[o] == kNoPending && m_sum_len[o] < n) summarise(o, n);
  if (m_sum_first[o] < n) return {resolve_at(m_sum_raw[o]), true};
  const uint64_t va = whole ? std::max({alloc, vc_free, m_sum_max_c[o * B + n - 1]}) : std::max(alloc, vc_free);
  return {std::max(va + stage, m_sum_max_sa[o * B + n - 1]), false};
}

BPSIM_HOT_INLINE bool FlowNetwork::pick_vc(size_t rr, unsigned r, unsigned port, uint8_t cls, uint64_t alloc,
                                           unsigned stage, unsigned flits, bool whole, unsigned& vc, uint64_t& t,
                                           uint64_t& retry) const {
  // The VC that can send first, ties broken round-robin from the one after the last this
  // requester took (the flit model's VC allocator accepts round-robin per input VC and
  // branch, and its network interface searches from the VC after its last). A VC whose
  // state is still to be decided downstream can serve no earlier than that decision: wait
  // for it only when it might beat every VC already known.
  const auto [v0, nv] = vc_class(cls);
  uint64_t best = UINT64_MAX, pending = UINT64_MAX;
  const size_t o0 = ovc_index(r, port, 0);
  // The class's VCs in round-robin order from m_vc_rr (< vcs): from it when it is in the
  // class, else from the class's first, as a search over all VCs that skips the others goes.
  const unsigned end = v0 + nv;
  unsigned v = m_vc_rr[rr];
  if (v < v0 || v >= end) v = v0;
  for (unsigned k = 0; k < nv; ++k, v = v + 1 == end ? v0 : v + 1) {
    const Avail a = avail(o0 + v, alloc, stage, flits, whole);
    if (a.pending) pending = std::min(pending, a.t);
    else if (a.t < best) best = a.t, vc = v;
  }
  if (pending < best) {
    retry = std::min(retry, pending);
    return false;
  }
  t = best;
  return true;
}

void FlowNetwork::take_vc(size_t rr, unsigned r, unsigned port, unsigned vc, unsigned flits) {
  m_vc_rr[rr] = (vc + 1) % m_cfg.vcs;
  const size_t o = ovc_index(r, port, vc);
  m_vc_slot[o] = (m_vc_slot[o] + flits) % m_cfg.buf_depth;
  stale(o);
}

void FlowNetwork::write_credits(size_t o, unsigned slot, unsigned flits, uint64_t first, uint64_t step) {
  // A packet's flit i uses slot (slot + i) mod buf_depth; of a packet longer than the buffer,
  // only its last buf_depth flits' credits are still outstanding.
  const unsigned B = m_cfg.buf_depth;
  for (unsigned i = flits > B ? flits - B : 0; i < flits; ++i) m_credit[o * B + (slot + i) % B] = first + step * i;
  stale(o);
}

void FlowNetwork::mark_pending(size_t o, unsigned slot, unsigned flits, uint64_t resolve) {
  write_credits(o, slot, flits, kPending | resolve, 0);
  if (m_cfg.wait_for_tail_credit) m_vc_free[o] = kPending | resolve;
}

void FlowNetwork::credit_back(unsigned r, unsigned port, unsigned vc, unsigned slot, unsigned flits, uint64_t dep) {
  // Flit i leaves the buffer in cycle dep + i; its credit is usable 1 + credit_cycles later.
  const size_t o = upstream_ovc(r, port, vc);
  const uint64_t back = dep + 1 + m_cfg.credit_cycles;
  write_credits(o, slot, flits, back, 1);
  if (m_cfg.wait_for_tail_credit) m_vc_free[o] = back + flits - 1;
}

size_t FlowNetwork::queue_of(const Event& e) const {
  if (e.kind == Kind::inject) return m_in_free.size() + m_pkts[e.pkt].src;
  return (size_t(e.router) * kPorts + e.port) * m_cfg.vcs + e.vc;
}

void FlowNetwork::defer(const Event& e, uint64_t retry) {
  Event d = e;
  d.time = std::max(retry, e.time);
  d.seq = m_seq++;
  push(d);
  const size_t q = queue_of(e);
  // Its credits upstream, like those of the packets behind it, are decided no earlier. A
  // front waiting again has them tied to this queue already (by its first wait, or by
  // enqueue), and nothing else writes them until it is decided.
  const bool tied = m_front[q] == e.pkt;
  m_front[q] = e.pkt;
  m_front_at[q] = d.time;
  if (e.kind == Kind::head && !tied)
    mark_pending(upstream_ovc(e.router, e.port, e.vc), e.slot, m_pkts[e.pkt].flits, kQueue | q);
}

void FlowNetwork::enqueue(const Event& e, size_t q) {
  const uint32_t w = allocate(m_waiting, m_free_waiting);
  m_waiting[w] = Waiting{e, kNone};
  ++m_pkts[e.pkt].live;
  if (m_wait_tail[q] == kNone) m_wait_head[q] = w;
  else m_waiting[m_wait_tail[q]].next = w;
  m_wait_tail[q] = w;
  if (e.kind == Kind::head) mark_pending(upstream_ovc(e.router, e.port, e.vc), e.slot, m_pkts[e.pkt].flits, kQueue | q);
}

void FlowNetwork::next_front(size_t q, uint64_t now) {
  m_front[q] = kNone;
  const uint32_t w = m_wait_head[q];
  if (w == kNone) return;
  m_wait_head[q] = m_waiting[w].next;
  if (m_wait_head[q] == kNone) m_wait_tail[q] = kNone;
  m_free_waiting.push_back(w);
  Event e = m_waiting[w].e;
  e.time = now;
  e.seq = m_seq++;
  push(e);
  release(e.pkt);
  // It is the front now: packets arriving before it is processed queue behind it.
  m_front[q] = e.pkt;
  m_front_at[q] = now;  // its credits upstream were tied to this queue when it began to wait
}

void FlowNetwork::route(const Event& e) {
  const Packet& p = m_pkts[e.pkt];
  const unsigned F = p.flits, r = e.router, V = m_cfg.vcs;
  // Packets leave an input VC in order: one behind a head still to be decided waits for it.
  const size_t iv = (size_t(r) * kPorts + e.port) * V + e.vc;
  if (m_front[iv] != kNone && m_front[iv] != e.pkt) return enqueue(e, iv);
  // Route computation starts on arrival, or the cycle after the packet ahead in the same
  // input VC left it (the cycle after its tail's switch grant); VC allocation follows.
  uint64_t& in_vc = m_in_free[iv];
  // A head behind the packet ahead in its VC is decided when its route computation starts
  // (the cycle after that packet left), not on arrival: an output VC taken now would be held
  // from now on (a VC is busy until its packet has sent, not a calendar), and other heads that
  // reach the output before this one would find it taken.
  if (in_vc > e.time) return defer(e, in_vc);
  // Destinations by output port; each port's share is one contiguous run (see send). A head
  // tried again (its VCs undecided) finds them kept from its first try.
  Split& split = m_split[iv];
  if (split.serial != p.serial || split.lo != e.lo || split.hi != e.hi) {
    split = Split{p.serial, e.lo, e.hi, 0, {}, {}};
    int last = -1;
    for (uint32_t i = e.lo; i < e.hi; ++i) {
      const unsigned port = dor_port(m_cfg.cols, r, p.dests[i], p.cls != 0);
      if (int(port) != last) {
        if (split.port_hi[port] != 0) throw std::logic_error("mesh::FlowNetwork: multicast subtree is not contiguous");
        split.port_lo[port] = i, split.ports |= uint8_t(1u << port), last = int(port);
      }
      split.port_hi[port] = i + 1;
    }
  }
  const uint32_t* const lo = split.port_lo;
  const uint32_t* const hi = split.port_hi;
  const uint64_t routed = std::max(e.arrived, in_vc) + m_cfg.rc_cycles;
  // Every branch's output VC, or wait until what decides one is known. The ejection port has
  // VCs and credits as the others (the network interface frees a slot on arrival).
  unsigned vc[kPorts] = {};
  uint64_t from[kPorts] = {}, retry = UINT64_MAX;
  bool ready = true;
  size_t rr[kPorts] = {};
  unsigned b = 0;
  for (unsigned m = split.ports; m; m &= m - 1) {  // the branches' ports, in increasing order
    const unsigned port = unsigned(__builtin_ctz(m));
    rr[port] = iv * kPorts + b++;
    ready &= pick_vc(rr[port], r, port, p.cls, routed, m_cfg.va_cycles, F, hi[port] - lo[port] > 1, vc[port],
                     from[port], retry);
  }
  if (!ready) return defer(e, retry);
  next_front(iv, e.time);
  const uint64_t flits = uint64_t(p.count) * p.msg_flits;  // the run's flits, for the counters
  m_cnt.buffer_reads += flits;  // every flit leaves this input buffer once, whatever the fan-out
  // Branches in port order; a crossbar input sends one flit per cycle, so packets and a
  // packet's branches take turns there. An input port has input_speedup crossbar inputs,
  // VC v on input v mod input_speedup, as in the flit model.
  const unsigned S = m_cfg.input_speedup;
  Calendar& input = m_input[(size_t(r) * kPorts + e.port) * S + e.vc % S];
  // A packet holds the crossbar input for its F flits per branch; a run for its span (its
  // messages spaced by their VC turnarounds, each message sent once per branch: run_span).
  const unsigned branches = unsigned(__builtin_popcount(split.ports));
  const unsigned fan = std::max<unsigned>(e.fan, branches);
  const uint64_t hold = p.count == 1 ? F : std::max<uint64_t>(F, run_span(p.count, p.msg_flits, branches, p.cls));
  // A run's messages would take turns in the input port's VCs, each held P = branches ·
  // msg_flits + rc + va cycles: the run holds its one input VC for all of them, so other
  // packets get no more of the port's VC time than they would get.
  const uint64_t per_msg = uint64_t(branches) * p.msg_flits;
  const uint64_t vc_time = (uint64_t(p.count) - 1) * (per_msg + m_cfg.rc_cycles + m_cfg.va_cycles) + per_msg;
  // The earliest cycle from `t` at which both the input and output `link` are free (F cycles
  // of the link, `hold` of the input).
  const auto slot = [&](uint64_t t, Calendar& link) {
    for (;;) {
      const uint64_t a = link.first_free(t, F, e.time), b = input.first_free(a, hold, e.time);
      if (a == b) return a;
      t = b;
    }
  };
  // Switch grants per branch. A run that branches sends each message to every branch in turn
  // (as the flit-level crossbar input does), so its branches start msg_flits apart and share
  // one reservation of the input; otherwise branches take the input one after the other.
  uint64_t grant[kPorts] = {};
  if (p.count > 1 && branches > 1) {
    uint64_t t = e.time;
    for (unsigned port = 0; port < kPorts; ++port)
      if (hi[port] != 0) t = std::max(t, from[port]);
    for (bool fits = false; !fits;) {
      const uint64_t a = input.first_free(t, hold, e.time);
      fits = true, t = a;
      for (unsigned port = 0, j = 0; port < kPorts; ++port) {
        if (hi[port] == 0) continue;
        const uint64_t at = a + uint64_t(j++) * p.msg_flits;
        const uint64_t b = m_link[size_t(r) * kPorts + port].first_free(at, F, e.time);
        if (b != at) fits = false, t = std::max(t, b - (at - a));
      }
    }
    input.reserve(t, hold);
    for (unsigned port = 0, j = 0; port < kPorts; ++port)
      if (hi[port] != 0) {
        grant[port] = t + uint64_t(j++) * p.msg_flits;
        m_link[size_t(r) * kPorts + port].reserve(grant[port], F);
      }
  } else {
    for (unsigned port = 0; port < kPorts; ++port) {
      if (hi[port] == 0) continue;
      Calendar& link = m_link[size_t(r) * kPorts + port];
      // Never before the cycle this is decided in (a head decided late cannot go back in time).
      grant[port] = slot(std::max(from[port], e.time), link);
      link.reserve(grant[port], F);
      input.reserve(grant[port], hold);
    }
  }
  const uint64_t traversed = uint64_t(m_cfg.sa_cycles) + m_cfg.st_cycles + m_cfg.link_cycles;
  const uint64_t back = 1 + m_cfg.credit_cycles;
  uint64_t dep = 0, first = UINT64_MAX;
  for (unsigned port = 0; port < kPorts; ++port) {
    if (hi[port] == 0) continue;
    const uint64_t sa = grant[port];
    dep = std::max(dep, sa), first = std::min(first, sa);
    const size_t o = ovc_index(r, port, vc[port]);
    const unsigned k0 = m_vc_slot[o];
    take_vc(rr[port], r, port, vc[port], F);
    m_cnt.xbar_flits += flits;
    // The VC is free again the cycle after the tail's grant, or, with wait_for_tail_credit,
    // once the tail's credit is back.
    m_vc_free[o] = sa + F;
    if (port == 0) {
      // The network interface takes each flit off the ejection channel on arrival.
      // A run's last tail: its messages spaced as they leave the source and every branching
      // router on the way (run_offsets).
      uint64_t span = F;
      if (p.count > 1) run_offsets(p, fan, m_offsets), span = std::max(span, m_offsets.back() + p.msg_flits);
      const uint64_t tail = sa + span - 1 + traversed;
      write_credits(o, k0, F, sa + traversed + back, 1);
      if (m_cfg.wait_for_tail_credit) m_vc_free[o] = tail + back;
      push(tail, e.pkt, lo[0], hi[0], r, Kind::deliver, 0, 0, 0, fan);
    } else {
      const unsigned next = r + port_step(port, m_cfg.cols);
      m_cnt.flit_hops += flits;
      m_cnt.buffer_writes += flits;
      mark_pending(o, k0, F, sa + traversed);
      push(sa + traversed, e.pkt, lo[port], hi[port], next, Kind::head, opposite_port(port), vc[port], k0, fan);
    }
  }
  // A flit leaves the input buffer once every branch has sent it (a run's last message, once
  // its input reservation ends).
  in_vc = std::max(in_vc, p.count > 1 ? first + vc_time : dep + F);
  credit_back(r, e.port, e.vc, e.slot, F, dep);
}

void FlowNetwork::inject(const Event& e) {
  Packet& p = m_pkts[e.pkt];
  // The network interface sends packets in order of creation, one flit per cycle, each into
  // an idle VC of the router's local input that has a credit (the whole packet's, if it
  // branches), searching round-robin.
  const size_t front = m_in_free.size() + p.src;
  if (m_front[front] != kNone && m_front[front] != e.pkt) return enqueue(e, front);
  const uint64_t start = std::max({e.arrived, m_inj_free[p.src], e.time});
  unsigned vc = 0;
  uint64_t sent = 0, retry = UINT64_MAX;
  const size_t rr = m_in_free.size() * kPorts + p.src;
  if (!pick_vc(rr, p.src, kNiPort, p.cls, start, 0, p.flits, e.hi - e.lo > 1, vc, sent, retry)) return defer(e, retry);
  next_front(front, e.time);
  if (m_open == e.pkt) m_open = kNone;  // injected: its run is closed
  p.delay = sent - p.create;            // a run's messages created while its first waited leave back to back
  const size_t o = ovc_index(p.src, kNiPort, vc);
  const unsigned k0 = m_vc_slot[o];
  take_vc(rr, p.src, kNiPort, vc, p.flits);
  m_vc_free[o] = sent + p.flits;
  m_inj_free[p.src] = sent + p.flits;
  m_cnt.packets_injected += p.count;
  m_cnt.injected_flits += uint64_t(p.count) * p.msg_flits;
  m_cnt.buffer_writes += uint64_t(p.count) * p.msg_flits;
  const uint64_t at = sent + m_cfg.ni_cycles + m_cfg.link_cycles;
  mark_pending(o, k0, p.flits, at);
  push(at, e.pkt, e.lo, e.hi, p.src, Kind::head, 0, vc, k0);
}

void FlowNetwork::process(const Event& e) {
  Packet& p = m_pkts[e.pkt];
  switch (e.kind) {
    case Kind::inject: inject(e); break;
    case Kind::head: route(e); break;
    case Kind::deliver:
      m_cnt.deliveries += p.count;
      m_cnt.ejected_flits += uint64_t(p.count) * p.msg_flits;
      m_last_arrival = std::max(m_last_arrival, e.time);
      if (!m_sink) break;
      if (p.count == 1) {
        m_sink(p.tag, e.router, p.create, e.time);
        break;
      }
      // The event is the last message's tail; message k's tail is as far ahead of it as its
      // switch grant is ahead of the last one's.
      run_offsets(p, e.fan, m_offsets);
      for (size_t k = 0; k < p.count; ++k)
        m_sink(p.tag, e.router, p.create + uint64_t(k) * p.step, e.time - (m_offsets.back() - m_offsets[k]));
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
  m_open = kNone;  // a send after this starts a new run (its predecessor may be under way)
  Event e{};
  while (next_event(t, e)) process(e);
  m_now = std::max(m_now, t);
}

uint64_t FlowNetwork::drain() {
  m_open = kNone;
  Event e{};
  while (next_event(UINT64_MAX, e)) process(e);
  m_now = std::max(m_now, m_last_arrival);
  return m_now;
}

}  // namespace bpsim::mesh
