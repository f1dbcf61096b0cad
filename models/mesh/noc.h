#pragma once
/// The mesh network core: input-queued virtual-channel routers with credit flow control,
/// separable iSLIP allocators, crossbar input speedup, dimension-order routing and tree
/// multicast, timed at flit granularity by an event-driven kernel: a router is visited only in
/// cycles where it can act, and the clock jumps over cycles where none can. Plain C++ with plain inputs
/// (messages) and outputs (delivery callbacks, counters), so an RTL router can replace it later.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "models/mesh/noc_model.h"
#include "sim/core/enum_names.h"

namespace bpsim::mesh {

enum class Routing { xy, yx, o1turn };
inline constexpr config::EnumName<Routing> kRoutingNames[] = {
    {Routing::xy, "xy"}, {Routing::yx, "yx"}, {Routing::o1turn, "o1turn"}};

/// Router and link timing; defaults follow BookSim2's iq router defaults.
struct NocConfig {
  unsigned cols = 8, rows = 8;  ///< X × Y routers
  unsigned vcs = 2;             ///< virtual channels per input port (and per network-interface port)
  unsigned buf_depth = 8;       ///< flits per VC buffer
  unsigned rc_cycles = 1, va_cycles = 1, sa_cycles = 1, st_cycles = 1;
  unsigned link_cycles = 1;    ///< per channel, injection and ejection channels included
  unsigned credit_cycles = 1;  ///< credit channel; a credit leaves at the end of the cycle its flit is read
  unsigned ni_cycles = 1;      ///< network-interface output stage: creation to the injection channel
  /// An output VC is reallocated only once the credit of its last packet's tail has returned
  /// (the downstream buffer is empty), not as soon as the tail has won the switch.
  bool wait_for_tail_credit = false;
  unsigned input_speedup = 1;  ///< crossbar inputs per input port; VC v uses input v mod speedup
  unsigned flit_bytes = 16;
  Routing routing = Routing::xy;
  NocModelKind model = NocModelKind::flit;  ///< which NocModel carries the traffic (make_noc_model)
  unsigned nodes() const { return cols * rows; }
  /// Zero-load latency (docs/references.md: t_ni + (D+1)·t_router + (D+2)·t_link + serialization).
  uint64_t zero_load_cycles(unsigned hops, unsigned flits) const {
    return ni_cycles + uint64_t(hops + 1) * (rc_cycles + va_cycles + sa_cycles + st_cycles) +
           uint64_t(hops + 2) * link_cycles + (flits - 1);
  }
  /// Mean zero-load latency over packets whose mean distance is `mean_hops` (linear in D).
  double zero_load_mean(double mean_hops, unsigned flits) const {
    return double(zero_load_cycles(0, flits)) +
           mean_hops * double(zero_load_cycles(1, flits) - zero_load_cycles(0, flits));
  }
};

/// A router's ports: 0 local, 1 east (+x), 2 west (−x), 3 south (+y), 4 north (−y).
inline constexpr unsigned kPorts = 5;
/// Dimension-order output port at `router` towards `dest` (ids: x + y·cols), numbered as
/// kPorts says; X first unless `y_first`.
unsigned dor_port(unsigned cols, unsigned router, unsigned dest, bool y_first);
/// dor_port from the router's coordinates (x, y) and the destination's (dx, dy).
inline unsigned dor_port_xy(unsigned x, unsigned y, unsigned dx, unsigned dy, bool y_first) {
  // Arithmetic, not branches: the comparisons are data and would mispredict.
  const unsigned px = unsigned(dx > x) | unsigned(dx < x) << 1, py = unsigned(dy > y) * 3 + unsigned(dy < y) * 4;
  const unsigned first = y_first ? py : px, second = y_first ? px : py;
  return first + unsigned(first == 0) * second;
}
/// The port by which a flit sent through `port` enters the neighbour beyond it (0: local).
inline unsigned opposite_port(unsigned port) {
  static constexpr uint8_t kOpposite[kPorts] = {0, 2, 1, 4, 3};
  return kOpposite[port];
}
/// The id step (ids x + y·cols) from a router to its neighbour beyond `port`, mod 2³²: east
/// +1, west −1, south +cols, north −cols, local 0. Arithmetic, not a branch on the port.
inline uint32_t port_step(unsigned port, unsigned cols) {
  return uint32_t(port == 1) - uint32_t(port == 2) + (uint32_t(port == 3) - uint32_t(port == 4)) * cols;
}
/// A message's route class, 0 XY or 1 YX: fixed by `routing`, except that o1turn draws it
/// for a unicast from `rng_state` (xorshift; a multicast tree stays XY).
uint8_t route_class(Routing routing, size_t dests, uint64_t& rng_state);

/// Counted per flit event; priced by the energy table.
struct NocCounters {
  uint64_t buffer_writes = 0, buffer_reads = 0, xbar_flits = 0;
  uint64_t flit_hops = 0;  ///< router-to-router link traversals
  uint64_t injected_flits = 0, ejected_flits = 0;
  uint64_t packets_injected = 0, deliveries = 0;
};

class Network : public NocModel {
 public:
  Network(const NocConfig& cfg, uint64_t seed);
  void set_sink(Sink s) override { m_sink = std::move(s); }
  /// Queues a message at `src`'s injection queue at cycle `create` (≥ now). `dests` > 1
  /// makes a tree multicast, replicated at the routers where the DOR paths branch.
  void send(uint32_t src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create, uint32_t tag) override;
  /// Simulates exactly one cycle.
  void step();
  /// Simulates until cycle `t`, jumping over cycles in which no router, source or credit acts.
  void run_until(uint64_t t) override;
  /// Simulates until every sent message is delivered; returns the cycle reached.
  uint64_t drain() override;
  bool idle() const { return m_flits_in_routers == 0 && m_queued_msgs == 0 && m_future.empty(); }
  uint64_t now() const override { return m_now; }
  const NocCounters& counters() const override { return m_cnt; }
  const NocConfig& config() const { return m_cfg; }
  /// Hop distance of the DOR path.
  unsigned hops(unsigned a, unsigned b) const override;

 private:
  struct Flit {
    uint32_t route;
    uint16_t idx, size;
    uint64_t ready;  ///< cycle it is in the buffer
  };
  /// One output branch of a routed packet: 16 bytes, so a unicast's input VC state with its
  /// only branch (InVc::br0) fills half a cache line.
  struct Branch {
    uint64_t sa_ready;
    uint32_t route;
    uint16_t sent;
    int8_t ovc;           ///< output VC, −1 until allocated (vcs ≤ 64)
    uint8_t port : 3;     ///< output port
    uint8_t cls : 1;      ///< the route's class (Route::cls)
    uint8_t unicast : 1;  ///< the route has one destination (does not branch downstream)
  };
  /// Hot state of an input VC, read on every visit that touches it; a multicast's branches
  /// after the first live apart (m_more_br), so a visit to a unicast touches one half line.
  struct alignas(32) InVc {
    uint16_t head = 0, count = 0;  ///< ring buffer (buf_depth ≤ 1024)
    uint16_t popped = 0;
    uint16_t size = 0;      ///< flits of the packet being forwarded
    uint32_t in_route = 0;  ///< route record of the packet being forwarded
    uint8_t nbranch = 0;
    bool routed = false;
    Branch br0{};
  };
  /// A VC allocation requester: branch `b` of input VC `in`, with what the allocator reads.
  struct VaReq {
    uint32_t in;  ///< input VC index
    uint16_t id;  ///< (p·V + v)·kPorts + b: the requester's place in the grant round-robin
    uint8_t b, port, cls;
    bool unicast;
    uint16_t size;  ///< flits of the packet
  };
  /// A requester whose VC allocation stage has not begun: it joins `router`'s list then.
  struct VaDue {
    uint32_t router;
    VaReq req;
  };
  struct Route {
    uint32_t msg;
    uint8_t cls;   ///< 0: XY order, 1: YX order (o1turn VC class)
    bool unicast;  ///< dests has one entry, `dest`: read without going to the list
    uint16_t dest;
    std::vector<uint16_t> dests;
    /// dests (not empty) is filled in: unicast and dest follow it.
    void dests_set() { unicast = dests.size() == 1, dest = dests[0]; }
  };
  struct Msg {
    uint64_t create;
    uint32_t tag, remaining;
  };
  struct Pending {
    uint64_t create;
    uint32_t seq, src, route;
    uint16_t size;
    bool operator>(const Pending& o) const { return create != o.create ? create > o.create : seq > o.seq; }
  };
  struct SourceQ {
    std::vector<Pending> q;  ///< FIFO (index m_qhead)
    size_t qhead = 0;
    uint16_t sent = 0;  ///< flits of the front packet injected
    int16_t vc = -1;
    uint16_t last_vc = 0;  ///< round-robin start of the next VC search
  };

  /// A set of ids (routers, sources), visited in increasing order; next() reads
  /// the set as it is now.
  class IdSet {
   public:
    void resize(size_t n) { m_n = n, m_words.assign((n + 63) / 64, 0); }
    size_t size() const { return m_n; }
    void insert(size_t i) { m_words[i / 64] |= uint64_t(1) << (i % 64); }
    void erase(size_t i) { m_words[i / 64] &= ~(uint64_t(1) << (i % 64)); }
    /// The smallest member in [i, end), or end (≤ size()).
    size_t next(size_t i, size_t end) const {
      if (i >= end) return end;
      size_t w = i / 64;
      const size_t last = (end - 1) / 64;
      uint64_t bits = m_words[w] & (~uint64_t(0) << (i % 64));
      while (!bits) {
        if (++w > last) return end;
        bits = m_words[w];
      }
      return std::min(end, w * 64 + unsigned(__builtin_ctzll(bits)));
    }
    size_t next(size_t i) const { return next(i, m_n); }
    bool any() const { return next(0) < m_n; }

   private:
    size_t m_n = 0;
    std::vector<uint64_t> m_words;
  };

  /// A set of each router's input VCs (pv = p·V + v < 5·V), a bit each. A router's bits begin
  /// a word of their own: a visit reads its router's words alone, and with 5·V ≤ 64 (V ≤ 12)
  /// one word, where ids of consecutive routers would share words and a router's range
  /// would straddle them.
  class RouterSet {
   public:
    void resize(size_t routers, unsigned per_router) {
      m_stride = (per_router + 63) / 64;
      m_words.assign(routers * m_stride, 0);
    }
    void insert(size_t r, unsigned pv) { m_words[r * m_stride + pv / 64] |= uint64_t(1) << (pv % 64); }
    void erase(size_t r, unsigned pv) { m_words[r * m_stride + pv / 64] &= ~(uint64_t(1) << (pv % 64)); }
    /// Calls f(pv) for router r's members in increasing order, each word as it is when read
    /// (f may erase the member it is given, and changes nothing else of this router's).
    template <class F>
    void each(size_t r, F f) const {
      const uint64_t* w = &m_words[r * m_stride];
      for (size_t k = 0; k < m_stride; ++k)
        for (uint64_t bits = w[k]; bits; bits &= bits - 1) f(unsigned(k * 64 + unsigned(__builtin_ctzll(bits))));
    }

   private:
    size_t m_stride = 1;
    std::vector<uint64_t> m_words;
  };

  static constexpr uint64_t kNever = ~uint64_t(0);
  static constexpr unsigned kMaxBranches = kPorts;  ///< one per output port

  uint32_t new_route(uint32_t msg, uint8_t cls);
  void free_route(uint32_t r) { m_free_routes.push_back(r); }
  size_t ovc_index(unsigned router, unsigned port, unsigned vc) const {
    return (size_t(router) * 6 + port) * m_cfg.vcs + vc;
  }
  size_t ivc_index(unsigned router, unsigned port, unsigned vc) const {
    return (size_t(router) * kPorts + port) * m_cfg.vcs + vc;
  }
  /// Branch `b` (< nbranch) of input VC `i`.
  Branch& branch(size_t i, unsigned b) { return b ? m_more_br[i * (kMaxBranches - 1) + b - 1] : m_in[i].br0; }
  const Branch& branch(size_t i, unsigned b) const {
    return b ? m_more_br[i * (kMaxBranches - 1) + b - 1] : m_in[i].br0;
  }
  /// The router beyond `port` of `router` (port 0: itself), from a table of port_step.
  unsigned neighbour(unsigned router, unsigned port) const { return router + m_port_step[port]; }
  /// dor_port in the route class `cls` (0 XY, 1 YX).
  unsigned route_port(unsigned router, uint16_t dest, uint8_t cls) const {
    return dor_port_xy(m_col[router], m_row[router], m_col[dest], m_row[dest], cls != 0);
  }
  /// Route computation of the head (of packet `route`, `size` flits) at the front of input VC
  /// `in`, starting in cycle `start`: on
  /// arrival (push_flit, an empty VC) or when the head reaches the front of its VC (step_router).
  void route_head(unsigned router, InVc& in, uint32_t route, uint16_t size, uint64_t start);
  void step_router(unsigned router);
  void inject(unsigned node);
  void push_flit(unsigned router, unsigned port, unsigned vc, uint32_t route, uint16_t idx, uint16_t size,
                 uint64_t ready);
  void pop_flits(unsigned router, unsigned port, unsigned vc, InVc& in);
  void deliver(uint32_t route, uint16_t idx, uint16_t size, unsigned dest_node, uint64_t at);
  /// One credit returns to output VC `ovc`; with wait_for_tail_credit the last one frees the VC.
  void return_credit(uint32_t ovc);
  /// The tail of a packet has left through output VC `ovc`.
  void tail_sent(size_t ovc);
  void due_credit(uint64_t at, size_t ovc) {
    m_credit_wheel[at & m_credit_mask].push_back(uint32_t(ovc));
    ++m_credits_due;
  }
  /// Router `r` may act in cycle `t` (> now: the wake wheel; = now: this cycle's visit set).
  void wake(unsigned r, uint64_t t) {
    if (t <= m_now) {
      m_active.insert(r);
      return;
    }
    m_wake_wheel[t & m_wake_mask].push_back(r);
    ++m_wakes_due;
  }
  /// A timer of the router being visited expires at `t`: it must be visited again by then.
  void wake_by(uint64_t t) { m_step_wake = std::min(m_step_wake, t); }
  /// Output VC `v` of port `p` at router `r` (p < 6) is free.
  bool ovc_free(unsigned r, unsigned p, unsigned v) const { return m_ovc_free[size_t(r) * 6 + p] >> v & 1; }
  void set_ovc_busy(size_t oi);
  void set_ovc_free(size_t oi);
  /// The first cycle ≥ now in which something may happen: a router wakes, a credit falls due,
  /// a message is created or a source has a packet queued; kNever if none.
  uint64_t next_event() const;
  /// The watchdog: throws if flits sit in routers without moving until some cycle before `upto`.
  void check_stall(uint64_t upto) const;
  bool vc_class_ok(uint8_t cls, unsigned vc) const;  ///< o1turn: XY packets on the low VCs, YX on the high
  /// A packet of `size` flits may take output VC `ovc` (a multicast one needs room for all of it).
  bool may_take(bool unicast, unsigned size, size_t ovc) const;
  /// Whether branch `b` of routed input VC `in` (index `i`, at `router`) can send its next flit
  /// this cycle; when a timer (the stage's end, the flit's arrival) holds it, wake_by that cycle.
  bool ready_flit(unsigned router, size_t i, const InVc& in, unsigned b);
  /// Position `k` < 2·buf_depth of a ring buffer, wrapped.
  uint32_t ring(uint32_t k) const { return k >= m_cfg.buf_depth ? k - m_cfg.buf_depth : k; }
  void va_allocate(unsigned router);
  /// The free output VCs of requester `e`'s port at router `r` that it may take (class, room).
  uint64_t va_takes(unsigned r, const VaReq& e) const;
  /// Requester `e` accepts one of the output VCs in `granted`, round-robin from its pointer.
  void va_accept(unsigned r, VaReq& e, uint64_t granted);
  /// Branch `b` of input VC `i` at `router`, just routed, requests an output VC.
  void va_request(unsigned router, size_t i, unsigned b);
  void sa_allocate(unsigned router);
  /// Branch `b` of input VC `i` (input port `p`) at router `r`, granted output `o`, sends its next flit.
  void sa_send(unsigned r, size_t i, unsigned b, unsigned o, unsigned p);

  NocConfig m_cfg;
  uint64_t m_now = 0;
  Sink m_sink;
  NocCounters m_cnt;
  std::vector<InVc> m_in;
  std::vector<Branch> m_more_br;  ///< per input VC, its branches 1 … kMaxBranches − 1 (multicast only)
  std::vector<Flit> m_buf;        ///< ring buffers, buf_depth per input VC
  /// Free output VCs, a bit per VC, per router and port (6 ports: 5 + injection; port 0 is
  /// the ejection NI).
  std::vector<uint64_t> m_ovc_free;
  std::vector<uint8_t> m_ovc_tail;  ///< the VC's tail has left; waiting for its credit
  std::vector<int16_t> m_credits;   ///< per output VC (buf_depth ≤ 1024)
  /// Event-driven visits. A router is visited in a cycle only if it is in m_active then:
  /// woken by a flit's arrival (at its ready cycle), a credit's return, its own timers
  /// (a head's route computation, a stage's end), a branch joining an allocator's requesters
  /// (m_va_wheel, m_sa_wheel), or because it acted in the cycle before.
  IdSet m_active;                                   ///< routers to visit this cycle
  std::vector<std::vector<uint32_t>> m_wake_wheel;  ///< routers to visit, by cycle & m_wake_mask
  uint64_t m_wake_mask = 0, m_wakes_due = 0, m_credits_due = 0;
  uint64_t m_step_wake = 0;   ///< the visited router's next timer (kNever: none)
  bool m_step_acted = false;  ///< the visited router changed state this cycle
  IdSet m_busy_sources;       ///< sources with a packet in their queue
  RouterSet m_rc_wait;        ///< input VCs holding flits, not routed
  /// Routed input VCs by what they wait for, so each allocator visits only its requesters:
  RouterSet m_sa_req;  ///< a branch holding an output VC (switch allocation)
  /// Per router: its routed branches without an output VC whose VC allocation stage has
  /// begun, the VC allocator's requesters, in no particular order (a grant depends on ids, not
  /// on places), kept as heads become requesters and VCs are granted so that an allocation
  /// reads one short list of requesters that may all be granted.
  std::vector<std::vector<VaReq>> m_va_list;
  /// Requesters join their allocator's list or set in the cycle their stage begins, not when
  /// they are made, so that no visit before then reads them (each wakes its router then):
  /// branches just routed, by the cycle their VC allocation begins (& m_wake_mask), and input
  /// VCs (router, pv) a branch of which was just granted an output VC, by the cycle its switch
  /// allocation begins. A stage of zero cycles joins at once.
  std::vector<std::vector<VaDue>> m_va_wheel;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> m_sa_wheel;
  uint64_t m_va_due = 0, m_sa_due = 0;
  /// Per router: the first cycle its VC allocation can grant anything (0: now).
  std::vector<uint64_t> m_va_at;
  std::vector<uint64_t> m_va_granted;   ///< va_allocate's grants and takes per requester, where ports are shared
  std::vector<uint8_t> m_port_scratch;  ///< route_head: each destination's output port
  std::vector<uint16_t> m_col, m_row;   ///< each node's coordinates
  uint32_t m_port_step[kPorts] = {0, 0, 0, 0, 0};  ///< port_step of each port, for neighbour
  uint64_t m_class_vcs[2] = {0, 0};                ///< the VCs of each route class (vc_class_ok as masks)
  /// Per input VC of a router (p·V + v): its VC v and port p, and its crossbar input p·speedup + v mod speedup.
  std::vector<uint8_t> m_vc_of_pv, m_port_of_pv;
  std::vector<uint16_t> m_xbar_of_pv;
  /// iSLIP pointers. Switch: grant per output over crossbar inputs, accept per crossbar input
  /// over outputs, and the VC (branch) a crossbar input offers. VC allocation: grant per output
  /// VC over input-VC branches, accept per input-VC branch over output VCs.
  std::vector<uint32_t> m_sw_grant, m_sw_accept, m_sw_vc;
  std::vector<uint16_t> m_va_grant;                   ///< < kPorts · 64 · kPorts
  std::vector<uint8_t> m_va_accept;                   ///< < vcs ≤ 64
  std::vector<std::vector<uint32_t>> m_credit_wheel;  ///< credits due, by cycle & m_credit_mask
  uint64_t m_credit_mask = 0;
  std::vector<Route> m_routes;
  std::vector<uint32_t> m_free_routes;
  std::vector<Msg> m_msgs;
  std::vector<uint32_t> m_free_msgs;
  std::vector<SourceQ> m_src;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> m_future;
  uint64_t m_flits_in_routers = 0, m_queued_msgs = 0;
  uint32_t m_seq = 0;
  uint64_t m_last_arrival = 0, m_progress = 0;
  uint64_t m_rng_state;
};

}  // namespace bpsim::mesh
