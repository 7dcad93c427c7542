#include "config/tokenspec.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_NAME_TEMPLATE "cftoken {profile} {user}@{host} {date}"

static bool contains(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

cft_code cft_spec_build(const cft_perm_group_list *groups, const cft_token_wish *w,
			cft_built_spec *b, cft_error *err)
{
	cft_code rc;

	memset(b, 0, sizeof(*b));
	if (w->n_permissions == 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "no permissions given");
	if (w->n_permissions > CFT_SPEC_MAX_GROUPS || w->n_zones > CFT_SPEC_MAX_ZONES)
		return cft_fail(err, CFT_E_INVALID_ARG, "too many permissions or zones");
	for (size_t i = 0; i < w->n_permissions; i++) {
		unsigned scope;
		const char *name = cft_perm_unqualified(w->permissions[i], &scope);
		const cft_perm_group *g = NULL;
		rc = cft_perm_resolve(groups, name, scope, &g, err);
		if (rc)
			return rc;
		/* Presets and a profile may name the same group: once is enough. */
		if (g->scopes & CFT_SCOPE_ACCOUNT & scope) {
			if (!contains(b->account_groups, b->n_account, g->id))
				b->account_groups[b->n_account++] = g->id;
		} else if (!contains(b->zone_groups, b->n_zone, g->id)) {
			b->zone_groups[b->n_zone++] = g->id;
		}
	}

	if (w->n_zones == 0) {
		rc = cft_resource_zone(NULL, b->zone_keys[0], err);
		if (rc)
			return rc;
		b->zones[b->n_zone_res++] = (cft_resource){ .key = b->zone_keys[0] };
	}
	for (size_t i = 0; i < w->n_zones; i++) {
		const char *z = strcmp(w->zones[i], "*") == 0 ? NULL : w->zones[i];
		rc = cft_resource_zone(z, b->zone_keys[b->n_zone_res], err);
		if (rc)
			return rc;
		b->zones[b->n_zone_res] = (cft_resource){ .key = b->zone_keys[b->n_zone_res] };
		b->n_zone_res++;
	}
	if (!w->user_owned && !w->account_id)
		return cft_fail(err, CFT_E_INVALID_ARG, "an account-owned token needs an account id");
	rc = cft_resource_account(w->account_id, b->account_key, err);
	if (rc)
		return rc;
	b->account_res = (cft_resource){ .key = b->account_key };
	b->nested = (cft_resource){ .key = b->account_key, .children = b->zones,
				    .n_children = b->n_zone_res };

	size_t n = 0;
	if (b->n_account)
		b->policies[n++] = (cft_policy_spec){ .group_ids = b->account_groups,
						      .n_groups = b->n_account,
						      .resources = &b->account_res,
						      .n_resources = 1 };
	if (b->n_zone)
		b->policies[n++] = w->user_owned
			? (cft_policy_spec){ .group_ids = b->zone_groups, .n_groups = b->n_zone,
					     .resources = b->zones, .n_resources = b->n_zone_res }
			: (cft_policy_spec){ .group_ids = b->zone_groups, .n_groups = b->n_zone,
					     .resources = &b->nested, .n_resources = 1 };
	b->spec = (cft_token_spec){
		.name = w->name,
		.policies = b->policies,
		.n_policies = n,
		.not_before = w->not_before,
		.expires_on = w->expires_on,
		.ip_in = w->ip_in,
		.n_ip_in = w->n_ip_in,
		.ip_not_in = w->ip_not_in,
		.n_ip_not_in = w->n_ip_not_in,
	};
	return CFT_OK;
}

void cft_token_name(const char *template, const char *profile, char *out, size_t size)
{
	cft_token_name_at(template, profile, time(NULL), out, size);
}

void cft_token_name_at(const char *template, const char *profile, time_t when, char *out,
		       size_t size)
{
	const struct passwd *pw = getpwuid(getuid());
	cft_token_name_for(template, profile, pw ? pw->pw_name : NULL, when, out, size);
}

/* The template with its fields filled in; date may be any text. */
static void render_name(const char *template, const char *profile, const char *user,
			const char *date, char *out, size_t size)
{
	char host[64] = "localhost";
	size_t j = 0;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	const struct {
		const char *field, *value;
	} fields[] = {
		{ "{profile}", profile ? profile : "cli" },
		{ "{user}", user ? user : "user" },
		{ "{host}", host },
		{ "{date}", date },
	};
	if (!size)
		return;
	for (const char *p = template ? template : DEFAULT_NAME_TEMPLATE; *p && j + 1 < size;) {
		size_t k;
		for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			if (strncmp(p, fields[k].field, strlen(fields[k].field)) == 0)
				break;
		if (k < sizeof(fields) / sizeof(fields[0])) {
			int w = snprintf(out + j, size - j, "%s", fields[k].value);
			j = w < 0 ? j : j + (size_t)w >= size ? size - 1 : j + (size_t)w;
			p += strlen(fields[k].field);
		} else {
			out[j++] = *p++;
		}
	}
	out[j] = '\0';
}

void cft_token_name_for(const char *template, const char *profile, const char *user,
			time_t when, char *out, size_t size)
{
	char date[16];
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	render_name(template, profile, user, date, out, size);
}

/* YYYY-MM-DD at s. */
static bool is_date(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool cft_token_name_matches(const char *template, const char *profile, const char *name)
{
	return cft_token_name_matches_for(template, profile, NULL, name);
}

bool cft_token_name_matches_for(const char *template, const char *profile, const char *user,
				const char *name)
{
	const struct passwd *pw = user ? NULL : getpwuid(getuid());
	char pattern[512];
	/* \x01 stands for {date}: no name cftoken renders holds it. */
	render_name(template, profile, user ? user : pw ? pw->pw_name : NULL, "\x01", pattern,
		    sizeof(pattern));
	const char *n = name;
	for (const char *p = pattern; *p; p++) {
		if (*p == '\x01') {
			if (strnlen(n, 10) < 10 || !is_date(n))
				return false;
			n += 10;
		} else if (*n++ != *p) {
			return false;
		}
	}
	return *n == '\0';
}
