/* libsecret, loaded the first time the Secret Service is used.
 *
 * libsecret brings GIO, GObject, libgcrypt, libmount, libselinux and five
 * more libraries with it: mapping them and running their constructors is
 * a third of what starting cftoken-backend or cftoken-pam-worker costs
 * (about 4 ms of the 15 on this machine kind), paid on every cold get and
 * every first login although a login and a headless machine never use the
 * Secret Service.  So the programs do not link it: secret_service.c calls
 * it through this table, which dlopen() fills on first use.  Each entry
 * has the very type of the function it stands for (__typeof__), so the
 * compiler still checks every call against libsecret's own headers.
 *
 * A machine without libsecret (the package is a dependency, but a
 * minimal install may lack it) then has no Secret Service, as one
 * without a session bus: CFT_E_L2_UNAVAILABLE, and cache = auto falls
 * back to the kernel keyring. */
#ifndef CFT_CACHE_LIBSECRET_LOADER_H
#define CFT_CACHE_LIBSECRET_LOADER_H

#include <libsecret/secret.h>

#include "core/error.h"

typedef struct cft_libsecret {
	__typeof__(secret_service_get_type) *service_get_type;
	__typeof__(secret_service_open) *service_open;
	__typeof__(secret_service_open_finish) *service_open_finish;
	__typeof__(secret_service_disconnect) *service_disconnect;
	__typeof__(secret_service_search) *service_search;
	__typeof__(secret_service_search_finish) *service_search_finish;
	__typeof__(secret_service_store) *service_store;
	__typeof__(secret_service_store_finish) *service_store_finish;
	__typeof__(secret_service_clear) *service_clear;
	__typeof__(secret_service_clear_finish) *service_clear_finish;
	__typeof__(secret_item_get_locked) *item_get_locked;
	__typeof__(secret_item_get_secret) *item_get_secret;
	__typeof__(secret_value_new) *value_new;
	__typeof__(secret_value_get) *value_get;
	__typeof__(secret_value_unref) *value_unref;
	/* GObject's and GIO's, which libsecret's handle reaches */
	__typeof__(g_object_ref) *object_ref;
	__typeof__(g_object_unref) *object_unref;
	__typeof__(g_cancellable_new) *cancellable_new;
	__typeof__(g_cancellable_cancel) *cancellable_cancel;
} cft_libsecret;

/* The table, loaded once per process (thread-safe); NULL with err set
 * (CFT_E_L2_UNAVAILABLE) when libsecret cannot be loaded. */
const cft_libsecret *cft_libsecret_get(cft_error *err);

#endif
