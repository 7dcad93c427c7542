#include "cache/session_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int cft_session_bus_find(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (addr && *addr)
		return 1;
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	if (!runtime || !*runtime)
		return 0;
	char path[512], value[600];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/bus", runtime);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	snprintf(value, sizeof(value), "unix:path=%s", path);
	return setenv("DBUS_SESSION_BUS_ADDRESS", value, 1) == 0;
}
