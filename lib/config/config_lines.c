#include "config/config_lines.h"

#include <glib.h>
#include <string.h>

struct cft_config_lines {
	/* "SECTION" and "SECTION\nKEY" -> the line each was first given on */
	GHashTable *first;
};

/* The line a name was first seen on (0: never), recording this line if so. */
static int first_seen(GHashTable *seen, char *name, int line)
{
	gpointer first = g_hash_table_lookup(seen, name);
	if (first) {
		g_free(name);
		return GPOINTER_TO_INT(first);
	}
	g_hash_table_insert(seen, name, GINT_TO_POINTER(line));
	return 0;
}

/* The file has loaded in GKeyFile already, so every line that starts with
 * '[' is a whole section header "[NAME]", NAME without ']'.  Blanks are
 * skipped and trimmed as GKeyFile does (g_ascii_isspace), so a name here
 * is the name GKeyFile gives. */
cft_code cft_config_lines_scan(const char *path, const char *text, cft_config_lines **out,
			       cft_error *err)
{
	cft_config_lines *lines = g_new0(cft_config_lines, 1);
	lines->first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *group = NULL;
	cft_code rc = CFT_OK;
	int line = 1;
	for (const char *p = text; !rc && *p; line++) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		const char *s = p;
		while (s < end && g_ascii_isspace(*s))
			s++;
		const char *eq = memchr(s, '=', (size_t)(end - s));
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(end - s));
			g_free(group);
			group = close ? g_strndup(s + 1, (gsize)(close - s - 1)) : NULL;
			/* GKeyFile would merge the two into one section: a second
			 * [user bob] added its settings to the first's. */
			int first = group ? first_seen(lines->first, g_strdup(group), line) : 0;
			if (first)
				rc = cft_fail(err, CFT_E_INVALID_ARG,
					      "%s:%d: [%s]: section given again (first at line %d); "
					      "give each section once, with all its settings",
					      path, line, group, first);
		} else if (group && eq && *s != '#') {  /* GKeyFile's only comment */
			char *key = g_strstrip(g_strndup(s, (gsize)(eq - s)));
			int first = first_seen(lines->first, g_strdup_printf("%s\n%s", group, key),
					       line);
			if (first)
				rc = cft_fail(err, CFT_E_INVALID_ARG,
					      "%s:%d: [%s] %s: given again (first at line %d); "
					      "give each setting once per section",
					      path, line, group, key, first);
			g_free(key);
		}
		if (!*end)
			break;
		p = end + 1;
	}
	g_free(group);
	if (rc) {
		cft_config_lines_free(lines);
		lines = NULL;
	}
	*out = lines;
	return rc;
}

int cft_config_lines_find(const cft_config_lines *lines, const char *group, const char *key)
{
	char *name = key ? g_strdup_printf("%s\n%s", group, key) : g_strdup(group);
	int line = GPOINTER_TO_INT(g_hash_table_lookup(lines->first, name));
	g_free(name);
	return line;
}

void cft_config_lines_free(cft_config_lines *lines)
{
	if (!lines)
		return;
	g_hash_table_destroy(lines->first);
	g_free(lines);
}

/* GKeyFile takes '#' as a comment only at the start of a line. */
char *cft_config_value_uncommented(const char *raw)
{
	char *v = g_strdup(raw);
	for (char *p = v; *p; p++)
		if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	return g_strstrip(v);
}
