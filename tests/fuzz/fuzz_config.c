/* libFuzzer target: the configuration reader (lib/config/config.c) with every
 * value parser it calls (durations, CIDR lists, account ids, zones,
 * presets, permission lists, owner, booleans), and what is made of a
 * configuration that loads: each section's permissions, owner and token
 * spec against a fixed permission-group list (lib/config/owner.c, lib/mint/obtain.c,
 * lib/config/tokenspec.c, lib/config/policy.c resource keys and names, the request body
 * of lib/api/api.c), and the [user]/[group] precedence of lib/config/login_policy.c.
 *
 * The input is the system file, and after a NUL byte (which no
 * configuration may hold) the user file.  Each is written to a memfd and
 * read through /proc/self/fd, as cft_config_load_files reads paths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "api/api.h"
#include "config/config.h"
#include "config/login_policy.h"
#include "config/owner.h"
#include "config/policy.h"
#include "config/profile.h"
#include "config/profile_spec.h"
#include "config/tokenspec.h"
#include "mint/obtain.h"

#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define ZONE_ID "023e105f4ecef8ad9ca31a8372d0c353"
#define BASE_TIME 1795366800   /* 2026-11-22T17:00:00Z */

/* Real groups (tests/emulator/data/permission-groups.json): the presets'
 * groups, names at two scopes, user-scoped and user-token-only ones. */
/* cft_perm_group holds char *: these strings are never written. */
#define G(id, name, scope) { (char *)(id), (char *)(name), (scope) }
static cft_perm_group group_items[] = {
	G("e086da7e2179491d91ee5f35b3ca210a", "Workers Scripts Write", CFT_SCOPE_ACCOUNT),
	G("f7f0eda5697f475c90846e879bab8666", "Workers KV Storage Write", CFT_SCOPE_ACCOUNT),
	G("c1fde68c7bcc44588cbb6ddbc16d6480", "Account Settings Read", CFT_SCOPE_ACCOUNT),
	G("28f4b596e7d643029c524985477ae49a", "Workers Routes Write", CFT_SCOPE_ZONE),
	G("c8fed203ed3043cba015a93ad1616f1f", "Zone Read", CFT_SCOPE_ZONE),
	G("bf7481a1826f439697cb59a20b22293e", "Workers R2 Storage Write", CFT_SCOPE_ACCOUNT),
	G("82e64a83756745bbbb1c9c2701bf816b", "DNS Read", CFT_SCOPE_ZONE),
	G("4755a26eedb94da69e1066d98aa820be", "DNS Write", CFT_SCOPE_ZONE),
	G("c07321b023e944ff818fec44d8203567", "Cloudflare Tunnel Write", CFT_SCOPE_ACCOUNT),
	G("6a315a56f18441e59ed03352369ae956", "Logs Read", CFT_SCOPE_ACCOUNT),
	G("c4a30cd58c5d42619c86a3c36c441e2d", "Logs Read", CFT_SCOPE_ZONE),
	G("3e0b5820118e47f3922f7c989e673882", "Logs Write", CFT_SCOPE_ZONE),
	G("96163bd1b0784f62b3e44ed8c2ab1eb6", "Logs Write", CFT_SCOPE_ACCOUNT),
	G("5bc3f8b21c554832afc660159ab75fa4", "Account API Tokens Write", CFT_SCOPE_ACCOUNT),
	G("686d18d5ac6c441c867cbf6771e58a0a", "API Tokens Write", CFT_SCOPE_USER),
	G("8acbe5bb0d54464ab867149d7f7cf8ac", "User Details Read", CFT_SCOPE_USER),
	G("b415b70a4fd1412886f164451f20405c", "Page Rules Read", CFT_SCOPE_ZONE),
	G("ed07f6c337da4195b4e72a1fb2c6bcae", "Page Rules Write", CFT_SCOPE_ZONE),
	G("09b2857d1c31407795e75e3fed8617a1", "D1 Write", CFT_SCOPE_ACCOUNT),
	G("1e13c5124ca64b72b1969a67e8829049", "Access: Apps and Policies Write", CFT_SCOPE_ZONE),
};
static const cft_perm_group_list groups = {
	group_items, sizeof(group_items) / sizeof(group_items[0])
};

static void check_error(cft_code rc, const cft_error *err)
{
	char buf[1024];
	if (rc == CFT_OK)
		return;
	if (err->code != rc)
		abort();
	cft_error_format(err, buf, sizeof(buf));
}

/* What minting makes of a profile or a login policy, short of the API:
 * zone names are taken as found (cft_zone_ids would look them up). */
static void build(const cft_config *cfg, const cft_profile *p)
{
	const char *names[CFT_PROFILE_MAX_NAMES], *zones[CFT_SPEC_MAX_ZONES];
	char name[256], why[256];
	size_t n_names = 0;
	bool user_owned = false;
	cft_error err;

	cft_error_clear(&err);
	(void)cft_profile_renew_margin(cfg, p);
	int64_t ttl = cft_profile_ttl(cfg, p);
	if (ttl <= 0)
		abort();
	cft_code rc = cft_profile_owner(p, &user_owned, why, sizeof(why), &err);
	if (!rc)
		rc = cft_profile_permissions(p, names, CFT_PROFILE_MAX_NAMES, &n_names, &err);
	check_error(rc, &err);
	if (rc)
		return;
	size_t n_zones = p->n_zones < CFT_SPEC_MAX_ZONES ? p->n_zones : CFT_SPEC_MAX_ZONES;
	for (size_t i = 0; i < n_zones; i++)
		zones[i] = strcmp(p->zones[i], "*") == 0 || cft_is_id(p->zones[i]) ? p->zones[i]
										     : ZONE_ID;
	cft_token_name_at(p->name_template ? p->name_template : cfg->name_template, p->name,
			  BASE_TIME, name, sizeof(name));
	time_t not_before = p->not_before_s ? BASE_TIME + p->not_before_s : 0;
	cft_token_wish wish = {
		.permissions = names,
		.n_permissions = n_names,
		.account_id = p->account_id ? p->account_id : cfg->account_id,
		.user_owned = user_owned,
		.zones = zones,
		.n_zones = n_zones,
		.name = name,
		.not_before = not_before,
		.expires_on = (not_before ? not_before : BASE_TIME) + ttl,
		.ip_in = (const char *const *)(p->n_ip_in ? p->ip_in : cfg->ip_in),
		.n_ip_in = p->n_ip_in ? p->n_ip_in : cfg->n_ip_in,
		.ip_not_in = (const char *const *)(p->n_ip_not_in ? p->ip_not_in : cfg->ip_not_in),
		.n_ip_not_in = p->n_ip_not_in ? p->n_ip_not_in : cfg->n_ip_not_in,
	};
	cft_built_spec b;
	rc = cft_spec_build(&groups, &wish, &b, &err);
	check_error(rc, &err);
	if (rc)
		return;
	char *body = NULL;
	rc = cft_token_spec_json(&b.spec, &body, &err);
	check_error(rc, &err);
	free(body);
}

static void login_policies(const cft_config *cfg)
{
	const char *group_names[8];
	size_t n_groups = 0;
	cft_login_policy pol;
	cft_error err;
	char from[256];

	/* The user belongs to every [group] named (up to 8), in reverse file
	 * order, and to one no section names. */
	group_names[n_groups++] = "users";
	for (size_t i = cfg->n_sections; i-- > 0 && n_groups < 8;)
		if (cfg->sections[i].kind == CFT_SECTION_GROUP)
			group_names[n_groups++] = cfg->sections[i].name;
	for (size_t i = 0; i <= cfg->n_sections; i++) {
		const char *user = i < cfg->n_sections ? cfg->sections[i].name : "nobody";
		cft_error_clear(&err);
		cft_code rc = cft_login_policy_find(cfg, user, group_names, n_groups, &pol, &err);
		check_error(rc, &err);
		if (rc)
			continue;
		if (pol.user && (pol.user->kind != CFT_SECTION_USER || strcmp(pol.user->name, user)))
			abort();
		if (pol.group && pol.group->kind != CFT_SECTION_GROUP)
			abort();
		cft_login_policy_describe(&pol, from, sizeof(from));
		build(cfg, &pol.merged);
	}
}

static int memfd_with(const uint8_t *data, size_t size, int *fd, char path[64])
{
	if (*fd < 0 && (*fd = memfd_create("fuzz-config", 0)) < 0)
		abort();
	if (ftruncate(*fd, 0) != 0 || pwrite(*fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", *fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fds[2] = { -1, -1 };
	char paths[2][64];
	const char *files[2] = { paths[0], NULL };
	cft_config cfg;
	cft_error err;

	const uint8_t *nul = memchr(data, '\0', size);
	size_t first = nul ? (size_t)(nul - data) : size;
	memfd_with(data, first, &fds[0], paths[0]);
	if (nul) {
		memfd_with(nul + 1, size - first - 1, &fds[1], paths[1]);
		files[1] = paths[1];
	}
	cft_error_clear(&err);
	cft_code rc = cft_config_load_files(&cfg, files, 2, &err);
	check_error(rc, &err);
	if (rc)
		return 0;
	if (cfg.api_url && strncmp(cfg.api_url, "https://", 8) != 0)
		abort();
	for (size_t i = 0; i < cfg.n_sections; i++) {
		const cft_profile *p = &cfg.sections[i];
		if (cft_config_find(&cfg, p->kind, p->name) != p)
			abort();  /* one section per kind and name */
		build(&cfg, p);
	}
	login_policies(&cfg);
	cft_config_clear(&cfg);
	return 0;
}
