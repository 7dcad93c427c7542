/* exec under cache = none, and exec --proxy: cftoken stays the program's
 * parent, so that the token minted for the run is deleted when the
 * program exits, or the forwarder serves it while it runs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "core/handover.h"

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

/* A terminal sends SIGINT and SIGQUIT to its whole foreground group: the
 * program gets its own, and we wait for it to end, as system() does.
 * What is sent to cftoken alone (a supervisor's SIGTERM, a hang-up, the
 * user signals) is passed on.  Either way we live to delete the token. */
static const int ignored[] = { SIGINT, SIGQUIT };
static const int passed[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };

static void set_all(const int *sigs, size_t n, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < n; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void set_dispositions(void (*ignore)(int), void (*pass)(int))
{
	set_all(ignored, sizeof(ignored) / sizeof(ignored[0]), ignore);
	set_all(passed, sizeof(passed) / sizeof(passed[0]), pass);
}

int cli_run_child(char **argv, char **envp, void (*started)(void *ctx, pid_t pid), void *ctx)
{
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&block, passed[i]);
	/* Blocked until child_pid is known: a signal passed on before would
	 * reach nobody, or, as kill(0), our whole group. */
	sigprocmask(SIG_BLOCK, &block, &old);
	set_dispositions(SIG_IGN, pass_on);
	pid_t pid = fork();
	if (pid == 0) {
		/* The program starts with the signals it would have had.  No
		 * other thread runs in the backend here (with cache none
		 * neither GLib nor libsecret started one, libcurl's resolver
		 * threads end with their handles, and exec --proxy's
		 * forwarder starts its threads after this fork), so a failed
		 * exec may still print why. */
		cft_error err;
		set_dispositions(SIG_DFL, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		int exec_status = cft_handover_execvpe(argv, envp, &err);
		fprintf(stderr, "cftoken: exec: %s\n", err.detail);
		_exit(exec_status);
	}
	int e = errno;
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &old, NULL);
	int status = W_EXITCODE(126, 0);
	if (pid < 0)
		fprintf(stderr, "cftoken: exec: cannot start %s: %s\n", argv[0], strerror(e));
	started(ctx, pid);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	set_dispositions(SIG_DFL, SIG_DFL);
	return status;
}

typedef struct handed_over {
	cft_token_environ *env;
	cft_l1_record *r;
} handed_over;

/* The program holds the token now, not us. */
static void forget_token(void *ctx, pid_t pid)
{
	(void)pid;
	handed_over *h = ctx;
	cft_token_environ_clear(h->env);
	cft_l1_record_clear(h->r);
}

int cli_run_program(char **argv, cft_l1_record *r)
{
	/* Built here: the token's secret buffer does not cross fork(). */
	cft_token_environ env;
	if (cft_token_environ_build(r, &env) != 0) {
		fprintf(stderr, "cftoken: exec: %s\n", strerror(errno));
		cft_l1_record_clear(r);
		return W_EXITCODE(126, 0);
	}
	handed_over h = { .env = &env, .r = r };
	return cli_run_child(argv, env.envp, forget_token, &h);
}

void cli_exit_like(int status)
{
	if (WIFSIGNALED(status)) {
		/* As the program died, so that a shell sees the same. */
		int sig = WTERMSIG(status);
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, sig);
		signal(sig, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		fflush(NULL);
		raise(sig);
		exit(128 + sig);
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_API);
}
