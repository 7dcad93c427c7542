#!/bin/sh
# gen-certs.sh OUTDIR -- test certificates for the Cloudflare API emulator.
#
# Creates in OUTDIR (EC P-256 keys, so it takes well under a second):
#   ca.pem ca.key              the test CA clients are told to trust
#   server.pem server.key      signed by the CA; SAN IP:127.0.0.1, DNS:localhost; 30 days
#   expired.pem expired.key    signed by the CA, valid from two days ago until yesterday
#   wronghost.pem wronghost.key signed by the CA, SAN DNS:wrong.example only
#   otherca.pem                a second CA nobody trusts
#   untrusted.pem untrusted.key signed by that second CA, SAN IP:127.0.0.1, DNS:localhost
#
# Idempotent: does nothing when OUTDIR/server.pem exists and is valid for at
# least another day (a build directory can outlive a 30-day certificate).
# Quiet on success; openssl's chatter only shows up when something fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
mkdir -p "$out"
umask 077

# Parallel test runs may call us at the same time; one generates, the others
# wait and then see a fresh server.pem.
exec 9>"$out/.gen-certs.lock"
flock 9

if [ -f "$out/server.pem" ] &&
   openssl x509 -in "$out/server.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    exit 0
fi

work=$(mktemp -d "$out/.gen-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/openssl.log

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "gen-certs.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

serial() { echo "0x$(openssl rand -hex 8)"; }

# new_ca NAME SUBJECT: a self-signed CA certificate NAME.pem with key NAME.key
new_ca() {
    run openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$work/$1.key" -out "$work/$1.pem" -days 60 -subj "$2" \
        -set_serial "$(serial)" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# new_csr NAME CN: a key NAME.key and a request NAME.csr
new_csr() {
    run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$work/$1.key" -out "$work/$1.csr" -subj "/CN=$2"
}

# write_ext NAME SAN: the extensions of a TLS server certificate
write_ext() {
    cat >"$work/$1.ext" <<EOF
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $2
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
}

# sign NAME CA SAN: NAME.pem from NAME.csr, signed by CA, valid 30 days from now
sign() {
    write_ext "$1" "$3"
    run openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.pem" -CAkey "$work/$2.key" \
        -set_serial "$(serial)" -days 30 -sha256 \
        -extfile "$work/$1.ext" -extensions server -out "$work/$1.pem"
}

# sign_expired NAME CA SAN: like sign, but the validity period is already over.
# OpenSSL 3.0's "x509 -req" cannot set dates in the past (-not_before and
# -not_after came with 3.4), "openssl ca" can, and needs a small database.
sign_expired() {
    write_ext "$1" "$3"
    db=$work/cadb
    mkdir -p "$db"
    : >"$db/index.txt"
    openssl rand -hex 8 >"$db/serial"
    cat >"$db/ca.cnf" <<EOF
[ca]
default_ca = testca
[testca]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = supplied
EOF
    start=$(date -u -d '2 days ago' +%Y%m%d%H%M%SZ)
    end=$(date -u -d '1 day ago' +%Y%m%d%H%M%SZ)
    run openssl ca -batch -notext -config "$db/ca.cnf" \
        -cert "$work/$2.pem" -keyfile "$work/$2.key" \
        -startdate "$start" -enddate "$end" \
        -extfile "$work/$1.ext" -extensions server \
        -in "$work/$1.csr" -out "$work/$1.pem"
}

good_san="IP:127.0.0.1,DNS:localhost"

new_ca ca "/CN=cftoken test CA"
new_csr server localhost
sign server ca "$good_san"
new_csr expired localhost
sign_expired expired ca "$good_san"
new_csr wronghost wrong.example
sign wronghost ca "DNS:wrong.example"
new_ca otherca "/CN=cftoken untrusted CA"
new_csr untrusted localhost
sign untrusted otherca "$good_san"

# Certificates are public, keys stay private to the user. Each rename is
# atomic; server.pem goes last because its presence means "all done".
chmod 644 "$work"/*.pem
for f in ca.key ca.pem expired.key expired.pem wronghost.key wronghost.pem \
         otherca.pem untrusted.key untrusted.pem server.key server.pem; do
    mv -f "$work/$f" "$out/$f"
done
