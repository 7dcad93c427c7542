#pragma once
/* A key given twice in one section, or a section given twice, in one
 * configuration file.  GKeyFile keeps the last value silently and merges a
 * section given twice, so a person editing the file could believe the
 * first one holds, and a second [user bob] would add to bob's token;
 * cftoken refuses the file instead and names both lines. */

#include "core/error.h"

/* CFT_OK, or CFT_E_INVALID_ARG with "PATH:LINE: [SECTION] KEY: given
 * again (first at line N)..." or "PATH:LINE: [SECTION]: section given
 * again (first at line N)...".  text is the whole file, NUL-terminated,
 * and has loaded in GKeyFile. */
cft_code cft_config_check_repeats(const char *path, const char *text, cft_error *err);
