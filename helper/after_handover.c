/* The work after the hand-over: in this process for get, env and token,
 * in a detached one for exec (after_handover.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "after_handover.h"
#include "core/secret.h"

/* How long the detached process waits for the program to start: exec
 * follows at once, so only a stopped cftoken takes longer. */
#define STARTED_WAIT_MS 30000

void cli_after_handover(const cli *c, after_handover *after, const cft_l1_record *minted)
{
	if (after->keep_in_l2 && minted) {
		cft_error err;
		cft_error_clear(&err);
		if (!after->l2 && cli_open_l2(c, &after->l2, &err) != CFT_OK)
			fprintf(stderr, "cftoken: warning: the token is cached in the kernel keyring "
				"only: %s\n", err.detail);
		cft_obtain_keep_in_l2(&after->o, after->l2, minted);
	}
	if (after->minted && cft_obtain_tidy_due(&after->o))
		cft_obtain_tidy(&after->o);
	cli_after_handover_release(after);
}

/* Everything but fd and the standard streams (which go to /dev/null)
 * closed: the detached process holds nothing its caller waits on, such
 * as a pipe the program's output goes to. */
static void keep_only(int fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		if (null < 0 || dup2(null, i) < 0)
			close(i);  /* closed, rather than held open */
	if (fd > 3)
		close_range(3, (unsigned)fd - 1, 0);
	close_range((unsigned)fd + 1, ~0U, 0);
}

/* Returns when the other end of fd is closed (the program started, or
 * cftoken exited), or after STARTED_WAIT_MS. */
static void wait_for_close(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char byte;
	while (poll(&p, 1, STARTED_WAIT_MS) < 0 && errno == EINTR)
		;
	while (read(fd, &byte, 1) < 0 && errno == EINTR)
		;
}

/* The detached process's copy of the client, whose token did not cross
 * fork: never freed there, but kept where a leak checker sees it held, not
 * lost. */
static cft_client *left_behind __attribute__((used));

/* The detached process.  The pages of every secret stayed behind at fork
 * (MADV_DONTFORK), the parent token's and the client's among them: both
 * are given up here, never touched, and the token comes anew. */
static void run_detached(after_handover *after, int token_fd, int started_fd)
    __attribute__((noreturn));
static void run_detached(after_handover *after, int token_fd, int started_fd)
{
	setsid();
	left_behind = after->client;
	after->client = NULL;
	if (cft_token_read_fd(token_fd, &after->lp.parent.token, NULL) != CFT_OK)
		after->lp.parent.token = NULL;
	after->lp.loaded = after->lp.parent.token != NULL;
	keep_only(started_fd);
	wait_for_close(started_fd);
	if (after->lp.loaded)
		cft_obtain_tidy(&after->o);
	_exit(0);
}

void cli_after_handover_detached(after_handover *after)
{
	const cft_secret *parent = NULL;
	int token_pipe[2], started[2];
	cft_error err;
	cft_error_clear(&err);
	if (!after->minted || !cft_obtain_tidy_due(&after->o) ||
	    cli_get_parent(&after->lp, &parent, &err) != CFT_OK || !parent ||
	    pipe2(token_pipe, O_CLOEXEC) != 0) {
		cli_after_handover_release(after);
		return;
	}
	if (pipe2(started, O_CLOEXEC) != 0) {
		close(token_pipe[0]);
		close(token_pipe[1]);
		cli_after_handover_release(after);
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* A child that forks the worker and is gone at once: the
		 * worker is init's to reap, not the program's. */
		close(token_pipe[1]);
		close(started[1]);
		if (fork() == 0)
			run_detached(after, token_pipe[0], started[0]);
		_exit(0);
	}
	close(token_pipe[0]);
	close(started[0]);
	/* A token is at most 80 bytes: the pipe takes it without blocking. */
	if (pid > 0 && write(token_pipe[1], cft_secret_str(parent), cft_secret_len(parent)) < 0)
		fprintf(stderr, "cftoken: the work after the hand-over: %s\n", strerror(errno));
	close(token_pipe[1]);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	/* started[1] stays open, close-on-exec: exec closes it, which is the
	 * detached process's signal that the program has started. */
	cli_after_handover_release(after);
}
