#!/usr/bin/env bash
# Doxygen coverage without doxygen: every concept, class, struct, union, enum and type alias at
# namespace scope in the public headers (include/gossip, outside detail/ and outside namespaces
# named detail) must follow a Doxygen comment, `///` or `/** */`, with nothing but blank,
# preprocessor or `// NOLINT...` lines between them. Forward declarations and specializations are exempt.
#
#   scripts/check-docs.sh [baseline]
#
# The baseline (default tests/hygiene/docs_baseline.txt) lists, as "path kind name", what is
# known to be undocumented and tolerated for now; an entry that has been documented is reported
# so that it can be removed. Run by ctest as hygiene.docs. Plain POSIX awk: quick, and needs
# nothing that a build machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=${1:-tests/hygiene/docs_baseline.txt}

mapfile -t headers < <(find include/gossip -name '*.hpp' -not -path 'include/gossip/detail/*' | LC_ALL=C sort)
awk -v baseline="$baseline" '
function reset_file() {
    top = 0            # namespace/brace stack: kind[i] is "n" (public namespace), "x" (detail
                       # or anonymous namespace) or "o" (any other brace)
    in_block = 0; block_doc = 0
    pending = 0; decl = ""
    last_sig = "blank"
}
function at_namespace_scope(  i) {
    for (i = 1; i <= top; ++i) if (kind[i] == "o") return 0
    return 1
}
function public_scope(  i) {
    for (i = 1; i <= top; ++i) if (kind[i] != "n") return 0
    return 1
}
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
# Drops a leading template parameter list, "<...>" with nesting.
function drop_angles(s,  i, d, c) {
    d = 0
    for (i = 1; i <= length(s); ++i) {
        c = substr(s, i, 1)
        if (c == "<") ++d
        else if (c == ">" && --d == 0) return substr(s, i + 1)
    }
    return ""
}
function report(k, name,  key) {
    key = FILENAME " " k " " name
    if (key in known) { used[key] = 1; ++tolerated; return }
    printf "%s:%d: %s %s has no Doxygen comment (/// or /** */) before it\n", FILENAME, decl_line, k, name
    ++missing
}
# Classifies the text of a declaration up to its first "{" or ";" (ender); returns "n" or "x"
# for a namespace definition, "o" otherwise, and reports an undocumented public entity.
function classify(t, ender,  name, k, rest) {
    t = trim(t)
    while (t ~ /^template[ \t]*</) {
        sub(/^template[ \t]*/, "", t)
        t = trim(drop_angles(t))
    }
    if (t ~ /^requires[ \t(]/) {                         # a requires-clause before the class-key
        if (match(t, /[ \t)>](struct|class|union)[ \t]/)) t = substr(t, RSTART + 1)
        else t = ""
    }
    if (t ~ /^(inline[ \t]+)?namespace([ \t]|$)/ && ender == "{") {
        sub(/^(inline[ \t]+)?namespace[ \t]*/, "", t)
        return (t == "" || t ~ /(^|::)detail($|::)/) ? "x" : "n"
    }
    if (!decl_doc_ok && public_scope()) {
        k = ""; name = ""
        if (match(t, /^concept[ \t]+[A-Za-z_][A-Za-z_0-9]*/)) {
            k = "concept"; name = substr(t, 9, RLENGTH - 8)
        } else if (match(t, /^(struct|class|union)[ \t]/)) {
            k = trim(substr(t, 1, RLENGTH))
            rest = trim(substr(t, RLENGTH + 1))
            while (rest ~ /^(\[\[|alignas)/) {          # attributes before the name
                sub(/^(\[\[[^]]*\]\]|alignas[ \t]*\([^)]*\))[ \t]*/, "", rest)
            }
            if (match(rest, /^[A-Za-z_][A-Za-z_0-9]*/)) {
                name = substr(rest, 1, RLENGTH)
                rest = trim(substr(rest, RLENGTH + 1))
                # a specialization (also of a template from elsewhere), a forward declaration,
                # or an elaborated type in another declaration: none needs its own comment
                if (rest ~ /^(<|::)/ || ender != "{" || (rest != "" && rest !~ /^(final|:)/)) k = ""
            } else k = ""
        } else if (match(t, /^enum([ \t]+(class|struct))?[ \t]+[A-Za-z_][A-Za-z_0-9]*/)) {
            k = "enum"; name = substr(t, 1, RLENGTH); sub(/.*[ \t]/, "", name)
            if (ender != "{") k = ""                     # an opaque declaration
        } else if (match(t, /^using[ \t]+[A-Za-z_][A-Za-z_0-9]*[ \t]*(\[\[[^]]*\]\][ \t]*)?=/)) {
            k = "alias"; name = substr(t, 7); sub(/^[ \t]+/, "", name); sub(/[^A-Za-z_0-9].*/, "", name)
        } else if (t ~ /^typedef[ \t]/) {
            k = "alias"; name = t; sub(/[^A-Za-z_0-9]*$/, "", name); sub(/.*[^A-Za-z_0-9]/, "", name)
        }
        if (k != "") report(k, name)
    }
    return "o"
}
BEGIN {
    missing = 0; tolerated = 0
    while ((getline entry < baseline) > 0) {
        entry = trim(entry)
        if (entry != "" && entry !~ /^#/) known[entry] = 1
    }
}
FNR == 1 { reset_file() }
{
    # The line without comments and literals, and what kind of comment it holds.
    line = $0; n = length(line); code = ""; doc = 0; comment = 0
    i = 1
    while (i <= n) {
        if (in_block) {
            comment = 1; doc = doc || block_doc
            j = index(substr(line, i), "*/")
            if (j == 0) break
            i += j + 1; in_block = 0
            continue
        }
        c = substr(line, i, 1); two = substr(line, i, 2)
        if (two == "//") {
            comment = substr(line, i) !~ /^\/\/[ \t]*NOLINT/    # a NOLINT line is transparent
            if (substr(line, i, 3) == "///" && substr(line, i, 4) != "////" && substr(line, i, 4) != "///<") doc = 1
            break
        }
        if (two == "/*") {
            in_block = 1; block_doc = substr(line, i, 3) == "/**" && substr(line, i, 4) != "/**/" && substr(line, i, 4) != "/**<"
            i += 2
            continue
        }
        if (c == "\"" || (c == "\047" && code !~ /[A-Za-z0-9_]$/)) {    # a literal, not a digit separator
            q = c; ++i
            while (i <= n && substr(line, i, 1) != q) i += substr(line, i, 1) == "\\" ? 2 : 1
            ++i; code = code q q
            continue
        }
        code = code c; ++i
    }
    stripped = trim(code)
    if (stripped == "") {
        if (doc) last_sig = "doc"
        else if (comment) last_sig = "comment"
        next                                            # blank or NOLINT: transparent
    }
    if (stripped ~ /^#/) next                           # preprocessor: transparent

    first_on_line = 1
    for (i = 1; i <= length(code); ++i) {
        c = substr(code, i, 1)
        if (!pending) {
            if (c == " " || c == "\t") continue
            if (!at_namespace_scope()) {
                if (c == "{") kind[++top] = "o"
                else if (c == "}" && top > 0) --top
                first_on_line = 0
                continue
            }
            if (c == ";") { first_on_line = 0; continue }
            if (c == "}") { if (top > 0) --top; first_on_line = 0; continue }
            pending = 1; decl = ""; decl_line = FNR
            decl_doc_ok = first_on_line && last_sig == "doc"
        }
        first_on_line = 0
        if (c == "{") { k = classify(decl, "{"); kind[++top] = k; pending = 0; continue }
        if (c == ";") { classify(decl, ";"); pending = 0; continue }
        decl = decl c
    }
    if (pending) decl = decl " "
    last_sig = "code"
}
END {
    for (key in known) {
        if (!(key in used)) printf "note: %s: \"%s\" is documented now or gone; remove it from %s\n", baseline, key, baseline
    }
    if (missing > 0) {
        printf "%d public declaration(s) without a Doxygen comment\n", missing
        exit 1
    }
    printf "every public concept, class, enum and alias has a Doxygen comment, but for %d in the baseline\n", tolerated
}' "${headers[@]}"
