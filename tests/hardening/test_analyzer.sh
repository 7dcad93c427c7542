#!/bin/bash
# Static analysis of every C file of lib/, helper/ and pam/, with the
# flags and include paths the build compiles it with (BUILD_DIR's
# compile_commands.json):
#   - GCC's -fanalyzer (leaks, NULL dereferences, double frees, use after
#     free, file-descriptor misuse ...), one check per file;
#   - clang-tidy with the top-level .clang-tidy (the Clang static analyzer,
#     bugprone-*, cert-*, misc-*), one check per file.
# Any warning fails the file's check.  A tool that is not installed skips
# its checks.  Full diagnostics go to BUILD_DIR/meson-logs/analyzer/.
#   test_analyzer.sh BUILD_DIR [SANITIZE]
# ANALYZER_JOBS sets how many files are analysed at once (default: nproc).
set -u
build=$(cd "$1" && pwd)
sanitize=${2:-none}
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$src/tests/integration/tap.sh"

if [ "$sanitize" != none ]; then
	echo "1..0 # SKIP analysed once, in the build without sanitizers (this one: $sanitize)"
	exit 0
fi
db=$build/compile_commands.json
if [ ! -f "$db" ]; then
	echo "1..0 # SKIP $db is missing"
	exit 0
fi

# -fanalyzer is GCC's (10 and later); the flags must be a GCC build's.
have_gcc=
gcc=${ANALYZER_GCC:-gcc}
cc=$($py - "$db" <<'PY'
import json, os, shlex, sys
e = json.load(open(sys.argv[1]))[0]
args = shlex.split(e["command"]) if "command" in e else e["arguments"]
while os.path.basename(args[0]) in ("ccache", "sccache"):
    args = args[1:]
print(args[0])
PY
)
if ! command -v "$gcc" >/dev/null; then
	why_gcc="gcc is not installed"
elif ! "$cc" --version 2>/dev/null | grep -qE '^(gcc|cc)|Free Software Foundation'; then
	why_gcc="the build compiles with $cc, not GCC"
elif ! echo 'int x;' | "$gcc" -fanalyzer -x c -c -o /dev/null - 2>/dev/null; then
	why_gcc="$gcc has no -fanalyzer"
else
	have_gcc=1
fi
have_tidy=
tidy=${ANALYZER_CLANG_TIDY:-}
if [ -z "$tidy" ]; then
	for t in clang-tidy clang-tidy-14 clang-tidy-15 clang-tidy-16; do
		command -v "$t" >/dev/null && { tidy=$t; break; }
	done
fi
if [ -n "$tidy" ] && command -v "$tidy" >/dev/null; then
	have_tidy=1
else
	why_tidy="clang-tidy is not installed (Debian: clang-tidy)"
fi
if [ -z "$have_gcc" ] && [ -z "$have_tidy" ]; then
	echo "1..0 # SKIP $why_gcc; $why_tidy"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
logs=$build/meson-logs/analyzer
rm -rf "$logs"
mkdir -p "$logs"

# One job per source file: its first compile command, made to analyse
# instead of compile (no object, no dependency file, no colour).
$py - "$db" "$src" "$work" "$gcc" <<'PY' || { echo "not ok 1 - reading $db"; echo "1..1"; exit 1; }
import json, os, shlex, sys
db, src, work, gcc = sys.argv[1:]
seen = {}
for e in json.load(open(db)):
    path = os.path.realpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(path, src)
    if rel.split(os.sep)[0] not in ("lib", "helper", "pam") or rel in seen:
        continue
    args = shlex.split(e["command"]) if "command" in e else e["arguments"]
    while os.path.basename(args[0]) in ("ccache", "sccache"):
        args = args[1:]
    out, skip = [gcc], False
    for a in args[1:]:
        if skip:
            skip = False
        elif a in ("-o", "-MQ", "-MF", "-MT"):
            skip = True
        elif a in ("-MD", "-MMD") or a.startswith("-fdiagnostics-color"):
            pass
        else:
            out.append(a)
    out += ["-o", "/dev/null", "-fanalyzer", "-fdiagnostics-color=never"]
    seen[rel] = (e["directory"], path, out)
with open(os.path.join(work, "files"), "w") as f:
    for i, rel in enumerate(sorted(seen)):
        d, path, cmd = seen[rel]
        f.write(f"{i}\t{rel}\t{path}\n")
        with open(os.path.join(work, f"{i}.gcc"), "w") as g:
            g.write(f"cd {shlex.quote(d)} && exec {shlex.join(cmd)}\n")
# Every C file in those directories must have been compiled (and so
# analysed): a file the build leaves out is listed.
with open(os.path.join(work, "uncompiled"), "w") as f:
    for d in ("lib", "helper", "pam"):
        # lib/ keeps its sources in the folders of its layers.
        for where, _, names in sorted(os.walk(os.path.join(src, d))):
            for name in sorted(names):
                rel = os.path.relpath(os.path.join(where, name), src)
                if name.endswith(".c") and rel not in seen:
                    f.write(rel + "\n")
PY

jobs=${ANALYZER_JOBS:-$(nproc 2>/dev/null || echo 2)}
start=$(date +%s)
# Both tools' jobs in one queue, the slower clang-tidy's first, so the
# last jobs to finish are short ones.
{
	[ -n "$have_tidy" ] && cut -f1 "$work/files" | sed 's/$/ tidy/'
	[ -n "$have_gcc" ] && cut -f1 "$work/files" | sed 's/$/ gcc/'
} | TIDY=$tidy SRC=$src BUILD=$build WORK=$work xargs -P "$jobs" -L1 sh -c '
	i=$1 tool=$2
	if [ "$tool" = gcc ]; then
		sh "$WORK/$i.gcc" >"$WORK/$i.gcc.out" 2>&1
	else
		path=$(awk -F"\t" -v i="$i" "\$1 == i { print \$3 }" "$WORK/files")
		"$TIDY" -p "$BUILD" --config-file="$SRC/.clang-tidy" --quiet \
			--extra-arg=-Wno-unknown-warning-option "$path" >"$WORK/$i.tidy.out" 2>&1
	fi
	echo $? >"$WORK/$i.$tool.rc"
' sh
elapsed=$(($(date +%s) - start))

uncompiled=$(tr '\n' ' ' <"$work/uncompiled" | sed 's/ $//')
ok "$([ -z "$uncompiled" ] && echo 0 || echo 1)" \
	"every C file of lib/, helper/ and pam/ is in compile_commands.json ${uncompiled:+(not: $uncompiled)}"

# A file's check: the tool ran, and said nothing.  clang-tidy's own
# "N warnings generated." counts what it suppressed (system headers,
# disabled checks); only reported diagnostics count here.
check() {  # check TOOL LABEL
	local tool=$1 label=$2 i rel path out rc found
	while IFS=$'\t' read -r i rel path; do
		out=$work/$i.$tool.out
		rc=$(cat "$work/$i.$tool.rc" 2>/dev/null || echo 1)
		# Diagnostics start a line with their place (a source line quoted
		# under one starts with a space or "|").
		found=$(grep -E '^[^[:space:]|].*: (fatal error|error|warning): ' "$out" | sort -u)
		cp "$out" "$logs/${rel//\//_}.$tool.log"
		if [ -z "$found" ] && [ "$rc" -eq 0 ]; then
			ok 0 "$label: $rel"
		else
			ok 1 "$label: $rel"
			if [ -n "$found" ]; then
				sed "s|^$build/||; s|^\.\./||; s/^/#   /" <<<"$found" | head -20
			else
				sed 's/^/#   /' "$out" | tail -5
			fi
		fi
	done <"$work/files"
}
if [ -n "$have_gcc" ]; then
	check gcc "gcc -fanalyzer"
else
	echo "ok $((n += 1)) # SKIP gcc -fanalyzer: $why_gcc"
fi
if [ -n "$have_tidy" ]; then
	check tidy "clang-tidy"
else
	echo "ok $((n += 1)) # SKIP clang-tidy: $why_tidy"
fi
echo "# $(wc -l <"$work/files") files, ${have_gcc:+gcc -fanalyzer ($("$gcc" -dumpfullversion))}${have_gcc:+${have_tidy:+ and }}${have_tidy:+$("$tidy" --version | grep -o 'version [0-9.]*' | head -1 | sed 's/version/clang-tidy/')}, $jobs at a time: ${elapsed}s"
echo "# full diagnostics: $logs"
tap_done
