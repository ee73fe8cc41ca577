/* SPDX-License-Identifier: MIT */
/*
 * sealinit sign: approve PCR values for tokens with a signed policy. The
 * PolicyPCR digest of the values (from `sealinit predict' or the TPM), an
 * RSA signature over it, and an entry in systemd's signature file format,
 * added to the file (docs/updates.md). The private key is read into
 * locked memory and named nowhere but in errors about its path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/b64.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/secret.h"
#include "core/sigfile.h"
#include "core/tpm/authorize.h"
#include "core/tpm/pcr.h"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"

#define VALUES_MAX (64 * 1024)

/* The selected PCRs' sha256 values, ascending and concatenated. */
static int get_values(const struct cli_args *a, uint32_t mask, uint8_t *out, size_t *len)
{
	struct si_pcr_expect e;
	struct si_diag d = { { 0 } };
	unsigned int i;

	*len = 0;
	if (!ENABLE_TPM2)
		return unsupported("sign", "TPM2 support");
	if (a->current) {
		struct si_pcr_opts po = { .tcti = a->tcti, .timeout_ms = a->timeout_ms,
					  .pcr_mask = mask, .bank = 0x000B };
		struct si_pcr_values v;
		int r = si_pcr_read(&po, &v, &d);

		if (r < 0)
			return fail("sign", r, &d);
		memcpy(out, v.values, v.len);
		*len = v.len;
		return 0;
	} else {
		static char text[VALUES_MAX + 1];
		size_t n = 0;
		int fd = open(a->values, O_RDONLY | O_CLOEXEC);
		ssize_t k;

		if (fd < 0) {
			fprintf(stderr, "%s sign: --values `%s': %s\n", prog, a->values, strerror(errno));
			return 1;
		}
		while (n < VALUES_MAX && (k = read(fd, text + n, VALUES_MAX - n)) != 0) {
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				break;
			n += (size_t)k;
		}
		close(fd);
		text[n] = '\0';
		if (n == VALUES_MAX || strlen(text) != n ||
		    si_pcrs_parse_values(text, mask, &e, &d) < 0) {
			fprintf(stderr, "%s sign: --values `%s': %s\n", prog, a->values,
				n == VALUES_MAX ? "larger than 64 KiB" :
				strlen(text) != n ? "contains a NUL byte" : d.msg);
			return EXIT_USAGE;
		}
	}
	for (i = 0; i < SI_PCR_COUNT; i++)
		if (mask & (UINT32_C(1) << i)) {
			memcpy(out + *len, e.sha256[i], 32);
			*len += 32;
		}
	return 0;
}

/* Replace the file, or create it, through a temporary file beside it: a
 * reader never sees half a file. */
static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	size_t len = strlen(text), off = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, text + off, len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		off += (size_t)k;
	}
	if (off < len || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int r = -errno;

		if (off < len)
			close(fd);
		unlink(tmp);
		return r ? r : -EIO;
	}
	return 0;
}

/* An entry: pol signed with its policyRef, by the key in locked memory. */
static int sign_entry(const char *key, size_t key_len, uint32_t mask, const uint8_t pol[32],
		      const char *ref, size_t ref_len, struct si_sig *e, struct si_diag *d)
{
	struct si_authkey pub;
	int r;

	/* Without TPM support the core has no signer (the build links at
	 * -O0 too: tests/build/matrix.sh). */
	if (!ENABLE_TPM2)
		return -EOPNOTSUPP;
	r = si_authkey_sign(key, key_len, pol, (const uint8_t *)ref, ref_len, e->sig,
			    sizeof(e->sig), &e->sig_len, &pub, d);
	if (r < 0)
		return r;
	e->pcr_mask = mask;
	memcpy(e->pkfp, pub.pkfp, sizeof(e->pkfp));
	memcpy(e->pol, pol, sizeof(e->pol));
	return 0;
}

int sign_main(const struct cli_args *a)
{
	uint8_t values[SI_PCR_COUNT * 32], pol[SI_POLICY_SIZE] = { 0 }, rpol[SI_POLICY_SIZE];
	struct si_diag d = { { 0 } };
	struct si_sig *e = NULL, *re = NULL;
	char *key = NULL, *old = NULL, *out = NULL, *both = NULL, pcrs[96], hex[65], limit[96] = "";
	size_t values_len, key_len = 0;
	uint32_t mask;
	int r, rc = 1;

	if (!ENABLE_TPM2)
		return unsupported("sign", "TPM2 support");
	if (!a->private_key)
		return usage_error("sign", "%s", "--private-key PEM is needed");
	if (a->nv_index != SI_COUNTER_DEFAULT && !a->has_counter_value)
		return usage_error("sign", "%s", "--nv-index needs --counter-value");
	if (!!a->values == !!a->current)
		return usage_error("sign", "%s", "give the values to sign: --values FILE or --current");
	if (si_pcrs_parse(a->pcrs ? a->pcrs : CONFIG_TPM2_DEFAULT_PCRS, &mask, &d) < 0)
		return usage_error("sign", "--pcrs: %s", d.msg);
	if (!mask)
		return usage_error("sign", "%s", "--pcrs: empty");
	if (a->record_index_given)
		return usage_error("sign", "%s", "--record takes no INDEX here: the record's entry "
				   "is the same at every index");

	r = get_values(a, mask, values, &values_len);
	if (r)
		return r;
	if (si_policy_pcr(pol, 0x000B, mask, values, values_len) < 0)
		return fail("sign", -EIO, NULL);
	/* The device record's entry (record.h): the same values, then
	 * PolicyCommandCode(NV_Write); never a counter step. */
	if (a->record && si_record_approved(pol, rpol) < 0)
		return fail("sign", -EIO, NULL);
	/* With a counter: PolicyNV after PolicyPCR in the approved policy,
	 * and the signature over it with the counter's policyRef. */
	if (a->has_counter_value) {
		uint8_t name[SI_NV_NAME_SIZE];

		if (si_counter_name(a->nv_index, name) < 0 ||
		    si_policy_counter(pol, name, a->counter_value) < 0)
			return fail("sign", -EIO, NULL);
	}

	key = si_secret_alloc(KEYFILE_MAX);
	e = calloc(1, sizeof(*e));
	re = calloc(1, sizeof(*re));
	if (!key || !e || !re) {
		rc = fail("sign", -ENOMEM, NULL);
		goto out;
	}
	r = read_key_file(a->private_key, key, KEYFILE_MAX, &key_len);
	if (r < 0) {
		fprintf(stderr, "%s sign: cannot read --private-key `%s': %s\n", prog, a->private_key,
			r == -ENODATA ? "empty file" : strerror(-r));
		goto out;
	}
	r = sign_entry(key, key_len, mask, pol, a->has_counter_value ? SI_COUNTER_REF : NULL,
		       a->has_counter_value ? SI_COUNTER_REF_LEN : 0, e, &d);
	if (r == 0 && a->record)
		r = sign_entry(key, key_len, mask, rpol, SI_RECORD_REF, SI_RECORD_REF_LEN, re, &d);
	si_secret_free(key);
	key = NULL;
	if (r < 0) {
		rc = fail("sign", r, &d);
		goto out;
	}
	e->counted = a->has_counter_value;
	e->counter = a->counter_value;

	if (a->signature) {
		r = si_sigfile_read(a->signature, &old, &d);
		if (r < 0 && r != -ENOENT) {
			rc = fail("sign", r, &d);
			goto out;
		}
	}
	r = si_sigfile_add(old, e, &out, &d);
	if (r == 0 && a->record) {
		r = si_sigfile_add(out, re, &both, &d);
		free(out);
		out = both;
	}
	if (r < 0) {
		if (a->signature && r == -SI_EBADSIG)
			fprintf(stderr, "%s sign: `%s': %s\n", prog, a->signature, d.msg);
		else
			(void)fail("sign", r, &d);
		goto out;
	}
	if (a->signature) {
		r = write_file(a->signature, out);
		if (r < 0) {
			fprintf(stderr, "%s sign: writing `%s': %s\n", prog, a->signature,
				strerror(-r));
			goto out;
		}
	} else {
		fputs(out, stdout);
	}
	si_pcrs_format(mask, pcrs, sizeof(pcrs));
	si_hex_encode(hex, pol, sizeof(pol));
	if (a->has_counter_value)
		snprintf(limit, sizeof(limit), ", good while the rollback counter 0x%08x is at most %llu",
			 (unsigned int)a->nv_index, (unsigned long long)a->counter_value);
	fprintf(a->signature ? stdout : stderr, "Signed sha256 PCRs %s (policy %s)%s%s%s\n", pcrs,
		hex, limit, a->signature ? " into " : "", a->signature ? a->signature : "");
	if (a->record) {
		si_hex_encode(hex, rpol, sizeof(rpol));
		fprintf(a->signature ? stdout : stderr, "Signed the device record's write for the "
			"same values (policy %s, no counter step)\n", hex);
	}
	rc = 0;
out:
	si_secret_free(key);
	free(e);
	free(re);
	free(old);
	free(out);
	return rc;
}
