#include "cache/l2_read.h"

#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/l2_schema.h"
#include "cache/session_bus.h"
#include "core/secret.h"
#include "core/timeutil.h"

#define SERVICE "org.freedesktop.secrets"
#define SERVICE_PATH "/org/freedesktop/secrets"
#define SERVICE_IFACE "org.freedesktop.Secret.Service"

static int remaining(int64_t deadline)
{
	int64_t left = deadline - cft_now_ms();
	return left > 0 ? (int)left : 0;
}

/* Sends and waits; NULL (and err) on error or timeout. */
static DBusMessage *call(DBusConnection *c, DBusMessage *m, int64_t deadline, cft_error *err)
{
	DBusError e;
	dbus_error_init(&e);
	DBusMessage *reply = remaining(deadline) > 0
		? dbus_connection_send_with_reply_and_block(c, m, remaining(deadline), &e)
		: NULL;
	dbus_message_unref(m);
	if (!reply) {
		cft_fail(err, CFT_E_L2_UNAVAILABLE, "Secret Service: %s",
			 dbus_error_is_set(&e) ? e.message : "no answer in time");
		dbus_error_free(&e);
	}
	return reply;
}

static DBusMessage *method(const char *name)
{
	return dbus_message_new_method_call(SERVICE, SERVICE_PATH, SERVICE_IFACE, name);
}

static cft_code open_session(DBusConnection *c, int64_t deadline, char **session,
			     cft_error *err)
{
	DBusMessage *m = method("OpenSession");
	DBusMessageIter it, var;
	const char *algorithm = "plain", *empty = "";
	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &algorithm);
	dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "s", &var);
	dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &empty);
	dbus_message_iter_close_container(&it, &var);
	DBusMessage *r = call(c, m, deadline, err);
	if (!r)
		return CFT_E_L2_UNAVAILABLE;
	const char *path = NULL;
	if (dbus_message_iter_init(r, &it) && dbus_message_iter_next(&it) &&
	    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_OBJECT_PATH)
		dbus_message_iter_get_basic(&it, &path);
	*session = path ? strdup(path) : NULL;
	dbus_message_unref(r);
	return *session ? CFT_OK : cft_fail(err, CFT_E_L2_UNAVAILABLE, "OpenSession: no session");
}

static void dict_entry(DBusMessageIter *dict, const char *k, const char *v)
{
	DBusMessageIter e;
	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &k);
	dbus_message_iter_append_basic(&e, DBUS_TYPE_STRING, &v);
	dbus_message_iter_close_container(dict, &e);
}

/* The first unlocked item, or CFT_E_L2_LOCKED / CFT_E_NOT_FOUND. */
static cft_code search(DBusConnection *c, const char *account, const char *profile,
		       const char *api, int64_t deadline, char **item, cft_error *err)
{
	DBusMessage *m = method("SearchItems");
	DBusMessageIter it, dict;
	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{ss}", &dict);
	/* libsecret matches on the schema name too. */
	dict_entry(&dict, CFT_L2_ATTR_XDG_SCHEMA, CFT_L2_SCHEMA);
	dict_entry(&dict, CFT_L2_ATTR_ACCOUNT, account);
	dict_entry(&dict, CFT_L2_ATTR_PROFILE, profile);
	dict_entry(&dict, CFT_L2_ATTR_API, api);
	dbus_message_iter_close_container(&it, &dict);
	DBusMessage *r = call(c, m, deadline, err);
	if (!r)
		return CFT_E_L2_UNAVAILABLE;
	DBusMessageIter arr, el;
	const char *path = NULL;
	int locked = 0;
	if (dbus_message_iter_init(r, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
		dbus_message_iter_recurse(&it, &arr);
		if (dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_OBJECT_PATH)
			dbus_message_iter_get_basic(&arr, &path);
		if (dbus_message_iter_next(&it) &&
		    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
			dbus_message_iter_recurse(&it, &el);
			locked = dbus_message_iter_get_arg_type(&el) == DBUS_TYPE_OBJECT_PATH;
		}
	}
	*item = path ? strdup(path) : NULL;
	dbus_message_unref(r);
	if (*item)
		return CFT_OK;
	return locked ? cft_fail(err, CFT_E_L2_LOCKED, "the item is in a locked collection")
		      : cft_fail(err, CFT_E_NOT_FOUND, "no such item");
}

static cft_code get_secret(DBusConnection *c, const char *item, const char *session,
			   int64_t deadline, cft_l1_record *out, cft_error *err)
{
	DBusMessage *m = method("GetSecrets");
	DBusMessageIter it, arr;
	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "o", &arr);
	dbus_message_iter_append_basic(&arr, DBUS_TYPE_OBJECT_PATH, &item);
	dbus_message_iter_close_container(&it, &arr);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_OBJECT_PATH, &session);
	DBusMessage *r = call(c, m, deadline, err);
	if (!r)
		return CFT_E_L2_UNAVAILABLE;
	/* a{o(oayays)}: item -> (session, parameters, value, content type) */
	cft_code rc = cft_fail(err, CFT_E_NOT_FOUND, "GetSecrets: no secret");
	DBusMessageIter dict, entry, secret, bytes;
	if (dbus_message_iter_init(r, &it) && dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
		dbus_message_iter_recurse(&it, &dict);
		if (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
			dbus_message_iter_recurse(&dict, &entry);
			if (dbus_message_iter_next(&entry) &&
			    dbus_message_iter_get_arg_type(&entry) == DBUS_TYPE_STRUCT) {
				dbus_message_iter_recurse(&entry, &secret);
				/* skip session and parameters, to the value */
				/* NOLINTNEXTLINE(misc-redundant-expression): each call moves one on */
				if (dbus_message_iter_next(&secret) && dbus_message_iter_next(&secret) &&
				    dbus_message_iter_get_arg_type(&secret) == DBUS_TYPE_ARRAY) {
					const char *v = NULL;
					int n = 0;
					dbus_message_iter_recurse(&secret, &bytes);
					dbus_message_iter_get_fixed_array(&bytes, &v, &n);
					if (v && n > 0 &&
					    cft_l1_record_parse(v, (size_t)n, out, NULL) == CFT_OK)
						rc = CFT_OK;
					/* The message buffer held the token: wipe it. */
					if (v && n > 0)
						cft_wipe((void *)v, (size_t)n);
				}
			}
		}
	}
	dbus_message_unref(r);
	return rc;
}

cft_code cft_l2_read(const char *account, const char *profile, const char *api_hash,
		     long timeout_ms, cft_l1_record *out, cft_error *err)
{
	int64_t deadline = cft_now_ms() + (timeout_ms > 0 ? timeout_ms : 1000);
	char *session = NULL, *item = NULL;
	DBusError e;

	memset(out, 0, sizeof(*out));
	if (!cft_session_bus_set())
		return cft_fail(err, CFT_E_L2_UNAVAILABLE, "no session bus");
	dbus_error_init(&e);
	/* Private: this process's own connection, closed when done. */
	DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SESSION, &e);
	if (!c) {
		cft_fail(err, CFT_E_L2_UNAVAILABLE, "session bus: %s", e.message);
		dbus_error_free(&e);
		return CFT_E_L2_UNAVAILABLE;
	}
	dbus_connection_set_exit_on_disconnect(c, FALSE);
	cft_code rc = open_session(c, deadline, &session, err);
	if (!rc)
		rc = search(c, account, profile, api_hash, deadline, &item, err);
	if (!rc)
		rc = get_secret(c, item, session, deadline, out, err);
	free(session);
	free(item);
	/* Closing the connection closes the session too. */
	dbus_connection_close(c);
	dbus_connection_unref(c);
	return rc;
}
