#include "sim/memory/dram_system.h"

#include <algorithm>
#include <cmath>

#include "sim/core/stats.h"

using namespace sc_core;

namespace bpsim::memory {

DdrEnergy DdrEnergy::from(const DdrSpec& s) {
  // DRAMPower's command energies (docs/references.md): mA × V × ns = pJ, per device,
  // times the devices that share one command in a rank.
  const double dev = s.devices_per_rank(), v = s.vdd, t = s.tck_ns;
  DdrEnergy e;
  e.act_pj = dev * v * (s.idd0 - s.idd3n) * s.tras * t;
  e.pre_pj = dev * v * (s.idd0 - s.idd2n) * s.trp * t;
  e.rd_pj = dev * v * (s.idd4r - s.idd3n) * s.tbl * t;
  e.wr_pj = dev * v * (s.idd4w - s.idd3n) * s.tbl * t;
  e.ref_pj = dev * v * (s.idd5b - s.idd3n) * s.trfc * t;
  // Background: active standby (IDD3N) of every device, a conservative bound (IDD2N when
  // all banks are closed is lower).
  e.background_mw = dev * s.ranks * s.channels * v * s.idd3n;
  return e;
}

DramSystem::DramSystem(sc_module_name name, const DdrSpec& spec)
    : sc_module(name), socket("socket"), m_spec(spec), m_mapper(spec), m_tck(spec.tck_ns, SC_NS) {
  for (unsigned c = 0; c < spec.channels; ++c) m_channels.push_back(std::make_unique<DdrChannel>(m_spec, m_counters));
  socket.register_nb_transport_fw(this, &DramSystem::nb_transport_fw);
  register_stats();
  SC_METHOD(scheduler);
}

void DramSystem::register_stats() {
  const DdrCounters& c = m_counters;
  StatGroup& g = m_stats;
  g.add("act_count", c.act, "row activations");
  g.add("pre_count", c.pre, "precharges");
  g.add("rd_count", c.rd, "read bursts");
  g.add("wr_count", c.wr, "write bursts");
  g.formula(
      "ref_count", [this] { return m_counters.ref + m_bulk_refs; }, "refresh commands (per rank)");
  g.add("read_bytes", c.read_bytes, "bytes read over the DRAM interface");
  g.add("write_bytes", c.write_bytes, "bytes written over the DRAM interface");
  g.add("row_hits", c.row_hits, "requests served from an open row (detailed path)");
  g.add("row_misses", c.row_misses, "requests that opened a row in a closed bank (detailed path)");
  g.add("row_conflicts", c.row_conflicts, "requests that closed another row first (detailed path)");
  g.formula(
      "avg_latency_cycles", [&c] { return c.requests ? double(c.latency_cycles) / double(c.requests) : 0.0; },
      "mean cycles from acceptance by the controller to the last data beat");
  g.add("queue_full_stall_cycles", c.queue_full_cycles,
        "cycles requests waited at the socket for controller queue space (detailed path)");
  g.set("capacity_bytes", m_spec.capacity_bytes(), "device capacity");
  g.set("peak_bandwidth_bytes_per_s", m_spec.peak_bytes_per_s(), "one burst per tBL per channel");
}

uint64_t DramSystem::now_cycle() const {
  return static_cast<uint64_t>(std::ceil(sc_time_stamp().to_seconds() * 1e9 / m_spec.tck_ns - 1e-6));
}

tlm::tlm_sync_enum DramSystem::nb_transport_fw(tlm::tlm_generic_payload& p, tlm::tlm_phase& ph, sc_time&) {
  if (ph == tlm::END_RESP) return tlm::TLM_COMPLETED;
  if (ph != tlm::BEGIN_REQ) {
    p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return tlm::TLM_COMPLETED;
  }
  const DdrAddress a = m_mapper.decode(p.get_address());
  DdrChannel& ch = *m_channels[a.channel];
  if (!m_blocked.empty() || ch.full()) {
    m_blocked.emplace_back(&p, now_cycle());  // END_REQ follows when the queue has room
    return tlm::TLM_ACCEPTED;
  }
  const uint64_t now = now_cycle();
  if (ch.idle()) ch.idle_until(now);
  ch.enqueue(DdrRequest{admit(&p), p.get_address(), p.is_write(), now, a});
  // A sleeping scheduler is woken where this request moves its next decision (as if it
  // had looked again now); while it is due at this instant it sees the request anyway.
  const sc_time t = sc_time_stamp();
  if (m_wake_time > t) {
    if (t >= m_hold_until) {  // past the cycle of the last issue: look again from here
      m_anchor_time = t;
      m_anchor_cycle = now;
    }
    const sc_time w = wake_time();
    if (w != m_wake_time) {
      m_wake_time = w;
      m_new_request.notify();
    }
  }
  ph = tlm::END_REQ;
  return tlm::TLM_UPDATED;
}

uint64_t DramSystem::admit(tlm::tlm_generic_payload* p) {
  if (m_free_ids.empty()) {
    m_by_id.push_back(p);
    return m_by_id.size() - 1;
  }
  const uint64_t id = m_free_ids.back();
  m_free_ids.pop_back();
  m_by_id[id] = p;
  return id;
}

uint64_t DramSystem::next_decision(uint64_t from) const {
  uint64_t next = UINT64_MAX;
  for (const auto& ch : m_channels) next = std::min(next, ch->next_issue(from, from));
  return next;
}

sc_time DramSystem::wake_time() const {
  const uint64_t next = next_decision(std::max(m_anchor_cycle, m_floor));
  if (next == UINT64_MAX) return sc_max_time();
  return m_anchor_time + m_tck * double(next - m_anchor_cycle);
}

void DramSystem::scheduler() {
  std::vector<DdrCompletion>& done = m_done;
  {  // one activation: an SC_METHOD, so a wake-up costs a call, not a thread switch
    // Responses due now go out first (BEGIN_RESP): an initiator may answer with a request.
    while (!m_responses.empty() && response_time() <= sc_time_stamp()) {
      tlm::tlm_generic_payload* p = m_responses.top().p;
      m_responses.pop();
      p->set_response_status(tlm::TLM_OK_RESPONSE);
      tlm::tlm_phase ph = tlm::BEGIN_RESP;
      sc_time delay = SC_ZERO_TIME;
      socket->nb_transport_bw(*p, ph, delay);
    }
    // The tie rule: a request that arrives at an instant is seen by the decision made at
    // that instant. The decision waits until no other process is due now (every initiator
    // has sent what it sends now), whatever order the kernel released them in. Requests
    // the decision itself lets in (END_REQ below) come after it: they are decided next cycle.
    if (sc_pending_activity_at_current_time()) {
      next_trigger(SC_ZERO_TIME);
      return;
    }
    const sc_time t = sc_time_stamp();
    if (t >= m_wake_time) {  // due (else a response was, or an arrival moved the wake-up)
      const uint64_t now = now_cycle();
      m_anchor_time = m_hold_until = t;
      m_anchor_cycle = now;
      if (now >= m_floor && next_decision(now) == now) {
        done.clear();
        for (auto& ch : m_channels) ch->issue(now, done);
        for (const auto& d : done) {
          const sc_time at(double(d.done) * m_spec.tck_ns * 1e-9, SC_SEC);
          m_responses.push({d.done, m_response_seq++, m_by_id[d.id], at});
          m_by_id[d.id] = nullptr;
          m_free_ids.push_back(d.id);
        }
        m_floor = now + 1;  // one command per channel per cycle
        m_hold_until = t + m_tck;
        while (!m_blocked.empty()) {  // admit refused requests in order while they fit
          auto [p, since] = m_blocked.front();
          const DdrAddress a = m_mapper.decode(p->get_address());
          DdrChannel& ch = *m_channels[a.channel];
          if (ch.full()) break;
          m_blocked.pop_front();
          m_counters.queue_full_cycles += now - since;
          ch.enqueue(DdrRequest{admit(p), p->get_address(), p->is_write(), now, a});
          tlm::tlm_phase ph = tlm::END_REQ;
          sc_time delay = SC_ZERO_TIME;
          socket->nb_transport_bw(*p, ph, delay);
        }
      }
      m_wake_time = wake_time();
    }
    // One wait per decision (or response): straight to the next cycle a command can issue
    // at; a request that moves that cycle wakes this thread (nb_transport_fw).
    const sc_time until = std::min(m_wake_time, response_time());
    if (until == sc_max_time()) next_trigger(m_new_request);
    else next_trigger(until - t, m_new_request);
  }
}

void DramSystem::settle() {
  const uint64_t now = now_cycle();
  for (auto& ch : m_channels)
    if (ch->idle()) ch->idle_until(now);
}

uint64_t DramSystem::channel_cycles(uint64_t bursts, uint64_t acts, bool is_write) const {
  if (bursts == 0) return 0;
  // Column rate: one burst per max(tBL, tCCD); tCCD_S when the bank group changes between
  // consecutive bursts (Bg mapped below Co), tCCD_L otherwise.
  const auto& m = m_spec.mapping;
  const bool bg_below_co =
      std::find(m.begin(), m.end(), AddrField::bank_group) > std::find(m.begin(), m.end(), AddrField::column);
  const double per_burst = std::max<double>(m_spec.tbl, bg_below_co ? m_spec.tccd_s : m_spec.tccd_l);
  const double t_col = double(bursts) * per_burst;
  // Activation rate: tRRD_S apart and at most four per tFAW.
  const double t_act = double(acts) * std::max<double>(m_spec.trrd_s, m_spec.tfaw / 4.0);
  // Refresh takes tRFC out of every tREFI.
  const double refresh = double(m_spec.trefi) / double(m_spec.trefi - m_spec.trfc);
  const uint64_t first = m_spec.trcd + (is_write ? m_spec.cwl : m_spec.cl) + m_spec.tbl;
  return static_cast<uint64_t>(std::ceil(std::max(t_col, t_act) * refresh)) + first;
}

uint64_t DramSystem::transfer(uint64_t addr, uint64_t bytes, bool is_write, uint64_t issue_ps) {
  if (bytes == 0) return issue_ps;
  const double tck = tck_ps();
  const uint64_t issue = static_cast<uint64_t>(std::ceil(double(issue_ps) / tck));
  const uint64_t first = m_spec.trcd + (is_write ? m_spec.cwl : m_spec.cl) + m_spec.tbl;
  const uint64_t bb = m_spec.burst_bytes();
  const uint64_t bursts = (addr + bytes - 1) / bb - addr / bb + 1;
  const uint64_t acts = m_mapper.rows_touched(addr, bytes);
  if (m_bulk_free.empty()) m_bulk_free.assign(m_spec.channels, 0);
  uint64_t end = issue;
  for (unsigned c = 0; c < m_spec.channels; ++c) {
    const uint64_t bc = m_mapper.channel_bursts(addr, bytes, c);
    if (bc == 0) continue;
    const uint64_t start = std::max(issue, m_bulk_free[c]);
    const uint64_t done = start + channel_cycles(bc, channel_acts(acts, bc, bursts), is_write);
    m_bulk_free[c] = done - first;  // the next transfer's latency overlaps this one's tail
    end = std::max(end, done);
  }
  m_bulk_end = std::max(m_bulk_end, end);
  m_counters.act += acts;
  m_counters.pre += acts;  // every opened row is closed again
  (is_write ? m_counters.wr : m_counters.rd) += bursts;
  (is_write ? m_counters.write_bytes : m_counters.read_bytes) += bytes;
  m_counters.requests += bursts;
  m_counters.latency_cycles += bursts * first;
  return static_cast<uint64_t>(double(end) * tck);
}

ActionCounts DramSystem::take_actions() {
  // Refreshes the bulk path's elapsed time implies, per rank.
  const uint64_t refs = m_bulk_end / m_spec.trefi * m_spec.ranks * m_spec.channels;
  m_bulk_refs = std::max(m_bulk_refs, refs);
  const DramActions& a = dram_actions();
  const Action* const actions[] = {&a.act, &a.pre, &a.rd_burst, &a.wr_burst, &a.ref};
  const uint64_t total[] = {m_counters.act, m_counters.pre, m_counters.rd, m_counters.wr, m_counters.ref + m_bulk_refs};
  ActionCounts delta;  // only what changed: a zero count prices nothing
  for (size_t i = 0; i < std::size(actions); ++i) {
    if (total[i] != m_taken[i]) delta[*actions[i]] = total[i] - m_taken[i];
    m_taken[i] = total[i];
  }
  return delta;
}

}  // namespace bpsim::memory
