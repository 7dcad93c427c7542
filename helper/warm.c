/* cftoken, the front end: answers a warm get, exec or env from the kernel
 * keyring and hands everything else on.
 *
 * This program links only libc and libkeyutils (DESIGN.md, "The warm
 * path"): a hit costs two keyring searches and two reads, no configuration
 * parsing (the request's fingerprint names the route), no libcurl, no GLib.
 * It understands only the options that decide a hit (warm_args.c).  When
 * the route is known but its token key is gone (after a reboot, say),
 * cftoken-l2 looks in the Secret Service, unless the route remembers that
 * its token was dropped from both caches (git's erase); anything else, every other miss
 * and every other command is cftoken-backend's, run with the same
 * arguments and, for get, the same standard input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "warm_args.h"
#include "cache/cache.h"
#include "cache/keyring.h"
#include "cache/l2_read.h"
#include "core/gitcred.h"

/* For get: the backend reads the request we already consumed. */
static void replay_stdin(cft_secret *input)
{
	if (!input)
		return;
	int fd = memfd_create("cftoken-request", MFD_CLOEXEC);
	if (fd < 0 ||
	    write(fd, cft_secret_str(input), cft_secret_len(input)) !=
		    (ssize_t)cft_secret_len(input) ||
	    lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0) {
		fprintf(stderr, "cftoken: passing the request on: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	cft_secret_free(input);
}

static void to_backend(char **argv, cft_secret *input) __attribute__((noreturn));
static void to_backend(char **argv, cft_secret *input)
{
	replay_stdin(input);
	warm_exec_sibling("cftoken-backend", argv);
}

/* The route's token was dropped from every cache level (git's erase of a
 * refused token): the backend mints without asking the Secret Service,
 * told so as cftoken-l2 tells it after a miss. */
static void to_backend_l2_empty(char **argv, cft_secret *input, const char *route_to)
	__attribute__((noreturn));
static void to_backend_l2_empty(char **argv, cft_secret *input, const char *route_to)
{
	setenv(CFT_L2_MISSED_ENV, route_to, 1);
	to_backend(argv, input);
}

/* cftoken-l2 TOKEN-KEY FINGERPRINT ARGV... */
static void to_l2(int argc, char **argv, const char *route_to, const char *fp,
		  cft_secret *input) __attribute__((noreturn));
static void to_l2(int argc, char **argv, const char *route_to, const char *fp,
		  cft_secret *input)
{
	char **l2_argv = calloc((size_t)argc + 4, sizeof(char *));
	if (!l2_argv)
		to_backend(argv, input);
	l2_argv[0] = (char *)"cftoken-l2";
	l2_argv[1] = (char *)route_to;
	l2_argv[2] = (char *)fp;
	memcpy(l2_argv + 3, argv, (size_t)argc * sizeof(char *));
	replay_stdin(input);
	warm_exec_sibling("cftoken-l2", l2_argv);
}

int main(int argc, char **argv)
{
	warm_args w;
	cft_secret *input = NULL;
	cft_gitcred cred = { 0 };
	cft_l1_record r = { 0 };
	cft_error err;
	char fp[CFT_FP_HEX], route_to[CFT_KEY_DESC_MAX];

	/* This process may hold a token: no core dumps, no ptrace. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	const char *cache = secure_getenv("CFTOKEN_CACHE");
	if (!warm_args_parse(argc, argv, &w) || (cache && !strcmp(cache, "none")))
		to_backend(argv, NULL);
	bool prints = !strcmp(w.command, "env") || !strcmp(w.command, "get");
	if (prints && isatty(STDOUT_FILENO) && !w.force)
		to_backend(argv, NULL);  /* the backend explains the refusal */

	cft_error_clear(&err);
	if (!strcmp(w.command, "get")) {
		if (cft_gitcred_read_input(STDIN_FILENO, &input, &err) != CFT_OK ||
		    cft_gitcred_parse(cft_secret_str(input), cft_secret_len(input), &cred, &err) !=
			    CFT_OK)
			to_backend(argv, input);  /* the backend reports the same error */
		/* Not HTTPS, or a path a server would resolve elsewhere: never
		 * answered from a cache; the backend says why when the host is
		 * cftoken's. */
		if (cft_gitcred_refusal(&cred)) {
			cft_gitcred_clear(&cred);
			to_backend(argv, input);
		}
		w.rq.git_protocol = cred.protocol;
		w.rq.git_host = cred.host;
		w.rq.git_path = cred.path;
	}
	cft_request_fingerprint(&w.rq, fp);
	cft_gitcred_clear(&cred);
	bool dropped = false;
	if (cft_cache_lookup_route(fp, cft_request_api_url(&w.rq), &r, route_to, &dropped,
				   &err) != CFT_OK ||
	    !cft_l1_fresh(&r, time(NULL), w.min_ttl)) {
		bool stale = r.token != NULL;
		cft_l1_record_clear(&r);
		if (dropped)
			to_backend_l2_empty(argv, input, route_to);
		/* A known route whose token key is gone: the Secret Service may
		 * still hold the token.  A stale token needs the backend. */
		if (route_to[0] && !stale && !(cache && !strcmp(cache, "kernel")))
			to_l2(argc, argv, route_to, fp, input);
		to_backend(argv, input);
	}
	cft_secret_free(input);

	return warm_answer(&w, argv, &r);
}
