# The emulator's fault rules for each fault of the matrices (sourced by
# tests/faults/test_faults.sh and tests/pam/test_pam.sh):
#   fault_rules NAME   prints one JSON rule per line for POST /__emu/faults;
#                      status 1 when NAME is not the emulator's to make.
#   live_minted_of     reads GET /__emu/tokens, prints "ID SHA256" of each
#                      live token cftoken minted (the ones no cache may lose).
#   fault_met_at_deadline NAME  status 0 when the fault keeps a call until
#                      its deadline
live_minted_of() {
	/usr/bin/python3 -c 'import json,sys
for t in json.load(sys.stdin):
    if t["name"].startswith("cftoken ") and not t["deleted"] and t["status"] == "active":
        print(t["id"], t["value_sha256"])'
}

fault_envelope() {  # fault_envelope CODE MESSAGE [CHAIN_CODE CHAIN_MESSAGE]: a JSON string
	/usr/bin/python3 -c 'import json,sys
e={"code": int(sys.argv[1]), "message": sys.argv[2]}
if len(sys.argv) > 3: e["error_chain"]=[{"code": int(sys.argv[3]), "message": sys.argv[4]}]
print(json.dumps(json.dumps({"success": False, "errors": [e], "messages": [], "result": None})))' "$@"
}

# A fault that lasts and is never answered, or answered only with what
# cftoken tries again (nothing listening, a reset, a cut or dripping body,
# a 5xx to a GET or a DELETE, a lost create), keeps the call until its
# deadline: a row of it gets a short one.  A fault answered once and for
# all (401, 403, a certificate refused, a 429 that asks for longer than the
# call has, a body that is not JSON or too large) ends the call at once,
# as does one that passes: there a short deadline would only let a slow
# machine turn the row's answer into "did not answer in time".
fault_met_at_deadline() {
	case $1 in
	blackhole | refused | reset | truncated | body-drip | 500-body | 502-empty | 503-body | \
		create-lost-502 | create-lost-timeout) return 0 ;;
	esac
	return 1
}

fault_rules() {
	local all='"path": "/client/v4/", "times": null' once='"path": "/client/v4/", "times": 1'
	case $1 in
	blackhole | reset | truncated | malformed | oversized) echo "{$all, \"kind\": \"$1\"}" ;;
	wrong-content-type) echo "{$all, \"kind\": \"wrong_content_type\"}" ;;
	body-drip) echo "{$all, \"kind\": \"drip\", \"drip_ms\": 60000}" ;;
	500-body) echo "{$all, \"kind\": \"status\", \"status\": 500}" ;;
	502-empty) echo "{$all, \"kind\": \"status\", \"status\": 502, \"body\": \"\"}" ;;
	503-body) echo "{$all, \"kind\": \"status\", \"status\": 503}" ;;
	503-once) echo "{$once, \"kind\": \"status\", \"status\": 503}" ;;
	429-seconds) echo "{$once, \"kind\": \"status\", \"status\": 429, \"headers\": {\"Retry-After\": \"1\"}}" ;;
	429-date)
		echo "{$once, \"kind\": \"status\", \"status\": 429, \"headers\": {\"Retry-After\": \"$(TZ=GMT LC_ALL=C date -d '+1 second' '+%a, %d %b %Y %H:%M:%S GMT')\"}}" ;;
	429-garbage) echo "{$once, \"kind\": \"status\", \"status\": 429, \"headers\": {\"Retry-After\": \"soon-ish\"}}" ;;
	429-forever) echo "{$all, \"kind\": \"status\", \"status\": 429, \"headers\": {\"Retry-After\": \"60\"}}" ;;
	401-1000) echo "{$all, \"kind\": \"status\", \"status\": 401, \"body\": $(fault_envelope 1000 'Invalid API Token')}" ;;
	400-6003)
		echo "{$all, \"kind\": \"status\", \"status\": 400, \"body\": $(fault_envelope 6003 'Invalid request headers' 6111 'Invalid format for Authorization header')}" ;;
	403-9109) echo "{$all, \"kind\": \"status\", \"status\": 403, \"body\": $(fault_envelope 9109 'Unauthorized to access requested resource')}" ;;
	403-10000) echo "{$all, \"kind\": \"status\", \"status\": 403, \"body\": $(fault_envelope 10000 'Authentication error')}" ;;
	403-9109-ip)
		echo "{$all, \"kind\": \"status\", \"status\": 403, \"body\": $(fault_envelope 9109 'Cannot use the access token from location: 192.0.2.1')}" ;;
	create-lost-502) echo '{"method": "POST", "path": "/tokens$", "times": null, "kind": "status", "status": 502, "apply": true}' ;;
	create-lost-502-once) echo '{"method": "POST", "path": "/tokens$", "times": 1, "kind": "status", "status": 502, "apply": true}' ;;
	create-lost-timeout)
		# made, never answered, and no list to find it by until the faults go
		echo '{"method": "POST", "path": "/tokens$", "times": null, "kind": "blackhole", "apply": true}'
		echo '{"method": "GET", "path": "/tokens$", "times": null, "kind": "reset"}' ;;
	*) return 1 ;;
	esac
}
