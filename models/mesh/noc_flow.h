#pragma once
/// The flow-level mesh network (`noc.model: flow`): each message follows the same
/// dimension-order tree as in the flit-level Network, but instead of moving flits through
/// buffers cycle by cycle it reserves, router by router in order of arrival, the resources
/// that serialise it there — the source's injection channel, the input VC and crossbar
/// input it leaves by, an output VC and the output link or the ejection channel — as a whole
/// packet. Cost is one event per router a message's tree visits, independent of cycles.
/// Counters are exact; timing is exact without contention and an infinite-buffer FCFS
/// approximation with it (docs/mesh.md, "Flow-level mode").
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
  struct Packet {
    uint64_t create = 0;
    uint32_t tag = 0, src = 0;
    uint32_t live = 0;  ///< events still referring to it
    uint16_t flits = 0;
    uint8_t cls = 0;              ///< 0: XY order, 1: YX order (o1turn class)
    std::vector<uint16_t> dests;  ///< distinct, sorted so that every subtree is a contiguous range
  };
  enum class Kind : uint8_t { inject, head, deliver };
  /// At `time`: the packet enters its source queue (inject), its head is in input VC `vc` of
  /// `router`'s input `port`, bound for dests[lo, hi) (head), or its tail reaches dests[lo] (deliver).
  struct Event {
    uint64_t time, seq;
    uint32_t pkt, lo, hi, router;
    Kind kind;
    uint8_t port, vc;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  /// Moves the earliest event (a pending injection or a queued event) into `e`.
  bool next_event(uint64_t before, Event& e);
  void push(uint64_t time, uint32_t pkt, uint32_t lo, uint32_t hi, uint32_t router, Kind kind, unsigned port = 0,
            unsigned vc = 0);
  void process(const Event& e);
  void route(const Event& e);
  void release(uint32_t pkt);

  /// First VC and VC count of a packet's class (o1turn splits the VCs between XY and YX).
  std::pair<unsigned, unsigned> vc_class(uint8_t cls) const;

  NocConfig m_cfg;
  uint64_t m_now = 0, m_last_arrival = 0, m_seq = 0;
  Sink m_sink;
  NocCounters m_cnt;
  std::vector<Packet> m_pkts;
  std::vector<uint32_t> m_free_pkts;
  /// Events within kWheel cycles of m_cur, by cycle mod kWheel, each bucket in push (= seq)
  /// order; later ones wait in m_far and move in as the cursor approaches them (before any
  /// event of their cycle can be pushed directly, so buckets stay in seq order).
  static constexpr uint64_t kWheel = 4096;
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
  std::vector<Calendar> m_link;     ///< per router × output port (0: ejection)
  std::vector<uint64_t> m_vc_free;  ///< per router × port 1..4 × VC: cycle the output VC can be allocated
  std::vector<uint64_t> m_in_free;  ///< per router × input port × VC: cycle its next packet can be routed
  std::vector<Calendar> m_input;    ///< per router × input port: its crossbar input, one flit per cycle
  uint64_t m_rng_state;
};

}  // namespace bpsim::mesh
