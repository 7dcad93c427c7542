#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_record.h"

long long spawn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything the child needs is prepared before fork(): afterwards only
 * async-signal-safe calls until execve.  The pipes become stdout, stderr
 * and LOG_RECORD_FD (log_record.h); they are first moved above it, since
 * a host that closed its own stdin or stdout (a daemon) gets pipes with
 * those low numbers, which one dup2 would overwrite with another. */
static void child(const int fds[3], const char *path, char *const argv[], char *const envp[])
	__attribute__((noreturn));
static void child(const int fds[3], const char *path, char *const argv[], char *const envp[])
{
	static const int targets[3] = { STDOUT_FILENO, STDERR_FILENO, LOG_RECORD_FD };
	int high[3];
	sigset_t none;
	for (int i = 0; i < 3; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, LOG_RECORD_FD + 1)) < 0)
			_exit(127);
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0)
		_exit(127);
	/* dup2 leaves the copy without FD_CLOEXEC: these three stay open. */
	for (int i = 0; i < 3; i++)
		if (dup2(high[i], targets[i]) < 0)
			_exit(127);
	/* The host's other descriptors (sshd's sockets, say) stay behind.
	 * Not pam_modutil_sanitize_helper_fds, which pam_unix and pam_exec
	 * use: it closes everything above stderr, LOG_RECORD_FD too (Debian
	 * 12's libpam 1.5.2, and later ones); it reports through pam_syslog,
	 * which is not async-signal-safe, in the child of a threaded host;
	 * and the broker, which runs the helper through this file too, does
	 * not link libpam. */
	if (close_range(LOG_RECORD_FD + 1, ~0U, 0) != 0) {
		/* A kernel before 5.9: one by one (sysconf may say a million). */
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = LOG_RECORD_FD + 1; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close(fd);
	}
	/* Our own process group: at the deadline it is killed whole. */
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, argv, envp);
	_exit(127);
}

static void drain(int fd, char *buf, size_t cap, size_t *len, bool *open_)
{
	char sink[512];
	size_t room = cap - 1 - *len;
	ssize_t n = room ? read(fd, buf + *len, room) : read(fd, sink, sizeof(sink));
	if (n > 0 && room)
		*len += (size_t)n;
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		*open_ = false;
	explicit_bzero(sink, sizeof(sink));
}

static void close_pipes(int p[3][2])
{
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0)
				close(p[i][k]);
}

int spawn_with_deadline(const char *path, char *const argv[], char *const envp[],
			long long deadline, spawn_result *r)
{
	/* stdout, stderr, the log records: their read ends, and where each goes. */
	int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	char *bufs[3] = { r->out, r->err, r->log };
	size_t *lens[3] = { &r->out_len, &r->err_len, &r->log_len };
	const size_t caps[3] = { SPAWN_OUT_MAX, SPAWN_ERR_MAX, SPAWN_LOG_MAX };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;

	r->status = -1;
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) != 0) {
			r->err_len = (size_t)snprintf(r->err, SPAWN_ERR_MAX, "pipe: %s", strerror(errno));
			close_pipes(p);
			return -1;
		}
	/* The host may reap its children itself (sshd does): ours is ours to
	 * wait for, as pam_unix does with unix_chkpwd. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	pid_t pid = fork();
	if (pid == 0) {
		const int ends[3] = { p[0][1], p[1][1], p[2][1] };
		child(ends, path, argv, envp);
	}
	for (int i = 0; i < 3; i++) {
		close(p[i][1]);
		p[i][1] = -1;
	}
	if (pid < 0) {
		r->err_len = (size_t)snprintf(r->err, SPAWN_ERR_MAX, "fork: %s", strerror(errno));
		close_pipes(p);
		sigaction(SIGCHLD, &old_chld, NULL);
		return -1;
	}

	bool open_[3] = { true, true, true };
	int wstatus = 0;
	pid_t done = 0;
	/* Readable once the child has exited: the login learns it at once,
	 * not at the next of a sleeper's naps (a kernel or its headers before
	 * 5.3 have none: then the naps). */
#ifdef SYS_pidfd_open
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	int pidfd = -1;
#endif
	while (!r->timed_out && (open_[0] || open_[1] || open_[2] || done == 0)) {
		long long left = deadline - spawn_now_ms();
		if (left <= 0) {
			r->timed_out = true;
			break;
		}
		if (!open_[0] && !open_[1] && !open_[2] && pidfd < 0) {
			/* Every pipe closed: it is exiting. */
			done = waitpid(pid, &wstatus, WNOHANG);
			if (done == 0) {
				struct timespec pause = { 0, 2 * 1000 * 1000 };
				nanosleep(&pause, NULL);
			} else if (done < 0 && errno != EINTR) {
				break;
			}
			continue;
		}
		struct pollfd fds[4];
		for (int i = 0; i < 3; i++)
			fds[i] = (struct pollfd){ open_[i] ? p[i][0] : -1, POLLIN, 0 };
		fds[3] = (struct pollfd){ done == 0 ? pidfd : -1, POLLIN, 0 };
		int n = poll(fds, 4, (int)(left < INT_MAX ? left : INT_MAX));
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		for (int i = 0; i < 3; i++)
			if (fds[i].revents)
				drain(p[i][0], bufs[i], caps[i], lens[i], &open_[i]);
		if (fds[3].revents) {
			done = waitpid(pid, &wstatus, WNOHANG);
			if (done < 0 && errno != EINTR)
				break;
			if (done < 0)
				done = 0;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	close_pipes(p);
	if (done <= 0) {
		/* Past the deadline, or it closed its pipes and lingered:
		 * nothing it does may hold the login up. */
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
			;
	} else if (WIFEXITED(wstatus)) {
		r->status = WEXITSTATUS(wstatus);
	}
	sigaction(SIGCHLD, &old_chld, NULL);
	r->out[r->out_len] = '\0';
	r->err[r->err_len] = '\0';
	r->log[r->log_len] = '\0';
	return 0;
}
