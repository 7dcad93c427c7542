/* A user's own Secret Service that fails with a message of their choosing:
 *
 *   fake-secret-service MESSAGE DIR
 *
 * On the session bus as org.freedesktop.secrets it opens a "plain"
 * session (libsecret's fallback when the DH algorithm is refused) and
 * answers every other call with org.freedesktop.DBus.Error.Failed and
 * MESSAGE, newlines and all: what any user can run on their own bus, and
 * what reaches root's worker as a D-Bus error.  Once it owns the name it
 * writes DIR/pid and then DIR/address (the bus's); it runs until killed
 * or the bus goes away. */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static DBusMessage *answer(DBusMessage *call, const char *message)
{
	const char *algorithm = "";
	if (dbus_message_is_method_call(call, "org.freedesktop.Secret.Service", "OpenSession") &&
	    dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &algorithm, DBUS_TYPE_INVALID) &&
	    strcmp(algorithm, "plain") != 0)
		return dbus_message_new_error(call, DBUS_ERROR_NOT_SUPPORTED, "plain only");
	if (!strcmp(algorithm, "plain")) {
		DBusMessage *reply = dbus_message_new_method_return(call);
		DBusMessageIter it, v;
		const char *empty = "", *path = "/org/freedesktop/secrets/session/s1";
		dbus_message_iter_init_append(reply, &it);
		dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "s", &v);
		dbus_message_iter_append_basic(&v, DBUS_TYPE_STRING, &empty);
		dbus_message_iter_close_container(&it, &v);
		dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &path);
		return reply;
	}
	return dbus_message_new_error(call, DBUS_ERROR_FAILED, message);
}

/* DIR/NAME with text, written whole before it appears under that name. */
static int publish(const char *dir, const char *name, const char *text)
{
	char tmp[4096], path[4096];
	snprintf(tmp, sizeof(tmp), "%s/.%s", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	DBusError err;
	char pid[32];
	if (argc != 3) {
		fprintf(stderr, "usage: fake-secret-service MESSAGE DIR\n");
		return 2;
	}
	dbus_error_init(&err);
	DBusConnection *bus = dbus_bus_get(DBUS_BUS_SESSION, &err);
	if (!bus || dbus_bus_request_name(bus, "org.freedesktop.secrets", DBUS_NAME_FLAG_DO_NOT_QUEUE,
					  &err) != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		fprintf(stderr, "fake-secret-service: %s\n", err.message ? err.message : "not the owner");
		return 1;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	const char *address = getenv("DBUS_SESSION_BUS_ADDRESS");
	if (!address || publish(argv[2], "pid", pid) != 0 || publish(argv[2], "address", address) != 0) {
		perror("fake-secret-service: writing to DIR");
		return 1;
	}
	while (dbus_connection_read_write(bus, -1)) {
		DBusMessage *m;
		while ((m = dbus_connection_pop_message(bus))) {
			if (dbus_message_get_type(m) == DBUS_MESSAGE_TYPE_METHOD_CALL &&
			    !dbus_message_get_no_reply(m)) {
				DBusMessage *reply = answer(m, argv[1]);
				dbus_connection_send(bus, reply, NULL);
				dbus_message_unref(reply);
			}
			dbus_message_unref(m);
		}
	}
	return 0;
}
