#!/bin/bash
# SPDX-License-Identifier: MIT
# Test PKI for the legacy reference server.
#   mkcerts.sh OUTDIR
# Writes into OUTDIR (EC P-256 keys, SHA-256 signatures):
#   ca.pem ca.key               the test CA
#   server.pem server.key       signed by ca; SAN api.legacy.test, cdn.legacy.test,
#                               127.0.0.1, 10.0.2.2
#   server.pin                  curl --pinnedpubkey string for server.pem
#   alt.pem alt.key             signed by ca, same SANs, another key (pin mismatch)
#   rogue-ca.pem rogue-ca.key   another CA
#   rogue.pem rogue.key         signed by rogue-ca, same SANs (wrong CA)
#   wrongname.pem wrongname.key signed by ca, SAN DNS:other.test only (hostname)
# Idempotent: does nothing when every file is there and server.pem is valid
# for another day; otherwise regenerates the whole set. Quiet on success.
# Certificates start two days in the past, so a guest whose clock is a few
# hours behind (RTC in local time) still accepts them.
set -eu
[ $# = 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

files="ca.pem ca.key server.pem server.key server.pin alt.pem alt.key
	rogue-ca.pem rogue-ca.key rogue.pem rogue.key wrongname.pem wrongname.key"

# Several tests may share one OUTDIR.
exec 9> "$out/.mkcerts.lock"
flock 9

complete() {
	local f
	for f in $files; do
		[ -s "$out/$f" ] || return 1
	done
	openssl x509 -in "$out/server.pem" -noout -checkend 86400 > /dev/null 2>&1
}
complete && exit 0

. "$(dirname "$0")/../lib/atexit.sh"
tmp=$(mktemp -d "$out/.mkcerts.XXXXXX")
at_exit rm -rf "$tmp"
log=$tmp/log

day() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
start=$(day '2 days ago')

cat > "$tmp/openssl.cnf" <<'EOF'
[ ca ]
default_ca = testca

[ testca ]
dir = $ENV::CADIR
database = $dir/index.txt
new_certs_dir = $dir
rand_serial = yes
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none

[ any_name ]
organizationName = optional
commonName = supplied

[ v3_ca ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = $ENV::SAN
EOF

run() {
	"$@" >> "$log" 2>&1 || {
		echo "mkcerts: failed: $*" >&2
		cat "$log" >&2
		exit 1
	}
}

genkey() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key"
}

# make_ca NAME CN: a self-signed CA in $tmp/NAME.pem, database in $tmp/NAME.db
make_ca() {
	local name=$1 cn=$2
	mkdir "$tmp/$name.db"
	: > "$tmp/$name.db/index.txt"
	genkey "$name"
	run openssl req -new -key "$tmp/$name.key" -subj "/O=sealinit tests/CN=$cn" \
		-out "$tmp/$name.csr"
	CADIR=$tmp/$name.db SAN=DNS:unused run openssl ca -batch -notext \
		-config "$tmp/openssl.cnf" -selfsign -keyfile "$tmp/$name.key" \
		-in "$tmp/$name.csr" -out "$tmp/$name.pem" -extensions v3_ca \
		-startdate "$start" -enddate "$(day '+10 years')"
}

# make_leaf NAME CA CN SAN
make_leaf() {
	local name=$1 ca=$2 cn=$3 san=$4
	genkey "$name"
	run openssl req -new -key "$tmp/$name.key" -subj "/O=sealinit tests/CN=$cn" \
		-out "$tmp/$name.csr"
	CADIR=$tmp/$ca.db SAN=$san run openssl ca -batch -notext \
		-config "$tmp/openssl.cnf" -cert "$tmp/$ca.pem" -keyfile "$tmp/$ca.key" \
		-in "$tmp/$name.csr" -out "$tmp/$name.pem" -extensions v3_server \
		-startdate "$start" -enddate "$(day '+3 years')"
}

sans="DNS:api.legacy.test,DNS:cdn.legacy.test,IP:127.0.0.1,IP:10.0.2.2"
make_ca ca "sealinit legacy test CA"
make_ca rogue-ca "sealinit rogue test CA"
make_leaf server ca api.legacy.test "$sans"
make_leaf alt ca api.legacy.test "$sans"
make_leaf rogue rogue-ca api.legacy.test "$sans"
make_leaf wrongname ca other.test "DNS:other.test"

run openssl verify -CAfile "$tmp/ca.pem" -purpose sslserver "$tmp/server.pem"
pin=$(openssl x509 -in "$tmp/server.pem" -noout -pubkey |
	openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -binary | base64 -w0)
[ ${#pin} = 44 ] || { echo "mkcerts: bad pin '$pin'" >&2; exit 1; }
printf 'sha256//%s' "$pin" > "$tmp/server.pin"

chmod 600 "$tmp"/*.key
for f in $files; do
	mv -f "$tmp/$f" "$out/$f"
done
