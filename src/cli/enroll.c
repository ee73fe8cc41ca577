/* SPDX-License-Identifier: MIT */
/* sealinit enroll: seal a new key to the TPM, add it as keyslot + token. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/enroll.h"
#include "core/errors.h"
#include "core/luks.h"
#include "core/pcrs.h"
#include "core/recovery.h"
#include "core/secret.h"
#include "core/tpm/authorize.h"

/* The passphrase that authorizes a new keyslot: --key-file or the
 * terminal. Locked memory the caller frees; NULL after printing why. */
static char *existing_passphrase(const struct cli_args *a, const char *device, size_t *len,
				 int *rc)
{
	char *pass = si_secret_alloc(KEYFILE_MAX);
	int r;

	*rc = 1;
	if (!pass)
		return NULL;
	if (a->key_file) {
		r = read_key_file(a->key_file, pass, KEYFILE_MAX, len);
		if (r < 0) {
			fprintf(stderr, "%s enroll: cannot read --key-file `%s': %s\n", prog,
				a->key_file, r == -ENODATA ? "empty file" : strerror(-r));
			si_secret_free(pass);
			return NULL;
		}
	} else {
		char prompt[300];

		snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", device);
		r = read_secret_line(prompt, pass, PASS_MAX);
		if (r < 0) {
			fprintf(stderr, "%s enroll: no passphrase: give --key-file or run on a terminal\n",
				prog);
			si_secret_free(pass);
			*rc = EXIT_USAGE;
			return NULL;
		}
		*len = strlen(pass);
	}
	return pass;
}

/* The volume key's id, to pin (not a secret: an HMAC keyed with the
 * volume key, what systemd extends into a PCR for all to read); NULL: why
 * it could not be read is in d. */
static void print_pin(const char *name, const char *id, const struct si_diag *d)
{
	if (!id) {
		fprintf(stderr, "%s enroll: the volume key id could not be read: %s\n", prog, d->msg);
		return;
	}
	printf("Volume key id for /dev/mapper/%s: %s\n"
	       "  pin it in the boot config as fixate_volume_key=%s\n"
	       "  (systemd crypttab: fixate-volume-key=%s)\n",
	       name ? name : SI_VOLKEY_DEFAULT_NAME, id, id, id);
}

static void print_volume_id(const char *device, const char *name, const char *pass, size_t len)
{
	char id[SI_VOLKEY_HEX_LEN + 1];
	struct si_luks *l = NULL;
	struct si_diag d = { { 0 } };
	int r = si_luks_open(device, &l, &d);

	if (r == 0)
		r = si_luks_volume_id(l, name ? name : SI_VOLKEY_DEFAULT_NAME, pass, len, id, &d);
	si_luks_close(l);
	print_pin(name, r < 0 ? NULL : id, &d);
}

/* enroll --recovery: a keyslot for a new recovery key, printed once. */
static int enroll_recovery(const struct cli_args *a)
{
	const char *device = a->argv[0];
	struct si_diag d = { { 0 } };
	char *pass, *key;
	size_t len = 0;
	int r, token = -1, rc;

	if (a->pcrs || a->pin || a->expect || a->unsafe_pcrs || a->public_key || a->pubkey_pcrs ||
	    a->counter || a->uncapped_pcrs || a->record || a->signature)
		return usage_error("enroll", "%s", "--recovery adds a passphrase keyslot: it takes no "
				   "--pcrs, --pin, --expect, --public-key, --counter, --unsafe-pcrs, "
				   "--uncapped-pcrs, --record or --signature");
	pass = existing_passphrase(a, device, &len, &rc);
	if (!pass)
		return rc;
	key = si_secret_alloc(SI_RECOVERY_LEN + 1);
	if (!key) {
		si_secret_free(pass);
		return fail("enroll", -ENOMEM, NULL);
	}
	r = si_recovery_enroll(device, pass, len, key, &token, &d);
	si_secret_free(pass);
	if (r < 0) {
		si_secret_free(key);
		return fail("enroll", r, &d);
	}
	printf("Recovery key for %s (keyslot %d, token %d). Write it down: it is shown only now.\n"
	       "  %s\n"
	       "At a boot the TPM cannot unlock, type it at the console's prompt; cryptsetup and\n"
	       "systemd-cryptsetup take it as a passphrase.\n", device, r, token, key);
	print_volume_id(device, a->name, key, strlen(key));
	si_secret_free(key);
	return 0;
}

int enroll_main(const struct cli_args *a)
{
	struct si_enroll_opts o = { .keyslot = -1 };
	static struct si_pcr_expect expect;
	static struct si_bootcfg c;
	struct si_enroll_result res;
	struct si_diag d = { { 0 } };
	char *pass = NULL, *owner, pcrbuf[96], signedbuf[96];
	static uint8_t pem[SI_AUTHKEY_PEM_MAX];
	size_t pass_len = 0;
	double t0;
	int r;

	if (a->argc != 1)
		return usage_error("enroll", "%s", "expected exactly one DEVICE");
	if (a->recovery)
		return enroll_recovery(a);
	if (!ENABLE_TPM2)
		return unsupported("enroll", "TPM2 support");
	o.device = a->argv[0];
	if (a->pubkey_pcrs && !a->public_key)
		return usage_error("enroll", "%s", "--public-key-pcrs needs --public-key");
	if (a->counter && !a->public_key)
		return usage_error("enroll", "%s", "--counter needs --public-key: the counter is part "
				   "of the signed policy");
	o.counter_nv = a->counter ? a->nv_index : 0;
	if (a->record && !a->public_key)
		return usage_error("enroll", "%s", "--record needs --public-key: the device record is "
				   "written through the fleet key's signature");
	o.record_index = a->record ? a->record_index : 0;
	o.signature = a->signature;
	/* With a signing key the default PCRs are the signed ones, and the
	 * literal ones only those given. */
	if (si_pcrs_parse(a->pcrs ? a->pcrs : a->public_key ? "" : CONFIG_TPM2_DEFAULT_PCRS,
			  &o.pcr_mask, &d) < 0)
		return usage_error("enroll", "--pcrs: %s", d.msg);
	if (a->public_key &&
	    si_pcrs_parse(a->pubkey_pcrs ? a->pubkey_pcrs : CONFIG_TPM2_DEFAULT_PCRS,
			  &o.pubkey_pcr_mask, &d) < 0)
		return usage_error("enroll", "--public-key-pcrs: %s", d.msg);
	if (a->public_key && !o.pubkey_pcr_mask)
		return usage_error("enroll", "%s", "--public-key-pcrs: empty (a signed policy "
				   "needs the PCRs it signs for)");
	o.unsafe_pcrs = a->unsafe_pcrs;
	if (!o.unsafe_pcrs && si_pcrs_check_sealable(o.pcr_mask | o.pubkey_pcr_mask, &d) < 0)
		return usage_error("enroll", "--pcrs: %s (--unsafe-pcrs forces it, for tests)", d.msg);
	if (a->public_key) {
		r = public_key_option("enroll", a->public_key, pem, sizeof(pem), &o.pubkey_pem_len);
		if (r)
			return r;
		o.pubkey_pem = pem;
	}
	if (a->pin && !isatty(STDIN_FILENO) && !a->key_file)
		return usage_error("enroll", "%s", "--pin from standard input needs --key-file");

	if (a->expect) {
		r = expect_file("enroll", a->expect, o.pcr_mask, &expect);
		if (r)
			return r;
		o.expect = &expect;
	}
	if (a->name && (!a->name[0] || strchr(a->name, '/')))
		return usage_error("enroll", "Invalid --name: `%.80s' (expected a device-mapper "
				   "name without '/')", a->name);

	/* The boot's cap set: the configuration's pcrs= (the file the boot
	 * reads; without one, the build's default). --unsafe-pcrs already
	 * seals outside the boot's rules, so it implies --uncapped-pcrs. */
	if (load_config("enroll", a->config, a->config_given, &c) < 0)
		return EXIT_USAGE;
	o.cap_pcrs = c.cap_pcrs;
	o.uncapped_pcrs = a->uncapped_pcrs || a->unsafe_pcrs;
	if (!o.uncapped_pcrs && si_pcrs_check_capped(o.pcr_mask | o.pubkey_pcr_mask, o.cap_pcrs, &d) < 0) {
		fprintf(stderr, "%s enroll: %s (--uncapped-pcrs seals anyway)\n", prog, d.msg);
		return si_exit_code(-EINVAL);
	}
	owner = owner_auth_option("enroll", a->owner_auth_file, &o.owner_auth_len, &r);
	if (r)
		return r;
	o.owner_auth = owner;
	pass = existing_passphrase(a, o.device, &pass_len, &r);
	if (!pass) {
		si_secret_free(owner);
		return r;
	}
	o.passphrase = pass;
	o.passphrase_len = pass_len;
	o.tcti = a->tcti;
	o.timeout_ms = a->timeout_ms;
	o.get_pin = a->pin ? ask_pin : NULL;
	o.bind_name = a->name;

	t0 = now_ms();
	r = si_enroll(&o, &res, &d);
	si_secret_free(pass);
	si_secret_free(owner);
	if (verbose)
		fprintf(stderr, "enroll: %.1f ms, %u TPM commands\n", now_ms() - t0,
			res.tpm_commands);
	if (r < 0)
		return fail("enroll", r, &d);
	si_pcrs_format(o.pcr_mask, pcrbuf, sizeof(pcrbuf));
	si_pcrs_format(o.pubkey_pcr_mask, signedbuf, sizeof(signedbuf));
	printf("Enrolled %s: token %d, keyslot %d, sha256 PCRs %s%s%s%s%s\n", o.device, res.token,
	       res.keyslot, pcrbuf[0] ? pcrbuf : "(none)", a->public_key ? ", signed PCRs " : "",
	       a->public_key ? signedbuf : "", a->pin ? ", with PIN" : "",
	       res.srk_created ? "; created the storage key at 0x81000001" : "");
	if (o.expect) {
		si_pcrs_format(expect.mask, pcrbuf, sizeof(pcrbuf));
		printf("  PCR %s sealed to the values in %s, not to the current ones\n", pcrbuf,
		       a->expect);
	}
	if (o.counter_nv)
		printf("  rollback counter: NV index 0x%08x, %s, value %llu; sign with "
		       "--counter-value %llu or more\n", o.counter_nv,
		       res.counter_created ? "defined now" : "already defined",
		       (unsigned long long)res.counter, (unsigned long long)res.counter);
	if (o.record_index)
		printf("  device record: NV index 0x%08x holds this volume's id; unlock and boot with "
		       "--record / device_record= need no fixate_volume_key\n", o.record_index);
	print_pin(a->name, res.volume_id[0] ? res.volume_id : NULL, &res.id_diag);
	return 0;
}
