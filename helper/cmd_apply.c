/* apply and destroy: a profile's token as a declared resource.
 *
 * apply makes the API hold exactly one token matching the profile: it
 * creates it when the state (lib/mint/declared.h) names none, compares name,
 * policies, condition, not_before and expires_on when it does, and updates
 * in place (PUT, the value kept) when they differ.  Times count from the
 * token's own issue time, so applying twice asks for the same thing.  The
 * value lives in the keyrings, like any cached token; the state holds ids.
 * destroy deletes it; both are idempotent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "declared_ops.h"
#include "cache/cache.h"
#include "cache/l1.h"
#include "cache/secret_service.h"
#include "config/profile_spec.h"
#include "core/timeutil.h"
#include "mint/declared.h"
#include "mint/obtain.h"
#include "mint/orphans.h"
#include "mint/token_diff.h"

/* The template that names the profile's tokens. */
static const char *name_template(const apply_ctx *a)
{
	return a->p->name_template ? a->p->name_template : a->c->cfg->name_template;
}

static void drop_value(const apply_ctx *a, const char *id)
{
	cft_cache_drop_id(cft_l2_cache(a->l2), id);
}

static void report(const apply_ctx *a, const char *action, const char *id, int diff,
		   const char *note)
{
	char fields[128];
	cft_token_diff_names(diff, fields, sizeof(fields));
	if (a->c->json) {
		json_t *names = json_array();
		for (int i = 0; i < 5; i++)
			if (diff & (1 << i)) {
				char one[32];
				cft_token_diff_names(1 << i, one, sizeof(one));
				json_array_append_new(names, json_string(one));
			}
		json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "profile", a->p->name, "id", id,
				      "action", action, "fields", names);
		if (note)
			json_object_set_new(o, "note", json_string(note));
		/* On one line, ", " and ": " between: jansson's format when
		 * neither indented nor compact. */
		json_dumpf(o, stdout, 0);
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("%s %s%s%s%s%s%s\n", a->p->name, action, diff ? " (" : "", diff ? fields : "",
	       diff ? ")" : "", id[0] ? ": token " : "", id);
	if (note)
		printf("  %s\n", note);
}

static cft_code create(apply_ctx *a, const char *note, cft_error *err)
{
	cft_profile_spec ps;
	cft_token info = { 0 };
	_cleanup_secret_ cft_secret *value = NULL;
	time_t now = time(NULL);
	cft_code rc = cft_profile_spec_build(a->client, a->c->cfg, a->p, a->account, now, 0, NULL,
					     &ps, err);
	if (rc)
		return rc;
	if (a->c->dry_run) {
		char eo[CFT_RFC3339_SIZE] = "never";
		if (ps.built.spec.expires_on)
			cft_time_format_rfc3339(ps.built.spec.expires_on, eo);
		report(a, "would be created", "", 0, note);
		if (!a->c->json)
			printf("  name: \"%s\", expires_on: %s\n", ps.built.spec.name, eo);
		cft_profile_spec_clear(&ps);
		return CFT_OK;
	}
	rc = cft_token_create(a->client, a->owner, &ps.built.spec, &info, &value, err);
	time_t expires = ps.built.spec.expires_on;
	cft_profile_spec_clear(&ps);
	if (rc)
		return rc;
	rc = cft_declared_set(a->account, a->p->name, a->api, info.id, err);
	if (rc) {
		/* Untracked, it would be left behind: take it back. */
		cft_error ignored;
		cft_token_delete(a->client, a->owner, info.id, &ignored);
		cft_token_clear(&info);
		return rc;
	}
	/* A token minted on demand for this profile before it was declared
	 * is replaced, as a renewal would replace it. */
	cft_l1_record old = { 0 };
	if (cft_cache_lookup(CFT_CACHE_L1_ALONE, CFT_CACHE_L1, a->account, a->p->name, a->api, &old,
			     NULL) == CFT_OK &&
	    !old.adopted && strcmp(old.id, info.id) != 0) {
		cft_error ignored;
		if (cft_token_delete(a->client, a->owner, old.id, &ignored) == CFT_OK)
			fprintf(stderr, "cftoken: token %s, minted on demand for profile %s, is "
				"replaced by the declared one and deleted\n", old.id, a->p->name);
	}
	cft_l1_record_clear(&old);
	cli_apply_cache_value(a, NULL, info.id, value, info.expires_on ? info.expires_on : expires);
	report(a, "created", info.id, 0, note);
	cft_token_clear(&info);
	/* A token created again: its bindings still hold the dead value. */
	if (note && cli_sync_bindings(a->c, a->client, a->account, a->p->name, value, false))
		return cft_fail(err, CFT_E_INTERNAL, "some Worker secrets were not updated");
	return CFT_OK;
}

/* The declared token exists: compare, update in place if it differs. */
static cft_code reconcile(apply_ctx *a, const char *id, cft_token *have, cft_error *err)
{
	cft_profile_spec ps;
	time_t base = have->issued_on ? have->issued_on : time(NULL);
	cft_code rc = cft_profile_spec_build(a->client, a->c->cfg, a->p, a->account, base, 0, NULL,
					     &ps, err);
	if (rc)
		return rc;
	int diff = cft_token_diff(&ps.built.spec, have, err);
	if (diff < 0) {
		cft_profile_spec_clear(&ps);
		return err->code;
	}
	if (diff == 0) {
		report(a, "unchanged", id, 0, NULL);
	} else if (a->c->dry_run) {
		report(a, "would be updated", id, diff, NULL);
		if (!a->c->json)
			cft_token_diff_print(diff, &ps.built.spec, have, stdout);
	} else {
		cft_token updated = { 0 };
		rc = cft_token_update(a->client, a->owner, id, &ps.built.spec, &updated, err);
		if (!rc) {
			report(a, "updated", id, diff, NULL);
			cft_token_clear(&updated);
		}
	}
	cft_profile_spec_clear(&ps);
	return rc;
}

/* Bindings a failed update left pending get the value now. */
static cft_code retry_pending(apply_ctx *a, cft_error *err)
{
	cft_l1_record r = { 0 };
	cft_binding *b = NULL;
	size_t n = 0, pending = 0;
	if (cft_bindings_list(a->account, a->p->name, a->api, &b, &n, NULL) == CFT_OK)
		for (size_t i = 0; i < n; i++)
			pending += b[i].pending;
	free(b);
	if (!pending)
		return CFT_OK;
	cft_code rc = cli_declared_token(a->c, a->p, a->account, a->l2, NULL, 0, &r, err);
	if (!rc && cli_sync_bindings(a->c, a->client, a->account, a->p->name, r.token, true))
		rc = cft_fail(err, CFT_E_INTERNAL, "some Worker secrets were not updated");
	cft_l1_record_clear(&r);
	return rc;
}

int cmd_apply(const cli *c)
{
	apply_ctx a;
	cft_error err;
	char id[33];
	cft_token have = { 0 };
	cft_error_clear(&err);
	if (c->n_args) {
		fprintf(stderr, "cftoken: apply: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	cft_code rc = cli_apply_open(c, &a, &err);
	/* A state that cannot be trusted (lib/mint/declared.h) is an error, not
	 * an empty one: nothing is created. */
	if (!rc)
		rc = cft_declared_get(a.account, a.p->name, a.api, id, &err);
	if (rc == CFT_E_NOT_FOUND) {
		cft_error_clear(&err);
		rc = create(&a, NULL, &err);
	} else if (!rc) {
		rc = cft_token_get(a.client, a.owner, id, &have, &err);
		if (rc == CFT_E_NOT_FOUND) {
			char note[128];
			snprintf(note, sizeof(note), "token %s was deleted outside cftoken: created again",
				 id);
			cft_error_clear(&err);
			if (!c->dry_run)
				drop_value(&a, id);
			rc = create(&a, note, &err);
		} else if (!rc && have.expires_on && have.expires_on <= time(NULL)) {
			/* Its life is over: an update cannot revive the value a
			 * pipe or a Worker holds.  A new token replaces it. */
			char note[128];
			snprintf(note, sizeof(note), "token %s expired: replaced by a new one", id);
			if (!c->dry_run) {
				/* (an id from the state file: only a token of ours) */
				cft_token_delete_if_ours(a.client, a.owner, id, name_template(&a), a.p->name,
							 &err);
				cft_error_clear(&err);
				drop_value(&a, id);
			}
			rc = create(&a, note, &err);
		} else if (!rc) {
			rc = reconcile(&a, id, &have, &err);
			if (!rc && !c->dry_run)
				rc = retry_pending(&a, &err);
		}
		cft_token_clear(&have);
	}
	cli_apply_close(&a);
	if (rc) {
		cli_print_error("apply", &err);
		return cli_exit_code(rc);
	}
	return EXIT_OK;
}

int cmd_destroy(const cli *c)
{
	apply_ctx a;
	cft_error err;
	char id[33];
	cft_error_clear(&err);
	if (c->n_args) {
		fprintf(stderr, "cftoken: destroy: unexpected argument \"%.64s\"\n", c->args[0]);
		return EXIT_USAGE;
	}
	cft_code rc = cli_apply_open(c, &a, &err);
	/* A state that cannot be trusted deletes nothing: it is an error. */
	if (!rc)
		rc = cft_declared_get(a.account, a.p->name, a.api, id, &err);
	if (rc == CFT_E_NOT_FOUND) {
		report(&a, "has no declared token: nothing to destroy", "", 0, NULL);
		cli_apply_close(&a);
		return EXIT_OK;
	}
	if (!rc && c->dry_run) {
		report(&a, "would be destroyed", id, 0, NULL);
		cli_apply_close(&a);
		return EXIT_OK;
	}
	/* Bindings first: a Worker must not keep a secret cftoken forgot. */
	if (!rc && cli_unbind_all(c, a.client, a.account, a.p->name))
		rc = cft_fail(&err, CFT_E_INTERNAL,
			      "some Worker secrets were not deleted: the token is kept; run "
			      "cftoken destroy again");
	if (!rc) {
		/* The id comes from the state file: the token goes only if the
		 * API shows it is one cftoken made for this profile. */
		rc = cft_token_delete_if_ours(a.client, a.owner, id, name_template(&a), a.p->name,
					      &err);
		if (rc == CFT_E_NOT_FOUND) {
			cft_error_clear(&err);
			rc = CFT_OK;
		}
	}
	if (!rc) {
		drop_value(&a, id);
		rc = cft_declared_set(a.account, a.p->name, a.api, NULL, &err);
	}
	if (!rc)
		report(&a, "destroyed", id, 0, NULL);
	cli_apply_close(&a);
	if (rc) {
		cli_print_error("destroy", &err);
		return cli_exit_code(rc);
	}
	return EXIT_OK;
}
