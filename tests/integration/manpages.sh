#!/usr/bin/env bash
# Man pages and programs must not drift apart: every program in bin/ has a
# page man/PROG.{1,5,8} that renders without groff warnings; every command
# word `mosctl --help` lists is in mosctl(1); references between our pages
# (and in the programs' --help) name the section the page really has.
# Needs no root and no cluster.
. "$(dirname "$0")/lib.sh"

cd "$T_ROOT" || t_bail "no repository root"
progs=()
for p in bin/*; do
	[ -f "$p" ] && [ -x "$p" ] && progs+=("${p#bin/}")
done
[ ${#progs[@]} -gt 0 ] || t_skip_all "bin/ is empty: run make"

have_groff=1
command -v groff >/dev/null 2>&1 || have_groff=0

page_of() { # PROG: its page, or nothing
	local s
	for s in 1 8 5; do
		[ -f "man/$1.$s" ] && { echo "man/$1.$s"; return 0; }
	done
	return 1
}

renders_clean() { # PAGE: no groff warnings or errors
	local out
	out=$(groff -man -Tutf8 -ww -z "$1" 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}

for p in "${progs[@]}"; do
	page=$(page_of "$p") || { t_fail "$p has a man page (man/$p.1, .5 or .8)"; continue; }
	t_pass "$p has a man page ($page)"
	want=$(printf '%s' "$p" | tr '[:lower:]' '[:upper:]')
	t_ok "$page: .TH names $want" grep -Eq "^\\.TH \"?$want\"? ${page##*.}( |\$)" "$page"
	if [ "$have_groff" = 1 ]; then
		t_ok "$page renders without groff warnings" renders_clean "$page"
	fi
done
[ "$have_groff" = 1 ] || t_skip "pages render without groff warnings" "needs groff"

# every command word of `mosctl --help` is documented in mosctl(1)
if [ -x bin/mosctl ] && [ -f man/mosctl.1 ]; then
	help=$(bin/mosctl --help)
	words=$(
		{
			# {stay|nostay|...} groups of the usage
			printf '%s\n' "$help" | tr '\n' ' ' | grep -o '{[^}]*}' | tr -d '{} ' | tr '|' '\n'
			# "mosctl WORD ..." lines of the usage
			printf '%s\n' "$help" | sed -n 's/^ *\(Usage: \)\{0,1\}mosctl \([a-z][a-z]*\).*/\2/p'
			# first word of each line of the command list
			printf '%s\n' "$help" | sed -n '/^Commands:/,$p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'
		} | grep -E '^[a-z]+$' | sort -u
	)
	missing=()
	for w in $words; do
		grep -Eq "(^|[^a-z])$w([^a-z]|\$)" man/mosctl.1 || missing+=("$w")
	done
	t_ok "mosctl --help lists commands ($(printf '%s\n' "$words" | wc -l))" test -n "$words"
	t_is "${missing[*]}" "" "every command of mosctl --help is in man/mosctl.1"
fi

# NAME(N) references to our own pages use the section the page has
bad_refs() {
	local f p line name sec real
	for f in man/*.[1-8]; do
		grep -Eo '^\.BR +[A-Za-z0-9_.\\-]+ +\([1-8]\)' "$f" | while read -r _ name sec; do
			name=${name//\\/}
			sec=${sec//[()]/}
			real=$(page_of "$name") || continue
			[ "${real##*.}" = "$sec" ] || echo "$f: $name($sec) should be $name(${real##*.})"
		done
	done
	for p in "${progs[@]}"; do
		timeout 5 "bin/$p" --help 2>/dev/null </dev/null | grep -Eo '[a-z][a-z0-9_.-]*\([1-8]\)' | while read -r line; do
			name=${line%(*}
			sec=${line#*(}; sec=${sec%)}
			real=$(page_of "$name") || continue
			[ "${real##*.}" = "$sec" ] || echo "$p --help: $name($sec) should be $name(${real##*.})"
		done
	done
}
t_is "$(bad_refs)" "" "references to our pages name the right section"

t_done
