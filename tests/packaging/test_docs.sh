#!/bin/bash
# The man pages, cftoken(1), cftoken.conf(5) and pam_cftoken(8), checked
# against the tools that format them and against the code they describe.
#   test_docs.sh BUILD_DIR SOURCE_DIR
#
# Formatting: mandoc -Tlint reports no warning or error, groff -ww no
# warning, and man -l renders each page.  Content, read from the sources so
# that a new key, command, option or preset without its documentation
# fails here:
#   cftoken.conf(5)  every section and every key lib/config/config.c accepts (in
#                    its section), the values of cache and owner, the
#                    built-in defaults, every key in LOGIN POLICIES (what
#                    lib/config/login_policy.c merges, and what it leaves out),
#                    every preset of lib/config/presets.c with its permissions, the
#                    environment the configuration yields to, and examples
#                    the real parser accepts;
#   cftoken(1)       every command `cftoken --help` lists, every long option
#                    of backend.c's getopt table (and every one help.c and
#                    backend.c mention), every variable the code reads and
#                    the fixed names it hands over, every exit code, and the
#                    wrangler, git and eval examples;
#   pam_cftoken(8)   every option pam/pam_cftoken.c parses, the default
#                    timeout and its range, and an /etc/pam.d example.
# Each page names the other two under SEE ALSO, and meson installs all three.
set -u
umask 022  # cftoken refuses a configuration file others may write
build=$1
src=$2
. "$src/tests/integration/tap.sh"

pages=(helper/cftoken.1 helper/cftoken.conf.5 pam/pam_cftoken.8)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- formatting ---------------------------------------------------------
for page in "${pages[@]}"; do
	name=$(basename "$page")
	if command -v mandoc >/dev/null; then
		out=$(mandoc -Tlint -W warning "$src/$page" 2>&1)
		rc=$?
		ok "$([ $rc -eq 0 ] && [ -z "$out" ] && echo 0 || echo 1)" \
			"$name: mandoc -Tlint reports no warning or error"
		[ -z "$out" ] || echo "$out" | head -10 | sed 's/^/#   /'
	else
		ok 1 "$name: mandoc -Tlint (mandoc is not installed: tests/install-deps.sh installs it)"
	fi
	if command -v groff >/dev/null; then
		out=$(groff -man -Tutf8 -ww -z "$src/$page" 2>&1)
		ok "$([ -z "$out" ] && echo 0 || echo 1)" "$name: groff -man -Tutf8 -ww gives no warning"
		[ -z "$out" ] || echo "$out" | head -10 | sed 's/^/#   /'
	else
		ok 1 "$name: groff -ww (groff is not installed)"
	fi
	if command -v man >/dev/null; then
		title=$(sed -n 's/^\.TH \([^ ]*\) \([0-9]\).*/\1(\2)/p' "$src/$page" | head -1)
		MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$src/$page" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		good=1
		[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ -n "$title" ] &&
			head -1 "$tmp/out" | grep -qF "$title" && grep -q '^NAME' "$tmp/out" &&
			grep -q '^SEE ALSO' "$tmp/out" && good=0
		ok $good "$name: man -l renders it ($title, $(wc -l <"$tmp/out") lines at MANWIDTH=80)"
		[ $good -eq 0 ] || head -5 "$tmp/err" | sed 's/^/#   /'
	else
		ok 1 "$name: man -l (man-db is not installed)"
	fi
done

# --- content, against the code -----------------------------------------
# `cftoken --help`: the commands it lists.
"$build/helper/cftoken" --help >"$tmp/help" 2>&1
ok $? "cftoken --help runs"

# The real parser on a configuration file: exit 2 with "no [profile ...]"
# (the file was read, the profile is not there) means the file is valid.
parse_config() {  # parse_config FILE: prints the parser's complaint, if any
	local out
	out=$(env -u CLOUDFLARE_API_BASE_URL -u CLOUDFLARE_ACCOUNT_ID -u CFTOKEN_CA_FILE \
		CFTOKEN_CONFIG="$1" CFTOKEN_CACHE=none \
		"$build/helper/cftoken" env --profile docs-check-no-such-profile 2>&1 </dev/null)
	case "$out" in
	*"no [profile docs-check-no-such-profile]"*) ;;
	*) echo "${out:-(no output)}" ;;
	esac
}

$py - "$src" "$tmp" <<'PY' >"$tmp/results"
import os, re, sys

src, tmp = sys.argv[1], sys.argv[2]
results = []


def check(good, what, detail=""):
    results.append((0 if good else 1, what, detail))


def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()


# ---- roff to plain text, enough for man(7) as these pages write it ----
ESCAPES = [(r"\(lq", '"'), (r"\(rq", '"'), (r"\(aq", "'"), (r"\(bu", "*"),
           (r"\(em", "--"), (r"\(en", "-"), (r"\-", "-"), (r"\ ", " "),
           (r"\&", ""), (r"\c", ""), (r"\e", "\\")]


def unescape(text):
    text = re.sub(r"\\f[BIRP]", "", text)
    for esc, plain in ESCAPES:
        text = text.replace(esc, plain)
    return text


def macro_args(rest):
    args, cur, quoted, i = [], "", False, 0
    while i < len(rest):
        c = rest[i]
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur:
        args.append(cur)
    return args


def plain(line):
    """One input line as text; None for a request that prints nothing."""
    if not line.startswith("."):
        return unescape(line)
    m = re.match(r"\.([A-Z]{1,2})\s*(.*)", line)
    if not m:
        return None
    mac, rest = m.groups()
    if mac in ("B", "I", "SM"):
        return unescape(rest.replace('"', ""))
    if mac in ("BI", "BR", "IB", "IR", "RB", "RI"):
        return unescape("".join(macro_args(rest)))
    return None


class Page:
    def __init__(self, path):
        self.path = path
        self.lines = read(path).splitlines()
        # sections: name -> list of (subsection, line); tags: (section,
        # subsection, tag text, entry text)
        self.sections, self.tags = {}, []
        sh = ss = None
        pending_tag = False
        entry = None
        for line in self.lines:
            if line.startswith(".SH"):
                sh = unescape(line[3:].strip().strip('"'))
                ss = None
                self.sections.setdefault(sh, [])
                entry = None
                continue
            if line.startswith(".SS"):
                ss = unescape(line[3:].strip().strip('"'))
                entry = None
                continue
            if line.startswith((".TP", ".TQ")):
                pending_tag = True
                if line.startswith(".TP"):
                    entry = None
                continue
            if line.startswith((".PP", ".P ", ".LP")) or line in (".P",):
                entry = None
            text = plain(line)
            if sh is not None and text is not None:
                self.sections[sh].append((ss, text))
            if pending_tag and text is not None:
                pending_tag = False
                if entry is not None:          # .TQ: a second tag, same entry
                    entry[2] += "\n" + text
                    self.tags.append(entry)
                else:
                    entry = [sh, ss, text, []]
                    self.tags.append(entry)
                continue
            if entry is not None and text is not None:
                entry[3].append(text)

    def text(self, section, subsection=None):
        return "\n".join(t for ss, t in self.sections.get(section, [])
                         if subsection is None or ss == subsection)

    def tag_entries(self, section, subsection=None):
        """(tag text, entry text) of the tagged paragraphs in a section."""
        seen, out = set(), []
        for sh, ss, tag, body in self.tags:
            if sh == section and (subsection is None or ss == subsection) and id(body) not in seen:
                seen.add(id(body))
                for one in tag.split("\n"):
                    out.append((one, "\n".join(body)))
        return out


def words(text):
    return re.sub(r"\s+", " ", text)


def missing(names, text):
    return [n for n in names if not re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w])", text)]


def c_function(source, name):
    m = re.search(r"^[^\n]*\b" + name + r"\([^)]*\)\n\{\n(.*?)^\}", source, re.S | re.M)
    return m.group(1) if m else ""


conf = Page("helper/cftoken.conf.5")
man1 = Page("helper/cftoken.1")
man8 = Page("pam/pam_cftoken.8")

# ---- cftoken.conf(5) against lib/config/config.c ----
config_c = read("lib/config/config.c")
defaults_fn = c_function(config_c, "defaults_key")
section_fn = c_function(config_c, "section_key")
defaults_keys = re.findall(r'!strcmp\(k, "([a-z_]+)"\)', defaults_fn)
section_keys = re.findall(r'!strcmp\(k, "([a-z_]+)"\)', section_fn)
check(len(defaults_keys) >= 10 and len(section_keys) >= 10,
      "the keys are found in lib/config/config.c (%d in defaults_key, %d in section_key)"
      % (len(defaults_keys), len(section_keys)))

kinds = re.findall(r'\{ "([a-z]+) ", CFT_SECTION_[A-Z]+ \}', config_c)
headings = [ss for ss, _ in conf.sections.get("SECTIONS", [])]
want_headings = ["[defaults]"] + ["[%s NAME]" % k for k in kinds]
absent = [h for h in want_headings if not any(h in (ss or "") for ss in headings)]
check(len(kinds) == 3 and not absent,
      "cftoken.conf(5) has a subsection for every section config.c accepts (%s)"
      % ", ".join(want_headings), "missing: " + ", ".join(absent))


def tag_keys(entries):
    keys = {}
    for tag, body in entries:
        m = re.match(r"\s*([a-z_]+)\s*(=|$)", tag)
        if m:
            keys[m.group(1)] = body
    return keys


defaults_doc = tag_keys(conf.tag_entries("SECTIONS", "[defaults]"))
profile_doc = tag_keys(conf.tag_entries("SECTIONS", "[profile NAME]"))
miss = [k for k in defaults_keys if k not in defaults_doc]
check(defaults_keys and not miss,
      "cftoken.conf(5) [defaults] documents every key defaults_key() accepts (%d)"
      % len(defaults_keys), "missing: " + ", ".join(miss))
extra = [k for k in defaults_doc if k not in defaults_keys]
check(not extra, "cftoken.conf(5) [defaults] documents no key config.c refuses",
      "not accepted: " + ", ".join(extra))
miss = [k for k in section_keys if k not in profile_doc]
check(section_keys and not miss,
      "cftoken.conf(5) [profile NAME] documents every key section_key() accepts (%d)"
      % len(section_keys), "missing: " + ", ".join(miss))
extra = [k for k in profile_doc if k not in section_keys]
check(not extra, "cftoken.conf(5) [profile NAME] documents no key config.c refuses",
      "not accepted: " + ", ".join(extra))


# The values a key accepts: strcmp(v, "...") inside that key's branch.
def branch_values(fn, key):
    m = re.search(r'!strcmp\(k, "%s"\)\) \{(.*?)\n\t\}' % key, fn, re.S)
    return re.findall(r'strcmp\(v, "([a-z-]+)"\)', m.group(1)) if m else []


for fn, doc, key in ((defaults_fn, defaults_doc, "cache"), (section_fn, profile_doc, "owner")):
    values = branch_values(fn, key)
    miss = missing(values, doc.get(key, ""))
    check(values and not miss, "cftoken.conf(5) %s: every value config.c accepts (%s)"
          % (key, ", ".join(values)), "missing: " + ", ".join(miss))


# Built-in defaults, from the headers that define them.
def define(path, name):
    m = re.search(r"#define %s (.+)" % name, read(path))
    return m.group(1).strip() if m else None


def duration(seconds):
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return "%d%s" % (seconds // size, unit)
    return "%ds" % seconds


def c_int(expr):
    return int(eval(re.sub(r"[^0-9*+ ()]", "", expr))) if expr else None


defaults = {
    "ttl": duration(c_int(define("lib/config/config.h", "CFT_DEFAULT_TTL_S"))),
    "renew_margin": duration(c_int(define("lib/config/config.h", "CFT_DEFAULT_RENEW_MARGIN_S"))),
    "run_dir": (define("lib/config/config.h", "CFT_DEFAULT_RUN_DIR") or "").strip('"'),
    "api_url": (define("lib/api/api.h", "CFT_DEFAULT_API_URL") or "").strip('"'),
    "timeout": "%d seconds" % (c_int(define("lib/api/api.h", "CFT_DEFAULT_TIMEOUT_MS")) // 1000),
    "name": (define("lib/config/tokenspec.c", "DEFAULT_NAME_TEMPLATE") or "").strip('"'),
    "permission_groups_ttl": duration(c_int(define("lib/config/group_cache.h",
                                                   "CFT_GROUP_CACHE_DEFAULT_TTL_S"))),
}
wrong = ["%s (%s)" % (k, v) for k, v in defaults.items()
         if not v or not re.search(r"Default:\s+" + re.escape(v), words(defaults_doc.get(k, "")))]
check(not wrong, "cftoken.conf(5) gives each built-in default as the code has it ("
      + ", ".join("%s %s" % kv for kv in defaults.items()) + ")",
      "wrong or missing: " + ", ".join(wrong))
# What a key or a section given twice does: the page's sentence, for the
# shell part below to hold against the real parser.
m = re.search(r"[^.]*\bkey given twice\b[^.]*\bsection given twice\b[^.]*\.",
              words(conf.text("SYNTAX")))
with open(os.path.join(tmp, "repeat-claim"), "w") as f:
    f.write(m.group(0) if m else "")
check(m, "cftoken.conf(5) SYNTAX says what a key or a section given twice does")
list_max = define("lib/config/config.h", "CFT_CONFIG_LIST_MAX")
check(list_max and "at most %s items" % list_max in words(conf.text("SYNTAX")),
      "cftoken.conf(5) gives the list limit (%s items)" % list_max)

# [user]/[group]: what login_policy.c merges, key by key, and what it leaves
# out, all said under LOGIN POLICIES.
login_c = read("lib/config/login_policy.c")
merge_fn = c_function(login_c, "merge")
fields = set(re.findall(r"PICK(?:_LIST)?\((\w+)", merge_fn)) | set(re.findall(r"perms->(\w+)", merge_fn))
field_key = {}
for m in re.finditer(r'!strcmp\(k, "([a-z_]+)"\)', section_fn):
    field = re.search(r"&p->(\w+)", section_fn[m.end():])
    if field:
        field_key.setdefault(field.group(1), []).append(m.group(1))
merged_keys = sorted({k for f in fields for k in field_key.get(f, [])})
policy_text = words(conf.text("LOGIN POLICIES"))
miss = missing(section_keys, policy_text)
check(len(merged_keys) >= 8 and not miss,
      "cftoken.conf(5) LOGIN POLICIES names every key of [user]/[group] (%d merged by "
      "login_policy.c, %d ignored: %s)" % (len(merged_keys), len(set(section_keys) - set(merged_keys)),
                                         ", ".join(sorted(set(section_keys) - set(merged_keys))) or "none"),
      "missing: " + ", ".join(miss))
ignored = sorted(set(section_keys) - set(merged_keys))
bad = [k for k in ignored if not re.search(r"\b%s\b[^.]*\bnot used" % re.escape(k), policy_text)]
check(not bad, "cftoken.conf(5) says which [user]/[group] keys a login token does not use",
      "not said: " + ", ".join(bad))
for rule in ("[user NAME]", "first [group NAME]", "in file order", "[defaults]"):
    if rule not in policy_text:
        check(False, "cftoken.conf(5) LOGIN POLICIES gives the order [user] > first [group] > [defaults]",
              "missing: " + rule)
        break
else:
    check(True, "cftoken.conf(5) LOGIN POLICIES gives the order [user] > first [group] > [defaults]")

# Presets, each with every permission it grants.
presets_c = read("lib/config/presets.c")
arrays = {name: re.findall(r'"([^"]+)"', body)
          for name, body in re.findall(r"static const char \*const (\w+)\[\] = \{(.*?)\};", presets_c, re.S)}
table = re.findall(r'\{ "([a-z0-9-]+)", "[^"]*", (\w+) \}', presets_c)
preset_doc = {tag.strip(): body for tag, body in conf.tag_entries("PRESETS")}
check(len(table) >= 4, "the presets are found in lib/config/presets.c (%s)" % ", ".join(n for n, _ in table))
for name, array in table:
    perms = arrays.get(array, [])
    body = words(preset_doc.get(name, ""))
    miss = [p for p in perms if p not in body]
    check(name in preset_doc and perms and not miss,
          "cftoken.conf(5) spells out preset %s (%s)" % (name, ", ".join(perms)),
          ("not a tag in PRESETS" if name not in preset_doc else "missing: " + ", ".join(miss)))

# The files, and the environment the configuration yields to.
env_names = set()
for path in ("helper/backend.c", "helper/cli.c", "lib/core/fingerprint.c"):
    env_names |= set(re.findall(r'getenv\("([A-Z_]+)"\)', read(path)))
env_names -= {"HOME"}
files_text = words(conf.text("FILES AND PRECEDENCE"))
miss = missing(sorted(env_names), files_text) + missing(["/etc/cftoken/cftoken.conf", "cftoken/config"], files_text)
check(len(env_names) >= 5 and not miss,
      "cftoken.conf(5) FILES AND PRECEDENCE names both files and every variable the code reads for "
      "them (%s)" % ", ".join(sorted(env_names)), "missing: " + ", ".join(miss))

# The examples: every block that looks like a configuration file, for the
# real parser (the shell part below runs it).
n = 0
for page in (conf, man8):
    block = None
    for line in page.lines:
        if line == ".nf":
            block = []
        elif line == ".fi" and block is not None:
            text = "\n".join(unescape(l) for l in block if not l.startswith("."))
            if re.search(r"^\[(defaults|profile |user |group )", text, re.M):
                n += 1
                with open(os.path.join(tmp, "example-%d.conf" % n), "w") as f:
                    f.write(text + "\n")
            block = None
        elif block is not None:
            block.append(line)
examples = "\n".join(open(os.path.join(tmp, "example-%d.conf" % i)).read() for i in range(1, n + 1))
shared = [s for s in ("parent_token_file", "[defaults]", "[group developers]", "[user alice]",
                      "preset = workers-deploy") if s not in examples]
check(n >= 2 and not shared, "cftoken.conf(5) has a shared-workstation example (%d configuration "
      "examples in the pages)" % n, "missing: " + ", ".join(shared))

# ---- cftoken(1) against helper/ ----
help_text = open(os.path.join(tmp, "help")).read()
commands = re.findall(r"^  ([a-z]+) ", help_text.split("Commands:", 1)[-1].split("\n\n", 1)[0], re.M)
# and the command table itself, in case the build is older than the source
commands += [c for c in re.findall(r'\{ "([a-z]+)", cmd_\w+,', read("helper/backend.c")) if c not in commands]
cmd_tags = set()
for tag, _ in man1.tag_entries("COMMANDS"):
    for piece in tag.split(","):
        if piece.split():
            cmd_tags.add(piece.split()[0])
miss = [c for c in commands if c not in cmd_tags]
check(len(commands) >= 15 and not miss,
      "cftoken(1) COMMANDS has an entry for every command cftoken --help lists (%d)" % len(commands),
      "missing: " + ", ".join(miss))

backend_c, help_c = read("helper/backend.c"), read("helper/help.c")
getopt_longs = re.findall(r'\{ "([a-z-]+)", (?:no|required|optional)_argument', backend_c)
opt_tags = set()
for tag, _ in man1.tag_entries("OPTIONS"):
    opt_tags |= set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", tag))
miss = ["--" + o for o in getopt_longs if "--" + o not in opt_tags]
check(len(getopt_longs) >= 20 and not miss,
      "cftoken(1) OPTIONS has an entry for every long option of backend.c (%d)" % len(getopt_longs),
      "missing: " + ", ".join(miss))
short = sorted(set("".join(re.findall(r'getopt_long\([^;]*"\+?([a-z]+)"', backend_c))))
miss = ["-" + o for o in short if "-" + o not in opt_tags]
check(not miss, "cftoken(1) OPTIONS has the short options (%s)" % ", ".join("-" + o for o in short),
      "missing: " + ", ".join(miss))
whole = words("\n".join(t for sec in man1.sections for _, t in man1.sections[sec]))
mentioned = sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", backend_c + help_c)))
miss = missing(mentioned, whole)
check(mentioned and not miss,
      "cftoken(1) mentions every long option help.c and backend.c mention (%d)" % len(mentioned),
      "missing: " + ", ".join(miss))

# The environment: the names cftoken hands over, and every variable the
# front end, the backend and the library read.
fixed = ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_BASE_URL",
         "CFTOKEN_CA_FILE", "CFTOKEN_CONFIG", "CFTOKEN_CACHE", "CFTOKEN_EXPIRES_ON"]
read_by_code = set()
sources_read = {"helper": 0, "lib": 0}
for d in sources_read:
    # lib/ keeps its sources in the folders of its layers.
    for where, _, names in sorted(os.walk(os.path.join(src, d))):
        for f in sorted(names):
            if f.endswith(".c"):
                sources_read[d] += 1
                read_by_code |= set(re.findall(r'getenv\("([A-Z_]+)"\)',
                                               read(os.path.relpath(os.path.join(where, f), src))))
check(sources_read["helper"] >= 5 and sources_read["lib"] >= 30,
      "the variables are gathered from helper/ (%d files) and lib/ (%d files)"
      % (sources_read["helper"], sources_read["lib"]))
env_tags = " ".join(tag for tag, _ in man1.tag_entries("ENVIRONMENT"))
miss = missing(fixed, env_tags)
check(not miss, "cftoken(1) ENVIRONMENT has " + ", ".join(fixed), "missing: " + ", ".join(miss))
miss = missing(sorted(read_by_code), env_tags)
check(not miss, "cftoken(1) ENVIRONMENT has every variable helper/ and lib/ read (%s)"
      % ", ".join(sorted(read_by_code)), "missing: " + ", ".join(miss))

# Exit codes: helper/cli.h's, and exec's from lib/core/handover.c.
codes = re.findall(r"EXIT_[A-Z_]+ = (\d+),", read("helper/cli.h"))
handover_c = read("lib/core/handover.c")
codes += sorted(set(re.findall(r"\b(12[67])\b", c_function(handover_c, "cft_handover_exec") +
                               c_function(handover_c, "cft_handover_execvpe"))))
exit_tags = set()
for tag, _ in man1.tag_entries("EXIT STATUS"):
    exit_tags |= set(re.findall(r"\d+", tag))
miss = [c for c in codes if c not in exit_tags]
check(len(codes) >= 5 and not miss, "cftoken(1) EXIT STATUS has every exit code (%s)" % ", ".join(codes),
      "missing: " + ", ".join(miss))

examples1 = "\n".join(t for _, t in man1.sections.get("EXAMPLES", []))
want = ["cftoken exec -- wrangler deploy", "git config --global credential.helper cftoken",
        'eval "$(cftoken env)"']
miss = [w for w in want if w not in examples1]
check(not miss, "cftoken(1) EXAMPLES: wrangler, git and eval", "missing: " + "; ".join(miss))

# ---- pam_cftoken(8) against pam/pam_cftoken.c ----
pam_c = read("pam/pam_cftoken.c")
parse_fn = c_function(pam_c, "parse_options")
pam_opts = re.findall(r'!strcmp\(a, "([a-z_]+)"\)', parse_fn) + re.findall(r'prefixed\(a, "([a-z_]+=)"\)', parse_fn)
pam_doc = {}
for tag, body in man8.tag_entries("OPTIONS"):
    m = re.match(r"\s*([a-z_]+=?)", tag)
    if m:
        pam_doc[m.group(1)] = body
miss = [o for o in pam_opts if o not in pam_doc]
check(len(pam_opts) >= 8 and not miss,
      "pam_cftoken(8) OPTIONS has an entry for every option pam_cftoken.c parses (%s)" % ", ".join(pam_opts),
      "missing: " + ", ".join(miss))
synopsis = words(man8.text("SYNOPSIS"))
miss = missing([o.rstrip("=") for o in pam_opts], synopsis)
check(not miss, "pam_cftoken(8) SYNOPSIS has every option", "missing: " + ", ".join(miss))
timeout_s = c_int(define("pam/pam_cftoken.c", "DEFAULT_TIMEOUT_MS")) / 1000
rng = re.search(r"s >= ([0-9.]+) && s <= ([0-9.]+)", pam_c)
t = words(pam_doc.get("timeout=", ""))
good = rng and re.search(r"default %g\b" % timeout_s, t) and "from %s to %s" % rng.groups() in t
check(good, "pam_cftoken(8) timeout=: default %g, from %s to %s seconds"
      % ((timeout_s,) + (rng.groups() if rng else ("?", "?"))))
deadline = words(man8.text("THE DEADLINE AND FAILING OPEN"))
check("fail_closed" in deadline and "timeout" in deadline and "without a token" in deadline,
      "pam_cftoken(8) gives the deadline and the fail-open rule")
logging = man8.text("LOGGING")
levels = sorted(set(re.findall(r"\bLOG_(?:EMERG|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG)\b", pam_c)))
miss = missing(levels, logging)
check(levels and not miss, "pam_cftoken(8) LOGGING covers every level the module logs at (%s)"
      % ", ".join(levels), "missing: " + ", ".join(miss))
pam_examples = man8.text("EXAMPLES")
check(re.search(r"^session\s+(optional|required|requisite)\s+pam_cftoken\.so", pam_examples, re.M)
      and "/etc/pam.d/" in pam_examples, "pam_cftoken(8) EXAMPLES has an /etc/pam.d line")

# ---- SEE ALSO ----
for page, refs in ((man1, ["cftoken.conf(5)", "pam_cftoken(8)"]),
                   (conf, ["cftoken(1)", "pam_cftoken(8)"]),
                   (man8, ["cftoken(1)", "cftoken.conf(5)"])):
    see = re.sub(r"\s+", "", page.text("SEE ALSO"))
    miss = [r for r in refs if r not in see]
    check(not miss, "%s SEE ALSO names %s" % (os.path.basename(page.path), " and ".join(refs)),
          "missing: " + ", ".join(miss))

for good, what, detail in results:
    print("%d\t%s\t%s" % (good, what, detail if good else ""))
PY
py_rc=$?
ok $py_rc "the pages and the sources are read"
while IFS=$'\t' read -r status what detail; do
	ok "$status" "$what"
	[ -z "$detail" ] || echo "#   $detail"
done <"$tmp/results"

# The configuration examples, through the real parser.
for f in "$tmp"/example-*.conf; do
	[ -e "$f" ] || continue
	complaint=$(parse_config "$f")
	ok "$([ -z "$complaint" ] && echo 0 || echo 1)" \
		"the configuration example $(basename "$f" .conf) in the man pages is valid"
	[ -z "$complaint" ] || { echo "#   $complaint"; sed 's/^/#   | /' "$f"; }
done

# A key or a section given twice: the page says an error (naming both
# lines) exactly when the real parser refuses the file.
claim=$(cat "$tmp/repeat-claim" 2>/dev/null)
printf '[profile x]\nttl = 1h\nttl = 2h\n' >"$tmp/repeat-key.conf"
printf '[profile x]\nttl = 1h\n[profile y]\nttl = 1h\n[profile x]\nzones = *\n' >"$tmp/repeat-section.conf"
for what in key section; do
	complaint=$(parse_config "$tmp/repeat-$what.conf")
	case $claim in
	*" is an error"*"both lines"*) said=refused ;;
	*) said="not refused" ;;
	esac
	did="not refused"
	[[ $complaint == *"given again (first at line "* ]] && did=refused
	ok "$([ "$said" = "$did" ] && echo 0 || echo 1)" \
		"cftoken.conf(5) on a $what given twice matches the parser (page: $said; parser: $did)"
	[ "$said" = "$did" ] || echo "#   page: $claim | parser: ${complaint:-(accepted)}"
done

# meson installs all three pages.
installed=$(meson introspect --installed "$build" 2>/dev/null)
for page in man1/cftoken.1 man5/cftoken.conf.5 man8/pam_cftoken.8; do
	grep -q "/$page\"" <<<"$installed"
	ok $? "meson installs $page"
done
tap_done
