#pragma once
/// The flow-level mesh network (`noc.model: flow`): each message follows the same
/// dimension-order tree as in the flit-level Network, but instead of moving flits through
/// buffers cycle by cycle it reserves, router by router in order of arrival, the resources
/// that serialise it there — the source's injection channel, the input VC and crossbar
/// input it leaves by, an output VC and the output link or the ejection channel — as a whole
/// packet — and, like the flit-level routers, it cannot send into a VC whose downstream buffer
/// has no credit: a head whose credits are decided by a router downstream that has not yet
/// routed the packet ahead is decided again once it has. Cost is about one event per router a
/// message's tree visits, independent of cycles. Counters are exact; timing is exact without
/// contention and an approximation with it (docs/mesh.md, "Flow-level mode"). Consecutive
/// identical messages from one source (a training step's firings along a row) travel as one
/// run, one event per router for the lot, spaced as the flit-level network sends them.
#include <cstdint>
#include <queue>
#include <vector>

#include "models/mesh/noc.h"
#include "models/mesh/noc_model.h"

namespace bpsim::mesh {

class FlowNetwork : public NocModel {
 public:
  FlowNetwork(const NocConfig& cfg, uint64_t seed);
  void set_sink(Sink s) override { m_sink = std::move(s); }
  void send(uint32_t src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create, uint32_t tag) override;
  void run_until(uint64_t t) override;
  uint64_t drain() override;
  uint64_t now() const override { return m_now; }
  const NocCounters& counters() const override { return m_cnt; }
  unsigned hops(unsigned a, unsigned b) const override;

 private:
  /// A run of `count` identical messages (same source, destinations, size and tag, created
  /// `step` cycles apart, sent one after the other) travels as one packet: it holds each link
  /// for its `flits` = count × msg_flits flits, each crossbar input for as long as its
  /// messages' VC turnarounds take (run_span, shared by a multicast's branches), and its
  /// messages' tails arrive spread as back-to-back packets' would (see run_offsets).
  struct Packet {
    uint64_t serial = 0;  ///< 1, 2, … in order of sending: unlike its index, never reused
    uint64_t create = 0;
    uint32_t tag = 0, src = 0;
    uint32_t live = 0;  ///< events still referring to it
    uint32_t count = 1, step = 0, flits = 0;
    uint16_t msg_flits = 0;
    uint64_t delay = 0;           ///< cycles the first message waited at the source past its creation
    uint8_t cls = 0;              ///< 0: XY order, 1: YX order (o1turn class)
    std::vector<uint16_t> dests;  ///< distinct, sorted so that every subtree is a contiguous range
  };
  enum class Kind : uint8_t { inject, head, deliver };
  /// At `time`: the packet enters its source queue (inject), its head is in input VC `vc` of
  /// `router`'s input `port`, bound for dests[lo, hi) (head), or its tail reaches dests[lo]
  /// (deliver). A head or injection that cannot be decided yet is processed again later
  /// (`time` moves, `arrived` stays); `slot` is the upstream credit slot of its first flit;
  /// `fan`: the most branches the tree had at a router on the way (a run's messages leave a
  /// branching router at least fan × msg_flits cycles apart: the crossbar input sends each
  /// branch's flits in turn).
  struct Event {
    uint64_t time, seq, arrived;
    uint32_t pkt, lo, hi, router;
    Kind kind;
    uint8_t port, vc, fan;
    uint16_t slot;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  /// Moves the earliest event (a pending injection or a queued event) into `e`.
  bool next_event(uint64_t before, Event& e);
  void push(const Event& e);
  void push(uint64_t time, uint32_t pkt, uint32_t lo, uint32_t hi, uint32_t router, Kind kind, unsigned port = 0,
            unsigned vc = 0, unsigned slot = 0, unsigned fan = 1);
  void process(const Event& e);
  void route(const Event& e);
  void inject(const Event& e);
  void release(uint32_t pkt);
  /// Switch grants of a run's messages relative to the first, as back-to-back packets get
  /// them on an idle path of the flit-level network (docs/mesh.md, "Runs"): into `g`.
  /// `fan`: see Event.
  void run_offsets(const Packet& p, unsigned fan, std::vector<uint64_t>& g) const;
  /// Cycles a run of `n` messages of `F` flits (× `fan` branches) takes through a crossbar
  /// input: from the first message's switch grant to the last one's tail, creation times aside.
  uint64_t run_span(uint64_t n, uint64_t F, unsigned fan, uint8_t cls) const;
  /// Can `p` take one more message created at `create`? (Runs are batched only where the
  /// spacing rule holds.)
  bool extends(const Packet& p, unsigned src, const std::vector<uint16_t>& dests, unsigned flits, uint64_t create,
               uint32_t tag) const;

  /// First VC and VC count of a packet's class (o1turn splits the VCs between XY and YX).
  std::pair<unsigned, unsigned> vc_class(uint8_t cls) const;
  /// Output VCs: per router × 6 ports (0 ejection, 1–4 links, 5 the network interface's VCs
  /// into the router's local input) × VC.
  size_t ovc_index(unsigned router, unsigned port, unsigned vc) const {
    return (size_t(router) * 6 + port) * m_cfg.vcs + vc;
  }
  /// The output VC that feeds input VC `vc` of `router`'s input `port`.
  size_t upstream_ovc(unsigned router, unsigned port, unsigned vc) const;
  /// When output VC `o` can serve a packet of `flits` flits allocated no earlier than
  /// `alloc`: the earliest cycle its head can be sent (`stage` cycles after allocation, and
  /// flit i no earlier than its credit), or, when `pending`, the cycle at which what it
  /// waits for is decided downstream. `whole`: credits for the whole packet at allocation.
  struct Avail {
    uint64_t t;
    bool pending;
  };
  Avail avail(size_t o, uint64_t alloc, unsigned stage, unsigned flits, bool whole) const;
  /// Extends output VC `o`'s summary of its credit slots (m_sum_*) to its first `n` slots.
  void summarise(size_t o, unsigned n) const;
  /// Output VC `o`'s credit slots or next slot changed: its summary starts again.
  void stale(size_t o) { m_sum_len[o] = 0, m_sum_first[o] = kNoPending; }
  /// Picks the output VC of `port` (class `cls`) that serves the packet first, round-robin
  /// from requester pointer `rr` among equals; false (and `retry`) when a VC still to be
  /// decided might serve it earlier.
  bool pick_vc(size_t rr, unsigned router, unsigned port, uint8_t cls, uint64_t alloc, unsigned stage, unsigned flits,
               bool whole, unsigned& vc, uint64_t& t, uint64_t& retry) const;
  /// Commits VC `vc` of `port` to a packet of `flits` flits: its credit slots and pointer `rr` move on.
  void take_vc(size_t rr, unsigned router, unsigned port, unsigned vc, unsigned flits);
  /// Output VC `o` sent `flits` flits from credit slot `slot` on whose credits (and, with
  /// wait_for_tail_credit, the VC's release) are decided at `resolve`.
  /// `resolve` is a cycle, or kQueue | a queue whose front's next decision decides it.
  void mark_pending(size_t o, unsigned slot, unsigned flits, uint64_t resolve);
  /// Output VC `o`'s credit slots for a packet of `flits` flits from credit slot `slot`: flit
  /// i's becomes first + step·i. Every credit write goes through it: it marks the VC's
  /// summary stale.
  void write_credits(size_t o, unsigned slot, unsigned flits, uint64_t first, uint64_t step);
  /// The earliest cycle the packet's head can be sent so that its flit i, whose credit is
  /// usable from cycle c, sends no earlier than c (avail and summarise fold it over the slots).
  static uint64_t send_bound(uint64_t c, unsigned i) { return c > i ? c - i : 0; }
  /// The cycle at which pending value `v` is decided (no earlier).
  uint64_t resolve_at(uint64_t v) const { return v & kQueue ? m_front_at[v & ~(kPending | kQueue)] : v & ~kPending; }
  /// The packet's flits left input VC (router, port, vc) from cycle `dep` on: credits back upstream.
  void credit_back(unsigned router, unsigned port, unsigned vc, unsigned slot, unsigned flits, uint64_t dep);
  /// Sends `e`, the front of its input VC (or source) queue, again at `retry`; the packets
  /// queued behind it wait for it.
  void defer(const Event& e, uint64_t retry);
  /// Index of the queue `e` waits in: its input VC, or its source for an injection.
  size_t queue_of(const Event& e) const;
  /// `e` arrived behind a front still to be decided: it waits in that queue, in order.
  void enqueue(const Event& e, size_t q);
  /// The front of queue `q` has been decided at `now`: the next waiting packet is decided now.
  void next_front(size_t q, uint64_t now);

  NocConfig m_cfg;
  uint64_t m_now = 0, m_last_arrival = 0, m_seq = 0;
  Sink m_sink;
  NocCounters m_cnt;
  std::vector<Packet> m_pkts;
  std::vector<uint32_t> m_free_pkts;
  /// Events within kWheel cycles of m_cur, by cycle mod kWheel, each bucket in push (= seq)
  /// order; later ones wait in m_far and move in as the cursor approaches them (before any
  /// event of their cycle can be pushed directly, so buckets stay in seq order). The order
  /// does not depend on kWheel; its size does the speed: each bucket keeps its capacity, and
  /// with 4,096 buckets each was revisited 4,096 cycles after its last use, cold (LeNet-5 step
  /// ×0.81 CPU at 256, docs/mesh.md).
  static constexpr uint64_t kWheel = 256;
  std::vector<std::vector<Event>> m_wheel;
  uint64_t m_cur = 0, m_in_wheel = 0;
  size_t m_pos = 0;  ///< next event of the cursor's bucket
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> m_far;
  void migrate();
  /// Injections not yet processed, kept out of the heap (a layer sends all its messages at
  /// once): sorted by (time, seq) from m_inj_head on when m_inj_sorted.
  std::vector<Event> m_inj;
  size_t m_inj_head = 0;
  bool m_inj_sorted = true;
  std::vector<uint64_t> m_inj_free;  ///< per node: cycle its injection channel takes the next packet
  /// Cycles a channel is reserved, as sorted disjoint [begin, end) runs: a packet takes the
  /// first free run long enough, so one held back elsewhere does not block packets behind it
  /// that could pass (other VCs), as a busy-until time would.
  class Calendar {
   public:
    /// First t ≥ `from` with [t, t + len) free; forgets runs that end by `now`.
    uint64_t first_free(uint64_t from, uint64_t len, uint64_t now);
    void reserve(uint64_t t, uint64_t len);

   private:
    std::vector<std::pair<uint64_t, uint64_t>> m_busy;
    size_t m_head = 0;  ///< runs before it have ended
  };
  std::vector<Calendar> m_link;  ///< per router × output port (0: ejection)
  /// Per output VC: the cycle it can be allocated again, or kPending | the cycle at which
  /// that is decided (wait_for_tail_credit: when the tail leaves the downstream buffer).
  std::vector<uint64_t> m_vc_free;
  /// Per output VC: its next flit's credit slot (< buf_depth), its flits sent mod buf_depth.
  std::vector<uint32_t> m_vc_slot;
  /// Per output VC × buf_depth: the cycle the slot's credit is usable, or kPending | the
  /// cycle at which the downstream router decides when its flit leaves.
  std::vector<uint64_t> m_credit;
  /// Per output VC, what avail has read of its credit slots in the order its next flits use
  /// them (from m_vc_slot on): how many leading slots are summarised, the offset of the first
  /// pending one among them (kNoPending: none) and its value; per offset i before it, the
  /// largest credit of slots 0..i and the largest credit − its offset.
  static constexpr uint32_t kNoPending = UINT32_MAX;
  /// Packets of fewer flits read their slots directly: single-flit traffic changes a VC's
  /// slots more often than it reads them (docs/mesh.md, "Re-tries made cheaper").
  static constexpr unsigned kSummaryFrom = 3;
  mutable std::vector<uint32_t> m_sum_first, m_sum_len;
  mutable std::vector<uint64_t> m_sum_raw, m_sum_max_c, m_sum_max_sa;
  /// VC a requester's round-robin search starts at: per input VC × branch (router × input
  /// port × VC × branch), then per network interface.
  std::vector<uint32_t> m_vc_rr;
  std::vector<uint64_t> m_in_free;  ///< per router × input port × VC: cycle its next packet can be routed
  /// Per input VC: the last head whose route it computed (its packet's serial, its
  /// destinations [lo, hi)) and their split by output port, for that head's next tries.
  struct Split {
    uint64_t serial = 0;
    uint32_t lo = 0, hi = 0;
    uint8_t ports = 0;  ///< the output ports with destinations (port_hi != 0), a bit each
    uint32_t port_lo[5], port_hi[5];
  };
  std::vector<Split> m_split;
  uint64_t m_serial = 0;  ///< the last packet's serial
  /// Per input VC (and per source, index nodes·5·vcs + node): the packet at its front that
  /// waits to be decided, which the packets behind it do not pass.
  std::vector<uint32_t> m_front;
  std::vector<uint64_t> m_front_at;  ///< the cycle that packet is decided again
  /// Packets waiting behind a front, a singly linked FIFO per queue through m_waiting.
  struct Waiting {
    Event e;
    uint32_t next;
  };
  std::vector<Waiting> m_waiting;
  std::vector<uint32_t> m_free_waiting, m_wait_head, m_wait_tail;
  std::vector<Calendar> m_input;  ///< per router × input port: its crossbar input, one flit per cycle
  uint64_t m_rng_state;
  /// Runs: whether the configuration allows them, the per-VC turnaround (cycles between the
  /// switch grants of two packets through one VC), the packet still open to more messages of
  /// its run (not yet injected), and that run's destinations as sent.
  bool m_runs = false;
  uint32_t m_open = UINT32_MAX;
  std::vector<uint16_t> m_open_dests;
  mutable std::vector<uint64_t> m_offsets;
  static constexpr uint64_t kPending = uint64_t(1) << 63;
  static constexpr uint64_t kQueue = uint64_t(1) << 62;
  static constexpr uint32_t kNone = UINT32_MAX;
};

}  // namespace bpsim::mesh
