#include "cache/session_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

bool cft_session_bus_set(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	return addr && *addr;
}

bool cft_session_bus_address(char *buf, size_t size)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (addr && *addr) {
		int n = snprintf(buf, size, "%s", addr);
		return n >= 0 && (size_t)n < size;
	}
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (!runtime || !*runtime)
		return false;
	char path[512];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/bus", runtime);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	n = snprintf(buf, size, "unix:path=%s", path);
	return n >= 0 && (size_t)n < size;
}
