#include "helper_args.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cftoken-config.h"
#include "session_records.h"

static int bad(char *why, size_t size, const char *what)
{
	snprintf(why, size, "%s", what);
	return -1;
}

int helper_args_parse(int argc, char **argv, args *a, char *why, size_t why_size)
{
	memset(a, 0, sizeof(*a));
	a->config = CFTOKEN_SYSCONFDIR "/cftoken/cftoken.conf";
	a->timeout_ms = 5000;
	a->log_fd = -1;
	if (argc < 2 || (strcmp(argv[1], "open") && strcmp(argv[1], "close") &&
			  strcmp(argv[1], "renew")))
		return bad(why, why_size, "the first argument is open, close or renew");
	a->stage = argv[1];
	int i = 2;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--config") && i + 1 < argc)
			a->config = argv[++i];
		else if (!strncmp(o, "--timeout-ms=", 13))
			a->timeout_ms = strtol(o + 13, NULL, 10);
		else if (!strncmp(o, "--deadline-ms=", 14))
			a->deadline_ms = strtoll(o + 14, NULL, 10);
		else if (!strcmp(o, "--debug"))
			a->debug = 1;
		else if (!strcmp(o, "--no-export"))
			a->no_export = 1;
		else if (!strcmp(o, "--revoke-on-close"))
			a->revoke_on_close = 1;
		else if (!strcmp(o, "--session") && i + 1 < argc)
			a->session = argv[++i];
		else if (!strncmp(o, "--min-ttl=", 10))
			a->min_ttl = strtol(o + 10, NULL, 10);
		else if (!strncmp(o, "--log-fd=", 9) && strtol(o + 9, NULL, 10) > 2 &&
			 strtol(o + 9, NULL, 10) < 1024)
			a->log_fd = (int)strtol(o + 9, NULL, 10);
		else
			return bad(why, why_size, "unknown argument");
	}
	if (i + 2 != argc)
		return bad(why, why_size, "the user name comes last, after --");
	a->user = argv[i + 1];
	if (a->config[0] != '/')
		return bad(why, why_size, "--config needs an absolute path");
	if (a->timeout_ms < 100)
		a->timeout_ms = 100;
	if (a->session && !session_name_valid(a->session))
		return bad(why, why_size, "bad --session");
	/* Not open: nobody reads records, and a file opened later would
	 * get the number. */
	if (a->log_fd >= 0 && fcntl(a->log_fd, F_GETFD) < 0)
		a->log_fd = -1;
	return 0;
}
