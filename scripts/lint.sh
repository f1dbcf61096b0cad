#!/usr/bin/env bash
# Lint: clang-format (.clang-format) must leave every C++ file of sim/, models/ and tests/
# unchanged, and clang-tidy (.clang-tidy) must find nothing in sim/ and models/.
# Usage: scripts/lint.sh [--format | --tidy] [FILE ...]
#   --format / --tidy   run only that half (default: both)
#   FILE ...            only these files (default: every tracked one of the folders above)
# clang-tidy needs a built tree (generated headers) and its compile_commands.json: the build
# folder ($BPSIM_BUILD_DIR, default build) is reconfigured with CMAKE_EXPORT_COMPILE_COMMANDS
# (no object changes). $BPSIM_JOBS clang-tidy processes run at once (default: all cores).
# Exit: 0 clean, 1 findings (each printed with file:line), 2 cannot run (tool or build missing).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BPSIM_BUILD_DIR:-build}
JOBS=${BPSIM_JOBS:-$(nproc)}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}

do_format=1 do_tidy=1
case "${1:-}" in
  --format) do_tidy=0; shift ;;
  --tidy) do_format=0; shift ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

need() { command -v "$1" >/dev/null || { echo "lint: $1 not found (bash scripts/setup.sh installs it)" >&2; exit 2; }; }

status=0
if [ "$do_format" = 1 ]; then
  need "$CLANG_FORMAT"
  if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files 'sim/*.h' 'sim/*.cpp' 'models/*.h' 'models/*.cpp' 'tests/*.h' 'tests/*.cpp'); fi
  bad=()
  for f in "${files[@]}"; do
    case "$f" in *.h|*.cpp) ;; *) continue ;; esac
    "$CLANG_FORMAT" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if [ ${#bad[@]} -gt 0 ]; then
    for f in "${bad[@]}"; do
      n=$("$CLANG_FORMAT" --style=file "$f" | diff "$f" - | grep -c '^>' || true)
      echo "format: $f: $n changed lines (fix: $CLANG_FORMAT -i $f)"
    done
    echo "format: ${#bad[@]} of ${#files[@]} files not formatted"
    status=1
  else
    echo "format: ${#files[@]} files ok"
  fi
fi

if [ "$do_tidy" = 1 ]; then
  need "$CLANG_TIDY"
  [ -d "$BUILD_DIR" ] || { echo "lint: no build in $BUILD_DIR (run scripts/build.sh first)" >&2; exit 2; }
  cmake -S . -B "$BUILD_DIR" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  # A .clang-tidy that does not parse would leave every file "clean": check it enables checks.
  "$CLANG_TIDY" --list-checks 2>&1 | grep -q 'bugprone-' ||
    { echo "lint: $CLANG_TIDY enables no checks (is .clang-tidy valid?)" >&2; "$CLANG_TIDY" --list-checks >&2 || true; exit 2; }
  if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(git ls-files 'sim/*.cpp' 'models/*.cpp'); fi
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  # One file per process; each prints only its findings (--quiet), collected in $out.
  printf '%s\n' "${files[@]}" | { grep '\.cpp$' || true; } |
    xargs -P "$JOBS" -I{} sh -c '"$1" -p "$2" --quiet "$3" 2>/dev/null || true' _ "$CLANG_TIDY" "$BUILD_DIR" {} >"$out"
  # A header's finding is reported by every file that includes it: count each once.
  findings=$({ grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out" || true; } | sort -u | wc -l)
  if [ "$findings" -gt 0 ]; then
    cat "$out"
    echo "tidy: $findings findings in ${#files[@]} files"
    status=1
  else
    echo "tidy: ${#files[@]} files ok"
  fi
fi
exit $status
