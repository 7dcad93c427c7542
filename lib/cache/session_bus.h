/* Where the session bus is: DBUS_SESSION_BUS_ADDRESS, else
 * $XDG_RUNTIME_DIR/bus (which it then sets).  False when there is none.
 * Never autolaunches a bus (GLib and libdbus would run dbus-launch under
 * X11): a login or a git call must not start daemons. */
#pragma once

int cft_session_bus_find(void);
