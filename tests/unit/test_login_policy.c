/* The login policy of pam_cftoken: user > group (first in file order) >
 * defaults, key by key; and the trust checks on the files it reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "config/config.h"
#include "config/login_policy.h"

static char dir[] = "/tmp/cftoken-test-policy-XXXXXX";

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	return p;
}

int main(void)
{
	cft_config cfg = { 0 };
	cft_error err;
	cft_login_policy pol;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	chmod(dir, 0755);
	const char *conf = write_file("policy.conf",
		"[defaults]\n"
		"account = 0123456789abcdef0123456789abcdef\n"
		"ttl = 8h\n"
		"[group staff]\n"
		"permissions = Zone Read\n"
		"ttl = 2h\n"
		"zones = example.com\n"
		"[group developers]\n"
		"preset = workers-deploy\n"
		"ttl = 4h\n"
		"request_ip_in = 192.0.2.0/24\n"
		"[user alice]\n"
		"ttl = 1h\n"
		"[user bob]\n"
		"preset = r2-write\n", 0644);
	cft_error_clear(&err);
	const char *paths[1] = { conf };
	if (!tap_ok(cft_config_load_files(&cfg, paths, 1, &err) == CFT_OK, "the policy loads")) {
		printf("#   %s\n", err.detail);
		return 1;
	}

	const char *alice_groups[] = { "users", "developers", "staff" };
	tap_is_int(cft_login_policy_find(&cfg, "alice", alice_groups, 3, &pol, &err), CFT_OK,
		   "alice: a user section and two groups");
	tap_is_str(pol.merged.name, CFT_LOGIN_PROFILE, "cached as profile \"login\"");
	tap_is_int(pol.merged.ttl_s, 3600, "her own section's ttl wins");
	tap_ok(pol.group && !strcmp(pol.group->name, "staff"),
	       "the first [group] in the file that names one of her groups is staff, not "
	       "developers (file order, not her group list's)");
	tap_is_int(pol.merged.n_permissions, 1, "she names no permissions: the group's apply");
	tap_is_str(pol.merged.n_permissions ? pol.merged.permissions[0] : NULL, "Zone Read",
		   "... Zone Read");
	tap_is_int(pol.merged.n_zones, 1, "and the group's zones");
	char from[128];
	cft_login_policy_describe(&pol, from, sizeof(from));
	tap_is_str(from, "[user alice] over [group staff]", "described for syslog");

	const char *bob_groups[] = { "developers" };
	tap_is_int(cft_login_policy_find(&cfg, "bob", bob_groups, 1, &pol, &err), CFT_OK,
		   "bob: a user section and a group");
	tap_ok(pol.merged.n_presets == 1 && !strcmp(pol.merged.presets[0], "r2-write") &&
		       pol.merged.n_permissions == 0,
	       "a user section naming a preset replaces the group's whole set, never adds to it");
	tap_is_int(pol.merged.ttl_s, 4 * 3600, "his section sets no ttl: the group's");
	tap_is_int(pol.merged.n_ip_in, 1, "and the group's request_ip_in");

	const char *carol_groups[] = { "developers" };
	tap_is_int(cft_login_policy_find(&cfg, "carol", carol_groups, 1, &pol, &err), CFT_OK,
		   "carol: only a group");
	tap_ok(!pol.user && pol.merged.kind == CFT_SECTION_GROUP, "her policy is the group's");
	tap_ok(pol.merged.account_id == NULL, "unset keys stay unset: [defaults] fills them later");

	const char *none[] = { "users" };
	cft_error_clear(&err);
	tap_is_int(cft_login_policy_find(&cfg, "dave", none, 1, &pol, &err), CFT_E_NOT_FOUND,
		   "dave: no section at all, no token");
	tap_ok(strstr(err.detail, "no [user dave] section") != NULL, "and the message says so");

	/* A second [user bob] further down: GKeyFile merged it into the
	 * first, which gave bob DNS Write beside his preset, a broader token
	 * than either section says.  The policy file is refused instead. */
	const char *twice = write_file("twice.conf",
		"[defaults]\n"
		"account = 0123456789abcdef0123456789abcdef\n"
		"[user bob]\n"
		"preset = r2-write\n"
		"[group developers]\n"
		"ttl = 4h\n"
		"[user bob]\n"
		"permissions = DNS Write\n", 0644);
	cft_config twice_cfg;
	const char *twice_paths[1] = { twice };
	cft_error_clear(&err);
	tap_is_int(cft_config_load_files(&twice_cfg, twice_paths, 1, &err), CFT_E_INVALID_ARG,
		   "a policy with [user bob] given twice does not load");
	char want[400];
	snprintf(want, sizeof(want), "%s:7: [user bob]: section given again (first at line 3)",
		 twice);
	tap_ok(strstr(err.detail, want) != NULL, "the message names the file and both lines (%s)",
	       err.detail);
	tap_is_int(cft_login_policy_find(&twice_cfg, "bob", bob_groups, 1, &pol, &err),
		   CFT_E_NOT_FOUND, "so bob gets no token from it, let alone a broader one");
	cft_config_clear(&twice_cfg);
	unlink(twice);

	/* Trust: root's (or, for a personal set-up, our own user's) and
	 * writable by nobody else. */
	tap_is_int(cft_check_trusted_file(conf, "configuration", NULL), CFT_OK,
		   "a 0644 file of ours in a 0755 directory is trusted");
	const char *open_file = write_file("open.conf", "[defaults]\n", 0666);
	cft_error_clear(&err);
	tap_is_int(cft_check_trusted_file(open_file, "configuration", &err), CFT_E_INVALID_ARG,
		   "a world-writable file is refused");
	tap_ok(strstr(err.detail, "writable by group or others (mode 0666)") != NULL,
	       "and the message names the mode");
	char link[300];
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	tap_ok(symlink(conf, link) == 0, "a symlink to the policy");
	cft_error_clear(&err);
	tap_is_int(cft_check_trusted_file(link, "configuration", &err), CFT_E_INVALID_ARG,
		   "is refused: a regular file only");
	chmod(dir, 0777);
	cft_error_clear(&err);
	tap_is_int(cft_check_trusted_file(conf, "configuration", &err), CFT_E_INVALID_ARG,
		   "a file in a world-writable directory is refused");
	tap_ok(strstr(err.detail, "the directory of the configuration") != NULL,
	       "and the message says it is the directory");
	cft_error_clear(&err);
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
	tap_is_int(cft_check_trusted_file(missing, "configuration", &err), CFT_E_NOT_FOUND,
		   "a missing file is CFT_E_NOT_FOUND (no policy, not an error)");

	unlink(link);
	unlink(open_file);
	unlink(conf);
	rmdir(dir);
	cft_config_clear(&cfg);
	return tap_done();
}
