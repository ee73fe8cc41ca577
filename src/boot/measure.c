/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include "boot/measure.h"
#include "boot/pid1.h"
#include "config.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"
#include "core/unlock.h"
#include "core/volkey.h"

#define EVENTLOG    "/run/sealinit/eventlog"
#define VERITY_NAME "sealroot"

/* The one state of this module: where the TPM is, and whether the PCRs
 * still need their cap. */
static struct {
	enum { TPM_UNKNOWN, TPM_ABSENT, TPM_PRESENT } tpm;
	enum { CAP_NONE, CAP_PENDING, CAP_DONE } cap;
	uint32_t cap_mask;
	unsigned int pcr;
	char tcti[SI_PATH_MAX];
	int timeout_ms;
} st;

static void event_log(unsigned int pcr, const char *event)
{
	int fd = open(EVENTLOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	dprintf(fd, "pcr=%u event=%s\n", pcr, event);
	close(fd);
}

static void capped(void)
{
	unsigned int i;

	st.cap = CAP_DONE;
	for (i = 0; i < SI_PCR_COUNT; i++)
		if (st.cap_mask & (UINT32_C(1) << i))
			event_log(i, SI_CAP_EVENT);
}

int measure_wait_tpm(const struct si_bootcfg *c, struct si_diag *d)
{
	const char *tpmdev = NULL;
	char path[SI_PATH_MAX];

	if (!strncmp(c->tcti, "device:", 7))
		tpmdev = c->tcti + 7;
	else if (!strcmp(c->tcti, "device"))
		tpmdev = "/dev/tpmrm0";
	if (tpmdev && pid1_wait_for("TPM", tpmdev, path, sizeof(path), c->device_timeout_ms, d) < 0) {
		si_diag_set(d, "%s did not appear within %d ms", tpmdev, c->device_timeout_ms);
		return -SI_ENOTPM;
	}
	return 0;
}

int measure_begin(const struct si_bootcfg *c, bool tpm_used, bool legacy_possible,
		  struct si_diag *d)
{
	int r;

	snprintf(st.tcti, sizeof(st.tcti), "%s", c->tcti);
	st.timeout_ms = c->tpm_timeout_ms;
	st.pcr = c->measure_pcr;
	st.cap_mask = c->cap_pcrs;
	st.cap = c->cap_pcrs ? CAP_PENDING : CAP_NONE;
	if (!ENABLE_TPM2 || (c->measure != SI_MEASURE_NONE && !tpm_used)) {
		/* keysources=legacy without migration: nothing will be sealed
		 * or unsealed, so no TPM is waited for. */
		st.tpm = TPM_ABSENT;
		st.cap = CAP_NONE;
		say(5, "%s: the TPM is not used and the rootfs is not measured",
		    ENABLE_TPM2 ? "keysources=legacy" : "this build has no TPM2 support");
		return 0;
	}
	if (c->measure == SI_MEASURE_NONE)
		return 0;
	/* The measurement is the TPM's first use: wait for it here, not only
	 * before unsealing, or a TPM that shows up late fails the boot. */
	r = measure_wait_tpm(c, d);
	if (r == 0) {
		st.tpm = TPM_PRESENT;
		return 0;
	}
	if (!legacy_possible) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "measuring the rootfs into PCR %u: %s: %.200s", c->measure_pcr,
			    si_strerror(r), why);
		return r;
	}
	/* A device without a TPM: the legacy fetch is its key source. */
	st.tpm = TPM_ABSENT;
	st.cap = CAP_NONE;
	say(4, "no TPM (%s): the rootfs is not measured; only the legacy source can unlock", d->msg);
	return 0;
}

bool measure_no_tpm(void)
{
	return st.tpm == TPM_ABSENT;
}

static int extend(const char *event, struct si_diag *d)
{
	struct si_pcr_opts o = { .tcti = st.tcti, .timeout_ms = st.timeout_ms,
				 .pcr_mask = UINT32_C(1) << st.pcr };
	int r;

	if (!ENABLE_TPM2 || st.tpm == TPM_ABSENT) {
		say(5, "no TPM: %s is not measured", event);
		return 0;
	}
	r = si_pcr_event(&o, event, strlen(event), d);
	if (r < 0) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "measuring the rootfs into PCR %u: %s: %.200s", st.pcr, si_strerror(r),
			    why);
		return r;
	}
	event_log(st.pcr, event);
	say(5, "measured %s into PCR %u", event, st.pcr);
	return 0;
}

static int read_first_block(const char *dev)
{
	static char block[4096];
	ssize_t n;
	int fd = open(dev, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	while ((n = pread(fd, block, sizeof(block), 0)) < 0 && errno == EINTR)
		;
	if (n < 0)
		r = -errno;
	close(fd);
	return r;
}

/* dm-verity: the pinned root hash is checked against the hash tree, the
 * root is opened through verity (every later read is verified), and the
 * root hash is what gets measured: O(1) at any rootfs size. */
static int measure_verity(const struct si_bootcfg *c, const char *rootdev, const char *hashdev,
			  char *mountdev, size_t size, struct si_diag *d)
{
	/* No CRYPT_VERITY_CHECK_HASH: with it, libcryptsetup hashes the whole
	 * data device in userspace before activating (VERITY_verify), which is
	 * O(rootfs size): 1.1 s for 21 MiB under QEMU TCG. The kernel verifies
	 * every block it reads against the root hash anyway. */
	struct crypt_params_verity params = { .hash_area_offset = c->hashoffset };
	struct crypt_device *cd = NULL;
	uint8_t hash[64];
	char event[200];
	long n;
	int i, r;

	n = si_hex_decode(hash, sizeof(hash), c->roothash);
	if (n <= 0) {
		si_diag_set(d, "roothash=%s is not hex", c->roothash);
		return -EINVAL;
	}
	r = crypt_init_data_device(&cd, hashdev, rootdev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, &params);
	if (r < 0) {
		crypt_free(cd);
		si_diag_set(d, "dm-verity: no verity superblock on %s (%s)", hashdev, strerror(-r));
		return r;
	}
	r = crypt_activate_by_volume_key(cd, VERITY_NAME, (const char *)hash, (size_t)n,
					 CRYPT_ACTIVATE_READONLY);
	crypt_free(cd);
	if (r < 0) {
		si_diag_set(d, "dm-verity refused the rootfs: root hash %s does not match %s (%s)",
			    c->roothash, hashdev, strerror(-r));
		return r;
	}
	snprintf(mountdev, size, "/dev/mapper/" VERITY_NAME);
	/* Reading the first block through the mapping checks the pinned root
	 * hash against the top of the hash tree, in O(tree height): a wrong
	 * roothash or hash device fails here, by name, not as a mount error. */
	r = read_first_block(mountdev);
	if (r < 0) {
		si_diag_set(d, "dm-verity refused the rootfs: reading %s through root hash %s failed "
			    "(%s): %s or its hash tree on %s does not match", mountdev, c->roothash,
			    strerror(-r), rootdev, hashdev);
		return r;
	}
	snprintf(event, sizeof(event), "sealinit:verity:%s", c->roothash);
	for (i = 0; event[i]; i++)
		if (event[i] >= 'A' && event[i] <= 'F')
			event[i] = (char)(event[i] - 'A' + 'a');
	return extend(event, d);
}

struct hash_progress {
	const char *dev;
	uint64_t size;
	double last;
};

static void hash_progress(void *ctx, uint64_t done)
{
	struct hash_progress *p = ctx;

	if (p->size && uptime_ms() - p->last > 1000) {
		p->last = uptime_ms();
		say(5, "hashing %s: %llu%%", p->dev, (unsigned long long)(done * 100 / p->size));
	}
}

/* Image mode: SHA-256 of the whole root device, with progress. */
static int measure_image(const char *rootdev, struct si_diag *d)
{
	struct hash_progress prog = { rootdev, 0, uptime_ms() };
	uint8_t digest[SI_SHA256_SIZE];
	char hex[2 * SI_SHA256_SIZE + 1], event[100];
	uint64_t done = 0;
	double t0 = uptime_ms();
	off_t end;
	int fd, r;

	fd = open(rootdev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "measuring %s: %s", rootdev, strerror(-r));
		return r;
	}
	end = lseek(fd, 0, SEEK_END);
	prog.size = end > 0 ? (uint64_t)end : 0;
	lseek(fd, 0, SEEK_SET);
	r = si_sha256_fd(fd, digest, &done, hash_progress, &prog);
	close(fd);
	if (r < 0) {
		si_diag_set(d, "reading %s at %llu: %s", rootdev, (unsigned long long)done,
			    strerror(-r));
		return r;
	}
	si_hex_encode(hex, digest, sizeof(digest));
	say(6, "hashed %llu MiB in %.0f ms", (unsigned long long)(done >> 20), uptime_ms() - t0);
	snprintf(event, sizeof(event), "sealinit:image:%s", hex);
	return extend(event, d);
}

int measure_rootfs(const struct si_bootcfg *c, const char *rootdev, const char *hashdev,
		   char *mountdev, size_t size, struct si_diag *d)
{
	snprintf(mountdev, size, "%s", rootdev);
	if (c->measure == SI_MEASURE_VERITY)
		return measure_verity(c, rootdev, hashdev, mountdev, size, d);
	if (c->measure == SI_MEASURE_IMAGE)
		return measure_image(rootdev, d);
	say(4, "measure=none: the rootfs is not measured");
	return 0;
}

int measure_init(const struct si_bootcfg *c, const char *newroot, struct si_diag *d)
{
	char path[2 * SI_PATH_MAX], hex[2 * SI_SHA256_SIZE + 1];
	uint8_t digest[SI_SHA256_SIZE];
	int fd, r;

	snprintf(path, sizeof(path), "%s%s", newroot, c->init);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "the real init %s is missing from the rootfs (%s)", c->init,
			    strerror(-r));
		return r;
	}
	r = si_sha256_fd(fd, digest, NULL, NULL, NULL);
	close(fd);
	if (r < 0) {
		si_diag_set(d, "reading the real init %s: %s (rootfs fails verification)", c->init,
			    strerror(-r));
		return r;
	}
	si_hex_encode(hex, digest, sizeof(digest));
	say(7, "real init %s: sha256 %s", c->init, hex);
	return 0;
}

void measure_note_volume(unsigned int pcr, const char *event, const char *sha256)
{
	char line[SI_VOLKEY_PREFIX_MAX + 96];

	snprintf(line, sizeof(line), "%s type=volume-key sha256=%s", event, sha256);
	event_log(pcr, line);
}

void measure_cap_plan(struct si_unlock_opts *o, bool keep_on_failure)
{
	o->cap_mask = st.cap == CAP_PENDING ? st.cap_mask : 0;
	o->cap_event = SI_CAP_EVENT;
	o->cap_only_on_success = keep_on_failure;
}

void measure_cap_result(const struct si_unlock_result *res)
{
	if (res->capped && st.cap == CAP_PENDING)
		capped();
}

int measure_cap(struct si_diag *d)
{
	struct si_pcr_opts o = { .tcti = st.tcti, .timeout_ms = st.timeout_ms,
				 .pcr_mask = st.cap_mask, .verify = true };
	int r;

	if (!ENABLE_TPM2 || st.cap != CAP_PENDING || st.tpm == TPM_ABSENT)
		return 0;
	r = si_pcr_event(&o, SI_CAP_EVENT, strlen(SI_CAP_EVENT), d);
	if (r < 0) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "capping PCRs failed: %s: %.200s", si_strerror(r), why);
		return r;
	}
	capped();
	return 0;
}
