/* Where the session bus is: DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus.  Never autolaunches a bus (GLib and libdbus would
 * run dbus-launch under X11): a login or a git call must not start
 * daemons.
 *
 * libdbus and GLib take the address from DBUS_SESSION_BUS_ADDRESS alone,
 * and the library does not set the environment: a program that opens L2
 * exports the address itself first,
 *   if (cft_session_bus_address(bus, sizeof(bus)))
 *           setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1);
 * and the L2 calls connect only when DBUS_SESSION_BUS_ADDRESS is set. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Room for "unix:path=" and a runtime directory's bus socket. */
#define CFT_SESSION_BUS_ADDRESS_MAX 600

/* The address in buf (size bytes), or false when there is no bus. */
bool cft_session_bus_address(char *buf, size_t size);

/* True when DBUS_SESSION_BUS_ADDRESS names a bus to connect to. */
bool cft_session_bus_set(void);
