#include "mint/token_diff.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A JSON array of strings, sorted (a set). */
static json_t *sorted_strings(json_t *a)
{
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	const char **v = calloc(n + 1, sizeof(*v));
	json_t *out = json_array();
	size_t k = 0;
	for (size_t i = 0; v && i < n; i++)
		if (json_is_string(json_array_get(a, i)))
			v[k++] = json_string_value(json_array_get(a, i));
	if (v)
		qsort(v, k, sizeof(*v), by_string);
	for (size_t i = 0; v && i < k; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]))
			json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

/* One policy as compared: effect, the set of group ids, resources. */
static char *policy_key(json_t *p)
{
	json_t *groups = json_object_get(p, "permission_groups");
	json_auto_t *ids = json_array();
	for (size_t i = 0; i < json_array_size(groups); i++)
		json_array_append(ids, json_object_get(json_array_get(groups, i), "id"));
	json_auto_t *norm = json_pack("{s:O?, s:o, s:O?}", "effect", json_object_get(p, "effect"),
				      "groups", sorted_strings(ids), "resources",
				      json_object_get(p, "resources"));
	return norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

/* The policies as a sorted list of their keys, joined: equal strings,
 * equal policies.  NULL (out of memory) differs from everything. */
static char *policies_key(json_t *policies)
{
	size_t n = json_is_array(policies) ? json_array_size(policies) : 0;
	char **keys = calloc(n + 1, sizeof(*keys));
	if (!keys)
		return NULL;
	bool complete = true;
	for (size_t i = 0; i < n; i++) {
		keys[i] = policy_key(json_array_get(policies, i));
		if (!keys[i])
			complete = false;
	}
	char *s = NULL;
	if (complete) {
		json_auto_t *all = json_array();
		qsort(keys, n, sizeof(*keys), by_string);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(all, json_string(keys[i]));
		s = json_dumps(all, JSON_COMPACT);
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return s;
}

static char *condition_key(json_t *condition)
{
	json_t *ip = json_object_get(condition, "request.ip");
	json_t *in = json_object_get(ip, "in"), *not_in = json_object_get(ip, "not_in");
	if (json_array_size(in) == 0 && json_array_size(not_in) == 0)
		return strdup("none");
	json_auto_t *norm = json_pack("{s:o, s:o}", "in", sorted_strings(in), "not_in",
				      sorted_strings(not_in));
	return norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
}

static int differ(char *a, char *b)
{
	int d = !a || !b || strcmp(a, b) != 0;
	free(a);
	free(b);
	return d;
}

static int times_differ(time_t a, time_t b)
{
	if (!a || !b)
		return a != b;
	return (a > b ? a - b : b - a) > CFT_DIFF_TIME_SLACK;
}

int cft_token_diff(const cft_token_spec *want, const cft_token *have, cft_error *err)
{
	char *body = NULL;
	if (cft_token_spec_json(want, &body, err) != CFT_OK)
		return -1;
	json_auto_t *w = json_loads(body, 0, NULL);
	free(body);
	json_auto_t *hp = have->policies_json ? json_loads(have->policies_json, 0, NULL) : NULL;
	json_auto_t *hc = have->condition_json ? json_loads(have->condition_json, 0, NULL) : NULL;
	int diff = 0;
	if (!have->name || strcmp(have->name, want->name) != 0)
		diff |= CFT_DIFF_NAME;
	if (differ(policies_key(json_object_get(w, "policies")), policies_key(hp)))
		diff |= CFT_DIFF_POLICIES;
	if (differ(condition_key(json_object_get(w, "condition")), condition_key(hc)))
		diff |= CFT_DIFF_CONDITION;
	if (times_differ(want->not_before, have->not_before))
		diff |= CFT_DIFF_NOT_BEFORE;
	if (times_differ(want->expires_on, have->expires_on))
		diff |= CFT_DIFF_EXPIRES_ON;
	return diff;
}

static const char *const field_names[] = { "name", "policies", "condition", "not_before",
					    "expires_on" };

void cft_token_diff_names(int diff, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (diff & (1 << i)) {
			int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
					 field_names[i]);
			if (n < 0 || (size_t)n >= size - used)
				return;
			used += (size_t)n;
		}
}

static void print_time(FILE *out, time_t t)
{
	char s[CFT_RFC3339_SIZE];
	if (!t) {
		fputs("(none)", out);
		return;
	}
	cft_time_format_rfc3339(t, s);
	fputs(s, out);
}

void cft_token_diff_print(int diff, const cft_token_spec *want, const cft_token *have,
			  FILE *out)
{
	char *body = NULL;
	json_auto_t *w = NULL;
	if (cft_token_spec_json(want, &body, NULL) == CFT_OK)
		w = json_loads(body, 0, NULL);
	free(body);
	if (diff & CFT_DIFF_NAME)
		fprintf(out, "  name: \"%s\" -> \"%s\"\n", have->name ? have->name : "",
			want->name);
	if (diff & CFT_DIFF_POLICIES) {
		char *now = json_dumps(json_object_get(w, "policies"), JSON_COMPACT);
		fprintf(out, "  policies: %s\n    -> %s\n",
			have->policies_json ? have->policies_json : "(none)", now ? now : "?");
		free(now);
	}
	if (diff & CFT_DIFF_CONDITION) {
		char *now = json_dumps(json_object_get(w, "condition"), JSON_COMPACT);
		fprintf(out, "  condition: %s -> %s\n",
			have->condition_json ? have->condition_json : "(none)",
			now ? now : "(none)");
		free(now);
	}
	if (diff & CFT_DIFF_NOT_BEFORE) {
		fputs("  not_before: ", out);
		print_time(out, have->not_before);
		fputs(" -> ", out);
		print_time(out, want->not_before);
		fputc('\n', out);
	}
	if (diff & CFT_DIFF_EXPIRES_ON) {
		fputs("  expires_on: ", out);
		print_time(out, have->expires_on);
		fputs(" -> ", out);
		print_time(out, want->expires_on);
		fputc('\n', out);
	}
}

/* A leaf of a resource map: the keys from the top down to a "*". */
#define RESOURCE_DEPTH_MAX 4
typedef struct resource_path {
	const char *key[RESOURCE_DEPTH_MAX];
	size_t n;
} resource_path;

/* Whether resource key w (want's) holds key t: the same key, or a
 * wildcard of its kind ("com.cloudflare.api.account.zone.*" holds
 * "com.cloudflare.api.account.zone.<id>", not "....zone.x.y"). */
static bool key_holds(const char *w, const char *t)
{
	size_t n = strlen(w);
	if (strcmp(w, t) == 0)
		return true;
	return n >= 2 && w[n - 2] == '.' && w[n - 1] == '*' && strncmp(w, t, n - 1) == 0 &&
	       t[n - 1] != '\0' && !strchr(t + n - 1, '.');
}

/* Whether want's resource map grants the whole of path t: a key that
 * holds t's first gives "*", or a map that grants the rest.  Over want's
 * own spec (tokenspec.c: two levels), never over input. */
static bool map_grants(json_t *map, const char *const *t, size_t n) /* NOLINT(misc-no-recursion) */
{
	const char *k;
	json_t *v;
	if (n == 0 || !json_is_object(map))
		return false;  /* want names something narrower than t */
	json_object_foreach(map, k, v) {
		if (!key_holds(k, t[0]))
			continue;
		if (json_is_string(v) && strcmp(json_string_value(v), "*") == 0)
			return true;
		if (map_grants(v, t + 1, n - 1))
			return true;
	}
	return false;
}

static bool group_listed(json_t *policy, const char *group_id)
{
	json_t *groups = json_object_get(policy, "permission_groups");
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const char *id = json_string_value(json_object_get(json_array_get(groups, i), "id"));
		if (id && strcmp(id, group_id) == 0)
			return true;
	}
	return false;
}

static bool is_allow(json_t *policy)
{
	const char *effect = json_string_value(json_object_get(policy, "effect"));
	return !effect || strcmp(effect, "allow") == 0;
}

static bool want_grants(json_t *want, const char *group_id, const resource_path *t)
{
	for (size_t i = 0; i < json_array_size(want); i++) {
		json_t *p = json_array_get(want, i);
		if (is_allow(p) && group_listed(p, group_id) &&
		    map_grants(json_object_get(p, "resources"), t->key, t->n))
			return true;
	}
	return false;
}

/* The token's leaves one by one: calls fits() on each path; false at the
 * first that does not fit or is malformed (a value other than "*" or a
 * map, deeper than RESOURCE_DEPTH_MAX, an empty map).  Depth-bounded. */
typedef struct fit_walk {
	json_t *want;
	const char *group_id;
	resource_path at;            /* the first leaf that failed */
} fit_walk;

static bool leaves_fit(fit_walk *w, json_t *map, size_t depth) /* NOLINT(misc-no-recursion) */
{
	const char *k;
	json_t *v;
	if (!json_is_object(map) || json_object_size(map) == 0 || depth >= RESOURCE_DEPTH_MAX)
		return false;
	json_object_foreach(map, k, v) {
		w->at.key[depth] = k;
		w->at.n = depth + 1;
		if (json_is_string(v) && strcmp(json_string_value(v), "*") == 0) {
			if (!want_grants(w->want, w->group_id, &w->at))
				return false;
		} else if (!leaves_fit(w, v, depth + 1)) {
			return false;
		}
	}
	return true;
}

/* Control characters out of text that came from the API. */
static void printable(char *dst, size_t size, const char *src)
{
	size_t j = 0;
	for (size_t i = 0; src && src[i] && j + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[j++] = (char)((c < 0x20 || c == 0x7f) ? ' ' : c);
	}
	dst[j] = '\0';
}

static void explain_misfit(const fit_walk *w, json_t *group, char *why, size_t size)
{
	char name[128], where[512] = "", key[160];
	size_t used = 0;
	printable(name, sizeof(name), json_string_value(json_object_get(group, "name")));
	for (size_t i = 0; i < w->at.n && used < sizeof(where); i++) {
		printable(key, sizeof(key), w->at.key[i]);
		int n = snprintf(where + used, sizeof(where) - used, "%s%s", i ? " > " : "", key);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	char id[40];
	printable(id, sizeof(id), w->group_id);
	snprintf(why, size, "permission group %s (%s) on %s", id, name[0] ? name : "no name",
		 w->at.n ? where : "no resource");
}

static bool policy_fits(json_t *want, json_t *policy, char *why, size_t size)
{
	if (!json_is_object(policy)) {
		snprintf(why, size, "a policy the API describes in a form cftoken does not know");
		return false;
	}
	const char *effect = json_string_value(json_object_get(policy, "effect"));
	if (effect && strcmp(effect, "deny") == 0)
		return true;  /* takes rights away */
	if (!is_allow(policy)) {
		snprintf(why, size, "a policy whose effect is neither allow nor deny");
		return false;
	}
	json_t *groups = json_object_get(policy, "permission_groups");
	if (!json_is_array(groups)) {
		snprintf(why, size, "a policy without a list of permission groups");
		return false;
	}
	for (size_t i = 0; i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i);
		fit_walk w = { .want = want,
			       .group_id = json_string_value(json_object_get(g, "id")) };
		if (!w.group_id) {
			snprintf(why, size, "a permission group without an id");
			return false;
		}
		if (!leaves_fit(&w, json_object_get(policy, "resources"), 0)) {
			explain_misfit(&w, g, why, size);
			return false;
		}
	}
	return true;
}

bool cft_policies_within(const cft_token_spec *want, const char *have_policies_json,
			 char *why, size_t why_size)
{
	char *body = NULL;
	snprintf(why, why_size, "its policies could not be read");
	if (!have_policies_json || cft_token_spec_json(want, &body, NULL) != CFT_OK)
		return false;
	json_auto_t *w = json_loads(body, 0, NULL);
	free(body);
	json_auto_t *have = json_loads(have_policies_json, 0, NULL);
	bool fits = json_is_array(have) && w;
	json_t *want_policies = json_object_get(w, "policies");
	for (size_t i = 0; fits && i < json_array_size(have); i++)
		fits = policy_fits(want_policies, json_array_get(have, i), why, why_size);
	return fits;
}
