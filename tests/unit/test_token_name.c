/* Token names: what cftoken renders, and the form cftoken recognises
 * before it deletes a token by an id or a name a cache, a state file or a
 * note gave it (lib/mint/orphans.h cft_token_delete_if_ours). */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "config/tokenspec.h"

/* f with $U the user and $H the host. */
static void expand(const char *f, const char *user, const char *host, char *out, size_t size)
{
	size_t j = 0;
	for (; *f && j + 1 < size; f++) {
		const char *v = f[0] == '$' && f[1] == 'U' ? user : f[0] == '$' && f[1] == 'H' ? host : NULL;
		if (v) {
			j += (size_t)snprintf(out + j, size - j, "%s", v);
			f++;
		} else {
			out[j++] = *f;
		}
	}
	out[j < size ? j : size - 1] = '\0';
}

int main(void)
{
	char name[256], host[64] = "localhost", want[512];
	const struct passwd *pw = getpwuid(getuid());
	const char *me = pw ? pw->pw_name : "user";
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';

	cft_token_name_at(NULL, "deploy", 86400 * 365, name, sizeof(name));
	snprintf(want, sizeof(want), "cftoken deploy %s@%s 1971-01-01", me, host);
	tap_is_str(name, want, "the default template: purpose, user, host and date");
	tap_ok(cft_token_name_matches(NULL, "deploy", name), "a name cftoken rendered is its own");
	snprintf(want, sizeof(want), "cftoken deploy %s@%s 2030-12-31", me, host);
	tap_ok(cft_token_name_matches(NULL, "deploy", want), "... on any date");

	cft_token_name_for(NULL, "login", "alice", 0, name, sizeof(name));
	snprintf(want, sizeof(want), "cftoken login alice@%s 1970-01-01", host);
	tap_is_str(name, want, "a login token named for another user (root names it for alice)");
	tap_ok(cft_token_name_matches_for(NULL, "login", "alice", name),
	       "... is one of root's names for alice (its ledger of replaced tokens)");
	tap_ok(!cft_token_name_matches_for(NULL, "login", "bob", name) &&
		       (!strcmp(me, "alice") || !cft_token_name_matches(NULL, "login", name)),
	       "... and not bob's, nor the caller's");

	static const char *const not_ours[] = {
		"parent",
		"billing bot",
		"cftoken deploy",
		"cftoken deploy2 $U@$H 2026-01-01",
		"cftoken login $U@$H 2026-01-01",
		"cftoken deploy $U@$H 2026-01-0",
		"cftoken deploy $U@$H 2026-01-01x",
		"cftoken deploy $U@$H 2026/01/01",
		"cftoken deploy $U@other-host 2026-01-01",
		"cftoken deploy $U@$H \x01",
	};
	for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++) {
		expand(not_ours[i], me, host, want, sizeof(want));
		tap_ok(!cft_token_name_matches(NULL, "deploy", want), "not ours: \"%s\"", want);
	}
	snprintf(want, sizeof(want), "cftoken deploy bob@%s 2026-01-01", host);
	tap_ok(!strcmp(me, "bob") || !cft_token_name_matches(NULL, "deploy", want),
	       "another user's token of the same profile is not ours");

	const char *tpl = "ci {profile} on {host} ({date}) for {user}";
	cft_token_name_at(tpl, "r2", time(NULL), name, sizeof(name));
	tap_ok(cft_token_name_matches(tpl, "r2", name), "a custom template: its names are ours");
	tap_ok(!cft_token_name_matches(NULL, "r2", name), "... and not those of the default");
	return tap_done();
}
