#include "sim/report/timeline_trace.h"

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <utility>

#include "sim/ir/liveness.h"
#include "sim/report/report.h"

namespace bpsim {

using json = nlohmann::json;

std::vector<const workload::Op*> graph_ops_of(const json& ops, const workload::OpGraph& g) {
  // The report's ops of each (name, phase), by start; the graph's, in graph order.
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<uint64_t, size_t>>> by_key;
  for (size_t i = 0; i < ops.size(); ++i)
    by_key[{ops[i]["name"].get<std::string>(), ops[i]["phase"].get<std::string>()}].emplace_back(
        ops[i]["start_cycle"].get<uint64_t>(), i);
  for (auto& [key, v] : by_key) std::stable_sort(v.begin(), v.end());
  std::vector<const workload::Op*> of(ops.size(), nullptr);
  std::map<std::pair<std::string, std::string>, size_t> seen;
  for (const workload::Op& o : g.ops) {
    const std::pair<std::string, std::string> key{o.name, workload::to_string(o.phase)};
    const auto it = by_key.find(key);
    const size_t nth = seen[key]++;
    if (it != by_key.end() && nth < it->second.size()) of[it->second[nth].second] = &o;
  }
  return of;
}

std::vector<std::optional<uint64_t>> live_bytes_by_op(const std::vector<const workload::Op*>& of,
                                                      const workload::OpGraph& g) {
  const std::vector<uint64_t> during = workload::memory_timeline(g);
  std::vector<std::optional<uint64_t>> live(of.size());
  for (size_t i = 0; i < of.size(); ++i)
    if (of[i]) live[i] = during[of[i]->id];
  return live;
}

OpTracks op_tracks(const json& ops) {
  OpTracks t;
  std::vector<uint64_t> free_at;  // per track: the end of its last op
  for (const json& o : ops) {
    const std::string phase = o["phase"].get<std::string>();
    const uint64_t start = o["start_cycle"].get<uint64_t>(), cycles = o["cycles"].get<uint64_t>();
    size_t k = 0, same_phase = 0;
    for (; k < t.names.size(); ++k) {
      if (t.phases[k] != phase) continue;
      ++same_phase;
      if (free_at[k] <= start) break;
    }
    if (k == t.names.size()) {
      t.names.push_back(same_phase ? phase + " (" + std::to_string(same_phase + 1) + ")" : phase);
      t.phases.push_back(phase);
      free_at.push_back(0);
    }
    free_at[k] = start + cycles;
    t.of_op.push_back(k);
  }
  return t;
}

namespace {

constexpr int kPid = 1;

/// A counter track: per op, the rate of each of its series while the op runs (0 for an op
/// with no cycles: its bytes take no time and show on no counter).
struct Counter {
  std::string name;
  std::vector<std::string> series;
  std::vector<std::vector<double>> per_op;  ///< [op][series]
};

uint64_t u64(const json& o, const char* key) { return o.contains(key) ? o[key].get<uint64_t>() : 0; }

/// Writes the trace's events one at a time, each as soon as it is made.
class EventWriter {
 public:
  explicit EventWriter(std::ostream& out) : m_out(out) {}
  void operator()(const json& event) {
    m_out << (m_first ? "" : ",") << event.dump();
    m_first = false;
  }

 private:
  std::ostream& m_out;
  bool m_first = true;
};

/// The counter's events: at every start or end of an op, the sum of the rates of the ops
/// running then (ops may overlap), 0 exactly when none runs.
void emit_counter(EventWriter& emit, const Counter& c, const json& ops, double us_per_cycle) {
  struct Edge {
    uint64_t cycle;
    size_t op;
    int sign;
  };
  std::vector<Edge> edges;
  for (size_t i = 0; i < ops.size(); ++i) {
    const uint64_t start = ops[i]["start_cycle"].get<uint64_t>(), cycles = ops[i]["cycles"].get<uint64_t>();
    if (cycles == 0) continue;
    edges.push_back({start, i, +1});
    edges.push_back({start + cycles, i, -1});
  }
  std::stable_sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.cycle < b.cycle; });
  std::vector<double> sum(c.series.size(), 0.0);
  int running = 0;
  for (size_t e = 0; e < edges.size();) {
    const uint64_t at = edges[e].cycle;
    for (; e < edges.size() && edges[e].cycle == at; ++e) {
      running += edges[e].sign;
      for (size_t s = 0; s < sum.size(); ++s) sum[s] += edges[e].sign * c.per_op[edges[e].op][s];
    }
    json args = json::object();
    for (size_t s = 0; s < sum.size(); ++s) args[c.series[s]] = running == 0 ? 0.0 : std::max(0.0, sum[s]);
    if (running == 0) std::fill(sum.begin(), sum.end(), 0.0);
    emit({{"ph", "C"}, {"pid", kPid}, {"name", c.name}, {"ts", double(at) * us_per_cycle}, {"args", std::move(args)}});
  }
}

json meta(const char* what, int tid, const json& args) {
  json e = {{"ph", "M"}, {"pid", kPid}, {"name", what}, {"args", args}};
  if (tid) e["tid"] = tid;
  return e;
}

}  // namespace

void write_timeline_trace(std::ostream& out, const json& report, const std::vector<std::optional<uint64_t>>& live) {
  const json& ops = report.at("ops");
  const double ghz = report["clock_ghz"].get<double>();
  const double us_per_cycle = 1e-3 / ghz, ns_per_cycle = 1.0 / ghz;
  // A run's report has its rates (a hand-made one may not: its ops' figures are then left out).
  const std::optional<Rates> rates = report.contains("roofline") ? std::optional(rates_of(report)) : std::nullopt;
  // The document as json::dump writes it (keys in order, compact): its other members, then
  // "traceEvents", each event written as it is made, so no run holds all its events at once.
  const json head = {{"displayTimeUnit", "ns"},
                     {"otherData",
                      {{"bpsim_version", report["bpsim_version"]},
                       {"accelerator", report["accelerator"]},
                       {"clock_ghz", ghz},
                       {"cycles", report["totals"]["cycles"]}}}};
  std::string text = head.dump();
  text.pop_back();  // its closing brace
  out << text << ",\"traceEvents\":[";
  EventWriter emit(out);
  std::string title = "bpsim " + report["accelerator"].get<std::string>();
  if (!report["run"]["name"].get<std::string>().empty()) title += ": " + report["run"]["name"].get<std::string>();
  emit(meta("process_name", 0, {{"name", title}}));

  const OpTracks tracks = op_tracks(ops);
  for (size_t k = 0; k < tracks.names.size(); ++k) {
    emit(meta("thread_name", int(k) + 1, {{"name", tracks.names[k]}}));
    emit(meta("thread_sort_index", int(k) + 1, {{"sort_index", int(k) + 1}}));
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const json& o = ops[i];
    const uint64_t start = o["start_cycle"].get<uint64_t>(), cycles = o["cycles"].get<uint64_t>();
    json args = json::object();
    for (const auto& [k, v] : o.items())
      if (k != "name" && k != "phase" && k != "extra") args[k] = v;
    if (rates) put_derived(args, op_figures(*rates, o));  // held entries carry none (report.h)
    if (o.contains("extra")) {  // the model's figures of one level (nested groups stay in report.json)
      json extra = json::object();
      for (const auto& [k, v] : o["extra"].items())
        if (v.is_primitive()) extra[k] = v;
      if (!extra.empty()) args["extra"] = extra;
    }
    if (i < live.size() && live[i]) args["live_bytes"] = *live[i];
    emit({{"ph", "X"},
          {"pid", kPid},
          {"tid", int(tracks.of_op[i]) + 1},
          {"name", o["name"]},
          {"cat", o["phase"]},
          {"ts", double(start) * us_per_cycle},
          {"dur", double(cycles) * us_per_cycle},
          {"args", std::move(args)}});
  }

  // Counters: bytes per ns are GB/s.
  auto rate = [&](const json& o, uint64_t amount) {
    const uint64_t cycles = o["cycles"].get<uint64_t>();
    return cycles ? double(amount) / (double(cycles) * ns_per_cycle) : 0.0;
  };
  Counter dram{"DRAM bandwidth (GB/s)", {"read", "write"}, {}},
      onchip{"on-chip bandwidth (GB/s)", {"read", "write"}, {}};
  Counter macs{"MACs per cycle", {"executed", "gated"}, {}}, noc{"NoC flit hops per cycle", {"flit_hops"}, {}};
  bool any_dram = false, any_onchip = false, any_macs = false, any_noc = false;
  for (const json& o : ops) {
    const uint64_t cycles = o["cycles"].get<uint64_t>();
    dram.per_op.push_back({rate(o, u64(o, "dram_read_bytes")), rate(o, u64(o, "dram_write_bytes"))});
    onchip.per_op.push_back({rate(o, u64(o, "onchip_read_bytes")), rate(o, u64(o, "onchip_write_bytes"))});
    const double per_cycle = cycles ? 1.0 / double(cycles) : 0.0;
    macs.per_op.push_back({double(u64(o, "macs_executed")) * per_cycle, double(u64(o, "macs_gated")) * per_cycle});
    const uint64_t hops = o.contains("extra") && o["extra"].contains("flit_hops") && o["extra"]["flit_hops"].is_number()
                              ? o["extra"]["flit_hops"].get<uint64_t>()
                              : 0;
    noc.per_op.push_back({double(hops) * per_cycle});
    any_dram |= u64(o, "dram_read_bytes") + u64(o, "dram_write_bytes") > 0;
    any_onchip |= u64(o, "onchip_read_bytes") + u64(o, "onchip_write_bytes") > 0;
    any_macs |= u64(o, "macs_executed") > 0;
    any_noc |= hops > 0;
  }
  if (any_dram) emit_counter(emit, dram, ops, us_per_cycle);
  if (any_onchip) emit_counter(emit, onchip, ops, us_per_cycle);
  if (any_macs) emit_counter(emit, macs, ops, us_per_cycle);
  if (any_noc) emit_counter(emit, noc, ops, us_per_cycle);
  // Live memory: the liveness walk's bytes while each op runs, from its start.
  for (size_t i = 0; i < live.size() && i < ops.size(); ++i)
    if (live[i])
      emit({{"ph", "C"},
            {"pid", kPid},
            {"name", "live memory (bytes)"},
            {"ts", double(ops[i]["start_cycle"].get<uint64_t>()) * us_per_cycle},
            {"args", {{"live", *live[i]}}}});
  out << "]}";
}

}  // namespace bpsim
