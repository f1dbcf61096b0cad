#include "sim/memory/ddr_channel.h"

#include <algorithm>

namespace bpsim::memory {

namespace {
constexpr uint64_t kNever = UINT64_MAX;
}

DdrChannel::DdrChannel(const DdrSpec& spec, DdrCounters& counters)
    : m_spec(spec), m_c(counters), m_banks(size_t(spec.ranks) * spec.banks()), m_ranks(spec.ranks) {
  for (size_t r = 0; r < m_ranks.size(); ++r) {
    m_ranks[r].faw.fill(kNever);
    // Stagger refreshes over the ranks, as controllers do, so they do not all stall at once.
    m_ranks[r].next_ref_due = spec.trefi * (r + 1) / spec.ranks;
  }
}

void DdrChannel::enqueue(DdrRequest r) {
  m_queue.push_back(r);
  m_chosen_at = kNoCycle;
}

const DdrChannel::Candidate& DdrChannel::chosen(uint64_t now) const {
  if (m_chosen_at != now) {
    m_chosen = choose(now);
    m_chosen_at = now;
  }
  return m_chosen;
}

uint64_t DdrChannel::act_ready(const DdrAddress& a, uint64_t now) const {
  const Rank& rk = m_ranks[a.rank];
  uint64_t t = std::max({now, m_banks[bank_index(a)].next_act, m_cmd_bus_free});
  if (rk.last_act_bg >= 0)
    t = std::max(t, rk.last_act + (int(a.bank_group) == rk.last_act_bg ? m_spec.trrd_l : m_spec.trrd_s));
  if (rk.faw[0] != kNever) t = std::max(t, rk.faw[0] + m_spec.tfaw);
  // No new row may open once the rank's refresh is due: it refreshes first.
  if (t >= rk.next_ref_due) return kNever;
  return t;
}

uint64_t DdrChannel::col_ready(const DdrRequest& r, uint64_t now) const {
  const Rank& rk = m_ranks[r.a.rank];
  uint64_t t = std::max({now, m_banks[bank_index(r.a)].next_col, m_cmd_bus_free});
  if (m_any_col) t = std::max(t, m_last_col + (int(r.a.bank_group) == m_last_col_bg ? m_spec.tccd_l : m_spec.tccd_s));
  if (!r.write && rk.wr_bg >= 0)
    t = std::max(t, rk.wr_data_end + (int(r.a.bank_group) == rk.wr_bg ? m_spec.twtr_l : m_spec.twtr_s));
  const uint64_t lat = r.write ? m_spec.cwl : m_spec.cl;
  const uint64_t bus =
      m_data_bus_free + (m_last_data_rank >= 0 && m_last_data_rank != int(r.a.rank) ? m_spec.trtrs : 0);
  if (t + lat < bus) t = bus - lat;
  return t;
}

DdrChannel::Candidate DdrChannel::choose(uint64_t now) const {
  Candidate best;
  auto consider = [&](Candidate c, bool column) {
    // Earliest first; at equal times a column command (a row hit) beats the others, and
    // the older request beats the younger (candidates arrive oldest first).
    bool best_col = best.cmd == Cmd::rd || best.cmd == Cmd::wr;
    if (c.t < best.t || (c.t == best.t && column && !best_col)) best = c;
  };
  // Refresh: a due rank closes its open banks, then refreshes.
  for (unsigned r = 0; r < m_ranks.size(); ++r) {
    if (now < m_ranks[r].next_ref_due) continue;
    bool any_open = false;
    uint64_t ref_t = std::max(now, m_cmd_bus_free);
    for (unsigned b = 0; b < m_spec.banks(); ++b) {
      const Bank& bk = m_banks[size_t(r) * m_spec.banks() + b];
      if (bk.open_row >= 0) {
        any_open = true;
        consider({Cmd::pre, std::max({now, bk.next_pre, m_cmd_bus_free}), 0, r, b, true}, false);
      }
      ref_t = std::max(ref_t, bk.next_act);
    }
    if (!any_open) consider({Cmd::ref, ref_t, 0, r, 0}, false);
  }
  if (best.cmd != Cmd::none && best.t <= now) return best;  // refresh goes first when ready

  const size_t n = m_spec.fr_fcfs ? m_queue.size() : std::min<size_t>(1, m_queue.size());
  // Banks whose open row some queued request still wants: FR-FCFS drains those hits
  // before closing the row (one pass over the queue, not one per candidate).
  std::vector<bool>& wanted = m_wanted;
  wanted.assign(m_banks.size(), false);
  for (const auto& q : m_queue) {
    const size_t bi = bank_index(q.a);
    if (m_banks[bi].open_row == int64_t(q.a.row)) wanted[bi] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    // Nothing beats the oldest row hit that can issue now: stop looking.
    if (best.t == now && (best.cmd == Cmd::rd || best.cmd == Cmd::wr)) break;
    const DdrRequest& q = m_queue[i];
    const size_t bi = bank_index(q.a);
    const Bank& bk = m_banks[bi];
    if (bk.open_row == int64_t(q.a.row)) {
      consider({q.write ? Cmd::wr : Cmd::rd, col_ready(q, now), i, q.a.rank, 0}, true);
    } else if (bk.open_row >= 0) {
      if (m_spec.fr_fcfs && wanted[bi]) continue;  // let the hits drain first
      if (now >= m_ranks[q.a.rank].next_ref_due) continue;
      consider({Cmd::pre, std::max({now, bk.next_pre, m_cmd_bus_free}), i, q.a.rank, 0}, false);
    } else {
      uint64_t t = act_ready(q.a, now);
      if (t != kNever) consider({Cmd::act, t, i, q.a.rank, 0}, false);
    }
  }
  return best;
}

uint64_t DdrChannel::next_issue(uint64_t now, uint64_t horizon) const {
  uint64_t t = chosen(now).t;
  for (const Rank& r : m_ranks)
    if (r.next_ref_due > now && (!m_queue.empty() || r.next_ref_due <= horizon)) t = std::min(t, r.next_ref_due);
  return t;
}

void DdrChannel::idle_until(uint64_t now) {
  m_chosen_at = kNoCycle;
  for (unsigned r = 0; r < m_ranks.size(); ++r) {
    Rank& rk = m_ranks[r];
    while (rk.next_ref_due < now) {
      const uint64_t due = rk.next_ref_due;
      uint64_t ref_t = due;
      for (unsigned b = 0; b < m_spec.banks(); ++b) {
        const size_t bi = size_t(r) * m_spec.banks() + b;
        if (m_banks[bi].open_row >= 0) {
          const uint64_t t = std::max(due, m_banks[bi].next_pre);
          do_pre(bi, t);
          ref_t = std::max(ref_t, t + m_spec.trp);
        }
        ref_t = std::max(ref_t, m_banks[bi].next_act);
      }
      for (unsigned b = 0; b < m_spec.banks(); ++b) {
        Bank& bk = m_banks[size_t(r) * m_spec.banks() + b];
        bk.next_act = std::max(bk.next_act, ref_t + m_spec.trfc);
      }
      rk.next_ref_due += m_spec.trefi;
      ++m_c.ref;
    }
  }
}

void DdrChannel::do_act(const DdrAddress& a, uint64_t t) {
  Bank& bk = bank(a);
  Rank& rk = m_ranks[a.rank];
  bk.open_row = int64_t(a.row);
  bk.next_col = t + m_spec.trcd;
  bk.next_pre = std::max(bk.next_pre, t + m_spec.tras);
  bk.next_act = t + m_spec.trc;
  std::rotate(rk.faw.begin(), rk.faw.begin() + 1, rk.faw.end());
  rk.faw[3] = t;
  rk.last_act = t;
  rk.last_act_bg = int(a.bank_group);
  ++m_c.act;
}

void DdrChannel::do_pre(size_t b, uint64_t t) {
  Bank& bk = m_banks[b];
  bk.open_row = -1;
  bk.next_act = std::max(bk.next_act, t + m_spec.trp);
  ++m_c.pre;
}

void DdrChannel::issue(uint64_t now, std::vector<DdrCompletion>& done) {
  const Candidate c = chosen(now);
  if (c.cmd == Cmd::none || c.t != now) return;
  m_chosen_at = kNoCycle;  // the state changes below
  m_cmd_bus_free = now + 1;
  switch (c.cmd) {
    case Cmd::none: return;
    case Cmd::ref: {
      Rank& rk = m_ranks[c.rank];
      for (unsigned b = 0; b < m_spec.banks(); ++b) {
        Bank& bk = m_banks[size_t(c.rank) * m_spec.banks() + b];
        bk.next_act = std::max(bk.next_act, now + m_spec.trfc);
      }
      rk.next_ref_due += m_spec.trefi;
      ++m_c.ref;
      return;
    }
    case Cmd::pre:
      if (c.refresh) {
        do_pre(size_t(c.rank) * m_spec.banks() + c.bank, now);
      } else {
        m_queue[c.req].needed_pre = true;
        do_pre(bank_index(m_queue[c.req].a), now);
      }
      return;
    case Cmd::act:
      m_queue[c.req].needed_act = true;
      do_act(m_queue[c.req].a, now);
      return;
    case Cmd::rd:
    case Cmd::wr: {
      DdrRequest r = m_queue[c.req];
      m_queue.erase(m_queue.begin() + std::ptrdiff_t(c.req));
      Bank& bk = bank(r.a);
      Rank& rk = m_ranks[r.a.rank];
      const uint64_t start = now + (r.write ? m_spec.cwl : m_spec.cl), end = start + m_spec.tbl;
      m_data_bus_free = end;
      m_last_data_rank = int(r.a.rank);
      m_last_col = now;
      m_last_col_bg = int(r.a.bank_group);
      m_any_col = true;
      bk.next_pre = std::max(bk.next_pre, r.write ? end + m_spec.twr : now + m_spec.trtp);
      if (r.write) {
        rk.wr_data_end = end;
        rk.wr_bg = int(r.a.bank_group);
        ++m_c.wr;
        m_c.write_bytes += m_spec.burst_bytes();
      } else {
        ++m_c.rd;
        m_c.read_bytes += m_spec.burst_bytes();
      }
      if (r.needed_pre) ++m_c.row_conflicts;
      else if (r.needed_act) ++m_c.row_misses;
      else ++m_c.row_hits;
      ++m_c.requests;
      m_c.latency_cycles += end - r.arrive;
      if (!m_spec.open_page) do_pre(bank_index(r.a), bk.next_pre);  // auto-precharge
      done.push_back({r.id, end});
      return;
    }
  }
}

}  // namespace bpsim::memory
