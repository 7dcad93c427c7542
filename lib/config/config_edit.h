/* `cftoken learn --write`: a profile section put into the user's
 * configuration file, every other line of the file (other sections,
 * comments, blank lines) kept as it was. */
#pragma once

#include "core/error.h"

/* The file's text with [profile NAME] added (at the end, after a blank
 * line) or, when the file has it, updated: the section's account,
 * preset, presets, permissions and zones lines, and the comments an
 * earlier learn wrote (config/least_privilege.h), give way to section
 * (its header line first, each line ending in a newline); the section's
 * other keys and comments stay, after it.  *out: a new string to free(),
 * or NULL (out of memory). */
char *cft_config_with_section(const char *text, const char *profile, const char *section);

/* Puts section into the file at path as cft_config_with_section says,
 * through a file beside it renamed over it: a reader sees the old file or
 * the new one, never half of one.  The file must pass the checks reading
 * it does (owner, mode, its directory, a regular file of at most 1 MiB:
 * cft_check_trusted_file); the new one keeps its mode (0600 for a new
 * file, whose directory is made, mode 0700, when only it is missing) and
 * must read back as a valid configuration, or nothing changes. */
cft_code cft_config_write_section(const char *path, const char *profile, const char *section,
				  cft_error *err);
