/* cftoken doctor: every part a request needs, checked in order, each with
 * what to do about it.  Exit 0 when everything works, 1 otherwise. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cache/keyring.h"
#include "cache/parent.h"
#include "config/config.h"
#include "config/group_cache.h"
#include "config/policy.h"
#include "config/profile.h"
#include "config/profile_spec.h"
#include "config/tokenspec.h"
#include "core/lock.h"
#include "core/timeutil.h"
#include "mint/obtain.h"

typedef struct doctor {
	int failed;
} doctor;

static void report(doctor *d, bool ok, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(doctor *d, bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;
	printf("%-4s %-16s ", ok ? "ok" : "FAIL", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	d->failed += !ok;
}

static void report_error(doctor *d, const char *what, const cft_error *err)
{
	char msg[1536];
	cft_error_format(err, msg, sizeof(msg));
	report(d, false, what, "%s", msg);
}

static void check_config(doctor *d, const cli *c)
{
	const cft_config *cfg = c->cfg;
	size_t profiles = 0;
	for (size_t i = 0; i < cfg->n_sections; i++)
		profiles += cfg->sections[i].kind == CFT_SECTION_PROFILE;
	char files[600] = "";
	for (size_t i = 0; i < cfg->n_files; i++)
		snprintf(files + strlen(files), sizeof(files) - strlen(files), "%s%s", i ? ", " : "",
			 cfg->files[i]);
	if (profiles == 0) {
		report(d, false, "configuration", "%s: no [profile NAME] section; add one "
		       "(preset = workers-deploy, say) to %s", cfg->n_files ? files : "no file read",
		       "~/.config/cftoken/config");
		return;
	}
	if (cfg->default_profile && !cft_config_find(cfg, CFT_SECTION_PROFILE, cfg->default_profile)) {
		report(d, false, "configuration", "[defaults] profile = %s, but there is no "
		       "[profile %s]", cfg->default_profile, cfg->default_profile);
		return;
	}
	report(d, true, "configuration", "%s: %zu profile%s, default %s", files, profiles,
	       profiles == 1 ? "" : "s",
	       cfg->default_profile ? cfg->default_profile
	       : profiles == 1     ? "the only one"
				   : "none (give --profile, or set profile = in [defaults])");
}

static void check_kernel_keyring(doctor *d)
{
	char desc[64];
	cft_error err;
	cft_secret *back = NULL;
	cft_error_clear(&err);
	snprintf(desc, sizeof(desc), "cftoken-doctor:%u", (unsigned)getuid());
	cft_code rc = cft_keyring_store(desc, "probe", 5, time(NULL) + 60, &err);
	if (!rc)
		rc = cft_keyring_read(desc, &back, &err);
	bool ok = !rc && cft_secret_len(back) == 5 && memcmp(cft_secret_str(back), "probe", 5) == 0;
	cft_secret_free(back);
	cft_keyring_drop(desc, NULL);
	if (ok)
		report(d, true, "kernel keyring", "a key can be stored, read back and removed (L1)");
	else
		report_error(d, "kernel keyring", &err);
}

static void check_secret_service(doctor *d, const cli *c)
{
	cache_mode mode = cli_cache_mode(c);
	const char *name = mode == CACHE_AUTO ? "auto" : mode == CACHE_SECRET_SERVICE ? "secret-service"
			   : mode == CACHE_KERNEL ? "kernel" : "none";
	if (mode == CACHE_KERNEL || mode == CACHE_NONE) {
		report(d, true, "secret service", "not used (cache = %s)", name);
		return;
	}
	cft_l2 *l2 = NULL;
	cft_error err;
	cft_error_clear(&err);
	cli_export_session_bus();
	cft_l2_open(1500, &l2, &err);
	if (l2)
		report(d, true, "secret service", "answers; tokens are kept there too (cache = %s)", name);
	else if (mode == CACHE_SECRET_SERVICE)
		report_error(d, "secret service", &err);
	else
		report(d, true, "secret service", "%s; the kernel keyring alone is the cache "
		       "(cache = auto)", err.detail);
	cft_l2_close(l2);
}

static void check_lock(doctor *d)
{
	int fd = -1;
	cft_error err;
	cft_error_clear(&err);
	if (cft_lock_acquire("doctor", "doctor", cft_now_ms() + 1000, &fd, &err) == CFT_OK) {
		cft_lock_release(fd);
		report(d, true, "lock directory", "usable ($XDG_RUNTIME_DIR/cftoken)");
	} else {
		report_error(d, "lock directory", &err);
	}
}

/* Whether the parent may create tokens: its own policies name "Account
 * API Tokens Write" (reading them needs Account API Tokens Read). */
static void check_create_right(doctor *d, cft_client *client, cft_owner owner,
			       const char *parent_id, const cft_perm_group_list *groups)
{
	const cft_perm_group *write = NULL;
	cft_token self;
	cft_error err;
	cft_error_clear(&err);
	if (!owner.account_id)
		return;
	if (cft_perm_resolve(groups, "Account API Tokens Write", CFT_SCOPE_ACCOUNT, &write, &err)) {
		report_error(d, "create right", &err);
		return;
	}
	if (cft_token_get(client, owner, parent_id, &self, &err) != CFT_OK) {
		report(d, true, "create right", "cannot read the parent token's own policies (%s); "
		       "the first mint will tell", cft_strerror(err.code));
		return;
	}
	bool may = strstr(self.policies_json, write->id) != NULL;
	cft_token_clear(&self);
	if (may)
		report(d, true, "create right", "the parent token holds \"Account API Tokens Write\"");
	else
		report(d, false, "create right", "the parent token lacks \"Account API Tokens Write\" "
		       "on account %s: it cannot create tokens; edit it in the dashboard",
		       owner.account_id);
}

/* Whether every profile's permission names exist, with the parent's view
 * of the permission groups, and whether the parent may create tokens. */
static void check_profiles(doctor *d, const cli *c, cft_client *client, cft_owner owner,
			   const char *parent_id)
{
	cft_perm_group_list groups;
	cft_error err;
	char state[160];
	cft_error_clear(&err);
	/* What a mint resolves against first (config/group_cache.h); doctor
	 * itself checks against the full list. */
	cft_group_cache_describe(cft_client_api_url(client), owner, cft_group_cache_ttl(c->cfg),
				 time(NULL), state, sizeof(state));
	report(d, true, "permission groups", "%s", state);
	if (cft_permission_groups(client, owner, &groups, &err) != CFT_OK) {
		report_error(d, "permission groups", &err);
		return;
	}
	check_create_right(d, client, owner, parent_id, &groups);
	for (size_t i = 0; i < c->cfg->n_sections; i++) {
		const cft_profile *p = &c->cfg->sections[i];
		if (p->kind != CFT_SECTION_PROFILE)
			continue;
		const char *names[CFT_PROFILE_MAX_NAMES];
		size_t n = 0;
		char what[80];
		snprintf(what, sizeof(what), "profile %s", p->name);
		cft_built_spec built;
		cft_error_clear(&err);
		cft_code rc = cft_profile_permissions(p, names, CFT_PROFILE_MAX_NAMES, &n, &err);
		/* Zones by name must resolve with the parent token too. */
		char zone_ids[CFT_SPEC_MAX_ZONES][CFT_ID_LEN + 1];
		const char *zones[CFT_SPEC_MAX_ZONES];
		size_t n_zones = p->n_zones < CFT_SPEC_MAX_ZONES ? p->n_zones : CFT_SPEC_MAX_ZONES;
		if (!rc)
			rc = cft_zone_ids(client, owner.account_id, (const char *const *)p->zones,
					  n_zones, zone_ids, zones, &err);
		/* As a mint now would ask, within the ceiling on children. */
		time_t now = time(NULL), nb = p->not_before_s ? now + p->not_before_s : 0;
		cft_token_wish wish = { .permissions = names, .n_permissions = n,
					.account_id = owner.account_id, .name = "doctor",
					.zones = zones, .n_zones = n_zones, .not_before = nb,
					.expires_on = (nb ? nb : now) + cft_profile_ttl(c->cfg, p) };
		if (rc || cft_spec_build(&groups, &wish, &built, &err) != CFT_OK ||
		    cft_profile_ceiling(c->cfg, p, &groups, &built, now, &err) != CFT_OK)
			report_error(d, what, &err);
		else
			report(d, true, what, "%zu permission%s resolve to %zu account and %zu zone group%s",
			       n, n == 1 ? "" : "s", built.n_account, built.n_zone,
			       built.n_account + built.n_zone == 1 ? "" : "s");
	}
	cft_perm_group_list_clear(&groups);
}

int cmd_doctor(const cli *c)
{
	doctor d = { 0 };
	const char *api = cli_api_url(c);

	check_config(&d, c);
	check_kernel_keyring(&d);
	check_secret_service(&d, c);
	check_lock(&d);

	cft_client *client = NULL;
	cft_owner owner;
	char account[CFT_ID_LEN + 1] = "";
	cft_verify_result v;
	cft_error err;
	cft_error_clear(&err);
	/* The parent only from where cftoken itself would take it: never a
	 * prompt, so doctor runs unattended. */
	if (!c->token_file && !(c->cfg && c->cfg->parent_token_file)) {
		cft_parent parent;
		if (cli_parent_load(c, &parent, &err) != CFT_OK) {
			report_error(&d, "parent token", &err);
			printf("\n%d problem%s found\n", d.failed, d.failed == 1 ? "" : "s");
			return EXIT_API;
		}
		cft_parent_clear(&parent);
	}
	cft_code rc = cli_client(c, "", true, &client, &err);
	if (!rc)
		rc = cli_owner(c, client, &owner, account, &err);
	if (!rc)
		rc = cft_token_verify(client, owner, &v, &err);
	if (rc) {
		report_error(&d, "parent token", &err);
	} else {
		char eo[CFT_RFC3339_SIZE] = "never";
		if (v.expires_on)
			cft_time_format_rfc3339(v.expires_on, eo);
		report(&d, true, "API", "%s answers, TLS verified", api);
		report(&d, true, "parent token", "%s is %s for account %s, expires %s", v.id, v.status,
		       owner.account_id ? owner.account_id : "-", eo);
		check_profiles(&d, c, client, owner, v.id);
	}
	cft_client_free(client);
	if (d.failed)
		printf("\n%d problem%s found\n", d.failed, d.failed == 1 ? "" : "s");
	else
		printf("\neverything works\n");
	return d.failed ? EXIT_API : EXIT_OK;
}
