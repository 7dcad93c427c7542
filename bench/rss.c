/* Peak RSS of a command, as ru_maxrss of a child made with fork (not
 * vfork/posix_spawn, which would count the launcher's memory too).
 *   rss STDIN-FILE|- PROGRAM [ARGS...]   -> prints KiB */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	pid_t pid = fork();
	if (pid == 0) {
		if (strcmp(argv[1], "-") != 0) {
			int fd = open(argv[1], O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0)
				_exit(126);
		}
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return 1;
	printf("%ld\n", ru.ru_maxrss);
	return 0;
}
