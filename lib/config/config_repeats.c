#include "config/config_repeats.h"

#include <glib.h>
#include <string.h>

/* s..end without blanks at either end, as a new string. */
static char *trimmed(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return g_strndup(s, (gsize)(end - s));
}

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
 * '[' is a whole section header "[NAME]", NAME without ']'. */
cft_code cft_config_check_repeats(const char *path, const char *text, cft_error *err)
{
	/* "SECTION" and "SECTION\nKEY" -> the line each was first given on */
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *group = NULL;
	cft_code rc = CFT_OK;
	int line = 1;
	for (const char *p = text; !rc && *p; line++) {
		const char *end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		const char *s = p + strspn(p, " \t");
		const char *eq = memchr(s, '=', (size_t)(end - s));
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(end - s));
			g_free(group);
			group = close ? g_strndup(s + 1, (gsize)(close - s - 1)) : NULL;
			/* GKeyFile would merge the two into one section: a second
			 * [user bob] added its settings to the first's. */
			int first = group ? first_seen(seen, g_strdup(group), line) : 0;
			if (first)
				rc = cft_fail(err, CFT_E_INVALID_ARG,
					      "%s:%d: [%s]: section given again (first at line %d); "
					      "give each section once, with all its settings",
					      path, line, group, first);
		} else if (group && eq && *s != '#') {  /* GKeyFile's only comment */
			char *key = trimmed(s, eq);
			int first = first_seen(seen, g_strdup_printf("%s\n%s", group, key), line);
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
	g_hash_table_destroy(seen);
	return rc;
}
