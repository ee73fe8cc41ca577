/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/kv.h"
#include "core/legacy/net.h"
#include "core/pcrs.h"
#include "core/sigfile.h"
#include "core/tpm/policy.h"
#include "core/tpm/record.h"
#include "core/volkey.h"

#define LINE_MAX_LEN 1024
#define CMDLINE_MAX  4096

void si_bootcfg_defaults(struct si_bootcfg *c)
{
	struct si_diag d;

	memset(c, 0, sizeof(*c));
	snprintf(c->rootfstype, sizeof(c->rootfstype), "ext4");
	c->ro = true;
	snprintf(c->init, sizeof(c->init), "/sbin/init");
	c->measure = SI_MEASURE_VERITY;
	c->measure_pcr = 15;
	snprintf(c->data_name, sizeof(c->data_name), "sealdata");
	snprintf(c->data_mount, sizeof(c->data_mount), "/var/lib/sealdata");
	snprintf(c->data_fstype, sizeof(c->data_fstype), "ext4");
	/* cryptsetup's LUKS2 default, and what systemd-repart and the test
	 * images use. */
	snprintf(c->data_cipher, sizeof(c->data_cipher), "aes-xts-plain64");
	c->data_key_bits = 512;
	snprintf(c->tcti, sizeof(c->tcti), "%s", CONFIG_TPM2_TCTI);
	snprintf(c->tpm2_signature, sizeof(c->tpm2_signature), "%s", SI_SIGFILE_DEFAULT);
	if (si_pcrs_parse(CONFIG_TPM2_DEFAULT_PCRS, &c->cap_pcrs, &d) < 0)
		c->cap_pcrs = UINT32_C(1) << 15;
	c->tpm_timeout_ms = CONFIG_TPM2_TIMEOUT_MS;
	c->device_timeout_ms = 10000;
	c->failure = ENABLE_RESCUE_SHELL ? SI_FAIL_SHELL : SI_FAIL_POWEROFF;
	c->failure_delay_s = 10;
	c->pin_timeout_s = 60;
	c->recovery_timeout_s = ENABLE_RECOVERY_PROMPT ? 60 : 0;
	c->loglevel = CONFIG_LOG_LEVEL;
	/* TPM first, the network as fallback: whichever this build has. */
	if (ENABLE_TPM2)
		c->sources[c->nsources++] = SI_SRC_TPM2;
	if (ENABLE_LEGACY_NET)
		c->sources[c->nsources++] = SI_SRC_LEGACY;
	snprintf(c->ip, sizeof(c->ip), "dhcp");
	c->net_timeout_ms = 15000;
	si_legacy_cfg_defaults(&c->legacy);
	c->lockdown = ENABLE_LOCKDOWN;
	c->tpm2_measure_pcr = -1;
	c->tpm2_counter = SI_COUNTER_DEFAULT;
}

/*
 * The keys a locked-down command line may ever set (the only names
 * CONFIG_LOCKDOWN_CMDLINE_KEYS may list): they change how much the boot
 * says and how long it waits, never what runs or what unlocks. None is
 * measured, in the command line or in the configuration: adding
 * sealinit.loglevel=7 to debug a boot must not be what fails it, and a
 * wait that is measured protects nothing (a boot that gives up waiting
 * for the TPM measures nothing at all). A wait given on a locked-down
 * command line may only lengthen the one configured: a shorter TPM or
 * device wait is how an attacker makes the TPM look absent.
 */
static const struct harmless_key {
	const char *name;
	size_t offset;      /* its int in struct si_bootcfg */
	bool measured;      /* never, by rule: the column says so */
	bool only_longer;   /* locked down, the command line may only raise it */
	const char *unit;
} harmless_keys[] = {
	{ "loglevel", offsetof(struct si_bootcfg, loglevel), false, false, "" },
	{ "failure_delay", offsetof(struct si_bootcfg, failure_delay_s), false, false, " s" },
	{ "tpm_timeout", offsetof(struct si_bootcfg, tpm_timeout_ms), false, true, " ms" },
	{ "device_timeout", offsetof(struct si_bootcfg, device_timeout_ms), false, true, " ms" },
	{ "net_timeout", offsetof(struct si_bootcfg, net_timeout_ms), false, true, " ms" },
	{ "pin_timeout", offsetof(struct si_bootcfg, pin_timeout_s), false, true, " s" },
};
#define N_HARMLESS (sizeof(harmless_keys) / sizeof(harmless_keys[0]))

static const struct harmless_key *harmless(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < N_HARMLESS; i++)
		if (strlen(harmless_keys[i].name) == len && !memcmp(harmless_keys[i].name, key, len))
			return &harmless_keys[i];
	return NULL;
}

bool si_bootcfg_key_unmeasured(const char *key, size_t len)
{
	const struct harmless_key *h = harmless(key, len);

	return h && !h->measured;
}

const char *si_bootcfg_unmeasured_key(size_t i)
{
	return i < N_HARMLESS ? harmless_keys[i].name : NULL;
}

int si_bootcfg_lockdown_keys_check(const char *list, struct si_diag *d)
{
	const char *p = list;
	char names[160];
	size_t i, o = 0;

	for (i = 0; i < N_HARMLESS; i++)
		o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? " " : "",
				      harmless_keys[i].name);
	for (;;) {
		size_t n;

		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (!n)
			return 0;
		if (!harmless(p, n)) {
			si_diag_set(d, "CONFIG_LOCKDOWN_CMDLINE_KEYS names `%.*s': a locked-down command "
				    "line may set only keys that change neither what runs nor what is "
				    "measured (%s)", (int)(n > 64 ? 64 : n), p, names);
			return -EINVAL;
		}
		p += n;
	}
}

static int set_sources(struct si_bootcfg *c, const char *v)
{
	char buf[64], *save = NULL, *t;
	enum si_keysource s[SI_MAX_SOURCES] = { 0 };
	int n = 0, i;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return -EINVAL;
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum si_keysource k;

		if (!strcmp(t, "tpm2"))
			k = SI_SRC_TPM2;
		else if (!strcmp(t, "legacy"))
			k = SI_SRC_LEGACY;
		else
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (s[i] == k)
				return -EINVAL;
		if (n == SI_MAX_SOURCES)
			return -EINVAL;
		s[n++] = k;
	}
	if (!n)
		return -EINVAL;
	memcpy(c->sources, s, sizeof(s));
	c->nsources = n;
	return 0;
}

static int is_hex(const char *v)
{
	size_t n = strlen(v), i;

	if (n < 2 || n % 2 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
		      (v[i] >= 'A' && v[i] <= 'F')))
			return 0;
	return 1;
}

/* One key, from either source. `what` is how the user wrote the key, for
 * the message. */
/* yes: the default index; no: none; else an index of the owner range. */
static int nv_index(const char *v, uint32_t def, uint32_t *out)
{
	bool on;
	char *end;
	unsigned long n;

	if (si_kv_bool(v, &on) == 0) {
		*out = on ? def : 0;
		return 0;
	}
	if (strncmp(v, "0x", 2))
		return -EINVAL;
	errno = 0;
	n = strtoul(v + 2, &end, 16);
	if (errno || *end || end == v + 2 || n < SI_COUNTER_FIRST || n > SI_COUNTER_LAST)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* The keys the command line never sets, whatever the lockdown: each is
 * part of the trust the initramfs carries. Why, or NULL. */
static const char *file_only(const char *key)
{
	static const struct { const char *key, *why; } keys[] = {
		{ "fixate_volume_key", "a pin the command line could replace would pin nothing" },
		{ "tpm2_signature", "the signature file comes with the initramfs" },
		{ "tpm2_transient_primary", "which storage keys the TPM may unseal under is the "
		  "initramfs's trust" },
		{ "tpm2_public_key", "the fleet's key is the initramfs's trust" },
		{ "device_record", "a record the command line could turn off would bind nothing" },
		{ "provision", "formatting a partition is the image's decision" },
		{ "provision_mkfs", "the program that formats is the image's" },
		{ "tpm2_counter", "the rollback counter is the image's" },
		{ "escrow", "where the recovery key goes is the image's decision" },
		{ "escrow_public_key", "the escrow key is the initramfs's trust" },
		{ "tee_storage", "the fTPM's store is its NV: which partition holds it is the "
		  "image's decision" },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key))
			return keys[i].why;
	return NULL;
}

static int set_key(struct si_bootcfg *c, const char *key, const char *v, const char *what,
		   struct si_diag *d)
{
	const char *expect = NULL, *q;
	long n;
	int r = 0;

	/* The kernel command line cannot carry them, so neither may the file:
	 * one syntax, and no invisible bytes in a device path. The expected
	 * command line is made of words, and provision_mkfs= (file only) of a
	 * program and its arguments, so they have spaces between them. */
	for (q = v; *q; q++) {
		if (*q == ' ' && (!strcmp(key, "cmdline") || !strcmp(key, "provision_mkfs")))
			continue;
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			si_diag_set(d, "`%s': value contains whitespace or control characters", what);
			return -EINVAL;
		}
	}
	if (!strcmp(key, "root")) {
		/* empty: unset (validate says what is missing) */
		r = (*v ? si_kv_devspec(v) : 0) ?: si_kv_str(c->root, sizeof(c->root), v);
		expect = SI_KV_DEVSPEC_EXPECT;
	} else if (!strcmp(key, "rootfstype")) {
		r = si_kv_str(c->rootfstype, sizeof(c->rootfstype), v);
		expect = "a filesystem type";
	} else if (!strcmp(key, "ro")) {
		r = si_kv_bool(v, &c->ro);
		expect = "yes or no";
	} else if (!strcmp(key, "init")) {
		r = v[0] == '/' ? si_kv_str(c->init, sizeof(c->init), v) : -EINVAL;
		expect = "an absolute path";
	} else if (!strcmp(key, "measure")) {
		if (!strcmp(v, "verity"))
			c->measure = SI_MEASURE_VERITY;
		else if (!strcmp(v, "image"))
			c->measure = SI_MEASURE_IMAGE;
		else if (!strcmp(v, "none"))
			c->measure = SI_MEASURE_NONE;
		else
			r = -EINVAL;
		expect = "verity, image or none";
	} else if (!strcmp(key, "pcr")) {
		r = si_kv_num(v, 0, 23, &n);
		if (!r)
			c->measure_pcr = (unsigned int)n;
		expect = "a PCR number 0-23";
	} else if (!strcmp(key, "roothash")) {
		/* empty: unset */
		r = !*v || is_hex(v) ? si_kv_str(c->roothash, sizeof(c->roothash), v) : -EINVAL;
		expect = "a hex root hash";
	} else if (!strcmp(key, "hashdev")) {
		/* empty: the hash tree follows the data on the root device */
		r = (*v ? si_kv_devspec(v) : 0) ?: si_kv_str(c->hashdev, sizeof(c->hashdev), v);
		expect = SI_KV_DEVSPEC_EXPECT;
	} else if (!strcmp(key, "hashoffset")) {
		r = si_kv_num(v, 0, 0x7fffffffL, &n);
		if (!r)
			c->hashoffset = (uint64_t)n;
		expect = "a byte offset";
	} else if (!strcmp(key, "data")) {
		r = (*v ? si_kv_devspec(v) : 0) ?: si_kv_str(c->data, sizeof(c->data), v);
		expect = SI_KV_DEVSPEC_EXPECT;
	} else if (!strcmp(key, "name")) {
		r = (v[0] && !strchr(v, '/')) ? si_kv_str(c->data_name, sizeof(c->data_name), v) : -EINVAL;
		expect = "a device-mapper name without '/'";
	} else if (!strcmp(key, "mount")) {
		r = v[0] == '/' ? si_kv_str(c->data_mount, sizeof(c->data_mount), v) : -EINVAL;
		expect = "an absolute path inside the new root";
	} else if (!strcmp(key, "fstype")) {
		r = si_kv_str(c->data_fstype, sizeof(c->data_fstype), v);
		expect = "a filesystem type";
	} else if (!strcmp(key, "cipher")) {
		r = strchr(v, '-') && strncmp(v, "cipher_null", 11) ?
			si_kv_str(c->data_cipher, sizeof(c->data_cipher), v) : -EINVAL;
		expect = "a dm-crypt cipher spec such as aes-xts-plain64 (never cipher_null)";
	} else if (!strcmp(key, "key_size")) {
		r = si_kv_num(v, 128, 1024, &n);
		if (!r && n % 8)
			r = -EINVAL;
		if (!r)
			c->data_key_bits = (int)n;
		expect = "bits, a multiple of 8 from 128 to 1024";
	} else if (!strcmp(key, "tcti")) {
		r = strchr(v, ':') || !strcmp(v, "device") ? si_kv_str(c->tcti, sizeof(c->tcti), v) : -EINVAL;
		expect = "a TCTI spec such as device:/dev/tpmrm0";
	} else if (!strcmp(key, "tee_supplicant")) {
		r = !*v || v[0] == '/' ? si_kv_str(c->tee_supplicant, sizeof(c->tee_supplicant), v) : -EINVAL;
		expect = "an absolute path, or empty";
	} else if (!strcmp(key, "tee_storage")) {
		/* empty: none */
		r = (*v ? si_kv_devspec(v) : 0) ?: si_kv_str(c->tee_storage, sizeof(c->tee_storage), v);
		expect = SI_KV_DEVSPEC_EXPECT;
	} else if (!strcmp(key, "pcrs")) {
		struct si_diag pd;

		r = si_pcrs_parse(v, &c->cap_pcrs, &pd);
		expect = "PCR numbers joined by '+' or ','";
	} else if (!strcmp(key, "tpm_timeout")) {
		r = si_kv_num(v, 1, 600000, &n);
		if (!r)
			c->tpm_timeout_ms = (int)n;
		expect = "milliseconds, 1-600000";
	} else if (!strcmp(key, "device_timeout")) {
		r = si_kv_num(v, 1, 600000, &n);
		if (!r)
			c->device_timeout_ms = (int)n;
		expect = "milliseconds, 1-600000";
	} else if (!strcmp(key, "failure")) {
		if (!strcmp(v, "poweroff"))
			c->failure = SI_FAIL_POWEROFF;
		else if (!strcmp(v, "halt"))
			c->failure = SI_FAIL_HALT;
		else if (!strcmp(v, "reboot"))
			c->failure = SI_FAIL_REBOOT;
		else if (!strcmp(v, "shell") && ENABLE_RESCUE_SHELL)
			c->failure = SI_FAIL_SHELL;
		else
			r = -EINVAL;
		expect = ENABLE_RESCUE_SHELL ? "poweroff, halt, reboot or shell"
					     : "poweroff, halt or reboot (this build has no rescue shell)";
	} else if (!strcmp(key, "pin_timeout")) {
		r = si_kv_num(v, 1, 3600, &n);
		if (!r)
			c->pin_timeout_s = (int)n;
		expect = "seconds, 1-3600";
	} else if (!strcmp(key, "recovery_timeout")) {
		r = si_kv_num(v, 0, 3600, &n);
		if (!r && n && !ENABLE_RECOVERY_PROMPT)
			r = -EINVAL;
		if (!r)
			c->recovery_timeout_s = (int)n;
		expect = ENABLE_RECOVERY_PROMPT ? "seconds, 0 (no prompt) to 3600"
					       : "0 (this build has no recovery prompt)";
	} else if (!strcmp(key, "failure_delay")) {
		r = si_kv_num(v, 0, 3600, &n);
		if (!r)
			c->failure_delay_s = (int)n;
		expect = "seconds, 0-3600";
	} else if (!strcmp(key, "loglevel")) {
		r = si_kv_num(v, 0, 7, &n);
		if (!r)
			c->loglevel = (int)n;
		expect = "0-7";
	} else if (!strcmp(key, "keysources")) {
		r = set_sources(c, v);
		expect = "tpm2,legacy, legacy,tpm2, tpm2 or legacy";
	} else if (!strcmp(key, "ip")) {
		struct si_net_cfg nc;
		struct si_diag nd;

		r = si_net_parse(v, &nc, &nd) ?: si_kv_str(c->ip, sizeof(c->ip), v);
		expect = "dhcp, off, or client:server:gw:netmask:host:dev:autoconf:dns0:dns1";
	} else if (!strcmp(key, "net_timeout")) {
		r = si_kv_num(v, 1, 600000, &n);
		if (!r)
			c->net_timeout_ms = (int)n;
		expect = "milliseconds, 1-600000";
	} else if (!strcmp(key, "migrate")) {
		r = si_kv_bool(v, &c->migrate);
		expect = "yes or no";
	} else if (!strcmp(key, "migrate_finish")) {
		r = si_kv_bool(v, &c->migrate_finish);
		expect = "yes or no";
	} else if (!strcmp(key, "migrate_pcrs")) {
		struct si_diag pd;

		c->migrate_pcrs = 0;  /* empty: si_bootcfg_migrate_pcrs's default */
		r = *v ? si_pcrs_parse(v, &c->migrate_pcrs, &pd) : 0;
		expect = "PCR numbers joined by '+' or ',', or empty";
	} else if (!strcmp(key, "cmdline")) {
		r = si_kv_str(c->cmdline, sizeof(c->cmdline), v);
		expect = "the kernel command line the boot loader passes";
	} else if (!strcmp(key, "cmdline_volatile")) {
		const char *why = NULL;
		char name[64];
		size_t i, len;

		r = si_kv_str(c->cmdline_volatile, sizeof(c->cmdline_volatile), v);
		for (q = v; !r && *q; q += len + (q[len] == ',')) {
			len = strcspn(q, ",");
			if (!len || len >= sizeof(name)) {
				r = -EINVAL;
				break;
			}
			memcpy(name, q, len);
			name[len] = '\0';
			for (i = 0; i < len; i++)
				if (name[i] == '=')
					r = -EINVAL;
			why = r ? NULL : si_cmdline_volatile_refused(name);
			if (why) {
				si_diag_set(d, "`%s': `%s' cannot be left out of the measurement: %s",
					    what, name, why);
				return -EINVAL;
			}
		}
		expect = "command-line key names joined by ','";
	} else if (!strcmp(key, "lockdown")) {
		r = si_kv_bool(v, &c->lockdown);
		if (!r && ENABLE_LOCKDOWN && !c->lockdown) {
			si_diag_set(d, "`%s': this build is locked down (CONFIG_LOCKDOWN)", what);
			return -EINVAL;
		}
		expect = "yes or no";
	} else if (!strcmp(key, "fixate_volume_key")) {
		/* empty: not pinned */
		r = !*v || si_volkey_id_valid(v) ?
			si_kv_str(c->fixate_volume_key, sizeof(c->fixate_volume_key), v) : -EINVAL;
		expect = "the 64 lower-case hex digits `sealinit enroll' printed (systemd's "
			 "fixate-volume-key=), or empty";
	} else if (!strcmp(key, "tpm2_signature")) {
		r = si_kv_devspec(v) == 0 ?
			si_kv_str(c->tpm2_signature, sizeof(c->tpm2_signature), v) : -EINVAL;
		expect = "an absolute path (the signature file in the initramfs), or a partition "
			 "holding it (PARTLABEL=, PARTUUID=, /dev/...)";
	} else if (!strcmp(key, "tpm2_measure_pcr")) {
		bool on = false;

		/* systemd's tpm2-measure-pcr=: a PCR number first (so "0" and
		 * "1" are PCRs, as in systemd, and what is printed reads back),
		 * else yes for 15 or no. */
		if (isdigit((unsigned char)v[0])) {
			if ((r = si_kv_num(v, 0, 23, &n)) == 0 && !((UINT32_C(1) << n) & SI_PCRS_RESETTABLE))
				c->tpm2_measure_pcr = (int)n;
			else
				r = -EINVAL;
		} else if (si_kv_bool(v, &on) == 0) {
			c->tpm2_measure_pcr = on ? 15 : -1;
		} else {
			r = -EINVAL;
		}
		expect = "no, yes (PCR 15) or a PCR number 0-23 other than the resettable 16 and 23";
	} else if (!strcmp(key, "tpm2_transient_primary")) {
		r = si_kv_bool(v, &c->tpm2_transient_primary);
		expect = "yes or no";
	} else if (!strcmp(key, "tpm2_public_key") || !strcmp(key, "escrow_public_key")) {
		char *dst = key[0] == 't' ? c->tpm2_public_key : c->escrow_public_key;

		r = !*v || *v == '/' ? si_kv_str(dst, SI_PATH_MAX, v) : -EINVAL;
		expect = "an absolute path (a PEM public key in the initramfs), or empty";
	} else if (!strcmp(key, "device_record")) {
		r = nv_index(v, SI_RECORD_DEFAULT, &c->device_record);
		expect = "yes (index 0x01805e01), no, or an NV index 0x01800000-0x01bfffff";
	} else if (!strcmp(key, "tpm2_counter")) {
		r = nv_index(v, SI_COUNTER_DEFAULT, &c->tpm2_counter);
		expect = "yes (index 0x01805e00), no, or an NV index 0x01800000-0x01bfffff";
	} else if (!strcmp(key, "provision")) {
		r = si_kv_bool(v, &c->provision);
		expect = "yes or no";
	} else if (!strcmp(key, "provision_mkfs")) {
		r = !*v || *v == '/' ? si_kv_str(c->provision_mkfs, sizeof(c->provision_mkfs), v) :
			-EINVAL;
		expect = "an absolute path to a program, then its arguments (e.g. "
			 "/sbin/mke2fs -q -t ext4), or empty";
	} else if (!strcmp(key, "escrow")) {
		r = !*v || !strcmp(v, "server") || si_kv_devspec(v) == 0 ?
			si_kv_str(c->escrow, sizeof(c->escrow), v) : -EINVAL;
		expect = "server, a device spec (LABEL=, PARTLABEL=, UUID=, /dev/...) of a removable "
			 "medium, or empty";
	} else if (!strncmp(key, "legacy_", 7)) {
		r = si_legacy_cfg_set(&c->legacy, key + 7, v, &expect);
		if (r == -ENOENT) {
			si_diag_set(d, "unknown key `%s'", what);
			return -EINVAL;
		}
	} else {
		si_diag_set(d, "unknown key `%s'", what);
		return -EINVAL;
	}
	if (r == -E2BIG) {
		si_diag_set(d, "`%s': value too long", what);
		return -EINVAL;
	}
	if (r < 0) {
		si_diag_set(d, "`%s': invalid value `%.64s' (expected %s)", what, v, expect);
		return -EINVAL;
	}
	return 0;
}

int si_bootcfg_parse_file(struct si_bootcfg *c, const char *text, struct si_diag *d)
{
	const char *p = text;
	int lineno = 0;

	while (*p) {
		char line[LINE_MAX_LEN], *k, *v, *e;
		size_t len = strcspn(p, "\n");
		struct si_diag kd = { { 0 } };

		lineno++;
		if (len >= sizeof(line)) {
			si_diag_set(d, "line %d: longer than %d bytes", lineno, LINE_MAX_LEN - 1);
			return -EINVAL;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');

		k = line;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || *k == '\0')
			continue;
		e = k + strlen(k);
		while (e > k && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		v = strchr(k, '=');
		if (!v) {
			si_diag_set(d, "line %d: expected KEY=VALUE, got `%.64s'", lineno, k);
			return -EINVAL;
		}
		*v++ = '\0';
		if (set_key(c, k, v, k, &kd) < 0) {
			si_diag_set(d, "line %d: %s", lineno, kd.msg);
			return -EINVAL;
		}
	}
	return 0;
}

/* A locked-down boot takes a word only when it changes nothing: listed,
 * and harmless whatever the list says. */
static bool allowed_on_cmdline(const char *key)
{
	return si_kv_listed(CONFIG_LOCKDOWN_CMDLINE_KEYS, " ", key, strlen(key)) &&
	       harmless(key, strlen(key));
}

/* Locked down, a wait from the command line may only lengthen the one
 * configured: before is the value the key had. */
static int locked_wait(const struct si_bootcfg *c, const char *key, int before, const char *what,
		       const char *v, struct si_diag *d)
{
	const struct harmless_key *h = harmless(key, strlen(key));
	int now;

	if (!h || !h->only_longer)
		return 0;
	memcpy(&now, (const char *)c + h->offset, sizeof(now));
	if (now >= before)
		return 0;
	si_diag_set(d, "`%s=%.32s': shorter than the configured %d%s; a locked-down command line "
		    "may only lengthen a wait (a shorter one is how a TPM or a device is made to "
		    "look absent)", what, v, before, h->unit);
	return -EPERM;
}

/* Locked down, a standard key never changes the boot: root=, rootfstype=
 * and ip= are the boot loader's (L4T passes its own root=) and are
 * ignored, the file's values win; a different roothash= or init= is an
 * attack, and refused. */
static int locked_standard_key(struct si_bootcfg *c, const char *key, const char *v,
			       struct si_diag *d)
{
	const char *have = !strcmp(key, "root") ? c->root :
			   !strcmp(key, "rootfstype") ? c->rootfstype :
			   !strcmp(key, "init") ? c->init :
			   !strcmp(key, "roothash") ? c->roothash : c->ip;
	bool same = !strcmp(key, "roothash") ? !strcasecmp(have, v) : !strcmp(have, v);

	if (same)
		return 0;
	if (!strcmp(key, "init")) {
		si_diag_set(d, "`init=%.200s': this locked-down build boots only %s, the "
			    "configured init", v, c->init);
		return -EPERM;
	}
	if (!strcmp(key, "roothash")) {
		si_diag_set(d, "`roothash=%.200s': differs from the initramfs configuration "
			    "(roothash=%.130s); a locked-down build takes the root hash only from "
			    "there", v, *have ? have : "(unset)");
		return -EPERM;
	}
	if (!c->cmdline_ignored[0])
		snprintf(c->cmdline_ignored, sizeof(c->cmdline_ignored), "%.20s=%.100s", key, v);
	return 0;
}

struct cmdline_ctx {
	struct si_bootcfg *c;
	struct si_diag *d;
};

/* One word, as the kernel hands it on (core/events.h). */
static int cmdline_word(void *ctx, const struct si_cmdline_word *w)
{
	static char tok[CMDLINE_MAX];
	struct cmdline_ctx *x = ctx;
	struct si_bootcfg *c = x->c;
	struct si_diag *d = x->d;
	char *v;
	int r = 0;

	if (w->key_len + 1 + (w->val ? w->val_len : 0) >= sizeof(tok))
		return 0;  /* longer than a command line: not a word of ours */
	memcpy(tok, w->key, w->key_len);
	tok[w->key_len] = '\0';
	if (!w->val) {
		if (!strcmp(tok, "ro"))
			c->ro = true;
		/* A boot loader may add rw (L4T's does); a locked-down root
		 * stays read-only whatever it says. */
		else if (!strcmp(tok, "rw") && !c->lockdown)
			c->ro = false;
		return 0;
	}
	v = tok + w->key_len + 1;
	memcpy(v, w->val, w->val_len);
	v[w->val_len] = '\0';
	if (!strncmp(tok, "sealinit.", 9)) {
		const char *key = tok + 9;
		const struct harmless_key *h = harmless(key, strlen(key));
		char what[80];
		int before = 0;

		snprintf(what, sizeof(what), "%.70s", tok);
		const char *why = file_only(key);

		if (why) {
			si_diag_set(d, "`%s': read from /etc/sealinit.conf only (%s)", what, why);
			return -EINVAL;
		}
		if (!strcmp(key, "cmdline") || !strcmp(key, "cmdline_volatile") ||
		    !strcmp(key, "lockdown")) {
			si_diag_set(d, "`%s': set only in the initramfs configuration, never "
				    "on the command line it governs", what);
			return -EPERM;
		}
		if (c->lockdown && !allowed_on_cmdline(key)) {
			si_diag_set(d, "`%s=%.100s': refused, this build is locked down; the "
				    "command line may set only: %s", what, v,
				    CONFIG_LOCKDOWN_CMDLINE_KEYS);
			return -EPERM;
		}
		if (h)
			memcpy(&before, (const char *)c + h->offset, sizeof(before));
		r = set_key(c, key, v, what, d);
		if (r == 0 && c->lockdown)
			r = locked_wait(c, key, before, what, v, d);
	} else if (!strcmp(tok, "root") || !strcmp(tok, "rootfstype") ||
		   !strcmp(tok, "init") || !strcmp(tok, "roothash") || !strcmp(tok, "ip")) {
		/* Standard keys keep their meaning (roothash= as systemd's
		 * veritysetup generator reads it). */
		r = c->lockdown ? locked_standard_key(c, tok, v, d) : set_key(c, tok, v, tok, d);
	}
	return r;
}

int si_bootcfg_parse_cmdline(struct si_bootcfg *c, const char *cmdline, struct si_diag *d)
{
	struct cmdline_ctx x = { c, d };

	if (strlen(cmdline) >= CMDLINE_MAX) {
		si_diag_set(d, "kernel command line longer than %d bytes", CMDLINE_MAX - 1);
		return -EINVAL;
	}
	/* The words the kernel and systemd see, or a refusal naming the
	 * byte where they would see others. */
	return si_cmdline_words(cmdline, cmdline_word, &x, d);
}

/* The TPM is used: as a key source, or to migrate to. */
static bool uses_tpm(const struct si_bootcfg *c)
{
	int i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i] == SI_SRC_TPM2)
			return ENABLE_TPM2;
	return ENABLE_TPM2 && c->migrate;
}

static bool keysource(const struct si_bootcfg *c, enum si_keysource k)
{
	int i;

	for (i = 0; i < c->nsources; i++)
		if (c->sources[i] == k)
			return true;
	return false;
}

/*
 * The data volume must be bound when the TPM opens it locked down: a token
 * sealed by anyone, in any state, to the public policy of a genuine one
 * unseals in the genuine state (docs/threat-model.md, "Rogue volume").
 * The record binds a fleet's devices; the pin, one device. Provisioning
 * needs the record (the volume it makes would be bound to nothing) and
 * an escrow (a volume nobody could recover).
 */
static int validate_fleet(const struct si_bootcfg *c, struct si_diag *d)
{
	if (c->device_record && !c->tpm2_public_key[0]) {
		si_diag_set(d, "device_record=0x%08x needs tpm2_public_key= (the fleet's PCR-signing "
			    "key: the record's policy is made from it)", (unsigned int)c->device_record);
		return -EINVAL;
	}
	if (c->device_record && !keysource(c, SI_SRC_TPM2)) {
		si_diag_set(d, "device_record: only the tpm2 key source reads the record, and "
			    "keysources has none");
		return -EINVAL;
	}
	if (c->lockdown && keysource(c, SI_SRC_TPM2) && !c->device_record &&
	    !c->fixate_volume_key[0]) {
		si_diag_set(d, "locked down, and the data volume is bound to nothing: set "
			    "device_record= (a fleet's devices) or fixate_volume_key= (one device); "
			    "without either, a volume whose token anyone sealed to the public policy "
			    "of the genuine one opens");
		return -EINVAL;
	}
	if (!c->provision)
		return 0;
	if (!c->device_record) {
		si_diag_set(d, "provision=yes needs device_record=: a volume made at boot must be "
			    "bound by the record");
		return -EINVAL;
	}
	if (!c->provision_mkfs[0]) {
		si_diag_set(d, "provision=yes needs provision_mkfs= (the program that makes the "
			    "file system for fstype=%s)", c->data_fstype);
		return -EINVAL;
	}
	if (!c->escrow[0] || !c->escrow_public_key[0]) {
		si_diag_set(d, "provision=yes needs escrow= (server, or a removable medium) and "
			    "escrow_public_key=: a volume whose recovery key went nowhere cannot "
			    "be recovered");
		return -EINVAL;
	}
	if (!strcmp(c->escrow, "server")) {
		struct si_diag ld;

		if (!ENABLE_LEGACY_NET) {
			si_diag_set(d, "escrow=server: this build has no legacy network client "
				    "(CONFIG_LEGACY_NET), which sends the escrow; use escrow= a "
				    "removable medium's partition");
			return -EINVAL;
		}
		if (!c->legacy.api[0]) {
			si_diag_set(d, "escrow=server needs legacy_api= (the fleet server), with "
				    "legacy_ca= or legacy_pin=, legacy_fingerprint= and the "
				    "credentials (legacy_credentials=)");
			return -EINVAL;
		}
		if (si_legacy_cfg_validate_server(&c->legacy, &ld) < 0) {
			si_diag_set(d, "escrow=server: %s", ld.msg);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The fTPM's store is served by the supplicant: a store without one would
 * be mounted for nobody, and the fTPM (if any) would run on RAM. The store
 * must be a partition of its own: the supplicant writes there, and the
 * root (verity), its hash tree and the data volume are never written
 * outside their own rules. The boot compares the devices themselves
 * (boot/teestore.c); here, the specs, so a plain mistake is named before
 * any disk is touched. A supplicant without a store is taken: with RPMB
 * the fTPM's NV is not in the REE FS, and without either the fTPM starts
 * blank every boot and unseals nothing (docs/boot.md says so).
 */
static int validate_tee(const struct si_bootcfg *c, struct si_diag *d)
{
	const struct { const char *key, *spec; } others[] = {
		{ "root", c->root }, { "data", c->data }, { "hashdev", c->hashdev },
	};
	size_t i;

	if (!c->tee_storage[0])
		return 0;
	if (!c->tee_supplicant[0]) {
		si_diag_set(d, "tee_storage=%s needs tee_supplicant= (the program that serves the "
			    "store, started with --fs-parent-path on it)", c->tee_storage);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strcmp(others[i].spec, c->tee_storage))
			continue;
		si_diag_set(d, "tee_storage=%s is also %s=: the fTPM's store is a partition of its "
			    "own", c->tee_storage, others[i].key);
		return -EINVAL;
	}
	return 0;
}

int si_bootcfg_validate(const struct si_bootcfg *c, struct si_diag *d)
{
	struct si_diag pd;
	int i;

	/* A key outside the table would be taken locked down and left out
	 * of the measurement: a build that lists one is refused. */
	if (si_bootcfg_lockdown_keys_check(CONFIG_LOCKDOWN_CMDLINE_KEYS, d) < 0)
		return -EINVAL;
	if (!c->root[0]) {
		si_diag_set(d, "no root device: set root= on the kernel command line or in the config");
		return -EINVAL;
	}
	if (!c->data[0]) {
		si_diag_set(d, "no data device: set data= in the config or sealinit.data=");
		return -EINVAL;
	}
	if (c->measure == SI_MEASURE_VERITY && !c->roothash[0]) {
		si_diag_set(d, "measure=verity needs roothash= (the pinned dm-verity root hash)");
		return -EINVAL;
	}
	if (uses_tpm(c) && c->measure != SI_MEASURE_NONE &&
	    (UINT32_C(1) << c->measure_pcr) & SI_PCRS_RESETTABLE) {
		si_diag_set(d, "pcr=%u: the rootfs is never measured into a PCR that any process "
			    "with the TPM can reset (16, 23)", c->measure_pcr);
		return -EINVAL;
	}
	if (uses_tpm(c) && c->migrate && c->migrate_pcrs &&
	    si_pcrs_check_sealable(c->migrate_pcrs, &pd) < 0) {
		si_diag_set(d, "migrate_pcrs: %.400s", pd.msg);
		return -EINVAL;
	}
	/* The token a migration enrolls is one the boot opens: it must bind a
	 * PCR the boot caps, or the booted system could unseal it again. */
	if (uses_tpm(c) && c->migrate &&
	    si_pcrs_check_capped(si_bootcfg_migrate_pcrs(c), c->cap_pcrs, &pd) < 0) {
		si_diag_set(d, "migrate_pcrs: %.400s", pd.msg);
		return -EINVAL;
	}
	if (uses_tpm(c) && !c->cap_pcrs) {
		si_diag_set(d, "pcrs= is empty: nothing would be capped, and the booted system "
			    "could unseal the key again");
		return -EINVAL;
	}
	if (uses_tpm(c) && c->measure != SI_MEASURE_NONE &&
	    !(c->cap_pcrs & (UINT32_C(1) << c->measure_pcr))) {
		char buf[96];

		si_pcrs_format(c->cap_pcrs, buf, sizeof(buf));
		si_diag_set(d, "pcrs=%s does not cover pcr=%u, where the rootfs is measured: every "
			    "PCR the boot measures into is capped", buf, c->measure_pcr);
		return -EINVAL;
	}
	if (c->lockdown && c->failure == SI_FAIL_SHELL) {
		si_diag_set(d, "failure=shell: a locked-down boot never hands the console a shell");
		return -EINVAL;
	}
	if (uses_tpm(c) && c->migrate && (!c->cmdline[0] || c->measure != SI_MEASURE_VERITY)) {
		si_diag_set(d, "migrate=yes seals the TPM to the state the configuration expects: it "
			    "needs cmdline= (the expected kernel command line) and measure=verity "
			    "(a pinned root hash)");
		return -EINVAL;
	}
	if (c->tpm2_measure_pcr >= 0 && !keysource(c, SI_SRC_TPM2)) {
		si_diag_set(d, "tpm2_measure_pcr=%d: only the tpm2 key source measures the volume, "
			    "and keysources has none", c->tpm2_measure_pcr);
		return -EINVAL;
	}
	if (validate_fleet(c, d) < 0)
		return -EINVAL;
	if (validate_tee(c, d) < 0)
		return -EINVAL;
	if (!c->nsources) {
		si_diag_set(d, "no key source: this build has neither TPM2 support nor the legacy "
			    "network fetch (CONFIG_TPM2, CONFIG_LEGACY_NET)");
		return -EINVAL;
	}
	for (i = 0; i < c->nsources; i++) {
		if (c->sources[i] == SI_SRC_TPM2 && !ENABLE_TPM2) {
			si_diag_set(d, "keysources: this build has no TPM2 support");
			return -EINVAL;
		}
		if (c->sources[i] != SI_SRC_LEGACY)
			continue;
		if (!ENABLE_LEGACY_NET) {
			si_diag_set(d, "keysources: this build has no legacy network fetch");
			return -EINVAL;
		}
		if (c->legacy.api[0] || c->nsources == 1)
			return si_legacy_cfg_validate(&c->legacy, d);
	}
	return 0;
}

uint32_t si_bootcfg_migrate_pcrs(const struct si_bootcfg *c)
{
	struct si_diag d;
	uint32_t mask = 0;

	if (c->migrate_pcrs)
		return c->migrate_pcrs;
	if (si_pcrs_parse(CONFIG_TPM2_DEFAULT_PCRS, &mask, &d) < 0)
		mask = 0;
	return mask | UINT32_C(1) << c->measure_pcr;
}

/* The fleet's keys, each only when set: configurations without them
 * keep the configuration event (and the values signed for it) they had. */
static int format_fleet(const struct si_bootcfg *c, char *buf, size_t size, int n)
{
	if (c->tpm2_public_key[0])
		n += snprintf(buf + n, size - (size_t)n, "tpm2_public_key=%s\n", c->tpm2_public_key);
	if (c->device_record)
		n += snprintf(buf + n, size - (size_t)n, "device_record=0x%08x\n",
			      (unsigned int)c->device_record);
	if (c->provision)
		n += snprintf(buf + n, size - (size_t)n, "provision=yes\n");
	if (c->tpm2_counter != SI_COUNTER_DEFAULT) {
		if (c->tpm2_counter)
			n += snprintf(buf + n, size - (size_t)n, "tpm2_counter=0x%08x\n",
				      (unsigned int)c->tpm2_counter);
		else
			n += snprintf(buf + n, size - (size_t)n, "tpm2_counter=no\n");
	}
	if (c->provision_mkfs[0])
		n += snprintf(buf + n, size - (size_t)n, "provision_mkfs=%s\n", c->provision_mkfs);
	if (c->escrow[0])
		n += snprintf(buf + n, size - (size_t)n, "escrow=%s\n", c->escrow);
	if (c->escrow_public_key[0])
		n += snprintf(buf + n, size - (size_t)n, "escrow_public_key=%s\n",
			      c->escrow_public_key);
	return n;
}

int si_bootcfg_format(const struct si_bootcfg *c, char *buf, size_t size)
{
	static const char *const measures[] = { "verity", "image", "none" };
	static const char *const failures[] = { "poweroff", "halt", "reboot", "shell" };
	static const char *const srcnames[] = { "", "tpm2", "legacy" };
	char pcrs[96], mpcrs[96];
	int n, k;

	si_pcrs_format(c->cap_pcrs, pcrs, sizeof(pcrs));
	si_pcrs_format(c->migrate_pcrs, mpcrs, sizeof(mpcrs));
	n = snprintf(buf, size,
		     "root=%s\nrootfstype=%s\nro=%s\ninit=%s\nmeasure=%s\npcr=%u\n"
		     "roothash=%s\nhashdev=%s\nhashoffset=%llu\ndata=%s\nname=%s\nmount=%s\n"
		     "fstype=%s\ncipher=%s\nkey_size=%d\ntcti=%s\ntee_supplicant=%s\npcrs=%s\n"
		     "tpm_timeout=%d\ndevice_timeout=%d\n"
		     "failure=%s\nfailure_delay=%d\npin_timeout=%d\nrecovery_timeout=%d\nloglevel=%d\n",
		     c->root, c->rootfstype, c->ro ? "yes" : "no", c->init, measures[c->measure], c->measure_pcr,
		     c->roothash, c->hashdev, (unsigned long long)c->hashoffset, c->data,
		     c->data_name, c->data_mount, c->data_fstype, c->data_cipher, c->data_key_bits,
		     c->tcti, c->tee_supplicant, pcrs,
		     c->tpm_timeout_ms, c->device_timeout_ms, failures[c->failure],
		     c->failure_delay_s, c->pin_timeout_s, c->recovery_timeout_s, c->loglevel);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	/* A build with no key source at all has none to print (and
	 * validation refuses it): no line, so the output still parses. */
	if (c->nsources)
		n += snprintf(buf + n, size - (size_t)n, "keysources=%s%s%s\n",
			      srcnames[c->sources[0]], c->nsources > 1 ? "," : "",
			      c->nsources > 1 ? srcnames[c->sources[1]] : "");
	if ((size_t)n >= size)
		return -ENOSPC;
	n += snprintf(buf + n, size - (size_t)n,
		      "ip=%s\nnet_timeout=%d\nmigrate=%s\nmigrate_finish=%s\nmigrate_pcrs=%s\n"
		      "cmdline=%s\ncmdline_volatile=%s\nlockdown=%s\n",
		      c->ip, c->net_timeout_ms,
		      c->migrate ? "yes" : "no", c->migrate_finish ? "yes" : "no",
		      c->migrate_pcrs ? mpcrs : "", c->cmdline, c->cmdline_volatile,
		      c->lockdown ? "yes" : "no");
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	n += snprintf(buf + n, size - (size_t)n, "fixate_volume_key=%s\n", c->fixate_volume_key);
	/* Only when set otherwise: configurations without it keep the
	 * configuration event (and the PCR values signed for it) they had. */
	if (strcmp(c->tpm2_signature, SI_SIGFILE_DEFAULT))
		n += snprintf(buf + n, size - (size_t)n, "tpm2_signature=%s\n", c->tpm2_signature);
	if (c->tpm2_measure_pcr >= 0)
		n += snprintf(buf + n, size - (size_t)n, "tpm2_measure_pcr=%d\n", c->tpm2_measure_pcr);
	else
		n += snprintf(buf + n, size - (size_t)n, "tpm2_measure_pcr=no\n");
	/* Only when set: configurations without it measure as before. */
	if (c->tpm2_transient_primary)
		n += snprintf(buf + n, size - (size_t)n, "tpm2_transient_primary=yes\n");
	if (c->tee_storage[0])
		n += snprintf(buf + n, size - (size_t)n, "tee_storage=%s\n", c->tee_storage);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	n = format_fleet(c, buf, size, n);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	k = si_legacy_cfg_format(&c->legacy, buf + n, size - (size_t)n);
	return k < 0 ? k : 0;
}

int si_bootcfg_format_measured(const struct si_bootcfg *c, char *buf, size_t size)
{
	char *in, *out;
	int r = si_bootcfg_format(c, buf, size);

	if (r < 0)
		return r;
	/* The printed form without the lines of the keys never measured:
	 * by rule, from the table, so a new key is measured unless it is
	 * added there. */
	for (in = out = buf; *in;) {
		size_t len = strcspn(in, "\n") + (in[strcspn(in, "\n")] == '\n');
		const char *eq = memchr(in, '=', len);

		if (!eq || !si_bootcfg_key_unmeasured(in, (size_t)(eq - in))) {
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	*out = '\0';
	return 0;
}
