#pragma once
/// One progress line on stderr for work that takes a while (a long run, a sweep): drawn only
/// when stderr is a terminal and the caller did not ask for quiet, redrawn in place ("\r")
/// at most ten times a second, and only once the work has taken longer than a delay (2 s by
/// default; BPSIM_PROGRESS_AFTER_S overrides it), so short runs print nothing. The caller
/// asks `due()` from its own loop: no thread, no timer, nothing that could change what is
/// simulated or written; stdout is never touched.
#include <chrono>
#include <cstdio>
#include <string>

namespace bpsim {

class ProgressLine {
 public:
  /// `enabled`: the caller's wish (false with --quiet); `delay_s`: seconds before the first
  /// draw (negative: the default, or BPSIM_PROGRESS_AFTER_S); `out`: the stream (stderr,
  /// whose being a terminal decides, or a test's file, which always draws).
  explicit ProgressLine(bool enabled, double delay_s = -1, std::FILE* out = nullptr);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Whether the line is drawn at all (enabled, on a terminal).
  bool active() const { return m_active; }
  /// Whether a redraw is wanted now: active, past the delay, and 0.1 s after the last draw.
  /// Cheap (one clock read), so it can be asked once per op.
  bool due();
  /// Draws `text` over the previous line (padded to cover it), when active.
  void show(const std::string& text);
  /// Prints `text` (ending in a newline) on lines of its own above the progress line.
  void message(const std::string& text);
  /// Removes the line, if one was drawn; called by the destructor too.
  void clear();
  /// Seconds since construction.
  double elapsed_s() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* m_out;
  bool m_active;
  double m_delay_s;
  Clock::time_point m_start, m_last;
  size_t m_width = 0;  ///< characters of the line on screen now (0: none drawn)
};

}  // namespace bpsim
