"""Who may call an operation: data/api-operations.tsv, enforced.

The scope makers of the Workers, KV, R2 and D1 routes (workers_api.py,
storage_api.py, the secrets in cfemu.py) check the path's account or zone
first, then the table's groups on its resource key. A token that holds
none of an operation's accepted groups on that resource is refused with
403 10000 "Authentication error", Cloudflare's answer for these APIs. A
group on a policy whose resources do not cover the account (or the zone)
does not count, nor one a deny policy takes away (cfemu.token_allows).

A row whose groups are "?" (not yet looked up) or "-" is not enforced,
and neither is a path the table lacks: the emulator never guesses a group.
"""

import cfemu

ACCOUNT_KEY = "com.cloudflare.api.account.%s"
ZONE_KEY = "com.cloudflare.api.account.zone.%s"


def refuse():
    return cfemu.ApiError(403, cfemu.CODE_WORKERS_AUTH, cfemu.MSG_WORKERS_AUTH)


def table_groups(call):
    """The accepted groups of the call's row, or None when nothing is enforced."""
    table = call.state.operations
    op = table.lookup(call.method, call.api_path) if table else None
    return op.groups if op and op.groups else None


def account_access(call):
    """Scope maker: the path's account (404 7003 unknown, 403 9109 foreign,
    as the token endpoints), then the table's groups on the account."""
    account_id = cfemu.visible_account(call, "/accounts/%s")
    groups = table_groups(call)
    if groups and not cfemu.token_allows(call.token, groups, ACCOUNT_KEY % account_id):
        raise refuse()
    return account_id


def zone_access(call):
    """Scope maker of /zones/{zone_id}/...: the zone (404 7003 unknown or in
    another account than an account-owned token's), then the table's groups
    on the zone (a policy on the zone, every zone, or the zone's account)."""
    zone_id = call.params["zone_id"]
    zone = next((z for z in call.state.zones if z["id"] == zone_id), None)
    if zone is None or (call.token.owner == "account"
                        and call.token.account_id != zone["account_id"]):
        raise cfemu.could_not_route("/zones/%s" % zone_id)
    groups = table_groups(call)
    if groups and not cfemu.zone_allows(call.token, groups, zone):
        raise refuse()
    return zone
