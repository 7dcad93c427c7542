#include "config/policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 128
#define SUGGESTIONS 3

/* Lowercase, single spaces, no leading or trailing space, and a final
 * "edit" (the dashboard's word) read as "write" (the API's). */
static void normalise(const char *in, char out[NAME_MAX_LEN])
{
	size_t j = 0;
	int space = 0;
	for (; *in && j + 1 < NAME_MAX_LEN; in++) {
		unsigned char c = (unsigned char)*in;
		if (isspace(c)) {
			space = j > 0;
			continue;
		}
		if (space && j + 2 < NAME_MAX_LEN)
			out[j++] = ' ';
		space = 0;
		out[j++] = (char)tolower(c);
	}
	out[j] = '\0';
	if (j >= 5 && strcmp(out + j - 5, " edit") == 0 && j + 1 < NAME_MAX_LEN)
		strcpy(out + j - 4, "write");
}

const char *cft_perm_unqualified(const char *name, unsigned *scope)
{
	static const struct {
		const char *prefix;
		unsigned scope;
	} q[] = { { "account:", CFT_SCOPE_ACCOUNT }, { "zone:", CFT_SCOPE_ZONE } };
	const char *start = name + strspn(name, " \t");
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (strncasecmp(start, q[i].prefix, strlen(q[i].prefix)) == 0) {
			*scope = q[i].scope;
			return start + strlen(q[i].prefix);
		}
	*scope = CFT_SCOPE_ACCOUNT | CFT_SCOPE_ZONE;
	return name;
}

static const char *scope_name(unsigned scope)
{
	switch (scope) {
	case CFT_SCOPE_ACCOUNT: return "account";
	case CFT_SCOPE_ZONE: return "zone";
	case CFT_SCOPE_USER: return "user";
	case CFT_SCOPE_R2_BUCKET: return "R2 bucket";
	default: return "other";
	}
}

/* Edit distance, for "did you mean".  Names are short. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[NAME_MAX_LEN + 1];
	if (lb > NAME_MAX_LEN)
		lb = NAME_MAX_LEN;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			/* b[j - 1] is in b's string (j <= strlen(b)); the analyser
			 * does not tie strlen to what normalise() wrote. */
			/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static cft_code unknown_name(const cft_perm_group_list *groups, const char *want,
			     const char *name, cft_error *err)
{
	size_t best[SUGGESTIONS];
	size_t best_d[SUGGESTIONS];
	size_t n_best = 0;
	char norm[NAME_MAX_LEN];

	for (size_t i = 0; i < groups->n; i++) {
		normalise(groups->items[i].name, norm);
		size_t d = distance(want, norm);
		/* A word contained in the name is a strong hint. */
		if (strstr(norm, want))
			d = d / 4;
		int dup = 0;
		for (size_t k = 0; k < n_best; k++)
			dup |= strcmp(groups->items[best[k]].name, groups->items[i].name) == 0;
		if (dup)
			continue;
		size_t pos = n_best;
		while (pos > 0 && best_d[pos - 1] > d)
			pos--;
		if (pos >= SUGGESTIONS)
			continue;
		if (n_best < SUGGESTIONS)
			n_best++;
		/* Shift the worse ones down (a loop, not memmove: with
		 * _FORTIFY_SOURCE=3 memmove becomes __memmove_chk, which
		 * Debian 12's valgrind 3.19 checks as memcpy and reports as an
		 * overlap). */
		for (size_t k = n_best - 1; k > pos; k--) {
			best[k] = best[k - 1];
			best_d[k] = best_d[k - 1];
		}
		best[pos] = i;
		best_d[pos] = d;
	}
	cft_fail(err, CFT_E_UNKNOWN_PERMISSION, "\"%.80s\"", name);
	if (n_best && err) {
		size_t used = strlen(err->detail);
		for (size_t k = 0; k < n_best && used < sizeof(err->detail); k++) {
			int w = snprintf(err->detail + used, sizeof(err->detail) - used,
					 "%s\"%s\"", k ? ", " : "; closest: ",
					 groups->items[best[k]].name);
			if (w < 0)
				break;
			used += (size_t)w;
		}
	}
	return CFT_E_UNKNOWN_PERMISSION;
}

cft_code cft_perm_resolve(const cft_perm_group_list *groups, const char *name,
			  unsigned scope, const cft_perm_group **out, cft_error *err)
{
	char want[NAME_MAX_LEN], norm[NAME_MAX_LEN];
	const cft_perm_group *match = NULL;
	size_t n_named = 0, n_match = 0;
	unsigned scopes_seen = 0;

	if (!groups || !name || !out)
		return cft_fail(err, CFT_E_INVALID_ARG, "no permission name");
	if (strlen(name) >= NAME_MAX_LEN)
		return cft_fail(err, CFT_E_UNKNOWN_PERMISSION, "a name of %zu characters",
				strlen(name));
	normalise(name, want);
	if (!want[0])
		return cft_fail(err, CFT_E_UNKNOWN_PERMISSION, "an empty name");
	for (size_t i = 0; i < groups->n; i++) {
		normalise(groups->items[i].name, norm);
		if (strcmp(norm, want) != 0)
			continue;
		n_named++;
		scopes_seen |= groups->items[i].scopes;
		if (scope && !(groups->items[i].scopes & scope))
			continue;
		n_match++;
		match = &groups->items[i];
	}
	if (n_named == 0)
		return unknown_name(groups, want, name, err);
	if (n_match == 1) {
		*out = match;
		return CFT_OK;
	}
	if (n_match == 0)
		return cft_fail(err, CFT_E_UNKNOWN_PERMISSION,
				"\"%.80s\" exists, but not for %s resources", name,
				scope_name(scope & -scope));
	char scopes[64] = "";
	for (unsigned bit = 1; bit <= CFT_SCOPE_OTHER; bit <<= 1)
		if (scopes_seen & bit)
			snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes),
				 "%s%s", scopes[0] ? " and " : "", scope_name(bit));
	return cft_fail(err, CFT_E_AMBIGUOUS_PERMISSION,
			"\"%.80s\" exists for %s resources: write zone:%.80s or account:%.80s",
			name, scopes, name, name);
}

bool cft_perm_name_is(const char *group_name, const char *name)
{
	char want[NAME_MAX_LEN], norm[NAME_MAX_LEN];
	unsigned scope;
	name = cft_perm_unqualified(name, &scope);
	if (!group_name || strlen(name) >= NAME_MAX_LEN)
		return false;
	normalise(name, want);
	normalise(group_name, norm);
	return want[0] && strcmp(norm, want) == 0;
}

bool cft_perm_all_resolve(const cft_perm_group_list *groups, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned scope;
		const cft_perm_group *g;
		const char *name = cft_perm_unqualified(names[i], &scope);
		if (cft_perm_resolve(groups, name, scope, &g, NULL) != CFT_OK)
			return false;
	}
	return true;
}

static cft_code resource_key(const char *prefix, const char *id, char *buf, cft_error *err)
{
	if (id && !cft_is_id(id))
		return cft_fail(err, CFT_E_INVALID_ARG,
				"\"%.64s\" is not an id (32 hexadecimal characters)", id);
	snprintf(buf, CFT_RESOURCE_KEY_SIZE, "%s.%s", prefix, id ? id : "*");
	return CFT_OK;
}

cft_code cft_resource_account(const char *account_id, char *buf, cft_error *err)
{
	return resource_key("com.cloudflare.api.account", account_id, buf, err);
}

cft_code cft_resource_zone(const char *zone_id, char *buf, cft_error *err)
{
	return resource_key("com.cloudflare.api.account.zone", zone_id, buf, err);
}

unsigned cft_resource_scope(const char *key)
{
	static const struct {
		const char *prefix;
		unsigned scope;
	} kinds[] = {
		/* longest first: a zone key also starts with the account prefix */
		{ "com.cloudflare.api.account.zone.", CFT_SCOPE_ZONE },
		{ "com.cloudflare.api.account.", CFT_SCOPE_ACCOUNT },
		{ "com.cloudflare.api.user.", CFT_SCOPE_USER },
		{ "com.cloudflare.edge.r2.bucket.", CFT_SCOPE_R2_BUCKET },
	};
	if (!key)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(key, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
			return kinds[i].scope;
	return 0;
}
