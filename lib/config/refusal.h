/* The one line cftoken prints when the API refuses a request that went
 * through exec --proxy's forwarder: the operation, the permission groups
 * that would allow it (data/api-operations.tsv), which of them the
 * profile lacks, and the change to make.  Built here, printed by the
 * forwarder (lib/ never prints). */
#pragma once

#include <stddef.h>

/* The line, without its newline, into buf (size bytes, truncated when
 * smaller): for a request of method on path (after /client/v4, a query
 * allowed) that the API answered with status, made for profile with the
 * permission names it holds (its presets' and its own, as written: any
 * case, the dashboard's wording, a "zone:" qualifier).  The path shows
 * only as its template, or, for an operation the table does not know,
 * with the ids after /accounts/ and /zones/ left out: no id, no token. */
void cft_refusal_line(char *buf, size_t size, const char *method, const char *path, int status,
		      const char *profile, const char *const *names, size_t n_names);

/* A request path the table does not know, as the line shows it: without
 * its query, with the segment after /accounts/ and /zones/ (an id) left
 * out and unprintable bytes as '?', at most 160 bytes ("learn" lists
 * such operations the same way). */
void cft_refusal_path_shown(char *buf, size_t size, const char *path);
