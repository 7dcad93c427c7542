#include "config/login_policy.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROUPS 256

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* Each field from the user's section if it sets it, else the group's. */
#define PICK(field) (u && u->field ? u->field : g ? g->field : 0)
#define PICK_LIST(field, count)                                            \
	do {                                                               \
		const cft_profile *src = u && u->count ? u : g;            \
		m->field = src ? src->field : NULL;                        \
		m->count = src ? src->count : 0;                           \
	} while (0)

static void merge(const cft_profile *u, const cft_profile *g, cft_profile *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = u ? CFT_SECTION_USER : CFT_SECTION_GROUP;
	m->name = (char *)CFT_LOGIN_PROFILE;
	m->account_id = PICK(account_id);
	/* Permissions and presets go together: a user section that names
	 * either replaces the group's whole set, never adds to it. */
	const cft_profile *perms = u && (u->n_presets || u->n_permissions) ? u : g;
	m->presets = perms ? perms->presets : NULL;
	m->n_presets = perms ? perms->n_presets : 0;
	m->permissions = perms ? perms->permissions : NULL;
	m->n_permissions = perms ? perms->n_permissions : 0;
	PICK_LIST(zones, n_zones);
	PICK_LIST(ip_in, n_ip_in);
	PICK_LIST(ip_not_in, n_ip_not_in);
	m->ttl_s = PICK(ttl_s);
	m->renew_margin_s = PICK(renew_margin_s);
	m->not_before_s = PICK(not_before_s);
	m->name_template = PICK(name_template);
	m->owner = PICK(owner);
}

cft_code cft_login_policy_find(const cft_config *cfg, const char *user,
			       const char *const *groups, size_t n_groups,
			       cft_login_policy *out, cft_error *err)
{
	memset(out, 0, sizeof(*out));
	out->user = cft_config_find(cfg, CFT_SECTION_USER, user);
	for (size_t i = 0; i < cfg->n_sections && !out->group; i++)
		if (cfg->sections[i].kind == CFT_SECTION_GROUP &&
		    in_list(cfg->sections[i].name, groups, n_groups))
			out->group = &cfg->sections[i];
	if (!out->user && !out->group)
		return cft_fail(err, CFT_E_NOT_FOUND,
				"no [user %.64s] section, and no [group] section for any of the "
				"user's groups", user);
	merge(out->user, out->group, &out->merged);
	return CFT_OK;
}

cft_code cft_login_policy_for_uid(const cft_config *cfg, uid_t uid, cft_login_policy *out,
				  cft_error *err)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096];
	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
		return cft_fail(err, CFT_E_NOT_FOUND, "uid %u has no user name", (unsigned)uid);
	gid_t gids[MAX_GROUPS];
	int n = MAX_GROUPS;
	if (getgrouplist(pw.pw_name, pw.pw_gid, gids, &n) < 0)
		n = MAX_GROUPS;  /* more than we look at: the first ones decide */
	/* Group names, in one buffer; a group without a name is skipped. */
	char *names[MAX_GROUPS];
	size_t n_names = 0;
	for (int i = 0; i < n; i++) {
		struct group gr, *grp = NULL;
		char grbuf[8192];
		if (getgrgid_r(gids[i], &gr, grbuf, sizeof(grbuf), &grp) == 0 && grp &&
		    (names[n_names] = strdup(gr.gr_name)))
			n_names++;
	}
	cft_code rc = cft_login_policy_find(cfg, pw.pw_name, (const char *const *)names, n_names,
					    out, err);
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	return rc;
}

void cft_login_policy_describe(const cft_login_policy *p, char *buf, size_t size)
{
	if (p->user && p->group)
		snprintf(buf, size, "[user %s] over [group %s]", p->user->name, p->group->name);
	else if (p->user)
		snprintf(buf, size, "[user %s]", p->user->name);
	else
		snprintf(buf, size, "[group %s]", p->group ? p->group->name : "?");
}
