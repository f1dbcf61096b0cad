#include "models/traffic/traffic.h"

#include <cmath>

using namespace sc_core;

namespace bpsim::traffic {

TrafficGenerator::TrafficGenerator(sc_module_name name, const TrafficSpec& spec, memory::DramSystem& dram)
    : ModelShell(name, &dram), socket("socket"), m_spec(spec), m_dram(dram), m_rng(spec.seed) {
  socket.register_nb_transport_bw(this, &TrafficGenerator::nb_transport_bw);
  socket.bind(dram.socket);
  // More requests in flight than the controller queues hold, so a saturating rate keeps
  // every queue full.
  const size_t pool = size_t(dram.spec().channels) * dram.spec().queue_depth + 4;
  m_pool.reset(new tlm::tlm_generic_payload[pool]);
  m_sent_at.resize(pool);
  for (size_t i = pool; i-- > 0;) m_free.push_back(i);
  register_stats();
}

uint64_t TrafficGenerator::next_address(uint64_t i) {
  const uint64_t bb = m_dram.spec().burst_bytes(), cap = m_dram.capacity_bytes();
  if (m_spec.random) return (m_rng() % (cap / bb)) * bb;
  return (m_spec.base + i * bb) % cap;
}

void TrafficGenerator::process() {
  static unsigned char scratch[64];  // payload data is not modelled; the pointer must be valid
  const uint64_t bb = m_dram.spec().burst_bytes();
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  for (uint64_t i = 0; i < m_spec.requests; ++i) {
    if (m_spec.rate_per_ns > 0) {
      const sc_time due(double(i) / m_spec.rate_per_ns, SC_NS);
      if (due > sc_time_stamp()) wait(due - sc_time_stamp());
    }
    while (m_free.empty()) wait(m_response);
    while (m_waiting_end_req) wait(m_end_req);
    const size_t idx = m_free.back();
    m_free.pop_back();
    tlm::tlm_generic_payload& p = m_pool[idx];
    const uint64_t addr = next_address(i);
    const bool read = m_spec.read_fraction >= 1.0 || coin(m_rng) < m_spec.read_fraction;
    p.set_command(read ? tlm::TLM_READ_COMMAND : tlm::TLM_WRITE_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(scratch);
    p.set_data_length(static_cast<unsigned>(bb));
    p.set_streaming_width(static_cast<unsigned>(bb));
    p.set_byte_enable_ptr(nullptr);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    m_sent_at[idx] = sc_time_stamp();
    tlm::tlm_phase ph = tlm::BEGIN_REQ;
    sc_time delay = SC_ZERO_TIME;
    const tlm::tlm_sync_enum s = socket->nb_transport_fw(p, ph, delay);
    if (s == tlm::TLM_ACCEPTED) m_waiting_end_req = true;  // END_REQ comes later: back-pressure
  }
  while (m_completed < m_spec.requests) wait(m_response);
  m_dram.settle();

  const double ns = sc_time_stamp().to_seconds() * 1e9;
  const memory::DdrCounters& c = m_dram.counters();
  OpRecord r;  // the whole run; the shell adds its DRAM bytes and commands
  r.name = m_spec.random ? "traffic.random" : "traffic.stream";
  r.phase = "forward";
  r.kind = "traffic";
  r.cycles = static_cast<uint64_t>(std::ceil(ns / m_dram.spec().tck_ns - 1e-6));
  const uint64_t served = c.row_hits + c.row_misses + c.row_conflicts;
  r.extra = {{"achieved_bandwidth_gbps", ns > 0 ? double(c.read_bytes + c.write_bytes) / ns : 0.0},
             {"avg_latency_ns", m_completed ? m_latency_ns_sum / double(m_completed) : 0.0},
             {"controller_latency_ns",
              c.requests ? double(c.latency_cycles) / double(c.requests) * m_dram.spec().tck_ns : 0.0},
             {"row_hit_rate", served ? double(c.row_hits) / double(served) : 0.0}};
  finish_op(std::move(r));
}

tlm::tlm_sync_enum TrafficGenerator::nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& ph, sc_time&) {
  if (ph == tlm::END_REQ) {
    m_waiting_end_req = false;
    m_end_req.notify(SC_ZERO_TIME);
    return tlm::TLM_ACCEPTED;
  }
  if (ph == tlm::BEGIN_RESP) {
    const size_t idx = static_cast<size_t>(&p - m_pool.get());
    m_latency_ns_sum += (sc_time_stamp() - m_sent_at[idx]).to_seconds() * 1e9;
    ++m_completed;
    m_free.push_back(idx);
    m_response.notify(SC_ZERO_TIME);
    return tlm::TLM_COMPLETED;
  }
  return tlm::TLM_ACCEPTED;
}

// It drives the DRAM model (its kind declares MemoryUse::dram) and builds nothing else.
std::vector<LeakingPart> TrafficGenerator::leaking_parts() const { return {}; }

void TrafficGenerator::register_stats() {
  m_stats.add("requests", m_completed, "requests completed");
  m_stats.formula(
      "avg_latency_ns", [this] { return m_completed ? m_latency_ns_sum / double(m_completed) : 0.0; },
      "mean time from sending a request to its response, queueing included");
  m_stats.formula(
      "end_cycles", [this] { return total_cycles(); }, "DRAM cycles until the last response");
}

}  // namespace bpsim::traffic
