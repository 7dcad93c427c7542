#include "mint/token_input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/safe_file.h"

/* A token is at most 80 characters; allow generous white space around it
 * but refuse anything that is clearly not a token (a whole file). */
#define READ_MAX 1024

static cft_code read_fd(int fd, const char *what, cft_secret **out, cft_error *err)
{
	_cleanup_secret_ cft_secret *buf = cft_secret_alloc(READ_MAX);
	if (!buf)
		return cft_fail(err, CFT_E_NOMEM, NULL);
	char *b = cft_secret_buffer(buf);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, b + len, READ_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cft_fail(err, CFT_E_INVALID_ARG, "reading %s: %s", what,
					strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		/* A terminal line ends the token; a pipe ends at EOF. */
		if (isatty(fd) && memchr(b, '\n', len))
			break;
		if (len == READ_MAX)
			return cft_fail(err, CFT_E_TOKEN_FORMAT,
					"%s holds more than %d bytes", what, READ_MAX);
	}
	if (memchr(b, '\0', len))
		return cft_fail(err, CFT_E_TOKEN_FORMAT, "%s contains a NUL byte", what);
	cft_code rc = cft_token_parse(b, len, out, err);
	if (rc && err && !strstr(err->detail, what)) {
		size_t dl = strlen(err->detail);
		snprintf(err->detail + dl, sizeof(err->detail) - dl, "%sread from %s",
			 dl ? "; " : "", what);
	}
	return rc;
}

static cft_code read_tty(FILE *prompt_to, const char *prompt, cft_secret **out,
			 cft_error *err)
{
	struct termios old, quiet;
	int fd = STDIN_FILENO;

	if (tcgetattr(fd, &old) != 0)
		return read_fd(fd, "the terminal", out, err);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (prompt_to && prompt) {
		fputs(prompt, prompt_to);
		fflush(prompt_to);
	}
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "cannot switch off echo: %s",
				strerror(errno));
	cft_code rc = read_fd(fd, "the terminal", out, err);
	tcsetattr(fd, TCSAFLUSH, &old);
	return rc;
}

cft_code cft_read_token(const char *path, FILE *prompt_to, const char *prompt,
			cft_secret **out, cft_error *err)
{
	if (!path || strcmp(path, "-") == 0) {
		if (isatty(STDIN_FILENO))
			return read_tty(prompt_to, prompt, out, err);
		return read_fd(STDIN_FILENO, "standard input", out, err);
	}
	char what[340];
	snprintf(what, sizeof(what), "token file %.300s", path);
	/* A FIFO or a device is refused without blocking or reading; a
	 * symlink is followed (mounted secrets are links). */
	int fd;
	cft_code rc = cft_file_open(AT_FDCWD, path, what, READ_MAX - 1, 0, &fd, err);
	if (rc == CFT_E_NOT_FOUND)
		rc = cft_fail(err, CFT_E_INVALID_ARG, "%s: %s", what, strerror(ENOENT));
	if (rc)
		return rc;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return cft_fail(err, CFT_E_INVALID_ARG, "%s: %s", what, strerror(errno));
	}
	/* Like ssh with a private key: a secret others can read is refused. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return cft_fail(err, CFT_E_INVALID_ARG,
				"token file %.300s is accessible to group or others (mode %04o); "
				"run chmod 600 on it", path, (unsigned)(st.st_mode & 07777));
	}
	rc = read_fd(fd, what, out, err);
	close(fd);
	return rc;
}
