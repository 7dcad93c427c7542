/* Gives a git request the warm route of another, as an earlier cftoken
 * that answered it would have left it in the kernel keyring: the front end
 * must still refuse what the backend refuses (a request that is not
 * HTTPS, a path with dot segments) before any lookup.
 *   copy_route API_URL PROTOCOL HOST PATH  NEW_PROTOCOL NEW_HOST NEW_PATH
 * ("-" for an attribute git does not send).  Exit 0 when the route of the
 * first request was found and the second now leads to its token. */
#include <stdio.h>
#include <string.h>

#include "cache/l1.h"

static const char *attr(const char *v)
{
	return strcmp(v, "-") == 0 ? NULL : v;
}

int main(int argc, char **argv)
{
	char from[CFT_FP_HEX], to[CFT_FP_HEX];
	cft_l1_record r = { 0 };
	cft_error err;
	if (argc != 8) {
		fprintf(stderr, "usage: copy_route API_URL PROTOCOL HOST PATH NEW_PROTOCOL NEW_HOST "
			"NEW_PATH\n");
		return 2;
	}
	cft_request rq = { .git_protocol = attr(argv[2]), .git_host = attr(argv[3]),
			   .git_path = attr(argv[4]) };
	cft_request_fingerprint(&rq, from);
	rq = (cft_request){ .git_protocol = attr(argv[5]), .git_host = attr(argv[6]),
			    .git_path = attr(argv[7]) };
	cft_request_fingerprint(&rq, to);
	cft_error_clear(&err);
	cft_code rc = cft_l1_lookup(from, argv[1], &r, NULL, NULL, &err);
	if (!rc)
		rc = cft_l1_store(to, &r, argv[1], &err);
	cft_l1_record_clear(&r);
	if (rc)
		fprintf(stderr, "copy_route: %s\n", err.detail);
	return rc ? 1 : 0;
}
