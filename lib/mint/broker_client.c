#include "mint/broker_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/timeutil.h"

static cft_code wait_for(int fd, short events, int64_t deadline, cft_error *err)
{
	for (;;) {
		int64_t left = deadline - cft_now_ms();
		struct pollfd p = { fd, events, 0 };
		if (left <= 0)
			return cft_fail(err, CFT_E_TIMEOUT, "the renewal broker did not answer in time");
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return CFT_OK;
		if (n < 0 && errno != EINTR)
			return cft_fail(err, CFT_E_INTERNAL, "poll: %s", strerror(errno));
	}
}

/* For a Unix socket, EAGAIN from connect means the broker's queue of
 * connections is full (it is stopped, or flooded), never "in progress".
 * A blocking connect whose send timeout is the time left sleeps until the
 * broker accepts one, so it is tried again until the deadline; then the
 * renewal failed for now, and a due token that is still valid serves. */
static cft_code connect_within(int fd, const struct sockaddr_un *sa, int64_t deadline,
			       cft_error *err)
{
	int64_t start = cft_now_ms();
	for (;;) {
		int64_t left = deadline - cft_now_ms();
		if (left <= 0)
			return cft_fail(err, CFT_E_RENEWAL, "the renewal broker at %.200s took no "
					"connection within %.1f s: its queue is full (the broker is "
					"stopped, or flooded)", sa->sun_path,
					(double)(cft_now_ms() - start) / 1000);
		struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
			return cft_fail(err, CFT_E_INTERNAL, "SO_SNDTIMEO: %s", strerror(errno));
		if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return cft_fail(err, CFT_E_NOT_FOUND, "no renewal broker at %.200s (%s)",
					sa->sun_path, strerror(errno));
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return cft_fail(err, CFT_E_INTERNAL, "O_NONBLOCK: %s", strerror(errno));
	return CFT_OK;
}

static cft_code talk(int fd, const char *path, long min_ttl, int64_t deadline, char *line,
		     size_t size, cft_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return cft_fail(err, CFT_E_INVALID_ARG, "socket path too long: %.200s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cft_code rc = connect_within(fd, &sa, deadline, err);
	if (rc)
		return rc;
	char request[64];
	int n = snprintf(request, sizeof(request), "renew %ld\n", min_ttl > 0 ? min_ttl : 0);
	/* A broker that refuses ("busy") answers at once and closes, maybe
	 * before our request: its answer is still there to read. */
	if (send(fd, request, (size_t)n, MSG_NOSIGNAL) != n && errno != EPIPE &&
	    errno != ECONNRESET)
		return cft_fail(err, CFT_E_NOT_FOUND, "the renewal broker at %.200s: %s", path,
				strerror(errno));
	size_t len = 0;
	while (len < size - 1) {
		rc = wait_for(fd, POLLIN, deadline, err);
		if (rc)
			return rc;
		ssize_t got = recv(fd, line + len, size - 1 - len, 0);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		line[len] = '\0';
		if (strchr(line, '\n'))
			break;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	return CFT_OK;
}

cft_code cft_broker_renew(const char *socket_path, long min_ttl, long timeout_ms,
			  char id[33], cft_error *err)
{
	char line[1024];
	int64_t deadline = cft_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cft_fail(err, CFT_E_INTERNAL, "socket: %s", strerror(errno));
	cft_code rc = talk(fd, socket_path, min_ttl, deadline, line, sizeof(line), err);
	close(fd);
	if (rc)
		return rc;
	if (!strncmp(line, "ok ", 3) && strlen(line + 3) == 32) {
		snprintf(id, 33, "%s", line + 3);
		return CFT_OK;
	}
	if (!strncmp(line, "none ", 5))
		return cft_fail(err, CFT_E_NOT_FOUND, "the renewal broker: %.400s", line + 5);
	if (!strncmp(line, "busy ", 5))
		return cft_fail(err, CFT_E_RATE_LIMITED,
				"the renewal broker asks to wait %.20s s before asking again", line + 5);
	return cft_fail(err, CFT_E_INTERNAL, "the renewal broker: %.400s",
			!strncmp(line, "error ", 6) ? line + 6 : line[0] ? line : "no answer");
}
