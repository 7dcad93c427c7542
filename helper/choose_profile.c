/* Which profile a command is about: the one --profile names, or the
 * default one (cli_profile).  apply, bind, exec, env and token ask it for
 * every request, the git credential helper for the API's own host. */
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "config/login_policy.h"

/* The admin's policy for this user ([user]/[group] in the system
 * configuration), when the request means it: the token the login session
 * got from pam_cftoken, cached as profile "login". */
static cft_login_policy login_policy;

static cft_code find_login_policy(const cli *c, const cft_profile **out, cft_error *err)
{
	cft_code rc = cft_login_policy_for_uid(c->cfg, getuid(), &login_policy, err);
	if (rc == CFT_OK)
		*out = &login_policy.merged;
	return rc;
}

/* The profile a request names, or the default one: the default profile,
 * else the only profile, else the login policy. */
static cft_code find_profile(const cli *c, const char *name, const cft_profile **out,
			     cft_error *err)
{
	const cft_config *cfg = c->cfg;
	if (!name)
		name = cfg->default_profile;
	if (!name) {
		const cft_profile *only = NULL;
		size_t n = 0;
		for (size_t i = 0; i < cfg->n_sections; i++)
			if (cfg->sections[i].kind == CFT_SECTION_PROFILE) {
				only = &cfg->sections[i];
				n++;
			}
		if (n == 1) {
			*out = only;
			return CFT_OK;
		}
		if (n == 0 && find_login_policy(c, out, NULL) == CFT_OK)
			return CFT_OK;
		return cft_fail(err, CFT_E_INVALID_ARG,
				n ? "several profiles and no default: give --profile or set "
				    "profile = in [defaults]"
				  : "no profile is configured: add a [profile NAME] section to "
				    "~/.config/cftoken/config (see cftoken.conf(5))");
	}
	*out = cft_config_find(cfg, CFT_SECTION_PROFILE, name);
	if (!*out && strcmp(name, CFT_LOGIN_PROFILE) == 0)
		return find_login_policy(c, out, err);
	if (!*out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no [profile %.64s] in the configuration",
				name);
	return CFT_OK;
}

cft_code cli_profile(const cli *c, const cft_profile **out, cft_error *err)
{
	return find_profile(c, c->profile, out, err);
}
