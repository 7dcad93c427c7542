#include "cache/libsecret_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The soname of libsecret 0.20 and later, which Debian 12 ships. */
#define LIBSECRET_SONAME "libsecret-1.so.0"

static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
#define SYMBOL(field, name) { #name, offsetof(cft_libsecret, field) }
	SYMBOL(service_get_type, secret_service_get_type),
	SYMBOL(service_open, secret_service_open),
	SYMBOL(service_open_finish, secret_service_open_finish),
	SYMBOL(service_disconnect, secret_service_disconnect),
	SYMBOL(service_search, secret_service_search),
	SYMBOL(service_search_finish, secret_service_search_finish),
	SYMBOL(service_store, secret_service_store),
	SYMBOL(service_store_finish, secret_service_store_finish),
	SYMBOL(service_clear, secret_service_clear),
	SYMBOL(service_clear_finish, secret_service_clear_finish),
	SYMBOL(item_get_locked, secret_item_get_locked),
	SYMBOL(item_get_secret, secret_item_get_secret),
	SYMBOL(value_new, secret_value_new),
	SYMBOL(value_get, secret_value_get),
	SYMBOL(value_unref, secret_value_unref),
	SYMBOL(object_ref, g_object_ref),
	SYMBOL(object_unref, g_object_unref),
	SYMBOL(cancellable_new, g_cancellable_new),
	SYMBOL(cancellable_cancel, g_cancellable_cancel),
#undef SYMBOL
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static cft_libsecret table;
static bool loaded;
static char why[256];

static void load(void)
{
	/* Never closed: GObject types registered by a library cannot be
	 * unloaded. */
	void *handle = dlopen(LIBSECRET_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *e = dlerror();
		snprintf(why, sizeof(why), "%s", e ? e : LIBSECRET_SONAME " did not load");
		return;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *fn = dlsym(handle, symbols[i].name);
		if (!fn) {
			snprintf(why, sizeof(why), "%s has no %s", LIBSECRET_SONAME,
				 symbols[i].name);
			return;
		}
		/* POSIX's way from dlsym's object pointer to a function pointer
		 * (ISO C has no cast for it). */
		memcpy((char *)&table + symbols[i].offset, &fn, sizeof(fn));
	}
	loaded = true;
}

const cft_libsecret *cft_libsecret_get(cft_error *err)
{
	pthread_once(&once, load);
	if (loaded)
		return &table;
	cft_fail(err, CFT_E_L2_UNAVAILABLE, "libsecret cannot be loaded (%s)", why);
	return NULL;
}
