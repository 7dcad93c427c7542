/* Which operation of data/api-operations.tsv a request path is.  The
 * table itself is generated (api_operations_table.c); this file only
 * matches paths against its templates. */
#include "api/operations.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Segments a path may have: bit 31 - i of a match's shape says that
 * segment i was literal.  Templates are far shorter (the generator checks). */
#define MAX_SEGMENTS 32

/* The path part of a request target: up to the query or fragment, less
 * one trailing '/' ("/zones/" is "/zones"). */
static size_t path_length(const char *path)
{
	size_t n = strcspn(path, "?#");

	if (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

/* Matches template tpl against path[0..n), segment by segment.  Returns the
 * number of placeholders, or -1 when they differ (or params, when given,
 * has no room).  *shape gets one bit per literal segment, from the most
 * significant: of two templates matching one path, the one with the
 * greater shape is literal where the other first has a placeholder. */
static int match(const char *tpl, const char *path, size_t n, uint32_t *shape,
		 struct cft_operation_param *params, size_t max)
{
	const char *t = tpl, *p = path, *end = path + n;
	unsigned seg = 0;
	uint32_t s = 0;
	int count = 0;

	if (*t != '/')
		return -1;
	while (*t) {
		if (*t != '/' || p >= end || *p != '/' || seg >= MAX_SEGMENTS)
			return -1;
		t++;
		p++;
		const char *te = t + strcspn(t, "/");
		const char *pe = memchr(p, '/', (size_t)(end - p));

		if (!pe)
			pe = end;
		if (pe == p)
			return -1; /* an empty segment names nothing */
		if (*t == '{') {
			if (params) {
				if ((size_t)count >= max)
					return -1;
				params[count] = (struct cft_operation_param){
					.name = t + 1,
					.name_len = (size_t)(te - t) - 2,
					.value = p,
					.value_len = (size_t)(pe - p),
				};
			}
			count++;
		} else {
			if (te - t != pe - p || memcmp(t, p, (size_t)(te - t)) != 0)
				return -1;
			s |= UINT32_C(1) << (MAX_SEGMENTS - 1 - seg);
		}
		seg++;
		t = te;
		p = pe;
	}
	if (p != end)
		return -1;
	*shape = s;
	return count;
}

const struct cft_operation *cft_operation_match(const char *method, const char *path)
{
	const struct cft_operation *best = NULL;
	uint32_t best_shape = 0;
	size_t count;
	const struct cft_operation *ops = cft_operations(&count);

	if (!method || !path)
		return NULL;
	size_t n = path_length(path);

	for (size_t i = 0; i < count; i++) {
		uint32_t shape;

		if (strcmp(ops[i].method, method) != 0 ||
		    match(ops[i].template, path, n, &shape, NULL, 0) < 0)
			continue;
		/* Two templates of one method never share a shape and a path:
		 * the generator refuses templates that differ only in their
		 * placeholders' names. */
		if (!best || shape > best_shape) {
			best = &ops[i];
			best_shape = shape;
		}
	}
	return best;
}

int cft_operation_params(const struct cft_operation *op, const char *path,
			 struct cft_operation_param *params, size_t max)
{
	uint32_t shape;

	if (!op || !path || !params)
		return -1;
	return match(op->template, path, path_length(path), &shape, params, max);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && strcmp(s + n - t, tail) == 0;
}

const char *cft_operation_narrowest(const char *method, const char *const *groups)
{
	const char *first_read = NULL;
	if (!groups || !groups[0])
		return NULL;
	for (size_t i = 0; groups[i]; i++) {
		if (!ends_with(groups[i], " Read"))
			continue;
		if (!first_read)
			first_read = groups[i];
		size_t stem = strlen(groups[i]) - strlen("Read");
		for (size_t k = 0; groups[k]; k++)
			if (!strncmp(groups[k], groups[i], stem) && !strcmp(groups[k] + stem, "Write"))
				return groups[i];
	}
	return first_read && !strcmp(method, "GET") ? first_read : groups[0];
}
