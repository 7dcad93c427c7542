# The wrangler project and account set-up test_wrangler_deploy.sh and
# test_learn_wrangler.sh share (sourced, after tap.sh).

# set_subdomain PARENT_TOKEN ACCOUNT: the account's workers.dev subdomain
# ("example"; wrangler asks for one otherwise), set through the API with
# the parent token, which holds Workers Scripts Write.
set_subdomain() {
	printf '%s' "$1" | $py -c '
import json, ssl, sys, urllib.request
token = sys.stdin.read()
request = urllib.request.Request(sys.argv[1] + "/accounts/" + sys.argv[2] + "/workers/subdomain",
                                 data=json.dumps({"subdomain": "example"}).encode(), method="PUT",
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
urllib.request.urlopen(request, context=ssl.create_default_context(cafile=sys.argv[3]))
' "$CFTEST_API_URL" "$2" "$CFTEST_CA"
}

# write_project DIR NAME ACCOUNT KV_ID DB_ID: a module Worker with KV, R2
# (my-bucket) and D1 (my-db) bindings, on workers.dev and a zone route
# (api.example.com/*).
write_project() {
	mkdir -p "$1/src"
	cat >"$1/src/index.js" <<'JS'
export default {
	async fetch(request, env) {
		await env.KV.get("greeting");
		return new Response("deployed through cftoken");
	},
};
JS
	cat >"$1/wrangler.json" <<JSON
{
  "name": "$2",
  "main": "src/index.js",
  "compatibility_date": "2025-01-01",
  "account_id": "$3",
  "workers_dev": true,
  "routes": ["api.example.com/*"],
  "kv_namespaces": [{"binding": "KV", "id": "$4"}],
  "r2_buckets": [{"binding": "BUCKET", "bucket_name": "my-bucket"}],
  "d1_databases": [{"binding": "DB", "database_name": "my-db", "database_id": "$5"}]
}
JSON
}
