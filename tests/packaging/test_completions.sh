#!/bin/bash
# The shell completions, as installed, in the real shells:
#   test_completions.sh BUILD_DIR SOURCE_DIR
# meson installs them (install tag "completions") into a scratch DESTDIR;
# each shell then loads them the way it does at a prompt: bash through
# bash-completion's loader (BASH_COMPLETION_USER_DIR), zsh through compinit
# with the directory on fpath, driven over a pty (zsh/zpty) with TAB, and
# fish through its vendor_completions.d (XDG_DATA_DIRS) with complete -C.
# Checked for each shell: the command list (against cftoken --help), every
# command's options (against cftoken COMMAND --help), --format's values,
# profile names from $CFTOKEN_CONFIG / $XDG_CONFIG_HOME / ~/.config,
# git-credential-cftoken's operations, and exec's program and its arguments.
# cftoken itself is a stub on PATH here that records being run: completing
# must never run it.
set -u
export LC_COLLATE=C
build=$1
src=$2
. "$src/tests/integration/tap.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
backend=$build/helper/cftoken-backend

# --- install ---------------------------------------------------------------
dest=$tmp/dest
meson install -C "$build" --no-rebuild --tags completions --destdir "$dest" \
	>"$tmp/install.log" 2>&1
status=$?
[ "$status" -eq 0 ] || sed 's/^/#   /' "$tmp/install.log"
ok "$status" "meson install --tags completions into a DESTDIR"
# Where they went, by the build's own options (default: under DATADIR).
eval "$(meson introspect "$build" --buildoptions | $py -c '
import json, os, shlex, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
data = os.path.join(o["prefix"], o["datadir"])
for k, default in (("bash", "bash-completion/completions"), ("zsh", "zsh/vendor-completions"),
                   ("fish", "fish/vendor_completions.d")):
    print("%sdir=%s" % (k, shlex.quote(o[k + "completiondir"] or os.path.join(data, default))))
print("datadir=%s" % shlex.quote(data))
')"
for f in "$bashdir/cftoken" "$zshdir/_cftoken" "$fishdir/cftoken.fish"; do
	[ -f "$dest$f" ] && [ ! -L "$dest$f" ]
	ok $? "installed $f"
done
[ "$(readlink "$dest$bashdir/git-credential-cftoken")" = cftoken ]
ok $? "installed $bashdir/git-credential-cftoken -> cftoken"
[ "$(readlink "$dest$fishdir/git-credential-cftoken.fish")" = cftoken.fish ]
ok $? "installed $fishdir/git-credential-cftoken.fish -> cftoken.fish"

# They read the system file cftoken reads (cftoken --help names it).
sysconf=$("$backend" --help | sed -n 's/^Configuration: \([^,]*\), then.*/\1/p')
for f in "$bashdir/cftoken" "$zshdir/_cftoken" "$fishdir/cftoken.fish"; do
	[ -n "$sysconf" ] && grep -qF "'$sysconf'" "$dest$f" && ! grep -q '@[A-Z_]*@' "$dest$f"
	ok $? "$(basename "$f") reads the system file ${sysconf:-(not found in cftoken --help)}"
done

# The install test loads the bash file alone: no bash-completion needed.
err=$(bash --norc --noprofile -c '. "$1" && complete -p cftoken git-credential-cftoken' \
	sh "$dest$bashdir/cftoken" 2>&1 >/dev/null)
status=$?
[ "$status" -eq 0 ] && [ -z "$err" ]
ok $? "bash: the file loads alone and registers cftoken and git-credential-cftoken $err"

# --- what the completions must offer, from cftoken's own help ---------------
commands=$("$backend" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' | sort)
operations=$("$backend" --help | sed -n 's/^  \([a-z]\+\) \+git credential helper:.*/\1/p' | sort)
all_options=$("$backend" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
[ "$(wc -l <<<"$commands")" -ge 20 ] && [ "$(echo $operations)" = "capability erase get store" ]
ok $? "cftoken --help lists $(echo $commands | wc -w) commands, git operations: $(echo $operations)"
# the options in the synopsis of cftoken COMMAND --help (up to its first
# blank line), and --help
declare -A options_for
for c in $commands; do
	text=$("$backend" "$c" --help)
	text=${text%%$'\n\n'*}
	options_for[$c]=--help
	while [[ $text =~ (--[a-z][a-z-]*)(.*) ]]; do
		options_for[$c]+=$'\n'${BASH_REMATCH[1]}
		text=${BASH_REMATCH[2]}
	done
done

# --- the scene: a stub cftoken, configs, a program for exec ----------------
mkdir -p "$tmp/bin" "$tmp/home/.config/cftoken" "$tmp/xdg/cftoken"
for c in cftoken git-credential-cftoken; do
	printf '#!/bin/sh\ntouch "%s/ran-$(basename "$0")"\nexit 99\n' "$tmp" >"$tmp/bin/$c"
done
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/cftkprobe"
chmod +x "$tmp/bin/"*
cat >"$tmp/two.conf" <<'EOF'
[defaults]
profile = deploy

[profile deploy]
preset = workers-deploy
ttl = 8h

  [profile   api]  
ttl = 1h
# [profile commented]
[user alice]
profile = api
[group staff]
profile = deploy
EOF
printf '[profile xdgonly]\nttl = 1h\n' >"$tmp/xdg/cftoken/config"
printf '[profile homeonly]\nttl = 1h\n' >"$tmp/home/.config/cftoken/config"
export HOME=$tmp/home PATH=$tmp/bin:$PATH
unset CFTOKEN_CONFIG XDG_CONFIG_HOME BASH_COMPLETION_USER_DIR

# --- the drivers: LINE... in, "== LINE" and its matches out ----------------
cat >"$tmp/bcomp.bash" <<'EOF'
# bcomp.bash COMPLETIONSDIR LINE...: complete at the end of each LINE as
# bash does at a prompt: bash-completion loaded, the words split as
# readline splits them ('=' is in COMP_WORDBREAKS), the completion loaded
# by the command's name, its function called.
dir=$1
shift
. /usr/share/bash-completion/bash_completion
export BASH_COMPLETION_USER_DIR=${dir%/completions}
[[ $dir == */completions ]] || { echo "bcomp: $dir is not a completions dir" >&2; exit 2; }
for line in "$@"; do
	echo "== $line"
	read -ra parts <<<"$line"
	[[ -z $line || $line == *' ' ]] && parts+=('')
	COMP_WORDS=()
	for p in "${parts[@]}"; do
		while [[ $p == *=* ]]; do
			[[ -n ${p%%=*} ]] && COMP_WORDS+=("${p%%=*}")
			COMP_WORDS+=("=")
			p=${p#*=}
		done
		[[ -n $p || ${#COMP_WORDS[@]} -eq 0 || ${COMP_WORDS[-1]} != = ]] && COMP_WORDS+=("$p")
	done
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	complete -p "${COMP_WORDS[0]}" >/dev/null 2>&1 || __load_completion "${COMP_WORDS[0]}"
	spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null)
	[[ $spec =~ -F\ ([^ ]+) ]] || { echo "bcomp: no completion for ${COMP_WORDS[0]}" >&2; continue; }
	COMPREPLY=()
	"${BASH_REMATCH[1]}" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
done
EOF

# Sourced by the interactive zsh on the pty.
cat >"$tmp/zsetup.zsh" <<'EOF'
PS1= PROMPT= RPROMPT= PS2=
fpath=($CFT_FPATH_DIR $fpath)
autoload -Uz compinit && compinit -u -d $CFT_ZDUMP
zstyle ':completion:*' insert-tab false
# never list (a long list would ask "do you wish to see all")
unsetopt autolist listambiguous
# Every match the completion system adds goes to the terminal, between
# two markers; Enter does nothing, so nothing typed is ever run.
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return
  fi
  local -a __cft_m
  builtin compadd -A __cft_m "$@"
  (( $#__cft_m )) && print -r -l -- "<<M>>"${^__cft_m}"<</M>>"
  builtin compadd "$@"
}
__cft_begin() { print -r -- $'\n<<<BEGIN>>>' }
__cft_end() { print -r -- $'\n<<<END>>>' }
# TAB: complete-word, with the markers set again (the completion system
# empties compprefuncs and comppostfuncs after each use).
__cft_tab() {
  compprefuncs=(__cft_begin)
  comppostfuncs=(__cft_end)
  zle complete-word
}
zle -N __cft_tab
bindkey -e
bindkey '^I' __cft_tab
bindkey -r '^M' '^J'
print -r -- "<<<READY>>>"
EOF
cat >"$tmp/zcomp.zsh" <<'EOF'
# zcomp.zsh FPATH_DIR DUMP LINE...: types each LINE and TAB into an
# interactive zsh on a pty, prints the matches, clears the line (^U).
zmodload zsh/zpty || exit 2
setopt extendedglob
export CFT_FPATH_DIR=$1 CFT_ZDUMP=$2
setup=${0:h}/zsetup.zsh
shift 2
zpty comp zsh -f -i || exit 2
out='' chunk=''
wait_for() {
  local -i deadline=$(( SECONDS + 15 ))
  out=''
  while (( SECONDS < deadline )); do
    if zpty -r -t comp chunk; then out+=$chunk; else sleep 0.02; fi
    [[ $out == *$1* ]] && return 0
  done
  print -u2 -r -- "zcomp: no $1 in: $out"
  return 1
}
zpty -w comp "source ${(q)setup}"
wait_for '<<<READY>>>' || exit 2
for line in "$@"; do
  zpty -w -n comp "$line"$'\t'
  wait_for '<<<END>>>' || exit 2
  print -r -- "== $line"
  # (zle may redraw the line in front of a match: take what is between
  # the match's own markers)
  for l in ${(f)${${out//$'\r'/}##*<<<BEGIN>>>}}; do
    [[ $l == (#b)*'<<M>>'(*)'<</M>>'* ]] && print -r -- $match[1]
  done
  zpty -w -n comp $'\C-u'
done
zpty -d comp
EOF

run_bash() { bash --norc --noprofile "$tmp/bcomp.bash" "$dest$bashdir" "$@"; }
run_zsh() { timeout 120 zsh -f "$tmp/zcomp.zsh" "$dest$zshdir" "$tmp/zcompdump" "$@"; }
# fish loads a completion only for a command on PATH (the stubs), and then
# NAME.fish from the first directory of fish_complete_path that has it:
# the DESTDIR's vendor_completions.d, through XDG_DATA_DIRS.
run_fish() {
	XDG_DATA_DIRS=$dest$datadir:/usr/share fish -c '
		for line in $argv
			echo "== $line"
			complete -C $line
		end' "$@" | cut -f1
}

# load OUTPUT: got_for[LINE] holds the matches the shell offered for LINE,
# sorted, one a line
declare -A got_for
load() {
	local line m
	got_for=()
	while IFS=$'\t' read -r line m; do
		got_for[$line]+=$m$'\n'
	done < <(awk '/^== / { line = substr($0, 4); next }
		NF { sub(/ +$/, ""); print line "\t" $0 }' <<<"$1" | sort -u)
}
got() { local v=${got_for[$1]-}; printf '%s' "${v%$'\n'}"; }
same() {  # same GOT WANT
	[ "$1" = "$2" ] && return 0
	echo "#   got:  $(echo $1)"
	echo "#   want: $(echo $2)"
	return 1
}
has_all() {  # has_all GOT WANT: every line of WANT is in GOT
	local w missing=''
	local -A have=()
	while IFS= read -r w; do [ -n "$w" ] && have[$w]=1; done <<<"$1"
	while IFS= read -r w; do
		[ -n "$w" ] && [ -z "${have[$w]-}" ] && missing+=" $w"
	done <<<"$2"
	[ -z "$missing" ] && return 0
	echo "#   missing:$missing  (got: $(echo $1))"
	return 1
}
has_none() {  # has_none GOT UNWANTED...
	local u
	for u in "${@:2}"; do
		grep -qxF -- "$u" <<<"$1" && { echo "#   offered \"$u\" (got: $(echo $1))"; return 1; }
	done
	return 0
}

lines=('cftoken ' 'cftoken --profile deploy ' 'cftoken --format=json --' 'git-credential-cftoken '
	'cftoken env --format ' 'cftoken env --format=' 'cftoken env --format=j'
	'cftoken exec -- cftkpr' 'cftoken exec --profile deploy --min-ttl 2h cftkpr'
	'cftoken exec -- git comm' 'cftoken exec --profile=x -- git comm'
	'cftoken exec --verbose --')
for c in $commands; do
	lines+=("cftoken $c --")
done
# zsh's first run (compinit writing its dump) is the slow one: under way
# while bash is checked.
if command -v zsh >/dev/null; then
	run_zsh "${lines[@]}" >"$tmp/zsh.out" 2>"$tmp/zsh.err" &
	zsh_pid=$!
fi

for sh in bash zsh fish; do
	if [ "$sh" = bash ] && [ ! -r /usr/share/bash-completion/bash_completion ]; then
		echo "ok $((n += 1)) - # SKIP bash-completion is not installed (tests/install-deps.sh)"
		continue
	fi
	if [ "$sh" != bash ] && ! command -v "$sh" >/dev/null; then
		echo "ok $((n += 1)) - # SKIP $sh is not installed (tests/install-deps.sh)"
		continue
	fi
	if [ "$sh" = zsh ]; then
		wait "$zsh_pid"
		load "$(cat "$tmp/zsh.out")"
	else
		load "$("run_$sh" "${lines[@]}" 2>"$tmp/$sh.err")"
	fi
	[ -s "$tmp/$sh.err" ] && sed 's/^/#   '"$sh"' stderr: /' "$tmp/$sh.err" | grep -v compopt | head -20

	same "$(got 'cftoken ')" "$commands"
	ok $? "$sh: 'cftoken <TAB>' offers the commands of cftoken --help"
	same "$(got 'cftoken --profile deploy ')" "$commands"
	ok $? "$sh: 'cftoken --profile deploy <TAB>' offers the commands"
	same "$(got 'git-credential-cftoken ')" "$operations"
	ok $? "$sh: 'git-credential-cftoken <TAB>' offers get, store, erase, capability"
	same "$(got 'cftoken env --format ')" "$(printf 'fish\njson\nsh')"
	ok $? "$sh: 'cftoken env --format <TAB>' offers sh, fish, json"
	got=$(got 'cftoken env --format=' | sed 's/^--format=//')
	same "$got" "$(printf 'fish\njson\nsh')"
	ok $? "$sh: 'cftoken env --format=<TAB>' offers sh, fish, json"
	got=$(got 'cftoken env --format=j' | sed 's/^--format=//')
	same "$got" json
	ok $? "$sh: 'cftoken env --format=j<TAB>' completes json"
	got=$(got 'cftoken --format=json --')
	has_all "$got" "$(printf -- '--help\n--profile\n--token-file\n--version')" &&
		has_none "$got" --permission --ip-in
	ok $? "$sh: 'cftoken --format=json --<TAB>' offers the options before a command"

	same "$(got 'cftoken exec -- cftkpr')" cftkprobe
	ok $? "$sh: 'cftoken exec -- cftkpr<TAB>' completes a program on PATH"
	same "$(got 'cftoken exec --profile deploy --min-ttl 2h cftkpr')" cftkprobe
	ok $? "$sh: 'cftoken exec --profile deploy --min-ttl 2h cftkpr<TAB>' (no --) completes the program"
	has_all "$(got 'cftoken exec -- git comm')" commit
	ok $? "$sh: 'cftoken exec -- git comm<TAB>' hands over to git's own completion"
	has_all "$(got 'cftoken exec --profile=x -- git comm')" commit
	ok $? "$sh: 'cftoken exec --profile=x -- git comm<TAB>' hands over to git's completion"
	got=$(got 'cftoken exec --verbose --')
	has_all "$got" "$(printf -- '--min-ttl\n--profile')" && has_none "$got" --format --worker
	ok $? "$sh: 'cftoken exec --verbose --<TAB>' offers exec's options"

	# Every command: the options its --help names, and no option that
	# cftoken does not have.
	bad=''
	for c in $commands; do
		got=$(got "cftoken $c --")
		why=$(has_all "$got" "${options_for[$c]}" && has_all "$all_options" "$got") ||
			bad+=" $c(${why//#/})"
	done
	[ -z "$bad" ] || echo "#  $bad"
	ok "$([ -z "$bad" ] && echo 0 || echo 1)" "$sh: 'cftoken COMMAND --<TAB>' offers what 'cftoken COMMAND --help' names, for all $(echo $commands | wc -w) commands"

	# Profile names, from the files cftoken reads, in its order of lookup.
	profile_lines=('cftoken exec --profile ' 'cftoken --profile=' 'cftoken env --profile d')
	load "$(CFTOKEN_CONFIG=$tmp/two.conf XDG_CONFIG_HOME=$tmp/xdg "run_$sh" "${profile_lines[@]}" 2>>"$tmp/$sh.err")"
	got=$(got 'cftoken exec --profile ')
	has_all "$got" "$(printf 'api\ndeploy')" && has_none "$got" alice staff commented xdgonly homeonly
	ok $? "$sh: --profile <TAB> offers \$CFTOKEN_CONFIG's two profiles, not its [user]/[group] or XDG's"
	got=$(got 'cftoken --profile=' | sed 's/^--profile=//')
	has_all "$got" "$(printf 'api\ndeploy')"
	ok $? "$sh: --profile=<TAB> before the command offers them too"
	got=$(got 'cftoken env --profile d')
	same "$got" deploy
	ok $? "$sh: 'cftoken env --profile d<TAB>' completes deploy"
	load "$(XDG_CONFIG_HOME=$tmp/xdg "run_$sh" 'cftoken token --profile ' 2>>"$tmp/$sh.err")"
	got=$(got 'cftoken token --profile ')
	has_all "$got" xdgonly && has_none "$got" api deploy homeonly
	ok $? "$sh: without \$CFTOKEN_CONFIG, \$XDG_CONFIG_HOME/cftoken/config's profile"
	load "$(XDG_CONFIG_HOME=relative "run_$sh" 'cftoken roll --profile ' 2>>"$tmp/$sh.err")"
	got=$(got 'cftoken roll --profile ')
	has_all "$got" homeonly && has_none "$got" xdgonly
	ok $? "$sh: with no (absolute) \$XDG_CONFIG_HOME, ~/.config/cftoken/config's profile"
done

ran=$(ls "$tmp" | grep '^ran-')
[ -z "$ran" ]
ok $? "no completion ran cftoken or git-credential-cftoken ${ran:+($ran)}"
tap_done
