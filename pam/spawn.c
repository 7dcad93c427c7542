#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long spawn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everything the child needs is prepared before fork(): afterwards only
 * async-signal-safe calls until execve. */
static void child(int out_fd, int err_fd, const char *path, char *const argv[],
		  char *const envp[]) __attribute__((noreturn));
static void child(int out_fd, int err_fd, const char *path, char *const argv[],
		  char *const envp[])
{
	sigset_t none;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		_exit(127);
	/* The host's other descriptors (sshd's sockets, say) stay behind. */
	if (close_range(3, ~0U, 0) != 0) {
		/* A kernel before 5.9: one by one (sysconf may say a million). */
		long max = sysconf(_SC_OPEN_MAX);
		for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
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

int spawn_with_deadline(const char *path, char *const argv[], char *const envp[],
			long long deadline, spawn_result *r)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_chld;

	r->status = -1;
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		r->err_len = (size_t)snprintf(r->err, SPAWN_ERR_MAX, "pipe: %s", strerror(errno));
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return -1;
	}
	/* The host may reap its children itself (sshd does): ours is ours to
	 * wait for, as pam_unix does with unix_chkpwd. */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old_chld);
	pid_t pid = fork();
	if (pid == 0)
		child(out[1], err[1], path, argv, envp);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		r->err_len = (size_t)snprintf(r->err, SPAWN_ERR_MAX, "fork: %s", strerror(errno));
		close(out[0]);
		close(err[0]);
		sigaction(SIGCHLD, &old_chld, NULL);
		return -1;
	}

	bool out_open = true, err_open = true;
	int wstatus = 0;
	pid_t done = 0;
	while (!r->timed_out && (out_open || err_open || done == 0)) {
		long long left = deadline - spawn_now_ms();
		if (left <= 0) {
			r->timed_out = true;
			break;
		}
		if (!out_open && !err_open) {
			/* Both pipes closed: it is exiting. */
			done = waitpid(pid, &wstatus, WNOHANG);
			if (done == 0) {
				struct timespec pause = { 0, 2 * 1000 * 1000 };
				nanosleep(&pause, NULL);
			} else if (done < 0 && errno != EINTR) {
				break;
			}
			continue;
		}
		struct pollfd fds[2] = { { out_open ? out[0] : -1, POLLIN, 0 },
					 { err_open ? err[0] : -1, POLLIN, 0 } };
		int n = poll(fds, 2, (int)(left < INT_MAX ? left : INT_MAX));
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (fds[0].revents)
			drain(out[0], r->out, SPAWN_OUT_MAX, &r->out_len, &out_open);
		if (fds[1].revents)
			drain(err[0], r->err, SPAWN_ERR_MAX, &r->err_len, &err_open);
	}
	close(out[0]);
	close(err[0]);
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
	return 0;
}

