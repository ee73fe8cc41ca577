/* SPDX-License-Identifier: MIT */
/* sealinit provision: make the data volume on a blank partition, as the
 * first boot does (core/provision.h), for the factory and installers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/options.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/pcrs.h"
#include "core/provision.h"
#include "core/secret.h"
#include "core/tpm/authorize.h"

#define MKFS_WORDS 32

static void progress(void *ctx, const char *step)
{
	fprintf(stderr, "provision %s: %s\n", (const char *)ctx, step);
}

/* --check-blank: what provisioning would find, and nothing written. */
static int check_blank(const char *device)
{
	struct si_diag d = { { 0 } };
	int r;

	/* Here too: at -O0 this function is compiled whatever calls it. */
	if (!ENABLE_TPM2)
		return unsupported("provision", "TPM2 support");
	r = si_provision_blank(device, &d);
	if (r < 0)
		return fail("provision", r, &d);
	if (r == SI_PROVISION_RESUME)
		printf("%s holds a provisioning cut during its header copy: it provisions again\n",
		       device);
	else
		printf("%s is blank\n", device);
	return 0;
}

/* Split 'PROGRAM ARGS' on spaces into words (in buf, a copy): no shell,
 * no quoting. The program is an absolute path: the initramfs has no
 * PATH worth trusting. */
static int split_mkfs(const char *cmd, char *buf, const char **words)
{
	size_t n = 0;
	char *save = NULL, *w;

	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (n == MKFS_WORDS)
			return usage_error("provision", "Invalid --mkfs: `%.80s' (at most %d words)",
					   cmd, MKFS_WORDS);
		words[n++] = w;
	}
	words[n] = NULL;
	if (!n || words[0][0] != '/')
		return usage_error("provision", "Invalid --mkfs: `%.80s' (expected an absolute "
				   "program path and its arguments, e.g. '/sbin/mkfs.ext4 -q')", cmd);
	return 0;
}

static const char *default_workdir(void)
{
	struct stat st;
	const char *t = getenv("TMPDIR");

	if (stat("/run/sealinit", &st) == 0 && S_ISDIR(st.st_mode))
		return "/run/sealinit";
	return t && *t ? t : "/tmp";
}

int provision_main(const struct cli_args *a)
{
	struct si_provision_opts o = { .mkfs_timeout_ms = 600000 };
	static struct si_pcr_expect expect;
	static struct si_bootcfg c;
	static uint8_t pem[SI_AUTHKEY_PEM_MAX], epem[SI_AUTHKEY_PEM_MAX];
	static char mkfs_buf[1024];
	static const char *mkfs_argv[MKFS_WORDS + 1];
	struct si_provision_result *res;
	char *owner;
	struct si_diag d = { { 0 } };
	int r;

	if (a->argc != 1)
		return usage_error("provision", "%s", "expected exactly one DEVICE");
	if (!ENABLE_TPM2)
		return unsupported("provision", "TPM2 support");
	if (a->check_blank)
		return check_blank(a->argv[0]);
	o.device = a->argv[0];
	/* The recovery key is the only way in when the TPM refuses: a volume
	 * whose key went nowhere is a volume nobody can recover. */
	if (!a->escrow_dir && !a->show_recovery_key)
		return usage_error("provision", "%s", "the recovery key must go somewhere: give "
				   "--escrow-dir DIR --escrow-key PEM, or --show-recovery-key");
	if (!!a->escrow_dir != !!a->escrow_key)
		return usage_error("provision", "%s", "--escrow-dir and --escrow-key go together");
	if (a->pubkey_pcrs && !a->public_key)
		return usage_error("provision", "%s", "--public-key-pcrs needs --public-key");
	if (a->counter && !a->public_key)
		return usage_error("provision", "%s", "--counter needs --public-key: the counter is "
				   "part of the signed policy");
	if (a->record && (!a->public_key || !a->signature))
		return usage_error("provision", "%s", "--record needs --public-key and --signature: "
				   "the record is written through the fleet key");
	o.counter_nv = a->counter ? a->nv_index : 0;
	o.record_index = a->record ? a->record_index : 0;
	o.signature = a->signature;
	if (si_pcrs_parse(a->pcrs ? a->pcrs : a->public_key ? "" : CONFIG_TPM2_DEFAULT_PCRS,
			  &o.pcr_mask, &d) < 0)
		return usage_error("provision", "--pcrs: %s", d.msg);
	if (a->public_key &&
	    si_pcrs_parse(a->pubkey_pcrs ? a->pubkey_pcrs : CONFIG_TPM2_DEFAULT_PCRS,
			  &o.pubkey_pcr_mask, &d) < 0)
		return usage_error("provision", "--public-key-pcrs: %s", d.msg);
	if (si_pcrs_check_sealable(o.pcr_mask | o.pubkey_pcr_mask, &d) < 0)
		return usage_error("provision", "--pcrs: %s", d.msg);
	if (a->public_key) {
		r = read_public_key(a->public_key, pem, sizeof(pem), &o.pubkey_pem_len);
		if (r < 0)
			return usage_error("provision", "cannot read --public-key `%.200s': %s",
					   a->public_key, r == -EFBIG ? "larger than 2 KiB" :
					   strerror(-r));
		o.pubkey_pem = pem;
	}
	if (a->escrow_key) {
		r = read_public_key(a->escrow_key, epem, sizeof(epem), &o.escrow_pubkey_pem_len);
		if (r < 0)
			return usage_error("provision", "cannot read --escrow-key `%.200s': %s",
					   a->escrow_key, r == -EFBIG ? "larger than 2 KiB" :
					   strerror(-r));
		o.escrow_pubkey_pem = epem;
		o.escrow_dir = a->escrow_dir;
	}
	if (a->expect) {
		r = expect_file("provision", a->expect, o.pcr_mask, &expect);
		if (r)
			return r;
		o.expect = &expect;
	}
	o.name = a->name ? a->name : SI_VOLKEY_DEFAULT_NAME;
	if (!o.name[0] || strchr(o.name, '/'))
		return usage_error("provision", "Invalid --name: `%.80s' (expected a device-mapper "
				   "name without '/')", o.name);
	if (a->mkfs) {
		if (strlen(a->mkfs) >= sizeof(mkfs_buf))
			return usage_error("provision", "Invalid --mkfs: longer than %zu bytes",
					   sizeof(mkfs_buf) - 1);
		memcpy(mkfs_buf, a->mkfs, strlen(a->mkfs) + 1);
		r = split_mkfs(a->mkfs, mkfs_buf, mkfs_argv);
		if (r)
			return r;
		o.mkfs_argv = mkfs_argv;
	}
	if (load_config("provision", a->config, a->config_given, &c) < 0)
		return EXIT_USAGE;
	o.cap_pcrs = a->uncapped_pcrs ? 0 : c.cap_pcrs;
	if (o.cap_pcrs && si_pcrs_check_capped(o.pcr_mask | o.pubkey_pcr_mask, o.cap_pcrs, &d) < 0) {
		fprintf(stderr, "%s provision: %s (--uncapped-pcrs seals anyway)\n", prog, d.msg);
		return si_exit_code(-EINVAL);
	}
	o.workdir = a->workdir ? a->workdir : default_workdir();
	o.tcti = a->tcti;
	o.timeout_ms = a->timeout_ms;
	o.progress = progress;
	o.progress_ctx = (void *)o.device;
	o.want_recovery = a->show_recovery_key;

	/* The result may carry the recovery key. */
	owner = owner_auth_option("provision", a->owner_auth_file, &o.owner_auth_len, &r);
	if (r)
		return r;
	o.owner_auth = owner;
	res = si_secret_alloc(sizeof(*res));
	if (!res) {
		si_secret_free(owner);
		return fail("provision", -ENOMEM, NULL);
	}
	r = si_provision(&o, res, &d);
	si_secret_free(owner);
	if (r < 0) {
		si_secret_free(res);
		return fail("provision", r, &d);
	}
	fprintf(stderr, "Provisioned %s%s: LUKS2 UUID %s, TPM keyslot %d, recovery keyslot %d\n",
		o.device, res->resumed ? " (after a cut copy)" : "", res->uuid, res->tpm_keyslot,
		res->recovery_keyslot);
	fprintf(stderr, "  volume key id for /dev/mapper/%s: %s\n", o.name, res->volume_id);
	if (o.record_index)
		fprintf(stderr, "  device record: NV index 0x%08x\n", o.record_index);
	if (o.counter_nv)
		fprintf(stderr, "  rollback counter: NV index 0x%08x, value %llu\n", o.counter_nv,
			(unsigned long long)res->counter);
	if (o.escrow_dir)
		fprintf(stderr, "  recovery key escrowed to %s\n", res->escrow_path);
	/* The one place the key is shown: stdout, for whoever asked. */
	if (a->show_recovery_key)
		printf("%s\n", res->recovery);
	si_secret_free(res);
	return 0;
}
