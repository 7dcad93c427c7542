#pragma once
/* What a configuration file holds beyond what GKeyFile reads from it, found
 * in one scan of its text: the line each section and key is on (GKeyFile
 * reports lines only for syntax errors, and a person needs one for a bad
 * value too), and a key given twice in one section or a section given
 * twice.  GKeyFile keeps the last value silently and merges a section
 * given twice, so a person editing the file could believe the first one
 * holds, and a second [user bob] would add to bob's token; cftoken refuses
 * the file instead and names both lines.  And the inline comment, which
 * GKeyFile leaves in the value. */

#include "core/error.h"

typedef struct cft_config_lines cft_config_lines;

/* text is the whole file, NUL-terminated, and has loaded in GKeyFile.
 * CFT_OK and *out (cft_config_lines_free), or CFT_E_INVALID_ARG with
 * "PATH:LINE: [SECTION] KEY: given again (first at line N)..." or
 * "PATH:LINE: [SECTION]: section given again (first at line N)...". */
cft_code cft_config_lines_scan(const char *path, const char *text, cft_config_lines **out,
			       cft_error *err);

/* The line of `key` in [group], or of [group]'s header when key is NULL;
 * 0 when the scan did not see it. */
int cft_config_lines_find(const cft_config_lines *lines, const char *group, const char *key);

void cft_config_lines_free(cft_config_lines *lines);

/* GKeyFile's raw value without an inline comment (" # ...") and
 * surrounding white space; g_free it. */
char *cft_config_value_uncommented(const char *raw);
