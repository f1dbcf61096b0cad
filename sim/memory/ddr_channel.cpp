#include "sim/memory/ddr_channel.h"

#include <algorithm>

namespace bpsim::memory {

namespace {
constexpr uint64_t kNever = UINT64_MAX;
}

DdrChannel::DdrChannel(const DdrSpec& spec, DdrCounters& counters)
    : m_spec(spec),
      m_c(counters),
      m_banks(size_t(spec.ranks) * spec.banks()),
      m_ranks(spec.ranks),
      m_bank_queues(m_banks.size()) {
  for (size_t r = 0; r < m_ranks.size(); ++r) {
    m_ranks[r].faw.fill(kNever);
    // Stagger refreshes over the ranks, as controllers do, so they do not all stall at once.
    m_ranks[r].next_ref_due = spec.trefi * (r + 1) / spec.ranks;
  }
  m_slots.reserve(spec.queue_depth);
}

void DdrChannel::enqueue(const DdrRequest& r) {
  uint32_t s = 0;
  if (m_free.empty()) {
    s = uint32_t(m_slots.size());
    m_slots.emplace_back();
  } else {
    s = m_free.back();
    m_free.pop_back();
  }
  Slot& sl = m_slots[s];
  sl.r = r;
  sl.seq = ++m_seq;
  sl.bank = uint32_t(bank_index(r.a));
  sl.older = m_youngest;
  sl.younger = kNil;
  (m_youngest == kNil ? m_oldest : m_slots[m_youngest].younger) = s;
  m_youngest = s;
  BankQueue& q = m_bank_queues[sl.bank];
  sl.bank_older = q.youngest;
  sl.bank_younger = kNil;
  (q.youngest == kNil ? q.oldest : m_slots[q.youngest].bank_younger) = s;
  q.youngest = s;
  if (q.active_at == kNil) {
    q.active_at = uint32_t(m_active.size());
    m_active.push_back(sl.bank);
  }
  if (!q.stale) {  // the youngest request is a pick only where its kind had none
    const Bank& bk = m_banks[sl.bank];
    uint32_t& pick = bk.open_row != int64_t(r.a.row) ? q.other : r.write ? q.hit_wr : q.hit_rd;
    if (pick == kNil) pick = s;
  }
  ++m_count;
  m_chosen_at = kNoCycle;
}

void DdrChannel::unlink(uint32_t s) {
  Slot& sl = m_slots[s];
  (sl.older == kNil ? m_oldest : m_slots[sl.older].younger) = sl.younger;
  (sl.younger == kNil ? m_youngest : m_slots[sl.younger].older) = sl.older;
  BankQueue& q = m_bank_queues[sl.bank];
  (sl.bank_older == kNil ? q.oldest : m_slots[sl.bank_older].bank_younger) = sl.bank_younger;
  (sl.bank_younger == kNil ? q.youngest : m_slots[sl.bank_younger].bank_older) = sl.bank_older;
  q.stale = true;
  if (q.oldest == kNil) {  // leave the active set: move the last active bank into the gap
    const uint32_t last = m_active.back();
    m_active[q.active_at] = last;
    m_bank_queues[last].active_at = q.active_at;
    m_active.pop_back();
    q.active_at = kNil;
  }
  m_free.push_back(s);
  --m_count;
}

void DdrChannel::refresh_bank_queue(uint32_t b) const {
  BankQueue& q = m_bank_queues[b];
  q.hit_rd = q.hit_wr = q.other = kNil;
  q.stale = false;
  const int64_t open = m_banks[b].open_row;
  for (uint32_t s = q.oldest; s != kNil; s = m_slots[s].bank_younger) {
    const DdrRequest& r = m_slots[s].r;
    uint32_t& pick = open != int64_t(r.a.row) ? q.other : r.write ? q.hit_wr : q.hit_rd;
    if (pick == kNil) pick = s;
    if (q.other != kNil && (open < 0 || (q.hit_rd != kNil && q.hit_wr != kNil))) return;
  }
}

const DdrChannel::Candidate& DdrChannel::chosen(uint64_t now) const {
  if (m_chosen_at == now) return m_chosen;
  // Every candidate's cycle is max(now, K) with K fixed by the channel's state. If the
  // choice made at an earlier cycle (state unchanged since) is due at m_chosen.t ≥ now,
  // every candidate had K ≥ m_chosen.t, so none moved: the choice stands, unless a rank's
  // refresh fell due in between (its commands join, and rows of that rank stop opening).
  bool stands = !m_scan && m_chosen_at != kNoCycle && m_chosen_at < now && now <= m_chosen.t;
  for (size_t r = 0; stands && r < m_ranks.size(); ++r) stands = now < m_ranks[r].next_ref_due;
  if (!stands) m_chosen = m_scan ? choose_by_scan(now) : choose(now);
  m_chosen_at = now;
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

DdrChannel::Candidate DdrChannel::refresh_candidate(uint64_t now) const {
  // A due rank closes its open banks, then refreshes.
  Candidate best;
  for (unsigned r = 0; r < m_ranks.size(); ++r) {
    if (now < m_ranks[r].next_ref_due) continue;
    bool any_open = false;
    uint64_t ref_t = std::max(now, m_cmd_bus_free);
    for (unsigned b = 0; b < m_spec.banks(); ++b) {
      const Bank& bk = m_banks[size_t(r) * m_spec.banks() + b];
      if (bk.open_row >= 0) {
        any_open = true;
        const uint64_t t = std::max({now, bk.next_pre, m_cmd_bus_free});
        if (t < best.t) best = {Cmd::pre, t, kNil, r, b, true};
      }
      ref_t = std::max(ref_t, bk.next_act);
    }
    if (!any_open && ref_t < best.t) best = {Cmd::ref, ref_t, kNil, r, 0};
  }
  return best;
}

DdrChannel::Candidate DdrChannel::request_candidate(uint32_t s, uint64_t now) const {
  const Slot& sl = m_slots[s];
  const DdrRequest& q = sl.r;
  const Bank& bk = m_banks[sl.bank];
  if (bk.open_row == int64_t(q.a.row))
    return {q.write ? Cmd::wr : Cmd::rd, col_ready(q, now), s, q.a.rank, 0, false, sl.seq};
  if (bk.open_row >= 0) {
    if (now >= m_ranks[q.a.rank].next_ref_due) return {};
    return {Cmd::pre, std::max({now, bk.next_pre, m_cmd_bus_free}), s, q.a.rank, 0, false, sl.seq};
  }
  const uint64_t t = act_ready(q.a, now);
  if (t == kNever) return {};
  return {Cmd::act, t, s, q.a.rank, 0, false, sl.seq};
}

DdrChannel::Candidate DdrChannel::choose(uint64_t now) const {
  Candidate best = refresh_candidate(now);
  if (best.cmd != Cmd::none && best.t <= now) return best;  // refresh goes first when ready
  // Earliest first; at equal times a column command (a row hit) beats the others, and the
  // older request beats the younger (refresh commands count as oldest).
  auto consider = [&](uint32_t s) {
    if (s == kNil) return;
    const Candidate c = request_candidate(s, now);
    if (c.cmd == Cmd::none) return;
    if (c.t < best.t || (c.t == best.t && (c.column() != best.column() ? c.column() : c.seq < best.seq))) best = c;
  };
  if (!m_spec.fr_fcfs) {
    consider(m_oldest);
    return best;
  }
  // Within a bank every hit of one direction has the same earliest cycle, and so has every
  // request that must open or close a row: only the oldest of each can win.
  for (const uint32_t b : m_active) {
    const BankQueue& q = m_bank_queues[b];
    if (q.stale) refresh_bank_queue(b);
    // The bank's own timer bounds its command's cycle from below: a bank that cannot beat
    // the best so far is not looked at further.
    const Bank& bk = m_banks[b];
    const bool hits = q.hit_rd != kNil || q.hit_wr != kNil;
    if ((hits ? bk.next_col : bk.open_row >= 0 ? bk.next_pre : bk.next_act) > best.t) continue;
    if (hits) {
      consider(q.hit_rd);
      consider(q.hit_wr);
    } else {
      consider(q.other);  // FR-FCFS closes a row only once no request hits it
    }
  }
  return best;
}

DdrChannel::Candidate DdrChannel::choose_by_scan(uint64_t now) const {
  Candidate best = refresh_candidate(now);
  if (best.cmd != Cmd::none && best.t <= now) return best;
  auto consider = [&](Candidate c, bool column) {
    // Earliest first; at equal times a column command (a row hit) beats the others, and
    // the older request beats the younger (candidates arrive oldest first).
    if (c.t < best.t || (c.t == best.t && column && !best.column())) best = c;
  };
  // Banks whose open row some queued request still wants: FR-FCFS drains those hits
  // before closing the row (one pass over the queue, not one per candidate).
  std::vector<bool>& wanted = m_wanted;
  wanted.assign(m_banks.size(), false);
  for (uint32_t s = m_oldest; s != kNil; s = m_slots[s].younger)
    if (m_banks[m_slots[s].bank].open_row == int64_t(m_slots[s].r.a.row)) wanted[m_slots[s].bank] = true;
  for (uint32_t s = m_oldest; s != kNil; s = m_spec.fr_fcfs ? m_slots[s].younger : kNil) {
    // Nothing beats the oldest row hit that can issue now: stop looking.
    if (best.t == now && best.column()) break;
    const Slot& sl = m_slots[s];
    const int64_t open = m_banks[sl.bank].open_row;
    if (m_spec.fr_fcfs && open >= 0 && open != int64_t(sl.r.a.row) && wanted[sl.bank]) continue;
    const Candidate c = request_candidate(s, now);
    if (c.cmd != Cmd::none) consider(c, c.column());
  }
  return best;
}

uint64_t DdrChannel::next_issue(uint64_t now, uint64_t horizon) const {
  uint64_t t = chosen(now).t;
  for (const Rank& r : m_ranks)
    if (r.next_ref_due > now && (m_count > 0 || r.next_ref_due <= horizon)) t = std::min(t, r.next_ref_due);
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
  const size_t b = bank_index(a);
  Bank& bk = m_banks[b];
  Rank& rk = m_ranks[a.rank];
  bk.open_row = int64_t(a.row);
  bk.next_col = t + m_spec.trcd;
  bk.next_pre = std::max(bk.next_pre, t + m_spec.tras);
  bk.next_act = t + m_spec.trc;
  std::rotate(rk.faw.begin(), rk.faw.begin() + 1, rk.faw.end());
  rk.faw[3] = t;
  rk.last_act = t;
  rk.last_act_bg = int(a.bank_group);
  m_bank_queues[b].stale = true;  // other requests may hit the new row
  ++m_c.act;
}

void DdrChannel::do_pre(size_t b, uint64_t t) {
  Bank& bk = m_banks[b];
  bk.open_row = -1;
  bk.next_act = std::max(bk.next_act, t + m_spec.trp);
  m_bank_queues[b].stale = true;  // hits become misses
  ++m_c.pre;
}

void DdrChannel::issue(uint64_t now, std::vector<DdrCompletion>& done) {
  const Candidate c = chosen(now);
  if (c.cmd == Cmd::none || c.t != now) return;
  m_chosen_at = kNoCycle;  // the state changes below
  m_cmd_bus_free = now + 1;
  if (m_log) {
    static constexpr char kKinds[] = {'?', 'A', 'P', 'R', 'W', 'F'};
    DdrCommand l{now, kKinds[int(c.cmd)], c.rank, c.bank, 0};
    if (c.req != kNil) {
      const DdrRequest& r = m_slots[c.req].r;
      l.bank = unsigned(bank_index(r.a) % m_spec.banks());
      l.request = r.id;
    }
    m_log->push_back(l);
  }
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
        m_slots[c.req].r.needed_pre = true;
        do_pre(m_slots[c.req].bank, now);
      }
      return;
    case Cmd::act:
      m_slots[c.req].r.needed_act = true;
      do_act(m_slots[c.req].r.a, now);
      return;
    case Cmd::rd:
    case Cmd::wr: {
      const DdrRequest r = m_slots[c.req].r;
      const size_t bi = m_slots[c.req].bank;
      unlink(c.req);
      Bank& bk = m_banks[bi];
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
      if (!m_spec.open_page) do_pre(bi, bk.next_pre);  // auto-precharge
      done.push_back({r.id, end});
      return;
    }
  }
}

}  // namespace bpsim::memory
