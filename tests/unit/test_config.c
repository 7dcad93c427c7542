/* The configuration reader: syntax, precedence, and errors that name the
 * file, the line and the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "config/config.h"

static char dir[] = "/tmp/cftoken-test-config-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

static cft_code load(const char *a, const char *b, cft_config *cfg, cft_error *err)
{
	const char *paths[2] = { a, b };
	cft_error_clear(err);
	return cft_config_load_files(cfg, paths, 2, err);
}

int main(void)
{
	cft_config cfg;
	cft_error err;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	const char *doc = write_file("doc.conf",
		"# the example from the documentation\n"
		"[defaults]\n"
		"account = 0123456789abcdef0123456789abcdef\n"
		"profile = deploy            # the profile used when none is named\n"
		"[profile deploy]\n"
		"preset = workers-deploy\n"
		"ttl = 8h\n"
		"[profile dns]\n"
		"permissions = DNS Write, Zone Read\n"
		"zones = 0123456789abcdef0123456789abcdef, Example.com\n"
		"request_ip_in = 192.0.2.0/24, 2001:db8::/32\n"
		"hosts = api.cloudflare.com/client/v4/zones\n"
		"[user alice]\n"
		"presets = r2-write, zone-read\n"
		"[group developers]\n"
		"preset = workers-deploy\n");
	tap_is_int(load(doc, NULL, &cfg, &err), CFT_OK, "the documented example loads");
	tap_is_str(cfg.account_id, "0123456789abcdef0123456789abcdef", "[defaults] account");
	tap_is_str(cfg.default_profile, "deploy", "an inline comment is not part of the value");
	const cft_profile *p = cft_config_find(&cfg, CFT_SECTION_PROFILE, "deploy");
	tap_ok(p != NULL, "[profile deploy] is found");
	tap_is_int(p ? p->ttl_s : 0, 8 * 3600, "with ttl 8h");
	tap_is_str(p && p->n_presets ? p->presets[0] : "", "workers-deploy", "and its preset");
	tap_ok(p && !p->proxy, "a profile without proxy = does not run exec through the forwarder");
	p = cft_config_find(&cfg, CFT_SECTION_PROFILE, "dns");
	tap_is_int(p ? p->n_permissions : 0, 2, "a list of permissions");
	tap_is_str(p ? p->permissions[0] : "", "DNS Write", "keeps names with spaces");
	tap_is_int(p ? p->n_ip_in : 0, 2, "an IPv4 and an IPv6 range");
	tap_ok(cft_config_find(&cfg, CFT_SECTION_USER, "alice") != NULL, "[user alice]");
	p = cft_config_find(&cfg, CFT_SECTION_USER, "alice");
	tap_is_int(p ? p->n_presets : 0, 2, "with two presets");
	tap_ok(cft_config_find(&cfg, CFT_SECTION_GROUP, "developers") != NULL, "[group developers]");
	tap_ok(cft_config_find(&cfg, CFT_SECTION_PROFILE, "alice") == NULL,
	       "a user section is not a profile");
	cft_config_clear(&cfg);

	const char *fwd = write_file("proxy.conf",
		"[defaults]\n"
		"proxy = http://proxy.example:3128\n"
		"[profile deploy]\n"
		"preset = workers-deploy\n"
		"proxy = true\n");
	tap_is_int(load(fwd, NULL, &cfg, &err), CFT_OK, "proxy = true in a profile loads");
	p = cft_config_find(&cfg, CFT_SECTION_PROFILE, "deploy");
	tap_ok(p && p->proxy, "its exec runs through the forwarder");
	tap_is_str(cfg.proxy, "http://proxy.example:3128", "beside [defaults]' outgoing proxy URL");
	cft_config_clear(&cfg);
	const char *badfwd = write_file("badproxy.conf", "[profile deploy]\nproxy = maybe\n");
	tap_is_int(load(badfwd, NULL, &cfg, &err), CFT_E_INVALID_ARG, "proxy = maybe is refused");
	tap_ok(strstr(err.detail, "proxy") != NULL, "naming the key (%s)", err.detail);
	cft_config_clear(&cfg);

	const char *user = write_file("user.conf",
		"[defaults]\n"
		"profile = dns\n"
		"[profile deploy]\n"
		"ttl = 1h\n");
	tap_is_int(load(doc, user, &cfg, &err), CFT_OK, "a system and a user file load");
	tap_is_str(cfg.default_profile, "dns", "the user file's key wins");
	tap_is_str(cfg.account_id, "0123456789abcdef0123456789abcdef",
		   "keys it does not set come from the system file");
	p = cft_config_find(&cfg, CFT_SECTION_PROFILE, "deploy");
	tap_is_int(p ? p->ttl_s : 0, 3600, "a profile key is overridden");
	tap_is_str(p && p->n_presets ? p->presets[0] : "", "workers-deploy",
		   "and the rest of the profile is kept");
	tap_is_int(cfg.n_files, 2, "both files are recorded");
	cft_config_clear(&cfg);

	tap_is_int(load("/nonexistent/cftoken.conf", NULL, &cfg, &err), CFT_OK,
		   "a missing file is no error");
	cft_config_clear(&cfg);

	static const struct {
		const char *text;
		const char *want;
		const char *what;
	} bad[] = {
		{ "[defaults]\nttl = 8 hours\n", ":2: [defaults] ttl: \"8 hours\" is not a duration",
		  "a bad duration names file, line and key" },
		{ "[defaults]\n\naccount = example.com\n", ":3: [defaults] account:",
		  "a bad account id names its line" },
		{ "[profile x]\nrequest_ip_in = 192.0.2.0/33\n", "is not an IP address or CIDR range",
		  "a bad CIDR is refused" },
		{ "[profile x]\npreset = workers-depoly\n", "unknown preset \"workers-depoly\"",
		  "an unknown preset is refused" },
		{ "[profile x]\nttl = 1h\n[profile y]\npermisions = Zone Read\n",
		  ":4: [profile y] permisions: unknown key", "a misspelt key is refused with its line" },
		{ "[profiles x]\n", ":1: [profiles x]: unknown section", "an unknown section is refused" },
		{ "[defaults]\napi_url = http://example.com\n", "must start with https://",
		  "a plain-HTTP api_url is refused" },
		{ "[defaults]\ncache = memcached\n", "use auto, secret-service, kernel or none",
		  "an unknown cache is refused" },
		{ "[defaults]\nthis is not ini\n", "bad.conf", "a syntax error names the file" },
		{ "[profile x]\npermissions = Zone Read,,DNS Read\n", "an empty item",
		  "an empty list item is refused" },
		{ "[profile x]\nzones = exa_mple.com\n", "is not a zone name (example.com), a zone id",
		  "a zone must be a name, an id or *" },
		{ "[defaults]\nttl = 1h\n# ttl = 3h\n\n  ttl=2h\n",
		  ":5: [defaults] ttl: given again (first at line 2)",
		  "a key given twice is refused at its second line, naming the first" },
		{ "[defaults]\nproxy = ftp://proxy.example:21\n", "a proxy URL, http://HOST:PORT",
		  "a proxy of a scheme libcurl does not proxy with" },
		{ "[defaults]\nproxy = http:///x\n", "a proxy URL", "a proxy without a host" },
		{ "[profile x]\npermissions = Zone Read\n[profile y]\nttl = 1h\n"
		  "[profile x]\npermissions = DNS Write\n",
		  ":5: [profile x]: section given again (first at line 1)",
		  "a [profile] section given twice is refused at its second header" },
		/* GKeyFile merges a section given twice: the second [user bob]
		 * would add DNS Write to bob's token. */
		{ "[user bob]\npermissions = Zone Read\n\n[group staff]\nttl = 1h\n"
		  "[user bob]\nzones = *\n",
		  "bad.conf:6: [user bob]: section given again (first at line 1); "
		  "give each section once",
		  "a [user] section given twice, with other keys, is refused naming the file and "
		  "both lines" },
		{ "[group staff]\nttl = 1h\n  [group staff]  \nttl = 2h\n",
		  ":3: [group staff]: section given again (first at line 1)",
		  "a [group] section given twice is refused, blanks around the header or not" },
		{ "[defaults]\nttl = 1h\n[profile x]\nttl = 2h\n[defaults]\n",
		  ":5: [defaults]: section given again (first at line 1)",
		  "[defaults] given twice is refused, even empty the second time" },
	};
	const char *same_key_elsewhere = write_file(
		"ok.conf", "[profile x]\nttl = 1h\n[profile y]\nttl = 2h\n# ttl = 3h\n");
	tap_is_int(load(same_key_elsewhere, NULL, &cfg, &err), CFT_OK,
		   "one key in two sections, or in a comment, is no repeat");
	cft_config_clear(&cfg);
	const char *similar = write_file(
		"similar.conf", "[user bob]\nttl = 1h\n[group bob]\nttl = 2h\n[profile bob]\n"
		"ttl = 3h\n# [user bob]\n");
	tap_is_int(load(similar, NULL, &cfg, &err), CFT_OK,
		   "one name in [user], [group] and [profile], or in a comment, is no repeat");
	cft_config_clear(&cfg);
	/* The system file and the user file still combine section by section. */
	const char *sys_part = write_file("sys.conf", "[profile x]\nttl = 1h\n");
	const char *user_part = write_file("user.conf", "[profile x]\npermissions = Zone Read\n");
	tap_is_int(load(sys_part, user_part, &cfg, &err), CFT_OK,
		   "a section in both files is no repeat");
	const cft_profile *x = cft_config_find(&cfg, CFT_SECTION_PROFILE, "x");
	tap_ok(x && x->ttl_s == 3600 && x->n_permissions == 1,
	       "... the two files' keys are combined");
	cft_config_clear(&cfg);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = write_file("bad.conf", bad[i].text);
		tap_is_int(load(path, NULL, &cfg, &err), CFT_E_INVALID_ARG, "%s", bad[i].what);
		tap_contains(err.detail, bad[i].want, "  message: %s", err.detail);
	}

	/* parent_token_file is bound to the api_url and ca_file of its own
	 * file, not to what another file says. */
	const char *sys_file = write_file("sys.conf", "[defaults]\napi_url = https://a.example/v4\n"
					  "ca_file = /etc/a.pem\nparent_token_file = /p\n");
	const char *user_file = write_file("user.conf", "[defaults]\napi_url = https://b.example/v4\n");
	tap_is_int(load(sys_file, user_file, &cfg, &err), CFT_OK, "a parent named in one file");
	tap_is_str(cfg.api_url, "https://b.example/v4", "  the other file's api_url wins");
	tap_is_str(cfg.parent_api_url, "https://a.example/v4", "  but the parent is for its own file's");
	tap_is_str(cfg.parent_ca_file, "/etc/a.pem", "  with its own file's CA");
	tap_is_str(cfg.parent_config, sys_file, "  and that file is named");
	cft_config_clear(&cfg);
	const char *bare = write_file("bare.conf", "[defaults]\nparent_token_file = /p\n");
	tap_is_int(load(sys_file, bare, &cfg, &err), CFT_OK, "a file naming the parent and no API");
	tap_ok(!cfg.parent_api_url && !cfg.parent_ca_file,
	       "  binds it to the default API and no CA file");
	cft_config_clear(&cfg);

	/* permission_groups_ttl: a duration, 0 for no cache, unset for a day. */
	const char *groups_day = write_file("groups.conf", "[defaults]\naccount = "
					    "0123456789abcdef0123456789abcdef\n");
	tap_is_int(load(groups_day, NULL, &cfg, &err), CFT_OK, "no permission_groups_ttl");
	tap_ok(!cfg.groups_ttl_set, "  leaves it unset (group_cache.h: a day)");
	cft_config_clear(&cfg);
	const char *groups_off = write_file("groups.conf", "[defaults]\npermission_groups_ttl = 0\n");
	tap_is_int(load(groups_day, groups_off, &cfg, &err), CFT_OK, "permission_groups_ttl = 0");
	tap_ok(cfg.groups_ttl_set && cfg.groups_ttl_s == 0, "  is set, to no cache");
	cft_config_clear(&cfg);
	const char *groups_12h = write_file("groups.conf", "[defaults]\npermission_groups_ttl = 12h\n");
	tap_is_int(load(groups_12h, NULL, &cfg, &err), CFT_OK, "permission_groups_ttl = 12h");
	tap_is_int(cfg.groups_ttl_s, 12 * 3600, "  in seconds");
	cft_config_clear(&cfg);
	static const char *const bad_ttls[] = { "soon", "-1", "31d", "" };
	for (size_t i = 0; i < sizeof(bad_ttls) / sizeof(bad_ttls[0]); i++) {
		char text[80];
		snprintf(text, sizeof(text), "[defaults]\npermission_groups_ttl = %s\n", bad_ttls[i]);
		const char *path = write_file("groups.conf", text);
		tap_is_int(load(path, NULL, &cfg, &err), CFT_E_INVALID_ARG,
			   "permission_groups_ttl = \"%s\" is refused", bad_ttls[i]);
		tap_contains(err.detail, "permission_groups_ttl", "  naming the key: %s", err.detail);
		cft_config_clear(&cfg);
	}

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	tap_ok(system(cmd) == 0, "clean up");
	return tap_done();
}
