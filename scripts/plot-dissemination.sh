#!/usr/bin/env bash
# Draws docs/img/dissemination.svg: the mean fraction of nodes reached after each round, for
# several rumor-mongering strategies side by side, from the dissemination example's CSV output.
# Installs gnuplot (Debian's gnuplot-nox) when it is missing. Extra arguments go to every
# dissemination run (for example --nodes 100000 --runs 5).
set -euo pipefail
cd "$(dirname "$0")/.."
GOSSIP_WITH_GNUPLOT=1 scripts/install-deps.sh

build=build/demo
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DGOSSIP_BUILD_TESTS=OFF -DGOSSIP_BUILD_BENCHMARKS=OFF -DGOSSIP_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target dissemination

work=build/plot
rm -rf "$work"
mkdir -p "$work"
tool="$build/examples/dissemination"
common=(--nodes 10000 --runs 10 --quiet)
"$tool" "${common[@]}" --spread push,pull,push_pull --interest feedback --stop counter --k 2 \
  --curves "$work/a.csv" "$@"
"$tool" "${common[@]}" --spread push --interest blind --stop coin --k 2 --curves "$work/b.csv" "$@"
"$tool" "${common[@]}" --spread push --stop rounds --rounds 10 --curves "$work/c.csv" "$@"

# One file per strategy: gnuplot titles each from its label.
tail -q -n +2 "$work"/[abc].csv | awk -F, -v dir="$work" '
  { gsub(/"/, "", $1); file = dir "/curve-" (++seen[$1] == 1 ? ++n : idx[$1]) ".dat";
    if (seen[$1] == 1) { idx[$1] = n; label[n] = $1 }
    print $3, $4 > (dir "/curve-" idx[$1] ".dat") }
  END { for (i = 1; i <= n; i++) print i "\t" label[i] > (dir "/labels.txt") }'

plot=""
while IFS=$'\t' read -r i label; do
  plot+="${plot:+, }'$work/curve-$i.dat' using 1:2 with linespoints title '$label'"
done < "$work/labels.txt"

gnuplot <<GNUPLOT
set terminal svg size 800,480 dynamic font "sans,12"
set output "docs/img/dissemination.svg"
set title "One rumor among 10,000 nodes: fraction reached after each round (mean of 10 runs)"
set xlabel "round"
set ylabel "fraction of nodes reached"
set yrange [0:1.02]
set xrange [0:40]
set key bottom right
set grid
plot $plot
GNUPLOT
echo "wrote docs/img/dissemination.svg"
