#include "config/group_record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/analyzer.h"

#define MAGIC "cftoken-groups 1\n"
#define SCOPES_ALL (CFT_SCOPE_OTHER * 2 - 1)

/* A name that reads back as it was written: one line, no control
 * character, short enough for cft_perm_resolve. */
static bool name_valid(const char *s, size_t n)
{
	if (n == 0 || n > CFT_GROUP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool group_valid(const cft_perm_group *g)
{
	return g && cft_is_id(g->id) && g->name && name_valid(g->name, strlen(g->name)) &&
	       g->scopes >= 1 && g->scopes <= SCOPES_ALL;
}

/* Stored as cft_api_url_normal makes it, so that comparing is strcmp. */
static bool api_normal(const char *s)
{
	char normal[CFT_API_URL_MAX + 1];
	return cft_api_url_normal(s, normal) == 0 && strcmp(normal, s) == 0;
}

cft_code cft_group_record_format(const char *api, time_t fetched,
				 const cft_perm_group *const *groups, size_t n,
				 char out[CFT_GROUP_RECORD_MAX + 1], size_t *len, cft_error *err)
{
	const size_t size = CFT_GROUP_RECORD_MAX + 1;
	if (!api || !api_normal(api) || fetched < 0 || n > CFT_GROUP_RECORD_MAX_GROUPS)
		return cft_fail(err, CFT_E_INVALID_ARG, "not a permission-group record");
	int w = snprintf(out, size, MAGIC "api=%s\nfetched=%lld\n", api, (long long)fetched);
	size_t used = w > 0 ? (size_t)w : size;
	for (size_t i = 0; i < n && used < size; i++) {
		if (!group_valid(groups[i]))
			return cft_fail(err, CFT_E_INVALID_ARG, "a permission group that cannot "
					"be kept: %.40s", groups[i] && groups[i]->id ? groups[i]->id : "");
		w = snprintf(out + used, size - used, "%s %u %s\n", groups[i]->id,
			     groups[i]->scopes, groups[i]->name);
		used = w > 0 ? used + (size_t)w : size;
	}
	if (used >= size)
		return cft_fail(err, CFT_E_INVALID_ARG, "more than %d bytes of permission groups",
				CFT_GROUP_RECORD_MAX);
	*len = used;
	return CFT_OK;
}

/* The next line (NUL put where its '\n' was), or NULL when none is left
 * or the last has no '\n'. */
static char *next_line(char **cursor)
{
	char *line = *cursor, *end = line ? strchr(line, '\n') : NULL;
	if (!end)
		return NULL;
	*end = '\0';
	*cursor = end + 1;
	return line;
}

/* Up to 19 digits, no sign: a time or a scope mask. */
static bool parse_number(const char *s, size_t max_digits, long long *out)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > max_digits || s[n] != '\0' || (n > 1 && s[0] == '0'))
		return false;
	*out = strtoll(s, NULL, 10);
	return true;
}

/* These two append to r->groups, which owns the strings and frees them
 * on failure too (analyzer.h). */
CFT_ANALYZER_ARRAY_STORES_BEGIN
static bool parse_group(char *line, cft_perm_group *g)
{
	long long scopes;
	char *space = strchr(line, ' ');
	if (!space || space - line != CFT_ID_LEN)
		return false;
	*space = '\0';
	char *mask = space + 1, *name = strchr(mask, ' ');
	if (!cft_is_id(line) || !name)
		return false;
	*name++ = '\0';
	if (!parse_number(mask, 2, &scopes) || scopes < 1 || scopes > SCOPES_ALL ||
	    !name_valid(name, strlen(name)))
		return false;
	g->id = strdup(line);
	g->name = strdup(name);
	g->scopes = (unsigned)scopes;
	return true;
}

static cft_code parse(char *text, cft_group_record *r)
{
	char *cursor = text, *line;
	long long fetched;
	if (strncmp(text, MAGIC, strlen(MAGIC)) != 0)
		return CFT_E_MALFORMED;
	cursor += strlen(MAGIC);
	line = next_line(&cursor);
	if (!line || strncmp(line, "api=", 4) != 0 || !api_normal(line + 4))
		return CFT_E_MALFORMED;
	snprintf(r->api, sizeof(r->api), "%.*s", CFT_API_URL_MAX, line + 4);
	line = next_line(&cursor);
	if (!line || strncmp(line, "fetched=", 8) != 0 || !parse_number(line + 8, 19, &fetched))
		return CFT_E_MALFORMED;
	r->fetched = (time_t)fetched;
	size_t n = 0;
	for (const char *p = cursor; (p = strchr(p, '\n')); p++)
		n++;
	if (n > CFT_GROUP_RECORD_MAX_GROUPS)
		return CFT_E_MALFORMED;
	r->groups.items = calloc(n ? n : 1, sizeof(*r->groups.items));
	if (!r->groups.items)
		return CFT_E_NOMEM;
	while ((line = next_line(&cursor))) {
		cft_perm_group *g = &r->groups.items[r->groups.n];
		if (!parse_group(line, g))
			return CFT_E_MALFORMED;
		r->groups.n++;
		if (!g->id || !g->name)
			return CFT_E_NOMEM;
	}
	return *cursor ? CFT_E_MALFORMED : CFT_OK;  /* a last line without its '\n' */
}
CFT_ANALYZER_ARRAY_STORES_END

cft_code cft_group_record_parse(const char *buf, size_t len, cft_group_record *r,
				cft_error *err)
{
	char text[CFT_GROUP_RECORD_MAX + 1];
	memset(r, 0, sizeof(*r));
	if (!buf || len > CFT_GROUP_RECORD_MAX || memchr(buf, '\0', len))
		return cft_fail(err, CFT_E_MALFORMED, "a damaged permission-group record");
	memcpy(text, buf, len);
	text[len] = '\0';
	cft_code rc = parse(text, r);
	if (rc) {
		cft_group_record_clear(r);
		return rc == CFT_E_NOMEM ? cft_fail(err, rc, NULL)
					 : cft_fail(err, rc, "a damaged permission-group record");
	}
	return CFT_OK;
}

void cft_group_record_clear(cft_group_record *r)
{
	cft_perm_group_list_clear(&r->groups);
	memset(r, 0, sizeof(*r));
}
