#include "sim/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <utility>

#include "sim/core/json_member.h"
#include "sim/core/output_files.h"
#include "sim/core/units.h"

#include "sim/report/report.h"
#include "sim/report/timeline_trace.h"

namespace bpsim {

namespace {

using json = nlohmann::json;

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

/// One reference token of a JSON pointer (RFC 6901: '~' and '/' escaped).
std::string token(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return o;
}

/// 1234567 → "1,234,567".
std::string grouped(uint64_t v) {
  std::string d = std::to_string(v), o;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) o += ',';
    o += d[i];
  }
  return o;
}

/// `v` in `unit` with an SI prefix and four significant digits ("22.11 mJ"): the console's
/// formatter (sim/core/units.h) with one digit more, so close figures stay apart.
std::string si(double v, const std::string& unit) { return units::si(v, unit.c_str(), 4); }

/// How a value of the report is shown: the unit it is shown in and the factor from the
/// report's unit to it (the browser test reads both back).
enum class Show : uint8_t { count, bytes, energy_pj, seconds, gbps, share, real };

std::string shown(const json& v, Show how) {
  const double d = v.is_number() ? v.get<double>() : 0.0;
  switch (how) {
    case Show::count: return v.is_number_unsigned() ? grouped(v.get<uint64_t>()) : fmt::format("{:.4g}", d);
    case Show::bytes: return si(d, "B");
    case Show::energy_pj: return si(d * 1e-12, "J");
    case Show::seconds: return si(d, "s");
    case Show::gbps: return si(d * 1e9, "B/s");
    case Show::share: return fmt::format("{:.4g} %", d * 100);
    case Show::real: return fmt::format("{:.4g}", d);
  }
  return "";
}

const char* unit_of(Show how) {
  switch (how) {
    case Show::bytes: return "B";
    case Show::energy_pj: return "J";
    case Show::seconds: return "s";
    case Show::gbps: return "B/s";
    case Show::share: return "%";
    default: return "";
  }
}

double scale_of(Show how) {
  switch (how) {
    case Show::energy_pj: return 1e-12;
    case Show::gbps: return 1e9;
    case Show::share: return 100;
    default: return 1;
  }
}

/// A number of the JSON at `pointer`, shown and tagged for the test; a null value is "—".
std::string val(const std::string& pointer, const json& v, Show how) {
  if (v.is_null()) return fmt::format("<span class=\"v\" data-key=\"{}\" data-value=\"null\">—</span>", esc(pointer));
  return fmt::format(
      "<span class=\"v\" data-key=\"{}\" data-value=\"{}\" data-unit=\"{}\" data-scale=\"{:g}\">{}</span>",
      esc(pointer), esc(v.dump()), unit_of(how), scale_of(how), esc(shown(v, how)));
}

/// The value at `pointer` in `doc`, shown (null when absent).
std::string at(const json& doc, const std::string& pointer, Show how) {
  const json::json_pointer p(pointer);
  return val(pointer, doc.contains(p) ? doc[p] : json(), how);
}

const char* phase_color(const std::string& phase) {
  static const std::map<std::string, const char*> kColors = {{"forward", "#4e79a7"},
                                                             {"backward_data", "#f28e2b"},
                                                             {"backward_weight", "#e15759"},
                                                             {"recompute", "#76b7b2"},
                                                             {"update", "#59a14f"}};
  const auto it = kColors.find(phase);
  return it == kColors.end() ? "#9c755f" : it->second;
}

/// Up to this many ops (memory steps, layers, roofline points) a run's page draws each one;
/// past it, neighbours too close to tell apart are merged (each section says how), so the
/// page of a run of 240,000 ops stays a few hundred kB.
constexpr size_t kMergeFrom = 2000;

const char* const kPhaseOrder[] = {"forward", "backward_data", "backward_weight", "recompute", "update"};

/// The report's phases in the summary's order: the standard ones, then any other.
std::vector<std::string> phase_names(const json& r) {
  std::vector<std::string> names;
  for (const char* p : kPhaseOrder)
    if (r["phases"].contains(p)) names.emplace_back(p);
  for (const auto& [k, v] : r["phases"].items())
    if (std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
  return names;
}

const char* const kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:3px;margin-top:28px}
.sub{color:#666}.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card .k{color:#666;font-size:12px}.card .v{font-size:17px;font-weight:600}
table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:right}
th{background:#f6f6f6;cursor:pointer;user-select:none}td:first-child,th:first-child{text-align:left}
.note{color:#666;font-size:13px}svg text{font-size:11px;fill:#333}.legend span{margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
tr.pareto td{background:#fff5d6}
)";

/// Click a column header to sort a table by it (numbers by data-value when the cell has one).
const char* const kScript = R"(
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.dataset.dir === 'desc' ? 1 : -1;
      th.dataset.dir = dir > 0 ? 'asc' : 'desc';
      function key(r) {
        var c = r.cells[col], v = 'value' in c.dataset ? c : c.querySelector('[data-value]');
        var n = parseFloat(v ? v.dataset.value : c.textContent);
        return isNaN(n) ? c.textContent : n;
      }
      rows.sort(function (a, b) { var x = key(a), y = key(b); return x < y ? -dir : x > y ? dir : 0; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
)";

std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<link rel=\"icon\" href=\"data:,\"><title>" +
         esc(title) + "</title><style>" + kStyle + "</style></head><body>\n" + body + "<script>" + kScript +
         "</script>\n</body></html>\n";
}

std::string card(const std::string& label, const std::string& value) {
  return "<div class=\"card\"><div class=\"k\">" + esc(label) + "</div>" + value + "</div>";
}

/// Axis ticks of [lo, hi] on a linear scale: about five round steps.
std::vector<double> ticks(double hi) {
  if (hi <= 0) return {0};
  const double raw = hi / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = 0; v <= hi * 1.0001; v += step) t.push_back(v);
  return t;
}

/// A chart's frame: plot area [L, L+W] × [T, T+H] of an SVG `w` × `h`.
struct Frame {
  double w = 1000, h = 260, left = 70, top = 12, right = 20, bottom = 36;
  double pw() const { return w - left - right; }
  double ph() const { return h - top - bottom; }
};

std::string svg_open(const Frame& f, const std::string& label) {
  return fmt::format(
      "<svg viewBox=\"0 0 {0} {1}\" width=\"100%\" role=\"img\" "
      "aria-label=\"{2}\"><rect x=\"{3}\" y=\"{4}\" width=\"{5}\" height=\"{6}\" fill=\"none\" stroke=\"#ccc\"/>",
      f.w, f.h, esc(label), f.left, f.top, f.pw(), f.ph());
}

/// Linear x axis of time (seconds) along the frame's bottom.
std::string time_axis(const Frame& f, double seconds) {
  std::string s;
  for (double t : ticks(seconds)) {
    const double x = f.left + (seconds > 0 ? t / seconds : 0) * f.pw();
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/>", x, f.top,
                     f.top + f.ph());
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x, f.top + f.ph() + 14,
                     esc(si(t, "s")));
  }
  return s;
}

// ---- the run's sections --------------------------------------------------------------

std::string summary_section(const json& r) {
  std::string s = "<h2 id=\"summary\">Summary</h2><div class=\"cards\">";
  s += card("cycles", at(r, "/totals/cycles", Show::count));
  s += card("simulated time", at(r, "/totals/seconds", Show::seconds));
  s += card("energy", at(r, "/totals/energy_pj", Show::energy_pj));
  s += card("MACs", at(r, "/totals/macs", Show::count));
  s += card("MACs executed", at(r, "/totals/macs_executed", Show::count));
  s += card("DRAM read", at(r, "/totals/dram_read_bytes", Show::bytes));
  s += card("DRAM written", at(r, "/totals/dram_write_bytes", Show::bytes));
  s += card("on-chip read", at(r, "/totals/onchip_read_bytes", Show::bytes));
  s += card("on-chip written", at(r, "/totals/onchip_write_bytes", Show::bytes));
  s += card("peak memory", at(r, "/memory/peak_bytes", Show::bytes));
  s += card("saved after forward", at(r, "/memory/saved_after_forward_bytes", Show::bytes));
  if (r["totals"].contains("utilisation")) s += card("utilisation", at(r, "/totals/utilisation", Show::share));
  if (r["totals"].contains("stall_cycles")) s += card("stall cycles", at(r, "/totals/stall_cycles", Show::count));
  if (r["totals"].contains("dram_gbps")) s += card("DRAM bandwidth", at(r, "/totals/dram_gbps", Show::gbps));
  s += "</div>\n<table class=\"sortable\" id=\"phases\"><thead><tr><th>phase</th><th>cycles</th><th>time</th>"
       "<th>energy</th><th>MACs</th><th>DRAM read</th><th>DRAM written</th></tr></thead><tbody>\n";
  auto row = [&](const std::string& name, const std::string& p) {
    s += "<tr><td>" + esc(name) + "</td><td>" + at(r, p + "/cycles", Show::count) + "</td><td>" +
         at(r, p + "/seconds", Show::seconds) + "</td><td>" + at(r, p + "/energy_pj", Show::energy_pj) + "</td><td>" +
         at(r, p + "/macs", Show::count) + "</td><td>" + at(r, p + "/dram_read_bytes", Show::bytes) + "</td><td>" +
         at(r, p + "/dram_write_bytes", Show::bytes) + "</td></tr>\n";
  };
  for (const std::string& p : phase_names(r)) row(p, "/phases/" + token(p));
  row("total", "/totals");
  s += "</tbody></table>\n";
  uint64_t phase_cycles = 0;
  for (const auto& [name, p] : r["phases"].items()) phase_cycles += p["cycles"].get<uint64_t>();
  s += "<p class=\"note\">Memory policy <b>" + esc(r["memory"]["policy"].get<std::string>()) + "</b>." +
       (phase_cycles > r["totals"]["cycles"].get<uint64_t>() ? " Ops overlap: the phases' cycles add up to more "
                                                               "than the total."
                                                             : "") +
       "</p>\n";
  return s;
}

std::string energy_section(const json& r) {
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [k, v] : r["energy_breakdown_pj"].items()) parts.emplace_back(v.get<double>(), k);
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  const double total = r["totals"]["energy_pj"].get<double>();
  std::string s = "<h2 id=\"energy\">Energy breakdown</h2>";
  const size_t shown_bars = std::min<size_t>(parts.size(), 12);
  Frame f;
  f.left = 230;
  f.h = 22.0 * double(shown_bars) + 20;
  f.top = 4;
  f.bottom = 16;
  s += svg_open(f, "energy by component");
  const double top = parts.empty() ? 0 : parts[0].first;
  for (size_t i = 0; i < shown_bars; ++i) {
    const double y = f.top + 22.0 * double(i) + 4, w = top > 0 ? parts[i].first / top * (f.pw() - 120) : 0;
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.left - 6, y + 12,
                     esc(parts[i].second));
    s += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"16\" fill=\"#4e79a7\"><title>{}</title></rect>", f.left,
        y, w, esc(parts[i].second));
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{} ({:.1f} %)</text>", f.left + w + 6, y + 12,
                     esc(si(parts[i].first * 1e-12, "J")), total > 0 ? 100 * parts[i].first / total : 0.0);
  }
  s += "</svg>\n";
  if (parts.size() > shown_bars)
    s += fmt::format("<p class=\"note\">The {} largest of {} components; all in the table.</p>", shown_bars,
                     parts.size());
  s += "<details><summary>every component</summary><table class=\"sortable\" id=\"energy-table\"><thead><tr>"
       "<th>component</th><th>energy</th><th>share</th></tr></thead><tbody>\n";
  for (const auto& [pj, name] : parts)
    s += "<tr><td>" + esc(name) + "</td><td>" +
         val("/energy_breakdown_pj/" + token(name), r["energy_breakdown_pj"][name], Show::energy_pj) + "</td><td>" +
         fmt::format("{:.2f} %", total > 0 ? 100 * pj / total : 0.0) + "</td></tr>\n";
  s += "</tbody></table></details>\n";
  return s;
}

/// Phase bands behind a time chart: each run of consecutive ops of one phase, shaded.
std::string phase_bands(const json& ops, const Frame& f, double cycles) {
  std::string s;
  size_t i = 0;
  while (i < ops.size()) {
    const std::string phase = ops[i]["phase"].get<std::string>();
    const uint64_t start = ops[i]["start_cycle"].get<uint64_t>();
    uint64_t end = start + ops[i]["cycles"].get<uint64_t>();
    for (++i; i < ops.size() && ops[i]["phase"] == phase; ++i)
      end = std::max(end, ops[i]["start_cycle"].get<uint64_t>() + ops[i]["cycles"].get<uint64_t>());
    const double x0 = f.left + double(start) / cycles * f.pw(), x1 = f.left + double(end) / cycles * f.pw();
    s += fmt::format(
        "<rect x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\" "
        "opacity=\"0.13\"><title>{}</title></rect>",
        x0, f.top, std::max(x1 - x0, 0.0), f.ph(), phase_color(phase), esc(phase));
  }
  return s;
}

std::string phase_legend(const json& r) {
  std::string s = "<div class=\"legend\">";
  for (const std::string& p : phase_names(r))
    s += fmt::format("<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>", phase_color(p), esc(p));
  return s + "</div>\n";
}

std::string memory_section(const json& r, const HtmlRunExtras& x) {
  std::string s = "<h2 id=\"memory\">Memory over time</h2>";
  const json& ops = member_or_empty(r, "ops", json::value_t::array);
  const bool any = std::any_of(x.live.begin(), x.live.end(), [](const auto& v) { return v.has_value(); });
  const uint64_t peak = r["memory"]["peak_bytes"].get<uint64_t>();
  s += "<p>Peak " + at(r, "/memory/peak_bytes", Show::bytes) + ", saved after the forward " +
       at(r, "/memory/saved_after_forward_bytes", Show::bytes);
  if (x.budget_bytes) s += ", budget " + esc(si(double(*x.budget_bytes), "B"));
  s += ".</p>";
  const double cycles = double(r["totals"]["cycles"].get<uint64_t>());
  if (!any || ops.empty() || cycles <= 0) {
    return s + "<p class=\"note\">No memory series: " +
           esc(!x.ops_note.empty() ? x.ops_note : "this run has no op graph (a trace or a traffic run)") + ".</p>\n";
  }
  uint64_t top = std::max(peak, x.budget_bytes.value_or(0));
  for (const auto& v : x.live)
    if (v) top = std::max(top, *v);
  const double ymax = double(top) * 1.1;
  Frame f;
  s += svg_open(f, "live memory over the step");
  s += phase_bands(ops, f, cycles);
  for (double t : ticks(ymax)) {
    const double y = f.top + f.ph() - t / ymax * f.ph();
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/>", f.left,
                     f.left + f.pw(), y);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.left - 4, y + 4, esc(si(t, "B")));
  }
  s += time_axis(f, r["totals"]["seconds"].get<double>());
  auto ypos = [&](double b) { return f.top + f.ph() - b / ymax * f.ph(); };
  // Each op is a step at its live bytes. Past kMergeFrom such ops, steps narrower than half
  // a pixel that follow one another are drawn as one at the highest live bytes among them
  // (as the timeline merges narrow ops), so a huge run's page stays small.
  size_t stepped = 0, drawn = 0;
  for (size_t i = 0; i < ops.size() && i < x.live.size(); ++i) stepped += x.live[i].has_value();
  const bool merge = stepped > kMergeFrom;
  std::string pts;
  double bx0 = 0, bx1 = -1;
  uint64_t by = 0;
  auto flush = [&] {
    if (bx1 < bx0) return;
    pts += fmt::format("{:.2f},{:.2f} {:.2f},{:.2f} ", bx0, ypos(double(by)), bx1, ypos(double(by)));
    ++drawn;
  };
  for (size_t i = 0; i < ops.size() && i < x.live.size(); ++i) {
    if (!x.live[i]) continue;
    const double x0 = f.left + double(ops[i]["start_cycle"].get<uint64_t>()) / cycles * f.pw();
    const double x1 = x0 + double(ops[i]["cycles"].get<uint64_t>()) / cycles * f.pw();
    if (merge && bx1 >= bx0 && x1 - x0 < 0.5 && bx1 - bx0 < 0.5 && x0 - bx1 < 0.5) {
      bx1 = std::max(bx1, x1);
      by = std::max(by, *x.live[i]);
      continue;
    }
    flush();
    bx0 = x0, bx1 = x1, by = *x.live[i];
  }
  flush();
  s += "<polyline fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"" + pts + "\"/>";
  s += fmt::format(
      "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>"
      "<text x=\"{1}\" y=\"{3:.1f}\" text-anchor=\"end\">peak</text>",
      f.left, f.left + f.pw(), ypos(double(peak)), ypos(double(peak)) - 3);
  if (x.budget_bytes)
    s += fmt::format(
        "<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#c00\" stroke-dasharray=\"6 3\"/>"
        "<text x=\"{1}\" y=\"{3:.1f}\" text-anchor=\"end\" fill=\"#c00\">budget</text>",
        f.left, f.left + f.pw(), ypos(double(*x.budget_bytes)), ypos(double(*x.budget_bytes)) - 3);
  s += "</svg>\n" + phase_legend(r);
  s += "<p class=\"note\">Live bytes while each op runs (activations, gradients and workspaces by the liveness walk; "
       "weights, the input and optimizer state are not counted), at the op's simulated time.";
  if (drawn < stepped)
    s += fmt::format(
        " The {} ops are drawn as {} steps: ops narrower than half a pixel that follow one another are "
        "one step at the highest live bytes among them.",
        grouped(stepped), grouped(drawn));
  s += "</p>\n";
  return s;
}

/// A roofline point of one op: MACs per DRAM byte and GMAC/s (op_figures: report.json's
/// figures); none for an op without DRAM bytes, cycles or MACs.
std::optional<std::pair<double, double>> roof_point(const json& o, const Rates& rates) {
  const Derived d = op_figures(rates, o);
  if (!d.macs_per_dram_byte || !d.gmacs_per_s || o["macs_executed"].get<uint64_t>() == 0) return std::nullopt;
  return std::make_pair(*d.macs_per_dram_byte, *d.gmacs_per_s);
}

std::string roofline_section(const json& r) {
  std::string s = "<h2 id=\"roofline\">Roofline</h2>";
  const json& ops = member_or_empty(r, "ops", json::value_t::array);
  std::vector<std::pair<std::pair<double, double>, size_t>> pts;
  if (!ops.empty()) {
    const Rates rates = rates_of(r);
    for (size_t i = 0; i < ops.size(); ++i)
      if (auto p = roof_point(ops[i], rates)) pts.emplace_back(*p, i);
  }
  // The roofs: the report's roofline section, else the DRAM's peak from its stats.
  std::optional<double> peak_gmacs, peak_gbps;
  if (r.contains("roofline")) {
    const json& rf = r["roofline"];
    if (rf.contains("peak_gmacs_per_s") && rf["peak_gmacs_per_s"].is_number())
      peak_gmacs = rf["peak_gmacs_per_s"].get<double>();
    if (rf.contains("peak_dram_gbps") && rf["peak_dram_gbps"].is_number())
      peak_gbps = rf["peak_dram_gbps"].get<double>();
  } else if (r["stats"].contains("memory") && r["stats"]["memory"].contains("peak_bandwidth_bytes_per_s")) {
    peak_gbps = r["stats"]["memory"]["peak_bandwidth_bytes_per_s"].get<double>() / 1e9;
  }
  if (r.contains("roofline")) {
    s += "<p>Peak compute " + at(r, "/roofline/peak_gmacs_per_s", Show::real) + " GMAC/s, DRAM peak " +
         at(r, "/roofline/peak_dram_gbps", Show::real) + " GB/s.</p>";
  }
  if (pts.empty())
    return s + "<p class=\"note\">No op both moves DRAM bytes and executes MACs: nothing to place on a roofline.</p>\n";
  double xlo = 1e300, xhi = 0, ylo = 1e300, yhi = 0;
  for (const auto& [p, i] : pts) {
    xlo = std::min(xlo, p.first), xhi = std::max(xhi, p.first);
    ylo = std::min(ylo, p.second), yhi = std::max(yhi, p.second);
  }
  if (peak_gmacs) yhi = std::max(yhi, *peak_gmacs);
  const double lx0 = std::floor(std::log10(xlo)), lx1 = std::ceil(std::log10(xhi)) + (xhi == xlo ? 1 : 0);
  const double ly0 = std::floor(std::log10(ylo)), ly1 = std::ceil(std::log10(yhi * 1.5));
  Frame f;
  f.h = 320;
  f.bottom = 40;
  auto px = [&](double v) { return f.left + (std::log10(v) - lx0) / std::max(lx1 - lx0, 1.0) * f.pw(); };
  auto py = [&](double v) { return f.top + f.ph() - (std::log10(v) - ly0) / std::max(ly1 - ly0, 1.0) * f.ph(); };
  s += svg_open(f, "roofline");
  for (double e = lx0; e <= lx1; ++e)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>", px(std::pow(10, e)),
                     f.top + f.ph() + 14, std::pow(10, e));
  for (double e = ly0; e <= ly1; ++e)
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>", f.left - 4, py(std::pow(10, e)) + 4,
                     std::pow(10, e));
  s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">MACs per DRAM byte</text>", f.left + f.pw() / 2,
                   f.h - 4);
  s += fmt::format(
      "<text x=\"12\" y=\"{:.1f}\" transform=\"rotate(-90 12 {:.1f})\" text-anchor=\"middle\">GMAC/s</text>",
      f.top + f.ph() / 2, f.top + f.ph() / 2);
  // The roof, sampled along x in the log domain and clipped to the frame.
  if (peak_gbps) {
    std::string roof;
    for (int k = 0; k <= 100; ++k) {
      const double xv = std::pow(10, lx0 + (lx1 - lx0) * k / 100.0);
      double yv = xv * *peak_gbps;
      if (peak_gmacs) yv = std::min(yv, *peak_gmacs);
      if (yv < std::pow(10, ly0) || yv > std::pow(10, ly1)) continue;
      roof += fmt::format("{:.1f},{:.1f} ", px(xv), py(yv));
    }
    s += "<polyline fill=\"none\" stroke=\"#c00\" stroke-width=\"1.5\" points=\"" + roof +
         "\"><title>roof</title></polyline>";
  }
  // Past kMergeFrom points, the ops of one phase whose points fall on the same pixel are
  // one circle (its title says how many).
  const bool merge = pts.size() > kMergeFrom;
  std::map<std::tuple<long, long, std::string>, size_t> at_pixel;  // → index in `circles`
  std::vector<std::pair<size_t, size_t>> circles;                  // (first of pts, ops there)
  for (size_t n = 0; n < pts.size(); ++n) {
    if (!merge) {
      circles.emplace_back(n, 1);
      continue;
    }
    const auto [p, i] = pts[n];
    const auto [it, fresh] = at_pixel.try_emplace(
        {std::lround(px(p.first)), std::lround(py(p.second)), ops[i]["phase"].get<std::string>()}, circles.size());
    if (fresh) circles.emplace_back(n, 0);
    ++circles[it->second].second;
  }
  for (const auto& [n, count] : circles) {
    const auto& [p, i] = pts[n];
    const std::string what = count == 1 ? ops[i]["name"].get<std::string>()
                                        : fmt::format("{} ops from {}", count, ops[i]["name"].get<std::string>());
    s += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\" opacity=\"0.8\"><title>{}: {:.4g} MAC/B, "
        "{:.4g} GMAC/s</title></circle>",
        px(p.first), py(p.second), phase_color(ops[i]["phase"].get<std::string>()), esc(what), p.first, p.second);
  }
  s += "</svg>\n" + phase_legend(r);
  s += "<p class=\"note\">One point per op that moves DRAM bytes and executes MACs (" + std::to_string(pts.size()) +
       " of " + std::to_string(ops.size()) + ")" +
       (circles.size() < pts.size()
            ? fmt::format(", drawn as {} circles: ops of one phase on the same pixel are one", circles.size())
            : std::string()) +
       ". The red line is the roof: DRAM peak bandwidth × intensity" +
       (peak_gmacs ? ", capped by the peak compute rate" : " (the report gives no compute peak)") + ".</p>\n";
  return s;
}

std::string layer_section(const json& r, const HtmlRunExtras& x) {
  const json& ops = member_or_empty(r, "ops", json::value_t::array);
  std::string s = "<h2 id=\"layers\">Per layer</h2>";
  if (ops.empty()) return s + "<p class=\"note\">" + esc(x.ops_note.empty() ? "no ops" : x.ops_note) + ".</p>\n";
  struct Row {
    uint64_t ops = 0, cycles = 0, macs = 0, dram = 0, stall = 0;
    double energy = 0;
  };
  std::map<std::string, size_t> index;  // layer → its place in `order` and `rows`
  std::vector<std::string> order;
  std::vector<Row> rows;
  for (size_t i = 0; i < ops.size(); ++i) {
    const json& o = ops[i];
    std::string layer = o.contains("layer") && o["layer"].is_string() ? o["layer"].get<std::string>() : "";
    if (layer.empty() && i < x.layers.size()) layer = x.layers[i];
    if (layer.empty()) layer = o["name"].get<std::string>();
    const auto [it, fresh] = index.try_emplace(layer, order.size());
    if (fresh) order.push_back(layer), rows.emplace_back();
    Row& w = rows[it->second];
    ++w.ops;
    w.cycles += o["cycles"].get<uint64_t>();
    w.macs += o["macs"].get<uint64_t>();
    w.dram += o["dram_read_bytes"].get<uint64_t>() + o["dram_write_bytes"].get<uint64_t>();
    w.energy += o["energy_pj"].get<double>();
    if (o.contains("stall_cycles") && o["stall_cycles"].is_number()) w.stall += o["stall_cycles"].get<uint64_t>();
    else if (o.contains("extra") && o["extra"].contains("stall_cycles") && o["extra"]["stall_cycles"].is_number())
      w.stall += o["extra"]["stall_cycles"].get<uint64_t>();
  }
  uint64_t total = 0;
  for (const Row& w : rows) total += w.cycles;
  // Past kMergeFrom layers, the kMergeFrom / 2 with the most cycles keep a row each and each
  // run of other layers between them becomes one row "N layers: first … last" (their sums).
  std::vector<std::pair<std::string, Row>> shown;
  std::string merged_note;
  if (order.size() <= kMergeFrom) {
    for (size_t i = 0; i < order.size(); ++i) shown.emplace_back(order[i], rows[i]);
  } else {
    std::vector<size_t> by_cycles(order.size());
    for (size_t i = 0; i < order.size(); ++i) by_cycles[i] = i;
    std::stable_sort(by_cycles.begin(), by_cycles.end(),
                     [&](size_t a, size_t b) { return rows[a].cycles > rows[b].cycles; });
    std::vector<bool> keep(order.size(), false);
    for (size_t i = 0; i < kMergeFrom / 2; ++i) keep[by_cycles[i]] = true;
    size_t merged_rows = 0;
    for (size_t i = 0; i < order.size();) {
      if (keep[i]) {
        shown.emplace_back(order[i], rows[i]);
        ++i;
        continue;
      }
      Row sum;
      const size_t first = i;
      for (; i < order.size() && !keep[i]; ++i) {
        const Row& w = rows[i];
        sum.ops += w.ops, sum.cycles += w.cycles, sum.macs += w.macs, sum.dram += w.dram, sum.stall += w.stall;
        sum.energy += w.energy;
      }
      shown.emplace_back(
          i - first == 1 ? order[first] : fmt::format("{} layers: {} … {}", i - first, order[first], order[i - 1]),
          sum);
      merged_rows += i - first > 1;
    }
    merged_note = fmt::format(
        " This run has {} layers: the {} with the most cycles have a row each, and each run of other layers between "
        "them is one row of their sums ({} such rows).",
        grouped(order.size()), grouped(kMergeFrom / 2), grouped(merged_rows));
  }
  s += "<p class=\"note\">Ops grouped by the layer they belong to (all phases), in order of first op; click a "
       "column to sort. Sums of the ops' own figures (leakage included in each op's energy)." +
       esc(merged_note) + "</p>";
  s += "<table class=\"sortable\" id=\"layer-table\"><thead><tr><th>layer</th><th>ops</th><th>cycles</th>"
       "<th>share of cycles</th><th>stall cycles</th><th>energy</th><th>MACs</th><th>DRAM "
       "bytes</th></tr></thead><tbody>\n";
  for (const auto& [l, w] : shown) {
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td data-value=\"{}\">{}</td><td>{:.2f} %</td><td>{}</td><td "
        "data-value=\"{}\">{}</td>"
        "<td>{}</td><td data-value=\"{}\">{}</td></tr>\n",
        esc(l), w.ops, w.cycles, grouped(w.cycles), total ? 100.0 * double(w.cycles) / double(total) : 0.0,
        grouped(w.stall), w.energy, esc(si(w.energy * 1e-12, "J")), grouped(w.macs), w.dram,
        esc(si(double(w.dram), "B")));
  }
  s += "</tbody></table>\n";
  return s;
}

std::string timeline_section(const json& r, const HtmlRunExtras& x) {
  const json& ops = member_or_empty(r, "ops", json::value_t::array);
  std::string s = "<h2 id=\"timeline\">Timeline</h2>";
  const double cycles = double(r["totals"]["cycles"].get<uint64_t>());
  if (ops.empty() || cycles <= 0)
    return s + "<p class=\"note\">" + esc(x.ops_note.empty() ? "no ops" : x.ops_note) + ".</p>\n";
  const OpTracks tracks = op_tracks(ops);
  Frame f;
  f.left = 130;
  f.h = 26.0 * double(tracks.names.size()) + f.top + f.bottom;
  s += svg_open(f, "op timeline");
  s += time_axis(f, r["totals"]["seconds"].get<double>());
  for (size_t k = 0; k < tracks.names.size(); ++k)
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.left - 6,
                     f.top + 26.0 * double(k) + 17, esc(tracks.names[k]));
  // Ops narrower than half a pixel that follow one another on a track are drawn as one
  // block (its title says how many), so a long trace stays a small page.
  struct Block {
    double x0 = 0, x1 = -1;
    size_t first = 0, n = 0;
  };
  std::vector<Block> open(tracks.names.size());
  auto flush = [&](size_t k) {
    const Block& b = open[k];
    if (!b.n) return;
    const json& o = ops[b.first];
    const std::string title =
        b.n == 1 ? fmt::format("{} ({}): {} cycles, {}", o["name"].get<std::string>(), o["kind"].get<std::string>(),
                               grouped(o["cycles"].get<uint64_t>()), si(o["energy_pj"].get<double>() * 1e-12, "J"))
                 : fmt::format("{} ops from {}", b.n, o["name"].get<std::string>());
    s += fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"20\" fill=\"{}\" stroke=\"#fff\" "
        "stroke-width=\"0.3\"><title>{}</title></rect>",
        b.x0, f.top + 26.0 * double(k) + 3, std::max(b.x1 - b.x0, 0.5), phase_color(tracks.phases[k]), esc(title));
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    const size_t k = tracks.of_op[i];
    const double x0 = f.left + double(ops[i]["start_cycle"].get<uint64_t>()) / cycles * f.pw();
    const double x1 = x0 + double(ops[i]["cycles"].get<uint64_t>()) / cycles * f.pw();
    Block& b = open[k];
    if (b.n && x1 - x0 < 0.5 && b.x1 - b.x0 < 0.5 && x0 - b.x1 < 0.5) {
      b.x1 = x1;
      ++b.n;
      continue;
    }
    flush(k);
    b = {x0, x1, i, 1};
  }
  for (size_t k = 0; k < open.size(); ++k) flush(k);
  s += "</svg>\n<p class=\"note\">Each op at its simulated start, one row per phase (a further row where ops of a "
       "phase overlap); hover for its figures. <code>bpsim run --timeline FILE</code> writes the same timeline for "
       "Perfetto.</p>\n";
  return s;
}

std::string title_of(const json& r) {
  std::string t = "bpsim " + r["accelerator"].get<std::string>();
  if (!r["run"]["name"].get<std::string>().empty()) t += ": " + r["run"]["name"].get<std::string>();
  return t;
}

}  // namespace

std::string run_html(const json& report, const HtmlRunExtras& extras) {
  std::string b = "<h1>" + esc(title_of(report)) + "</h1>";
  b += fmt::format("<p class=\"sub\">bpsim {} · accelerator {} at {} GHz · energy table {} · seed {}</p>\n",
                   esc(report["bpsim_version"].get<std::string>()), esc(report["accelerator"].get<std::string>()),
                   val("/clock_ghz", report["clock_ghz"], Show::real), esc(report["energy_table"].get<std::string>()),
                   report["run"]["seed"].dump());
  b += "<p class=\"sub\"><a href=\"#summary\">summary</a> · <a href=\"#energy\">energy</a> · <a "
       "href=\"#memory\">memory</a> · <a href=\"#roofline\">roofline</a> · <a href=\"#layers\">layers</a> · <a "
       "href=\"#timeline\">timeline</a></p>\n";
  b += summary_section(report);
  b += energy_section(report);
  b += memory_section(report, extras);
  b += roofline_section(report);
  b += layer_section(report, extras);
  b += timeline_section(report, extras);
  return page(title_of(report), b);
}

std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j)
      dominated = points[j].first <= points[i].first && points[j].second <= points[i].second &&
                  (points[j].first < points[i].first || points[j].second < points[i].second);
    if (!dominated) front.push_back(i);
  }
  return front;
}

std::string points_html(const std::string& title, const std::vector<std::string>& axis_names,
                        const std::vector<json>& rows, const ParetoAxes& axes, const std::vector<std::string>& links) {
  auto show_of = [](const std::string& pointer) {
    if (pointer.find("energy_pj") != std::string::npos) return Show::energy_pj;
    if (pointer.find("seconds") != std::string::npos) return Show::seconds;
    if (pointer.find("bytes") != std::string::npos) return Show::bytes;
    return Show::count;
  };
  auto label_of = [](const std::string& pointer) { return pointer.substr(pointer.rfind('/') + 1); };
  // The points that ran, on the two axes.
  std::vector<std::pair<double, double>> xy;
  std::vector<size_t> of;  // row of each plotted point
  for (size_t i = 0; i < rows.size(); ++i) {
    const json::json_pointer px(axes.x), py(axes.y);
    if (rows[i].value("status", "") != "ok" || !rows[i].contains(px) || !rows[i].contains(py)) continue;
    xy.emplace_back(rows[i][px].get<double>(), rows[i][py].get<double>());
    of.push_back(i);
  }
  std::vector<bool> on_front(rows.size(), false);
  for (size_t k : pareto_front(xy)) on_front[of[k]] = true;

  std::string b = "<h1>" + esc(title) + "</h1>";
  b += fmt::format("<p class=\"sub\">{} points, {} ran; Pareto front: lowest {} and {} (highlighted rows).</p>\n",
                   rows.size(), xy.size(), esc(label_of(axes.x)), esc(label_of(axes.y)));
  b += "<h2 id=\"pareto\">Pareto front</h2>";
  if (xy.empty()) {
    b += "<p class=\"note\">No point ran.</p>";
  } else {
    double xhi = 0, yhi = 0;
    for (const auto& [xv, yv] : xy) xhi = std::max(xhi, xv), yhi = std::max(yhi, yv);
    xhi = xhi > 0 ? xhi * 1.1 : 1;
    yhi = yhi > 0 ? yhi * 1.1 : 1;
    Frame f;
    f.h = 320;
    f.bottom = 40;
    const Show sx = show_of(axes.x), sy = show_of(axes.y);
    auto px = [&](double v) { return f.left + v / xhi * f.pw(); };
    auto py = [&](double v) { return f.top + f.ph() - v / yhi * f.ph(); };
    b += svg_open(f, "Pareto front");
    for (double t : ticks(xhi))
      b += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", px(t), f.top + f.ph() + 14,
                       esc(shown(json(t), sx == Show::count ? Show::real : sx)));
    for (double t : ticks(yhi))
      b += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", f.left - 4, py(t) + 4,
                       esc(shown(json(t), sy == Show::count ? Show::real : sy)));
    b += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", f.left + f.pw() / 2, f.h - 4,
                     esc(label_of(axes.x)));
    b += fmt::format(
        "<text x=\"12\" y=\"{0:.1f}\" transform=\"rotate(-90 12 {0:.1f})\" text-anchor=\"middle\">{1}</text>",
        f.top + f.ph() / 2, esc(label_of(axes.y)));
    std::vector<std::pair<double, double>> front;
    for (size_t k = 0; k < xy.size(); ++k)
      if (on_front[of[k]]) front.push_back(xy[k]);
    std::sort(front.begin(), front.end());
    std::string line;
    for (const auto& [xv, yv] : front) line += fmt::format("{:.1f},{:.1f} ", px(xv), py(yv));
    b += "<polyline fill=\"none\" stroke=\"#e15759\" stroke-width=\"1.5\" points=\"" + line + "\"/>";
    for (size_t k = 0; k < xy.size(); ++k) {
      std::string label = "point " + std::to_string(rows[of[k]]["index"].get<size_t>());
      for (const auto& [a, v] : rows[of[k]]["axes"].items())
        label += " " + a + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
      b += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>",
                       px(xy[k].first), py(xy[k].second), on_front[of[k]] ? 5 : 3.5,
                       on_front[of[k]] ? "#e15759" : "#4e79a7", esc(label));
    }
    b += "</svg>\n";
  }
  b += "<h2 id=\"points\">Points</h2><table class=\"sortable\" id=\"points-table\"><thead><tr><th>#</th>";
  for (const std::string& a : axis_names) b += "<th>" + esc(a) + "</th>";
  b += "<th>status</th><th>cycles</th><th>time</th><th>energy</th><th>DRAM read</th><th>DRAM written</th>"
       "<th>peak memory</th><th>Pareto</th><th>report</th></tr></thead><tbody>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& row = rows[i];
    const std::string pre = "/" + std::to_string(i);  // pointer into the page's rows: results.jsonl line i
    b += std::string(on_front[i] ? "<tr class=\"pareto\">" : "<tr>") + "<td>" + row["index"].dump() + "</td>";
    for (const std::string& a : axis_names) {
      const json v = row["axes"].value(a, json());
      b += "<td>" + esc(v.is_string() ? v.get<std::string>() : v.dump()) + "</td>";
    }
    b += "<td>" + esc(row.value("status", "")) + "</td>";
    if (row.value("status", "") == "ok") {
      auto cell = [&](const std::string& p, Show how) {
        const json::json_pointer jp(p);
        b += "<td>" + val(pre + p, row.contains(jp) ? row[jp] : json(), how) + "</td>";
      };
      cell("/totals/cycles", Show::count);
      cell("/totals/seconds", Show::seconds);
      cell("/totals/energy_pj", Show::energy_pj);
      cell("/totals/dram_read_bytes", Show::bytes);
      cell("/totals/dram_write_bytes", Show::bytes);
      cell("/memory/peak_bytes", Show::bytes);
    } else {
      b += "<td colspan=\"6\">" + esc(row.contains("error") ? row["error"].get<std::string>() : "") + "</td>";
    }
    b += std::string("<td>") + (on_front[i] ? "yes" : "") + "</td><td>";
    if (i < links.size() && !links[i].empty()) b += "<a href=\"" + esc(links[i]) + "\">report</a>";
    b += "</td></tr>\n";
  }
  b += "</tbody></table>\n<p class=\"note\">Numbers from each point's row of <code>results.jsonl</code> (its report's "
       "totals and memory); a point's own page has the rest.</p>\n";
  return page(title, b);
}

void write_points_html(const std::string& results_dir, const std::string& dest, const std::string& title,
                       const std::vector<std::string>& axis_names, const ParetoAxes& axes) {
  namespace fs = std::filesystem;
  std::vector<json> rows;
  std::vector<std::string> links;
  std::ifstream in(fs::path(results_dir) / "results.jsonl");
  // A link is the page's path as spelled from the folder of `dest`, which both callers name
  // by the same prefix as `results_dir`: lexical, where fs::relative resolved both paths' links
  // for every point (a readlink per folder of each, 9 system calls a point).
  const fs::path base = fs::path(dest).parent_path();
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    rows.push_back(json::parse(line));
    const fs::path page = fs::path(results_dir) / "points" / rows.back().value("hash", "") / "report.html";
    links.push_back(fs::exists(page) ? page.lexically_relative(base.empty() ? fs::path(".") : base).string() : "");
  }
  output::write_file(dest, points_html(title, axis_names, rows, axes, links));
}

}  // namespace bpsim
