#include "cache/secret_service.h"

#include <libsecret/secret.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cache/l2_schema.h"
#include "cache/libsecret_loader.h"
#include "cache/parent.h"
#include "cache/session_bus.h"
#include "core/cleanup.h"
#include "core/fingerprint.h"
#include "core/timeutil.h"

/* libsecret, loaded by the first cft_l2_open (libsecret_loader.h says
 * why it is not linked); every call below goes through it. */
static const cft_libsecret *ls;

/* What g_autoptr would do for a GObject, through the loaded library. */
static void unref_objectp(void *p)
{
	gpointer *object = p;
	if (*object)
		ls->object_unref(*object);
}

struct cft_l2 {
	GMainContext *ctx;
	GCancellable *cancel;
	SecretService *service;
	long timeout_ms;
};

/* Attributes are not secret (gnome-keyring stores them in the clear): the
 * token lives only in the item's secret, as an L1 record. */
static const SecretSchema token_schema = {
	CFT_L2_SCHEMA, SECRET_SCHEMA_NONE,
	{
		{ CFT_L2_ATTR_ACCOUNT, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ CFT_L2_ATTR_PROFILE, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ CFT_L2_ATTR_API, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ CFT_L2_ATTR_TOKEN_ID, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ CFT_L2_ATTR_EXPIRES, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

/* The parent token of `cftoken login`, one per API. */
static const SecretSchema parent_schema = {
	CFT_L2_PARENT_SCHEMA, SECRET_SCHEMA_NONE,
	{
		{ CFT_L2_ATTR_API, SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};


static void on_done(GObject *source, GAsyncResult *res, gpointer data)
{
	(void)source;
	*(GAsyncResult **)data = ls->object_ref(res);
}

static gboolean on_tick(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the private context until the call completes or the deadline
 * passes; then cancels and waits (briefly) for the cancelled call. */
static bool wait_for(cft_l2 *l2, GAsyncResult **res, int64_t deadline)
{
	while (!*res) {
		int64_t left = deadline - cft_now_ms();
		if (left <= 0)
			break;
		gboolean ticked = FALSE;
		GSource *t = g_timeout_source_new((guint)left);
		g_source_set_callback(t, on_tick, &ticked, NULL);
		g_source_attach(t, l2->ctx);
		while (!*res && !ticked)
			g_main_context_iteration(l2->ctx, TRUE);
		g_source_destroy(t);
		g_source_unref(t);
	}
	if (*res)
		return true;
	ls->cancellable_cancel(l2->cancel);
	int64_t grace = cft_now_ms() + 500;
	while (!*res && cft_now_ms() < grace)
		g_main_context_iteration(l2->ctx, FALSE);
	return false;
}

cft_code cft_l2_open(long timeout_ms, cft_l2 **out, cft_error *err)
{
	if (!cft_session_bus_set())
		return cft_fail(err, CFT_E_L2_UNAVAILABLE,
				"no session bus (DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus)");
	if (!ls && !(ls = cft_libsecret_get(err)))
		return CFT_E_L2_UNAVAILABLE;
	cft_l2 *l2 = g_new0(cft_l2, 1);
	l2->ctx = g_main_context_new();
	l2->cancel = ls->cancellable_new();
	l2->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
	g_main_context_push_thread_default(l2->ctx);

	_cleanup_(unref_objectp) GAsyncResult *res = NULL;
	g_autoptr(GError) gerr = NULL;
	ls->service_open(ls->service_get_type(), NULL, SECRET_SERVICE_OPEN_SESSION, l2->cancel,
			 on_done, &res);
	bool done = wait_for(l2, &res, cft_now_ms() + l2->timeout_ms);
	if (done)
		l2->service = ls->service_open_finish(res, &gerr);
	if (!l2->service) {
		cft_fail(err, CFT_E_L2_UNAVAILABLE, "%s",
			 done && gerr ? gerr->message : "the Secret Service did not answer in time");
		cft_l2_close(l2);
		return CFT_E_L2_UNAVAILABLE;
	}
	*out = l2;
	return CFT_OK;
}

cft_l2 *cft_l2_close(cft_l2 *l2)
{
	if (!l2)
		return NULL;
	if (l2->service) {
		ls->service_disconnect();
		ls->object_unref(l2->service);
	}
	g_main_context_pop_thread_default(l2->ctx);
	/* Let pending callbacks of cancelled calls run before the context goes. */
	while (g_main_context_iteration(l2->ctx, FALSE))
		;
	if (l2->cancel)
		ls->object_unref(l2->cancel);
	g_main_context_unref(l2->ctx);
	g_free(l2);
	return NULL;
}

/* The API by its hash: attributes are in the clear, and the item's own
 * record says which URL it is of. */
static GHashTable *attributes(const char *account, const char *profile, const char *api_url)
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	GHashTable *a = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(a, (gpointer)CFT_L2_ATTR_ACCOUNT, g_strdup(account));
	g_hash_table_insert(a, (gpointer)CFT_L2_ATTR_PROFILE, g_strdup(profile));
	g_hash_table_insert(a, (gpointer)CFT_L2_ATTR_API, g_strdup(api));
	return a;
}

/* The secret of the first unlocked item matching, as a secret: CFT_OK,
 * CFT_E_NOT_FOUND, CFT_E_L2_LOCKED or CFT_E_L2_UNAVAILABLE.  `accept` may
 * turn down an item (a damaged one) so the next is tried. */
typedef bool (*accept_fn)(const char *data, size_t len, void *ctx);

static cft_code search_secret(cft_l2 *l2, const SecretSchema *schema, GHashTable *attrs,
			      accept_fn accept, void *ctx, cft_error *err)
{
	_cleanup_(unref_objectp) GAsyncResult *res = NULL;
	g_autoptr(GError) gerr = NULL;
	/* No SECRET_SEARCH_UNLOCK: a locked item is reported, not prompted for. */
	ls->service_search(l2->service, schema, attrs,
			   SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS, l2->cancel, on_done, &res);
	g_hash_table_unref(attrs);
	if (!wait_for(l2, &res, cft_now_ms() + l2->timeout_ms))
		return cft_fail(err, CFT_E_L2_UNAVAILABLE, "the Secret Service did not answer in time");
	GList *items = ls->service_search_finish(l2->service, res, &gerr);
	if (gerr)
		return cft_fail(err, CFT_E_L2_UNAVAILABLE, "%s", gerr->message);
	cft_code rc = cft_fail(err, CFT_E_NOT_FOUND, "nothing in the Secret Service");
	for (GList *l = items; l && rc != CFT_OK; l = l->next) {
		SecretItem *item = l->data;
		if (ls->item_get_locked(item)) {
			rc = cft_fail(err, CFT_E_L2_LOCKED, "the collection holding the item");
			continue;
		}
		SecretValue *v = ls->item_get_secret(item);
		gsize len = 0;
		const gchar *data = v ? ls->value_get(v, &len) : NULL;
		if (data && accept(data, len, ctx))
			rc = CFT_OK;
		if (v)
			ls->value_unref(v);
	}
	g_list_free_full(items, ls->object_unref);
	return rc;
}

/* An item whose record parses and is of exactly this API URL. */
typedef struct for_api {
	const char *api_url;
	void *out;
} for_api;

static bool accept_record(const char *data, size_t len, void *ctx)
{
	for_api *f = ctx;
	cft_l1_record *r = f->out;
	if (cft_l1_record_parse(data, len, r, NULL) != CFT_OK)
		return false;
	if (cft_api_url_is(r->api, f->api_url))
		return true;
	cft_l1_record_clear(r);
	return false;
}

cft_code cft_l2_lookup_token(cft_l2 *l2, const char *account, const char *profile,
			     const char *api_url, cft_l1_record *out, cft_error *err)
{
	for_api f = { .api_url = api_url, .out = out };
	memset(out, 0, sizeof(*out));
	return search_secret(l2, &token_schema, attributes(account, profile, api_url),
			     accept_record, &f, err);
}

static cft_code store_secret(cft_l2 *l2, const SecretSchema *schema, GHashTable *attrs,
			     const char *label, const cft_secret *payload, cft_error *err)
{
	SecretValue *value = ls->value_new(cft_secret_str(payload),
					   (gssize)cft_secret_len(payload), "text/plain");
	_cleanup_(unref_objectp) GAsyncResult *res = NULL;
	g_autoptr(GError) gerr = NULL;
	/* The same attributes replace the previous item. */
	ls->service_store(l2->service, schema, attrs, SECRET_COLLECTION_DEFAULT, label, value,
			  l2->cancel, on_done, &res);
	ls->value_unref(value);
	g_hash_table_unref(attrs);
	bool done = wait_for(l2, &res, cft_now_ms() + l2->timeout_ms);
	gboolean ok = done && ls->service_store_finish(l2->service, res, &gerr);
	if (!ok)
		return cft_fail(err, CFT_E_L2_UNAVAILABLE, "storing in the Secret Service: %s",
				gerr ? gerr->message : "no answer in time (a locked collection?)");
	return CFT_OK;
}

cft_code cft_l2_store_token(cft_l2 *l2, const cft_l1_record *r, const char *api_url,
			    cft_error *err)
{
	_cleanup_secret_ cft_secret *payload = NULL;
	char label[160], expires[CFT_RFC3339_SIZE];
	cft_l1_record at_api = *r;  /* the same token, with this API's URL */
	if (cft_api_url_normal(api_url, at_api.api) != 0 ||
	    (r->api[0] && strcmp(r->api, at_api.api) != 0))
		return cft_fail(err, CFT_E_INVALID_ARG, "a token is cached for its own API only");
	cft_code rc = cft_l1_record_format(&at_api, &payload, err);
	if (rc)
		return rc;
	cft_time_format_rfc3339(r->expires, expires);
	snprintf(label, sizeof(label), "Cloudflare API token (cftoken profile %s)", r->profile);
	GHashTable *attrs = attributes(r->account, r->profile, api_url);
	g_hash_table_insert(attrs, (gpointer)CFT_L2_ATTR_TOKEN_ID, g_strdup(r->id));
	g_hash_table_insert(attrs, (gpointer)CFT_L2_ATTR_EXPIRES, g_strdup(expires));
	return store_secret(l2, &token_schema, attrs, label, payload, err);
}

static cft_code clear(cft_l2 *l2, const SecretSchema *schema, GHashTable *attrs,
		      cft_error *err)
{
	_cleanup_(unref_objectp) GAsyncResult *res = NULL;
	g_autoptr(GError) gerr = NULL;
	ls->service_clear(l2->service, schema, attrs, l2->cancel, on_done, &res);
	g_hash_table_unref(attrs);
	bool done = wait_for(l2, &res, cft_now_ms() + l2->timeout_ms);
	if (done)
		ls->service_clear_finish(l2->service, res, &gerr);
	if (!done || gerr)
		return cft_fail(err, CFT_E_L2_UNAVAILABLE, "removing from the Secret Service: %s",
				gerr ? gerr->message : "no answer in time");
	return CFT_OK;
}

cft_code cft_l2_drop_token(cft_l2 *l2, const char *account, const char *profile,
			   const char *api_url, cft_error *err)
{
	return clear(l2, &token_schema, attributes(account, profile, api_url), err);
}

static GHashTable *one_attribute(const char *name, const char *value)
{
	GHashTable *a = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	g_hash_table_insert(a, (gpointer)name, g_strdup(value));
	return a;
}

cft_code cft_l2_drop_id(cft_l2 *l2, const char *token_id, cft_error *err)
{
	return clear(l2, &token_schema, one_attribute(CFT_L2_ATTR_TOKEN_ID, token_id), err);
}

cft_code cft_l2_drop_api(cft_l2 *l2, const char *api_url, cft_error *err)
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	return clear(l2, &token_schema, one_attribute(CFT_L2_ATTR_API, api), err);
}

static bool accept_parent(const char *data, size_t len, void *ctx)
{
	for_api *f = ctx;
	cft_parent *p = f->out;
	if (cft_parent_parse(data, len, p, NULL) != CFT_OK)
		return false;
	if (cft_api_url_is(p->api, f->api_url))
		return true;
	cft_parent_clear(p);
	return false;
}

cft_code cft_l2_store_parent(cft_l2 *l2, const char *api_url, const cft_parent *p,
			     cft_error *err)
{
	char api[CFT_API_HASH_SIZE], label[200];
	_cleanup_secret_ cft_secret *payload = NULL;
	cft_parent at_api = *p;
	if (cft_api_url_normal(api_url, at_api.api) != 0)
		return cft_fail(err, CFT_E_INVALID_ARG, "not an https:// API URL");
	cft_code rc = cft_parent_format(&at_api, &payload, err);
	if (rc)
		return rc;
	cft_api_hash(api_url, api);
	snprintf(label, sizeof(label), "Cloudflare parent API token (cftoken login, %.120s)",
		 at_api.api);
	return store_secret(l2, &parent_schema, one_attribute(CFT_L2_ATTR_API, api), label,
			    payload, err);
}

cft_code cft_l2_lookup_parent(cft_l2 *l2, const char *api_url, cft_parent *out,
			      cft_error *err)
{
	char api[CFT_API_HASH_SIZE];
	for_api f = { .api_url = api_url, .out = out };
	cft_api_hash(api_url, api);
	memset(out, 0, sizeof(*out));
	return search_secret(l2, &parent_schema, one_attribute(CFT_L2_ATTR_API, api),
			     accept_parent, &f, err);
}

cft_code cft_l2_drop_parent(cft_l2 *l2, const char *api_url, cft_error *err)
{
	char api[CFT_API_HASH_SIZE];
	cft_api_hash(api_url, api);
	return clear(l2, &parent_schema, one_attribute(CFT_L2_ATTR_API, api), err);
}

static const cft_cache_l2_ops secret_service_ops = {
	.lookup = cft_l2_lookup_token,
	.store = cft_l2_store_token,
	.drop = cft_l2_drop_token,
	.drop_id = cft_l2_drop_id,
	.drop_api = cft_l2_drop_api,
};

cft_cache cft_l2_cache(cft_l2 *l2)
{
	return (cft_cache){ .ops = l2 ? &secret_service_ops : NULL, .l2 = l2 };
}
