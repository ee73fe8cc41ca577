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
#include <sys/stat.h>
#include <unistd.h>

#include "boot/fleet.h"
#include "boot/pid1.h"
#include "core/bootcfg.h"
#include "core/errors.h"
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
	len = strnlen(buf, got);
	if (len == got || len == 0) {
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

	if (!on_partition(c->tpm2_signature) || done)
		return on_partition(c->tpm2_signature) ? SI_FLEET_SIGNATURE_RUN : c->tpm2_signature;
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
