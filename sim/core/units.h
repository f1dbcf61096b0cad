#pragma once
/// Numbers for people: the one formatter of everything bpsim prints to a console (energy
/// in SI sub-units, times, decimal byte sizes, bandwidths, clocks, counts) and of parameter
/// values that must read back exactly (`bpsim list`). report.json and ops.csv never use it:
/// they keep full-precision numbers in their base units.
#include <string>

namespace bpsim::units {

/// `v` with an SI prefix (p, n, µ, m, none, k, M, G, T, P) chosen so that the mantissa is
/// in [1, 1000), rounded to `digits` significant digits: si(4.65e-4, "J") = "465 µJ".
/// Rounding that reaches 1000 moves up one prefix (999.96 → "1 k"); 0 is "0 unit"; a
/// mantissa has no exponent and no trailing zeros.
std::string si(double v, const char* unit, int digits = 3);
/// An energy given in pJ (the report's unit), in J with a prefix: "1.23 mJ", "465 µJ". Here
/// and below, `digits` significant digits (a table that must tell close values apart: 4).
std::string energy_pj(double pj, int digits = 3);
/// A time in seconds, in s or a sub-unit: "12.3 µs", "4.56 ms", "1.2 s" (never ks).
std::string seconds(double s, int digits = 3);
/// Bytes in decimal units (1 kB = 1000 B, as README and docs/workloads.md quote sizes):
/// "512 B", "4.1 kB", "1.23 MB", "8.62 GB".
std::string bytes(double b, int digits = 3);
/// Bytes per second, decimal: "12.3 GB/s".
std::string bandwidth(double bytes_per_s);
/// A count without a unit: "1.23 G", "456 k", "12".
std::string count(double n);
/// A plain number to `digits` significant digits, without an exponent below a million
/// ("0.0303", "3221", "12.5"), with count()'s prefixes from there ("1.92 M").
std::string number(double v, int digits = 3);
/// A clock given in GHz, to 4 significant digits: "1.2 GHz" (for 1.2004801920768309), "800 MHz".
std::string clock_ghz(double ghz);
/// A share in [0, 1] as a percentage with one decimal: "72.1%".
std::string percent(double share);
/// A value printed so that it reads back as the same double, with no exponent for an integer
/// below 2^53 ("1048576", not "1.04858e+06") and the shortest form otherwise ("0.5", "1e-06").
std::string exact(double v);

}  // namespace bpsim::units
