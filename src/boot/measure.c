/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <libcryptsetup.h>

#include "boot/measure.h"
#include "boot/pid1.h"
#include "config.h"
#include "core/b64.h"
#include "core/bootcfg.h"
#include "core/errors.h"
#include "core/events.h"
#include "core/hash.h"
#include "core/pcrs.h"
#include "core/tpm/pcr.h"
#include "core/unlock.h"
#include "core/volkey.h"

/* systemd's userspace event log, which systemd in the real root appends to. */
#define EVENTLOG_DIR "/run/log/systemd"
#define EVENTLOG     EVENTLOG_DIR "/tpm2-measure.log"
#define MAX_EVENTS   8
#define VERITY_NAME "sealroot"

/* The one state of this module: where the TPM is, and whether the PCRs
 * still need their cap. TPM_UNUSED: the boot did not look for one
 * (keysources=legacy); TPM_ABSENT: it looked, and none appeared in time;
 * TPM_LATE: it appeared after that, and got the boot's events and cap. */
static struct {
	enum measure_tpm tpm;
	enum { CAP_NONE, CAP_PENDING, CAP_DONE } cap;
	uint32_t cap_mask;
	unsigned int pcr;
	char tcti[SI_PATH_MAX];
	int timeout_ms;
	int wait_ms;
	/* The measurements of this boot, in order; [0, committed) are in
	 * the TPM and the log. */
	struct si_event ev[MAX_EVENTS];
	size_t nev, committed;
} st;

static void log_record(const char *rec, int n)
{
	int fd;

	if (n < 0)
		return;
	mkdir("/run/log", 0755);
	mkdir(EVENTLOG_DIR, 0755);
	fd = open(EVENTLOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, rec, (size_t)n) != n)
		say(4, "event log %s: short write", EVENTLOG);
	close(fd);
}

static void event_log(const struct si_event *e)
{
	static char rec[6 * SI_EVENT_MAX + 256];

	log_record(rec, si_event_cel(e, rec, sizeof(rec)));
}

static void capped(void)
{
	struct si_event e;
	unsigned int i;

	st.cap = CAP_DONE;
	for (i = 0; i < SI_PCR_COUNT; i++) {
		if (!(st.cap_mask & (UINT32_C(1) << i)))
			continue;
		si_event_string(&e, i, SI_CAP_EVENT);
		event_log(&e);
	}
}

/* The TPM's device node when the TCTI names one, else NULL. */
static const char *tpm_node(const char *tcti)
{
	if (!strncmp(tcti, "device:", 7))
		return tcti + 7;
	if (!strcmp(tcti, "device"))
		return "/dev/tpmrm0";
	return NULL;
}

bool measure_tpm_shared(const struct si_bootcfg *c)
{
	const char *tpmdev = tpm_node(c->tcti);
	const char *base = tpmdev ? strrchr(tpmdev, '/') : NULL;

	return base && !strncmp(base + 1, "tpmrm", 5) && access(tpmdev, F_OK) == 0;
}

int measure_wait_tpm(const struct si_bootcfg *c, struct si_diag *d)
{
	const char *tpmdev = tpm_node(c->tcti);
	char path[SI_PATH_MAX];

	st.wait_ms = c->device_timeout_ms;
	if (tpmdev && pid1_wait_for("TPM", tpmdev, path, sizeof(path), c->device_timeout_ms, d) < 0) {
		si_diag_set(d, "%s did not appear within %d ms", tpmdev, c->device_timeout_ms);
		st.tpm = TPM_ABSENT;
		return -SI_ENOTPM;
	}
	st.tpm = TPM_PRESENT;
	return 0;
}

/* Module name of a path in a module list: its file name without .ko and
 * any compression suffix, with '-' as '_' (the kernel's KBUILD_MODNAME).
 * The path ends at the line's ':' when the line names what it needs. */
static bool listed_module(const char *modules, const char *want)
{
	const char *line = modules;

	while (*line) {
		size_t len = strcspn(line, "\n"), plen = strcspn(line, ":\n"), i, n;
		const char *base = line, *q;

		for (q = line; q < line + plen; q++)
			if (*q == '/')
				base = q + 1;
		for (n = 0; base + n < line + plen && strncmp(base + n, ".ko", 3); n++)
			;
		if (*line != '#' && n && n == strlen(want)) {
			for (i = 0; i < n; i++)
				if ((base[i] == '-' ? '_' : base[i]) != want[i])
					break;
			if (i == n)
				return true;
		}
		line += len + (line[len] == '\n');
	}
	return false;
}

/* A parameter name as the kernel's parameq() compares it: '-' is '_'. */
static bool param_is(const struct si_cmdline_word *w, const char *name)
{
	size_t i;

	if (w->key_len != strlen(name))
		return false;
	for (i = 0; i < w->key_len; i++)
		if ((w->key[i] == '-' ? '_' : w->key[i]) != name[i])
			return false;
	return true;
}

struct driver_walk {
	const char *modules;
	struct si_diag *d;
};

static int driver_word(void *ctx, const struct si_cmdline_word *w)
{
	struct driver_walk *x = ctx;
	const char *v = w->val, *end = w->val + w->val_len;
	const char *name = param_is(w, "module_blacklist") ? "module_blacklist" :
			   param_is(w, "modprobe.blacklist") ? "modprobe.blacklist" : NULL;

	if (param_is(w, "initcall_blacklist")) {
		/* An initcall can be the TPM driver's, its bus's, or OP-TEE's
		 * for a firmware TPM: no list of names is complete, so none is
		 * taken. */
		si_diag_set(x->d, "`initcall_blacklist=%.*s': refused, this build is locked down; a "
			    "disabled initcall can keep the TPM from appearing",
			    (int)(w->val_len > 200 ? 200 : w->val_len), w->val ? w->val : "");
		return -EPERM;
	}
	if (!name || !v)
		return 0;
	while (v < end) {
		char mod[64];
		size_t len = 0, i;

		while (v + len < end && v[len] != ',')
			len++;
		for (i = 0; i < len && i + 1 < sizeof(mod); i++)
			mod[i] = v[i] == '-' ? '_' : v[i];
		mod[i] = '\0';
		if (i == len && listed_module(x->modules, mod)) {
			si_diag_set(x->d, "`%s=%.*s': refused, this build is locked down; it keeps "
				    "the initramfs's module %s from loading (the TPM's driver, or what "
				    "the boot needs)", name, (int)(w->val_len > 200 ? 200 : w->val_len),
				    w->val, mod);
			return -EPERM;
		}
		v += len + (v + len < end);
	}
	return 0;
}

int measure_driver_verdict(const char *cmdline, const char *modules, struct si_diag *d)
{
	struct driver_walk x = { modules, d };

	/* Split by the one splitter the measurement uses (core/events.c),
	 * which refuses the bytes the kernel and systemd split differently. */
	return si_cmdline_words(cmdline, driver_word, &x, d);
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
		 * or unsealed, so no TPM is waited for. The measurements are
		 * still queued: a TPM there at the end gets them and the cap
		 * (measure_cap). */
		st.tpm = TPM_UNUSED;
		st.cap = CAP_NONE;
		say(5, "%s: the TPM is not waited for; the rootfs is measured only into a TPM "
		    "found before the real init", ENABLE_TPM2 ? "keysources=legacy" :
		    "this build has no TPM2 support");
		return 0;
	}
	if (c->measure == SI_MEASURE_NONE)
		return 0;
	/* The measurement is the TPM's first use: wait for it here, not only
	 * before unsealing, or a TPM that shows up late fails the boot. */
	r = measure_wait_tpm(c, d);
	if (r == 0)
		return 0;
	if (!legacy_possible) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "measuring the rootfs into PCR %u: %s: %.200s", c->measure_pcr,
			    si_strerror(r), why);
		return r;
	}
	/* A device without a TPM: the legacy fetch is its key source, for a
	 * volume without a TPM token (keysources.c). */
	st.cap = CAP_NONE;
	say(4, "no TPM (%s): the measurements wait for a TPM that appears before the real init; "
	    "only the legacy source can unlock a volume without a TPM token", d->msg);
	return 0;
}

bool measure_no_tpm(void)
{
	return st.tpm == TPM_ABSENT || st.tpm == TPM_UNUSED;
}

enum measure_tpm measure_tpm_state(int *waited_ms)
{
	if (waited_ms)
		*waited_ms = st.wait_ms;
	return st.tpm;
}

/* Queue one measurement; measure_commit extends them. Queued with or
 * without a TPM: one that appears later gets them all (measure_cap). */
static int queue(const struct si_event *e, struct si_diag *d)
{
	if (!ENABLE_TPM2)
		return 0;
	if (st.nev == MAX_EVENTS) {
		si_diag_set(d, "more than %d measurements in one boot", MAX_EVENTS);
		return -ENOSPC;
	}
	st.ev[st.nev++] = *e;
	return 0;
}

int measure_commit(struct si_diag *d)
{
	struct si_pcr_opts o = { .tcti = st.tcti, .timeout_ms = st.timeout_ms };
	struct si_pcr_ev ev[MAX_EVENTS];
	size_t i, n = 0;
	int r;

	if (!ENABLE_TPM2)
		return 0;
	if (measure_no_tpm()) {
		if (st.nev > st.committed)
			say(5, "no TPM: %zu measurements kept for a TPM that appears before the real "
			    "init", st.nev - st.committed);
		return 0;
	}
	for (i = st.committed; i < st.nev; i++)
		ev[n++] = (struct si_pcr_ev){ st.ev[i].pcr, st.ev[i].text, strlen(st.ev[i].text) };
	if (!n)
		return 0;
	r = si_pcr_events(&o, ev, n, d);
	if (r < 0) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "measuring the boot into PCR %u: %s: %.200s", st.pcr, si_strerror(r),
			    why);
		return r;
	}
	for (i = st.committed; i < st.nev; i++) {
		event_log(&st.ev[i]);
		say(5, "measured %.200s into PCR %u", st.ev[i].text, st.ev[i].pcr);
	}
	st.committed = st.nev;
	return 0;
}

bool measure_expected(unsigned int pcr, uint8_t out[SI_SHA256_SIZE])
{
	size_t i;

	for (i = 0; i < st.committed; i++)
		if (st.ev[i].pcr == pcr)
			break;
	if (i == st.committed)
		return false;
	si_events_replay(st.ev, st.committed, pcr, NULL, out);
	return true;
}

int measure_boot_config(const struct si_bootcfg *c, const char *cmdline, struct si_diag *d)
{
	struct si_event e;
	int r;

	if (c->cmdline_ignored[0])
		say(5, "lockdown: %s on the kernel command line is ignored; the configuration's "
		    "value is used", c->cmdline_ignored);
	/* The pinned command line holds with or without a TPM: a legacy
	 * device that migrates seals to the state it gives. */
	if (c->cmdline[0]) {
		r = si_cmdline_check(c->cmdline, cmdline, c->cmdline_volatile, d);
		if (r < 0)
			return r;
	}
	if (c->measure == SI_MEASURE_NONE)
		return 0;
	/* Pinned, the two are equal: measure the configuration's. */
	r = si_event_cmdline(&e, c->measure_pcr, c->cmdline[0] ? c->cmdline : cmdline,
			     c->cmdline_volatile, d);
	if (r == 0)
		r = queue(&e, d);
	if (r == 0)
		r = si_event_config(&e, c->measure_pcr, c, d);
	if (r == 0)
		r = queue(&e, d);
	return r;
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
	struct si_event e;
	uint8_t hash[64];
	long n;
	int r;

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
	si_event_verity(&e, c->measure_pcr, c->roothash);
	return queue(&e, d);
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
static int measure_image(const struct si_bootcfg *c, const char *rootdev, struct si_diag *d)
{
	struct si_event e;
	struct hash_progress prog = { rootdev, 0, uptime_ms() };
	uint8_t digest[SI_SHA256_SIZE];
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
	say(6, "hashed %llu MiB in %.0f ms", (unsigned long long)(done >> 20), uptime_ms() - t0);
	si_event_image(&e, c->measure_pcr, digest);
	return queue(&e, d);
}

int measure_rootfs(const struct si_bootcfg *c, const char *rootdev, const char *hashdev,
		   char *mountdev, size_t size, struct si_diag *d)
{
	snprintf(mountdev, size, "%s", rootdev);
	if (c->measure == SI_MEASURE_VERITY)
		return measure_verity(c, rootdev, hashdev, mountdev, size, d);
	if (c->measure == SI_MEASURE_IMAGE)
		return measure_image(c, rootdev, d);
	say(4, "measure=none: the rootfs is not measured");
	return 0;
}

int measure_init(const struct si_bootcfg *c, const char *newroot, struct si_diag *d)
{
	char path[2 * SI_PATH_MAX], hex[2 * SI_SHA256_SIZE + 1];
	uint8_t digest[SI_SHA256_SIZE];
	struct si_event e;
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
	if (c->measure == SI_MEASURE_NONE)
		return 0;
	si_event_init(&e, c->measure_pcr, c->init, digest);
	return queue(&e, d);
}

void measure_note_volume(unsigned int pcr, const char *event, const char *sha256)
{
	static char rec[6 * SI_EVENT_MAX + 256];

	log_record(rec, si_cel_record(pcr, sha256, event, rec, sizeof(rec)));
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

/* A TPM the boot did not wait for, or gave up on, that is there now: it
 * gets this boot's measurements and the cap before the real init, or the
 * booted system would find its PCRs as a reset left them and could
 * replay the public events to unseal any token bound to them. Only
 * looks (the device node, no wait). 1 when it is there now, 0 when not
 * (or the TCTI names no node to look at), or the commit's error. */
static int late_tpm(struct si_diag *d)
{
	const char *tpmdev = tpm_node(st.tcti);
	struct si_diag nd = { { 0 } };
	char path[SI_PATH_MAX], pcrs[96];
	int r;

	if (!tpmdev || pid1_wait_for("TPM", tpmdev, path, sizeof(path), 0, &nd) < 0)
		return 0;
	if (st.nev)
		st.cap_mask |= UINT32_C(1) << st.pcr;
	si_pcrs_format(st.cap_mask, pcrs, sizeof(pcrs));
	say(4, "the TPM %s is here now, after the boot %s: extending this boot's %zu "
	    "measurements and capping PCR %s before the real init", path,
	    st.tpm == TPM_ABSENT ? "stopped waiting for it" : "did not wait for it",
	    st.nev - st.committed, pcrs);
	st.tpm = TPM_LATE;
	st.cap = st.cap_mask ? CAP_PENDING : CAP_NONE;
	r = measure_commit(d);
	if (r < 0) {
		char why[sizeof(d->msg)];

		memcpy(why, d->msg, sizeof(why));
		si_diag_set(d, "a TPM appeared after the boot stopped waiting for it, and %.300s", why);
		return r;
	}
	return 1;
}

int measure_cap(struct si_diag *d)
{
	struct si_pcr_opts o = { .tcti = st.tcti, .timeout_ms = st.timeout_ms, .verify = true };
	int r;

	if (!ENABLE_TPM2)
		return 0;
	if (st.tpm != TPM_PRESENT && st.tpm != TPM_LATE) {
		r = late_tpm(d);
		if (r < 0)
			return r;
		/* Not there. Never looked for, through a TCTI without a
		 * device node: cap through it, as when it was there. */
		if (r == 0 && !(st.tpm == TPM_UNKNOWN && !tpm_node(st.tcti)))
			return 0;
	}
	if (st.cap != CAP_PENDING)
		return 0;
	o.pcr_mask = st.cap_mask;
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
