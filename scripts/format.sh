#!/usr/bin/env bash
# clang-format (the style of .clang-format, written for clang-format 14) on the C++ sources:
# every *.hpp, *.cpp and *.h under include/ tests/ bench/ examples/ test_package/ that git
# knows of (tracked, or new and not ignored; build directories are ignored, so never touched).
#
#   scripts/format.sh                 formats the files in place
#   scripts/format.sh --check         changes nothing; lists the files that would change, shows
#                                     how, and fails if there is any
#   scripts/format.sh [--check] PATH...   only the files under these paths (from the root)
#
# CLANG_FORMAT=/path/to/clang-format chooses the binary; otherwise clang-format-14, then
# clang-format. Another major version than 14 formats some constructs differently, so --check
# says so when it fails with one. Prints "SKIPPED: ..." and succeeds when no clang-format is
# installed. Code that clang-format 14 mangles (concepts, requires-clauses) stands between
# `// clang-format off` and `// clang-format on`: see the comment at the top of .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
paths=()
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h | --help)
      awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
      exit 0
      ;;
    -*)
      echo "format.sh: unknown option $arg (try --help)" >&2
      exit 2
      ;;
    *) paths+=("$arg") ;;
  esac
done

clang_format=${CLANG_FORMAT:-}
if [ -z "$clang_format" ]; then
  for candidate in clang-format-14 clang-format; do # .clang-format is written for 14
    if command -v "$candidate" >/dev/null 2>&1; then
      clang_format=$(command -v "$candidate")
      break
    fi
  done
fi
if [ -z "$clang_format" ]; then
  echo "SKIPPED: clang-format is not installed (GOSSIP_WITH_FORMAT=1 scripts/install-deps.sh installs it)"
  exit 0
fi
if ! version=$("$clang_format" --version 2>/dev/null); then
  echo "format.sh: $clang_format does not run" >&2
  exit 2
fi
major=$(sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p' <<<"$version" | head -n 1)
echo "$version ($clang_format)"
# A .clang-format this version cannot read would fail every file alike: say so once, plainly.
if ! err=$("$clang_format" --style=file --assume-filename=include/gossip/gossip.hpp --dump-config 2>&1 >/dev/null); then
  printf '%s\n' "$err" >&2
  echo "format.sh: $clang_format cannot read .clang-format" >&2
  exit 2
fi

roots=(include tests bench examples test_package)
if [ ${#paths[@]} -gt 0 ]; then
  roots=("${paths[@]}")
fi
files=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  while IFS= read -r -d '' f; do
    case "$f" in
      *.hpp | *.cpp | *.h) [ -f "$f" ] && files+=("$f") ;;
    esac
  done < <(git ls-files -z --cached --others --exclude-standard -- "${roots[@]}" | sort -zu)
else
  # A source archive without .git: the same directories, build trees left out.
  while IFS= read -r -d '' f; do
    files+=("${f#./}")
  done < <(find "${roots[@]}" \( -name build -o -name 'build-*' -o -name out \) -prune -o \
    -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) -print0 2>/dev/null | sort -z)
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "format.sh: no C++ files under ${roots[*]}"
  exit 0
fi

if [ "$check" -eq 0 ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 8 -P "$(nproc 2>/dev/null || echo 2)" "$clang_format" -i --style=file
  echo "formatted ${#files[@]} files"
  exit 0
fi

bad=()
for f in "${files[@]}"; do
  if ! "$clang_format" --style=file --dry-run -Werror --ferror-limit=1 "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [ ${#bad[@]} -eq 0 ]; then
  echo "format check: all ${#files[@]} files are formatted"
  exit 0
fi

shown=0
for f in "${bad[@]}"; do
  if [ "$shown" -lt 400 ]; then
    out=$("$clang_format" --style=file "$f" | diff -u --label "$f" --label "$f (formatted)" "$f" - || true)
    printf '%s\n' "$out" | head -n $((400 - shown))
    shown=$((shown + $(printf '%s\n' "$out" | wc -l)))
  fi
done
[ "$shown" -ge 400 ] && echo "... (diff cut short)"
echo
echo "format check: ${#bad[@]} of ${#files[@]} files are not formatted:"
printf '  %s\n' "${bad[@]}"
echo "Run scripts/format.sh to format them (clang-format 14; see .clang-format for the"
echo "// clang-format off/on guards that concepts and requires-clauses need)."
if [ -n "$major" ] && [ "$major" != 14 ]; then
  echo "note: this is clang-format $major; the style is checked with clang-format 14, and other"
  echo "versions format some code differently. CLANG_FORMAT=clang-format-14 to use 14."
fi
exit 1
