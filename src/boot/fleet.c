/* SPDX-License-Identifier: MIT */
/*
 * The boot's fleet steps on raw partitions: the release's signature file
 * read from one, the recovery key's escrow document written to another
 * (fleet.h). Each device access runs in a worker under a deadline: a disk
 * that stops answering ends in a message, never in a hung PID 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/fleet.h"
#include "boot/pid1.h"
#include "config.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/legacy/client.h"
#include "core/legacy/net.h"
#include "core/provision.h"
#include "core/textfile.h"
#include "core/sigfile.h"
#include "core/worker.h"

/* A path in the initramfs, or a partition (PARTLABEL=, PARTUUID=, /dev/). */
static bool on_partition(const char *spec)
{
	return spec[0] != '/' || !strncmp(spec, "/dev/", 5);
}

static int read_all(int fd, char *buf, size_t size, size_t *got)
{
	ssize_t k;

	*got = 0;
	while (*got < size) {
		k = read(fd, buf + *got, size - *got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return 0;
}

struct sig_job {
	const char *dev;
};

static int sig_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct sig_job *j = arg;
	char *buf = malloc(SI_SIGFILE_MAX + 1);
	size_t got = 0, len;
	int fd, r;

	(void)w;
	(void)out;
	if (!buf)
		return -ENOMEM;
	fd = open(j->dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "opening %s: %s", j->dev, strerror(-r));
		goto out;
	}
	r = read_all(fd, buf, SI_SIGFILE_MAX + 1, &got);
	close(fd);
	if (r < 0) {
		si_diag_set(d, "reading %s: %s", j->dev, strerror(-r));
		goto out;
	}
	/* A partition: the file, then zeros; a file: the file, to its end. */
	len = strnlen(buf, got);
	if (len == 0 || len > SI_SIGFILE_MAX) {
		si_diag_set(d, "%s: %s", j->dev, len ? "no NUL byte in the first 256 KiB: not a "
			    "signature partition (the file, then zeros)" : "empty: no signature "
			    "file was written to it");
		r = -SI_EBADSIG;
		goto out;
	}
	(void)mkdir("/run/sealinit", 0755);
	r = pid1_publish(SI_FLEET_SIGNATURE_RUN, buf, len);
	if (r < 0)
		si_diag_set(d, "writing %s: %s", SI_FLEET_SIGNATURE_RUN, strerror(-r));
out:
	free(buf);
	return r;
}

const char *fleet_signature(const struct si_bootcfg *c, struct si_diag *d)
{
	static bool done;
	char dev[SI_PATH_MAX];
	struct sig_job job = { dev };
	struct si_work w = {
		.fn = sig_work, .arg = &job, .deadline_ms = c->tpm_timeout_ms,
		.timeout_code = -SI_ETIMEOUT, .noun = "the signature partition",
	};
	struct si_diag wd = { { 0 } };
	int r;

	if (done)
		return SI_FLEET_SIGNATURE_RUN;
	if (!on_partition(c->tpm2_signature)) {
		/* The booted system gets the release's file too (`status',
		 * `reseal'): it is public, and the initramfs is gone by then. */
		snprintf(dev, sizeof(dev), "%s", c->tpm2_signature);
		/* A file in RAM: nothing to wait for, so no worker. */
		if (access(dev, R_OK) < 0 || sig_work(&job, NULL, NULL, &wd) < 0)
			return c->tpm2_signature;
		done = true;
		return SI_FLEET_SIGNATURE_RUN;
	}
	r = pid1_wait_for("signature partition", c->tpm2_signature, dev, sizeof(dev),
			  c->device_timeout_ms, &wd);
	if (r == 0)
		r = si_worker_run(&w, &wd);
	if (r < 0) {
		si_diag_set(d, "tpm2_signature=%.100s: %.380s", c->tpm2_signature, wd.msg);
		return NULL;
	}
	done = true;
	say(6, "signature file: %s, from %s", SI_FLEET_SIGNATURE_RUN, dev);
	return SI_FLEET_SIGNATURE_RUN;
}

struct escrow_job {
	const char *dev;
	const char *json;
};

static bool all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int escrow_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	const struct escrow_job *j = arg;
	size_t len = strlen(j->json), got;
	off_t at;
	char *slot = malloc(SI_ESCROW_SLOT), *doc = calloc(1, SI_ESCROW_SLOT);
	bool found = false;
	int fd = -1, r = 0;

	(void)w;
	(void)out;
	if (!slot || !doc) {
		r = -ENOMEM;
		goto out;
	}
	/* One slot a document, its NUL inside: a slot is free or one whole
	 * document, never the tail of another. */
	if (len >= SI_ESCROW_SLOT) {
		si_diag_set(d, "the escrow document has %zu bytes, more than a slot holds", len);
		r = -E2BIG;
		goto out;
	}
	memcpy(doc, j->json, len);
	fd = open(j->dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "opening %s: %s", j->dev, strerror(-r));
		goto out;
	}
	/* The first free slot: earlier documents stay. */
	for (at = 0; at < (off_t)SI_ESCROW_SPAN; at += SI_ESCROW_SLOT) {
		r = read_all(fd, slot, SI_ESCROW_SLOT, &got);
		if (r < 0) {
			si_diag_set(d, "reading %s: %s", j->dev, strerror(-r));
			goto out;
		}
		if (got < SI_ESCROW_SLOT)
			break;
		if (all_zero(slot, SI_ESCROW_SLOT)) {
			found = true;
			break;
		}
	}
	if (!found) {
		si_diag_set(d, "%s: no free slot in its first %u MiB (full, or not a blank escrow "
			    "medium)", j->dev, SI_ESCROW_SPAN >> 20);
		r = -ENOSPC;
		goto out;
	}
	errno = 0;
	if (pwrite(fd, doc, SI_ESCROW_SLOT, at) != SI_ESCROW_SLOT || fsync(fd) < 0) {
		r = errno ? -errno : -EIO;
		si_diag_set(d, "writing %s at %lld: %s", j->dev, (long long)at, strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(slot);
	free(doc);
	return r;
}

int fleet_escrow_medium(const struct si_bootcfg *c, const char *json, struct si_diag *d)
{
	char dev[SI_PATH_MAX];
	struct escrow_job job = { dev, json };
	struct si_work w = {
		.fn = escrow_work, .arg = &job, .deadline_ms = c->device_timeout_ms,
		.timeout_code = -SI_ETIMEOUT, .noun = "the escrow medium",
	};
	struct si_diag wd = { { 0 } };
	int r;

	r = pid1_wait_for("escrow medium", c->escrow, dev, sizeof(dev), c->device_timeout_ms, &wd);
	if (r == 0)
		r = si_worker_run(&w, &wd);
	if (r < 0)
		si_diag_set(d, "escrow=%.100s: %.380s", c->escrow, wd.msg);
	else
		say(5, "the recovery key, encrypted to the escrow key, is on %s", dev);
	return r;
}

int fleet_credentials_mount(const struct si_bootcfg *c, char *path, size_t size,
			    struct si_diag *d)
{
	unsigned long fl = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char dev[SI_PATH_MAX];

	if (pid1_wait_for("credentials device", c->legacy.credentials_dev, dev, sizeof(dev),
			  c->device_timeout_ms, d) < 0)
		return -SI_ECREDS;
	(void)mkdir("/run/sealinit", 0755);
	(void)mkdir(FLEET_CRED_MNT, 0700);
	/* ext4 keeps the file's owner and mode; vfat gets them from the
	 * mount options: root's, 0600. */
	if (mount(dev, FLEET_CRED_MNT, "ext4", fl, NULL) < 0 &&
	    mount(dev, FLEET_CRED_MNT, "vfat", fl, "uid=0,gid=0,fmask=0177,dmask=0077") < 0) {
		si_diag_set(d, "mounting the credentials device %s (ext4 or vfat): %s", dev,
			    strerror(errno));
		return -SI_ECREDS;
	}
	if (snprintf(path, size, FLEET_CRED_MNT "%s", c->legacy.credentials) >= (int)size) {
		fleet_credentials_umount();
		si_diag_set(d, "legacy_credentials: path too long");
		return -SI_ECREDS;
	}
	return 0;
}

void fleet_credentials_umount(void)
{
	if (umount2(FLEET_CRED_MNT, MNT_DETACH) < 0)
		say(4, "unmounting %s: %s", FLEET_CRED_MNT, strerror(errno));
}

static void server_progress(void *ctx, const char *msg)
{
	(void)ctx;
	say(5, "provision: escrow: %s", msg);
}

int fleet_escrow_server(const struct si_bootcfg *c, const char *json, struct si_diag *d)
{
	struct si_legacy_cfg lc = c->legacy;
	struct si_net_cfg net;
	struct si_diag sd = { { 0 } };
	char summary[64] = "";
	int r;

	if (!ENABLE_LEGACY_NET) {
		si_diag_set(d, "escrow=server: this build has no legacy network client "
			    "(CONFIG_LEGACY_NET)");
		return -SI_EUNSUPPORTED;
	}
	r = si_net_parse(c->ip, &net, &sd);
	if (r == 0 && net.mode != SI_NET_NONE)
		r = si_net_up(&net, c->net_timeout_ms, FLEET_UDHCPC_SCRIPT, summary,
			      sizeof(summary), &sd);
	if (r < 0) {
		si_diag_set(d, "escrow=server: the network (ip=%.60s): %.380s", c->ip, sd.msg);
		return r;
	}
	if (summary[0])
		say(5, "provision: escrow: network up: %s", summary);
	if (c->legacy.credentials_dev[0]) {
		r = fleet_credentials_mount(c, lc.credentials, sizeof(lc.credentials), &sd);
		if (r < 0) {
			si_diag_set(d, "escrow=server: %.440s", sd.msg);
			return r;
		}
	}
	r = si_legacy_escrow(&lc, server_progress, NULL, json, &sd);
	if (c->legacy.credentials_dev[0])
		fleet_credentials_umount();
	if (r < 0)
		si_diag_set(d, "escrow=server (%.120s): %.380s", c->legacy.api, sd.msg);
	else
		say(5, "the recovery key, encrypted to the escrow key, is with the fleet server");
	return r;
}

/* A LUKS2 volume (or LUKS1) at its primary header's place: 1, else 0. In
 * a worker, as every read of a disk: one that does not answer ends in a
 * message after device_timeout, not in a hung PID 1. */
static int magic_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	static const char magic[6] = { 'L', 'U', 'K', 'S', (char)0xba, (char)0xbe };
	const char *dev = arg;
	char buf[6];
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r;

	(void)w;
	(void)out;
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "opening %s: %s", dev, strerror(-r));
		return r;
	}
	r = pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) && !memcmp(buf, magic, 6);
	close(fd);
	return r;
}

int fleet_has_volume(const struct si_bootcfg *c, const char *dev, struct si_diag *d)
{
	struct si_work w = {
		.fn = magic_work, .arg = (void *)dev, .deadline_ms = c->device_timeout_ms,
		.timeout_code = -SI_ETIMEOUT, .noun = "the data device",
	};

	return si_worker_run(&w, d);
}

#define MKFS_WORDS 16

struct prov_job {
	const struct si_bootcfg *c;
	struct si_provision_opts o;
};

static void prov_progress(void *ctx, const char *step)
{
	(void)ctx;
	/* A quiet boot shows it too: it happens once, it writes the disk,
	 * and mke2fs on a large partition takes a while. */
	say(4, "provision: %s", step);
}

static int prov_escrow(void *ctx, const char *json, struct si_diag *d)
{
	const struct si_bootcfg *c = ctx;

	if (!strcmp(c->escrow, "server"))
		return fleet_escrow_server(c, json, d);
	return fleet_escrow_medium(c, json, d);
}

static int prov_work(void *arg, struct si_worker *w, void *out, struct si_diag *d)
{
	struct prov_job *j = arg;

	(void)w;
	if (ENABLE_TPM2)
		return si_provision(&j->o, out, d);
	return -SI_EUNSUPPORTED;
}

/* A PEM the configuration names, read whole into buf. */
static int read_pem(const char *what, const char *path, char *buf, size_t size, size_t *len,
		    struct si_diag *d)
{
	struct si_diag kd = { { 0 } };
	int n = si_textfile_read(path, buf, size, &kd);

	if (n < 0) {
		si_diag_set(d, "%s=%.100s: %.380s", what, path, kd.msg);
		return n;
	}
	*len = (size_t)n;
	return 0;
}

int fleet_provision(const struct si_bootcfg *c, const char *datadev, const char *signature,
		    struct si_diag *d)
{
	static char pcr_pem[16384], escrow_pem[16384], mkfs[SI_PATH_MAX];
	static const char *argv[MKFS_WORDS + 1];
	static struct si_provision_result res;
	static struct prov_job job;
	struct si_work w = {
		.fn = prov_work, .arg = &job, .out = &res, .out_size = sizeof(res),
		.timeout_code = -SI_ETIMEOUT, .noun = "provisioning",
	};
	char *save = NULL, *word;
	size_t n = 0;
	int r;

	if (!ENABLE_TPM2 || !c->provision)
		return 0;
	r = fleet_has_volume(c, datadev, d);
	if (r != 0)
		return r < 0 ? r : 0;
	job.c = c;
	job.o = (struct si_provision_opts){
		.device = datadev, .name = c->data_name, .workdir = "/run/sealinit",
		.cipher = c->data_cipher, .key_bits = c->data_key_bits,
		.tcti = c->tcti, .timeout_ms = c->tpm_timeout_ms,
		.pcr_mask = 0, .cap_pcrs = c->cap_pcrs, .pubkey_pcr_mask = c->cap_pcrs,
		.counter_nv = c->tpm2_counter, .signature = signature,
		.record_index = c->device_record, .mkfs_timeout_ms = 600000,
		.escrow_fn = prov_escrow, .escrow_ctx = (void *)c, .escrow_to = c->escrow,
		.progress = prov_progress,
	};
	r = read_pem("tpm2_public_key", c->tpm2_public_key, pcr_pem, sizeof(pcr_pem),
		     &job.o.pubkey_pem_len, d);
	if (r == 0)
		r = read_pem("escrow_public_key", c->escrow_public_key, escrow_pem,
			     sizeof(escrow_pem), &job.o.escrow_pubkey_pem_len, d);
	if (r < 0)
		return r;
	job.o.pubkey_pem = pcr_pem;
	job.o.escrow_pubkey_pem = escrow_pem;
	snprintf(mkfs, sizeof(mkfs), "%s", c->provision_mkfs);
	for (word = strtok_r(mkfs, " ", &save); word && n < MKFS_WORDS;
	     word = strtok_r(NULL, " ", &save))
		argv[n++] = word;
	argv[n] = NULL;
	job.o.mkfs_argv = argv;
	/* The TPM's commands, mke2fs, the escrow medium's wait and write, or
	 * the network's bring-up and the server's deadline. */
	w.deadline_ms = 4 * c->tpm_timeout_ms + job.o.mkfs_timeout_ms + 2 * c->device_timeout_ms;
	if (!strcmp(c->escrow, "server"))
		w.deadline_ms += c->net_timeout_ms + c->legacy.deadline_ms;
	(void)mkdir("/run/sealinit", 0755);
	r = si_worker_run(&w, d);
	if (r == -SI_ENOTBLANK) {
		say(4, "provision: %s is neither a LUKS2 volume nor blank, so it is not provisioned "
		    "and nothing was written: %s", datadev, d->msg);
		return 0;
	}
	if (r < 0)
		return r;
	say(4, "provisioned %s: volume %s, id %s, TPM keyslot %d, recovery keyslot %d%s, "
	    "recovery key escrowed to %s", datadev, res.uuid, res.volume_id, res.tpm_keyslot,
	    res.recovery_keyslot, res.resumed ? " (after a cut copy)" : "", c->escrow);
	return 0;
}
