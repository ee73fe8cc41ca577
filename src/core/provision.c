/* SPDX-License-Identifier: MIT */
/*
 * First-boot provisioning of the data volume (provision.h). The order of
 * the writes is the whole point: the partition is touched only by the
 * header copy at the end, and every state a cut can leave there is either
 * blank, a marked interrupted copy (both provision again), or a complete
 * volume.
 */
#include <blkid.h>
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#include "core/enroll.h"
#include "core/errors.h"
#include "core/escrow.h"
#include "core/luks.h"
#include "core/provision.h"
#include "core/recovery.h"
#include "core/secret.h"
#include "core/sigfile.h"
#include "core/tpm/record.h"
#include "core/tpm/tpm.h"
#include "core/volkey.h"
#include "core/worker.h"

#define CHUNK        (1u << 20)
#define MARKER_SIZE  512u
#define MARKER_OFF   (SI_PROVISION_HEADER - MARKER_SIZE)
#define MARKER_MAGIC "sealinit-provision-copy-v1"
/* The data area must hold more than a file system's worth of nothing. */
#define MIN_DATA     (16u << 20)
#define VK_BYTES_MAX 64
#define TMP_PASS_LEN 64   /* hex of 32 random bytes */
/* The builder's keyslot takes the last number, so that the TPM's is 0 and
 * the recovery key's 1, as systemd-cryptenroll users find them. */
#define BUILDER_SLOT 31

/* ---------------------------------------------------------------- blank -- */

/* Read or write exactly len bytes at off, or fail (a short device
 * counts). */
static int pio_all(int fd, bool write, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, off) : pread(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	return pio_all(fd, false, buf, len, off);
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return pio_all(fd, true, (void *)buf, len, off);
}

static int device_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Every signature libblkid knows, file systems, LUKS (both header copies),
 * RAID, swap and partition tables, with bad checksums too: the loop of
 * wipefs, not blkid_do_safeprobe(), which drops a result it finds
 * ambivalent. Any hit is "not blank"; its type goes into what.
 */
static int probe_signatures(int fd, const char *device, char *what, size_t size,
			    bool *only_luks, struct si_diag *d)
{
	blkid_probe pr = blkid_new_probe();
	const char *type = NULL;
	int r, found = 0;

	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
		si_diag_set(d, "libblkid cannot probe `%s'", device);
		r = -EIO;
		goto out;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_MAGIC |
					  BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	while ((r = blkid_do_probe(pr)) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0 &&
		    blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) < 0)
			type = "an unnamed signature";
		if (!found++)
			snprintf(what, size, "%s", type);
		if (strcmp(type, "crypto_LUKS"))
			*only_luks = false;
	}
	if (r < 0) {
		si_diag_set(d, "libblkid could not finish probing `%s'", device);
		r = -EIO;
		goto out;
	}
	r = found;
out:
	blkid_free_probe(pr);
	return r;
}

/* The offset of the first non-zero byte in [from, to), or to. */
static int first_nonzero(int fd, uint8_t *buf, uint64_t from, uint64_t to, uint64_t *at)
{
	uint64_t off;
	size_t i, n;
	int r;

	for (off = from; off < to; off += n) {
		n = to - off < CHUNK ? (size_t)(to - off) : CHUNK;
		r = pread_all(fd, buf, n, (off_t)off);
		if (r < 0)
			return r;
		for (i = 0; i < n; i++) {
			if (buf[i]) {
				*at = off + i;
				return 0;
			}
		}
	}
	*at = to;
	return 0;
}

/* The last sector of the header area holds the marker of a copy under
 * way (si_provision step 6): our magic, then zeros to the end. */
static bool marker_valid(const uint8_t *m)
{
	size_t i;

	if (memcmp(m, MARKER_MAGIC, sizeof(MARKER_MAGIC)))
		return false;
	for (i = sizeof(MARKER_MAGIC); i < MARKER_SIZE; i++)
		if (m[i])
			return false;
	return true;
}

static void quiet(int level, const char *msg, void *usrptr)
{
}

/* libcryptsetup loads a LUKS2 header from the device (either copy). From
 * a copy of the header area in memory: libcryptsetup repairs a missing
 * primary header from the secondary as it loads, and a test that decides
 * whether to write must not write itself. */
static bool luks_loads(int fd)
{
	struct crypt_device *cd = NULL;
	uint8_t *buf = malloc(CHUNK);
	char path[40];
	bool ok = false;
	off_t at;
	int mfd = memfd_create("sealinit-header", MFD_CLOEXEC);

	if (!buf || mfd < 0)
		goto out;
	for (at = 0; at < (off_t)SI_PROVISION_HEADER; at += CHUNK)
		if (pread_all(fd, buf, CHUNK, at) < 0 || pwrite_all(mfd, buf, CHUNK, at) < 0)
			goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	crypt_set_log_callback(NULL, quiet, NULL);
	ok = crypt_init(&cd, path) == 0;
	if (ok) {
		crypt_set_log_callback(cd, quiet, NULL);
		ok = crypt_load(cd, CRYPT_LUKS2, NULL) == 0;
	}
	crypt_free(cd);
out:
	if (mfd >= 0)
		close(mfd);
	free(buf);
	return ok;
}

int si_provision_verdict(const struct si_blank_facts *f)
{
	if (!f->signatures && f->zero)
		return 0;
	/* Not blank: only our own cut copy may start again; anything else is
	 * somebody's data. A torn secondary header has a LUKS magic; a whole
	 * one loads, and is a volume. */
	if (f->whole_area && f->marker && f->primary_zero && (!f->signatures || f->only_luks) &&
	    !f->luks_loads)
		return SI_PROVISION_RESUME;
	return -SI_ENOTBLANK;
}

static int blank_fd(int fd, const char *device, struct si_diag *d)
{
	struct si_blank_facts f = { .only_luks = true };
	uint64_t size, end, at, at0;
	uint8_t *buf = NULL;
	char what[64];
	int r;

	r = device_size(fd, &size);
	if (r < 0) {
		si_diag_set(d, "cannot size `%s': %s", device, strerror(-r));
		return r;
	}
	f.signatures = probe_signatures(fd, device, what, sizeof(what), &f.only_luks, d);
	if (f.signatures < 0)
		return f.signatures;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	end = size < SI_PROVISION_HEADER ? size : SI_PROVISION_HEADER;
	f.whole_area = end == SI_PROVISION_HEADER;
	r = first_nonzero(fd, buf, 0, end, &at);
	if (r < 0) {
		si_diag_set(d, "cannot read `%s': %s", device, strerror(-r));
		goto out;
	}
	f.zero = at == end;
	if (!f.zero && f.whole_area) {
		r = pread_all(fd, buf, MARKER_SIZE, MARKER_OFF);
		f.marker = r == 0 && marker_valid(buf);
		r = first_nonzero(fd, buf, 0, SI_PROVISION_META, &at0);
		f.primary_zero = r == 0 && at0 == SI_PROVISION_META;
		/* Only when it decides: loading a header is the costly fact. */
		if (f.marker && f.primary_zero && (!f.signatures || f.only_luks))
			f.luks_loads = luks_loads(fd);
	}
	r = si_provision_verdict(&f);
	if (r == -SI_ENOTBLANK && f.signatures)
		si_diag_set(d, "`%s' is not blank: libblkid finds a `%s' signature%s", device,
			    what, f.signatures > 1 ? " (and others)" : "");
	else if (r == -SI_ENOTBLANK)
		si_diag_set(d, "`%s' is not blank: byte %llu (0x%llx) of its first %llu is not zero",
			    device, (unsigned long long)at, (unsigned long long)at,
			    (unsigned long long)end);
out:
	free(buf);
	return r;
}

int si_provision_blank(const char *device, struct si_diag *d)
{
	int fd, r;

	fd = open(device, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "cannot open `%s': %s", device, strerror(-r));
		return r;
	}
	r = blank_fd(fd, device, d);
	close(fd);
	return r;
}

/* ------------------------------------------------------------ provision -- */

struct ctx {
	const struct si_provision_opts *o;
	struct si_diag *d;
	char hdr[4096];           /* the header file being built; "" once removed */
	char map[128];            /* the mkfs mapping's name; "" when not active */
	uint8_t *vk;              /* the volume key (locked) */
	size_t vk_len;
	char *tmp_pass;           /* the passphrase of the builder's keyslot (locked) */
	int tmp_slot;
	char *recovery;           /* the recovery key (locked) */
	char last_error[160];     /* what libcryptsetup logged last */
};

static void log_cb(int level, const char *msg, void *usrptr)
{
	struct ctx *c = usrptr;
	size_t n;

	if (!c || level != CRYPT_LOG_ERROR)
		return;
	snprintf(c->last_error, sizeof(c->last_error), "%s", msg);
	n = strlen(c->last_error);
	while (n && c->last_error[n - 1] == '\n')
		c->last_error[--n] = '\0';
}

static const char *cause(const struct ctx *c, int r)
{
	return c->last_error[0] ? c->last_error : strerror(-r);
}

static void step(const struct ctx *c, const char *what)
{
	if (c->o->progress)
		c->o->progress(c->o->progress_ctx, what);
}

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/* crypt_init_data_device with the handle's log pointed at c. */
static int crypt_open(struct ctx *c, const char *data, struct crypt_device **cd)
{
	int r;

	c->last_error[0] = '\0';
	crypt_set_log_callback(NULL, log_cb, c);
	r = data ? crypt_init_data_device(cd, c->hdr, data) : crypt_init(cd, c->hdr);
	if (r == 0)
		crypt_set_log_callback(*cd, log_cb, c);
	crypt_set_log_callback(NULL, log_cb, NULL);
	return r;
}

/*
 * 2a. The header, in a file of SI_PROVISION_HEADER bytes: two 16 KiB
 * metadata areas and the keyslot area up to the data offset, which is the
 * partition's layout once copied. A keyslot of a random passphrase lets
 * si_enroll and si_recovery_enroll add theirs as on any volume; it goes
 * before the copy.
 */
static int build_header(struct ctx *c)
{
	const struct si_provision_opts *o = c->o;
	const char *spec = o->cipher ? o->cipher : "aes-xts-plain64";
	const struct crypt_pbkdf_type pbkdf = {
		.type = CRYPT_KDF_PBKDF2, .hash = "sha512", .iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_params_luks2 params = { .pbkdf = &pbkdf, .sector_size = 512 };
	struct crypt_device *cd = NULL;
	uint8_t raw[TMP_PASS_LEN / 2];
	char cipher[32], *mode;
	const char *dash = strchr(spec, '-');
	size_t i;
	int fd, r;

	if (!dash || (size_t)(dash - spec) >= sizeof(cipher) || !strncmp(spec, "cipher_null", 11)) {
		si_diag_set(c->d, "Invalid cipher `%.80s' (expected a dm-crypt spec such as "
			    "aes-xts-plain64, never cipher_null)", spec);
		return -EINVAL;
	}
	memcpy(cipher, spec, (size_t)(dash - spec));
	cipher[dash - spec] = '\0';
	mode = (char *)dash + 1;
	c->vk_len = (size_t)(o->key_bits ? o->key_bits : 512) / 8;
	if (c->vk_len == 0 || c->vk_len > VK_BYTES_MAX || (o->key_bits % 8)) {
		si_diag_set(c->d, "Invalid key size %d bits (expected 128-512)", o->key_bits);
		return -EINVAL;
	}
	c->vk = si_secret_alloc(VK_BYTES_MAX);
	c->tmp_pass = si_secret_alloc(TMP_PASS_LEN + 1);
	if (!c->vk || !c->tmp_pass)
		return -ENOMEM;
	r = fill_random(c->vk, c->vk_len);
	if (r == 0)
		r = fill_random(raw, sizeof(raw));
	if (r < 0) {
		si_wipe(raw, sizeof(raw));
		si_diag_set(c->d, "reading random bytes: %s", strerror(-r));
		return r;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(c->tmp_pass + 2 * i, 3, "%02x", raw[i]);
	si_wipe(raw, sizeof(raw));

	snprintf(c->hdr, sizeof(c->hdr), "%s/sealinit-provision-XXXXXX", o->workdir);
	fd = mkostemp(c->hdr, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(c->d, "cannot create the header file in `%s': %s", o->workdir,
			    strerror(-r));
		c->hdr[0] = '\0';
		return r;
	}
	r = ftruncate(fd, SI_PROVISION_HEADER) < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		si_diag_set(c->d, "cannot size the header file `%s': %s", c->hdr, strerror(-r));
		return r;
	}
	/* The header alone: crypt_format with a data device would check it,
	 * and nothing may reach the partition before step 6. */
	r = crypt_open(c, NULL, &cd);
	if (r == 0)
		r = crypt_set_metadata_size(cd, SI_PROVISION_META,
					    SI_PROVISION_HEADER - 2 * SI_PROVISION_META);
	if (r == 0)
		r = crypt_set_data_offset(cd, SI_PROVISION_HEADER / 512);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, cipher, mode, NULL, (const char *)c->vk, c->vk_len,
				 &params);
	if (r < 0) {
		si_diag_set(c->d, "formatting the LUKS2 header (%s, %zu-bit key): %s", spec,
			    c->vk_len * 8, cause(c, r));
		goto out;
	}
	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (r == 0)
		r = crypt_keyslot_add_by_volume_key(cd, BUILDER_SLOT, (const char *)c->vk,
						    c->vk_len, c->tmp_pass, TMP_PASS_LEN);
	if (r < 0) {
		si_diag_set(c->d, "adding the builder's keyslot: %s", cause(c, r));
		goto out;
	}
	c->tmp_slot = r;
	r = 0;
	crypt_free(cd);
	cd = NULL;
	/* crypt_format fills the keyslot area with random bytes; its last
	 * sector, which no keyslot reaches, becomes the copy's marker and
	 * must read zero until then (copy_header checks it still does). */
	fd = open(c->hdr, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || pwrite_all(fd, (const uint8_t[MARKER_SIZE]){ 0 }, MARKER_SIZE, MARKER_OFF) < 0) {
		r = -errno;
		si_diag_set(c->d, "cannot write the header file `%s': %s", c->hdr, strerror(-r));
	}
	if (fd >= 0)
		close(fd);
out:
	crypt_free(cd);
	return r;
}

static const char *name_of(const struct si_provision_opts *o)
{
	return o->name ? o->name : SI_VOLKEY_DEFAULT_NAME;
}

/* 2b. The TPM's keyslot and token, as `sealinit enroll' makes them. */
static int enroll_tpm(struct ctx *c, struct si_enroll_result *er)
{
	const struct si_provision_opts *o = c->o;
	struct si_enroll_opts eo = {
		.device = c->hdr, .tcti = o->tcti, .timeout_ms = o->timeout_ms,
		.pcr_mask = o->pcr_mask, .passphrase = c->tmp_pass, .passphrase_len = TMP_PASS_LEN,
		.keyslot = -1, .cap_pcrs = o->cap_pcrs, .expect = o->expect,
		.bind_name = name_of(o), .pubkey_pem = o->pubkey_pem,
		.pubkey_pem_len = o->pubkey_pem_len, .pubkey_pcr_mask = o->pubkey_pcr_mask,
		.counter_nv = o->counter_nv,
		/* 3. The record, on the enrollment's connection, after the seal
		 * and before the keyslot: before anything reaches the
		 * partition, so that a volume on it always has its record. */
		.record_index = o->record_index, .signature = o->signature,
		/* A device provisioned after revocations starts where the
		 * release it was provisioned by stands. */
		.counter_to_release = o->counter_nv && o->signature,
		.owner_auth = o->owner_auth, .owner_auth_len = o->owner_auth_len,
	};
	int r = si_enroll(&eo, er, c->d);

	if (r == 0 && !si_volkey_id_valid(er->volume_id)) {
		si_diag_set(c->d, "the new volume's id could not be read: %s", er->id_diag.msg);
		r = -SI_EBADHEADER;
	}
	return r;
}

/* 2c. The builder's keyslot goes: after the copy, only the TPM and the
 * recovery key open the volume. */
static int drop_builder_slot(struct ctx *c)
{
	struct crypt_device *cd = NULL;
	int r = crypt_open(c, NULL, &cd);

	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0)
		r = crypt_keyslot_destroy(cd, c->tmp_slot);
	if (r < 0)
		si_diag_set(c->d, "removing the builder's keyslot %d: %s", c->tmp_slot, cause(c, r));
	crypt_free(cd);
	return r;
}

/* 4. The escrow (escrow.h): the document sealed to the escrow key, to
 * the caller's writer (the boot's medium or server) or into escrow_dir. */
static int escrow(const struct si_provision_opts *o, const char *recovery, const char *uuid,
		  const char *volume_id, char *path, size_t path_size, char key_fp[65],
		  struct si_diag *d)
{
	static struct si_escrow_doc doc;
	char *json = NULL;
	int r = si_escrow_seal(o->escrow_pubkey_pem, o->escrow_pubkey_pem_len, recovery, uuid,
			       volume_id, &json, d);

	if (r == 0)
		r = si_escrow_parse(json, &doc, d);
	if (r == 0)
		memcpy(key_fp, doc.key_fp, 65);
	if (r == 0 && o->escrow_fn) {
		r = o->escrow_fn(o->escrow_ctx, json, d);
		snprintf(path, path_size, "%s", o->escrow_to ? o->escrow_to : "the caller's writer");
	} else if (r == 0) {
		r = si_escrow_write(o->escrow_dir, uuid, json, path, path_size, d);
	}
	free(json);
	return r;
}

/* Run argv + path in a child, no shell, stdio on /dev/null, killed when
 * the deadline passes (as worker.c bounds the TPM's waits). */
static int run_mkfs(struct ctx *c, const char *path)
{
	const struct si_provision_opts *o = c->o;
	const char *argv[64];
	long long deadline;
	size_t n = 0;
	int status, timeout = o->mkfs_timeout_ms > 0 ? o->mkfs_timeout_ms : 600000;
	pid_t pid, w;

	while (o->mkfs_argv[n] && n < 62) {
		argv[n] = o->mkfs_argv[n];
		n++;
	}
	if (!n || o->mkfs_argv[n]) {
		si_diag_set(c->d, "the mkfs command is empty or has more than 62 words");
		return -EINVAL;
	}
	argv[n++] = path;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	deadline = si_now_ms() + timeout;
	for (;;) {
		const struct timespec tick = { 0, 20 * 1000000 };

		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			si_diag_set(c->d, "waiting for `%s': %s", argv[0], strerror(errno));
			return -ECHILD;
		}
		if (si_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			si_diag_set(c->d, "`%s' did not finish within %d ms", argv[0], timeout);
			return -SI_ETIMEOUT;
		}
		nanosleep(&tick, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		si_diag_set(c->d, "cannot run `%s' (expected an executable's absolute path)", argv[0]);
	else
		si_diag_set(c->d, "`%s %s' failed (%s %d)", argv[0], path,
			    WIFSIGNALED(status) ? "signal" : "exit status",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return -EIO;
}

/* 4. The file system, through a mapping of the partition's data area with
 * the header still in the file: nothing lands below the data offset. */
static int make_fs(struct ctx *c)
{
	const struct si_provision_opts *o = c->o;
	struct crypt_device *cd = NULL;
	char path[160];
	int r, r2;

	snprintf(c->map, sizeof(c->map), "sealinit-provision-%d", (int)getpid());
	r = crypt_open(c, o->device, &cd);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0)
		r = crypt_activate_by_volume_key(cd, c->map, (const char *)c->vk, c->vk_len, 0);
	if (r < 0) {
		si_diag_set(c->d, "mapping `%s' to make its file system: %s", o->device, cause(c, r));
		c->map[0] = '\0';
		crypt_free(cd);
		return -SI_EACTIVATE;
	}
	snprintf(path, sizeof(path), "/dev/mapper/%s", c->map);
	r = run_mkfs(c, path);
	r2 = crypt_deactivate(cd, c->map);
	if (r2 < 0 && r == 0) {
		si_diag_set(c->d, "removing the mapping %s: %s", c->map, cause(c, r2));
		r = r2;
	}
	if (r2 == 0)
		c->map[0] = '\0';
	crypt_free(cd);
	return r;
}

/* Copy [from, to) of the header file to the partition. */
static int copy_range(struct ctx *c, int hfd, int dfd, uint8_t *buf, uint64_t from, uint64_t to)
{
	uint64_t off;
	size_t n;
	int r;

	for (off = from; off < to; off += n) {
		n = to - off < CHUNK ? (size_t)(to - off) : CHUNK;
		r = pread_all(hfd, buf, n, (off_t)off);
		if (r < 0) {
			si_diag_set(c->d, "reading the header file: %s", strerror(-r));
			return r;
		}
		r = pwrite_all(dfd, buf, n, (off_t)off);
		if (r < 0) {
			si_diag_set(c->d, "writing `%s' at %llu: %s", c->o->device,
				    (unsigned long long)off, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int sync_dev(struct ctx *c, int dfd, const char *what)
{
	if (fsync(dfd) == 0)
		return 0;
	si_diag_set(c->d, "flushing %s to `%s': %s", what, c->o->device, strerror(errno));
	return -errno;
}

/*
 * 6. The copy, each stage flushed before the next begins (fsync reaches
 * the device's write cache too):
 *   the marker in the last sector of the header area, the keyslot area,
 *   the secondary header, the primary header, the marker's removal.
 * Cut before the secondary header is whole, the partition has no header
 * libcryptsetup loads, none at the primary's place, and the marker says
 * the non-zero bytes are ours: it starts again (si_provision_blank,
 * SI_PROVISION_RESUME). After it, libcryptsetup opens the volume from the
 * secondary copy and repairs the primary. The marker is in a keyslot area
 * no keyslot reaches (checked: the header file is still zero there).
 */
static int copy_header(struct ctx *c)
{
	uint8_t *buf = malloc(CHUNK);
	uint8_t marker[MARKER_SIZE] = { 0 };
	int hfd = -1, dfd = -1, r;
	struct stat st;

	if (!buf)
		return -ENOMEM;
	hfd = open(c->hdr, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (hfd < 0) {
		r = -errno;
		si_diag_set(c->d, "cannot reopen the header file `%s': %s", c->hdr, strerror(-r));
		goto out;
	}
	r = pread_all(hfd, buf, MARKER_SIZE, MARKER_OFF);
	if (r == 0) {
		size_t i;

		for (i = 0; i < MARKER_SIZE; i++)
			if (buf[i])
				break;
		if (i < MARKER_SIZE) {
			si_diag_set(c->d, "the keyslots reach the last sector of the header area");
			r = -ENOSPC;
		}
	}
	if (r < 0)
		goto out;
	dfd = open(c->o->device, O_RDWR | O_CLOEXEC);
	if (dfd >= 0 && fstat(dfd, &st) == 0 && S_ISBLK(st.st_mode)) {
		/* Exclusive: a partition somebody mounted meanwhile is refused. */
		close(dfd);
		dfd = open(c->o->device, O_RDWR | O_CLOEXEC | O_EXCL);
	}
	if (dfd < 0) {
		r = -errno;
		si_diag_set(c->d, "cannot open `%s' for writing: %s", c->o->device, strerror(-r));
		goto out;
	}
	/* Still blank (or our own cut copy): nothing wrote it meanwhile. */
	r = blank_fd(dfd, c->o->device, c->d);
	if (r < 0)
		goto out;
	memcpy(marker, MARKER_MAGIC, sizeof(MARKER_MAGIC));
	r = pwrite_all(dfd, marker, MARKER_SIZE, MARKER_OFF);
	if (r < 0) {
		si_diag_set(c->d, "writing `%s': %s", c->o->device, strerror(-r));
		goto out;
	}
	r = sync_dev(c, dfd, "the copy's marker");
	if (r == 0)
		r = copy_range(c, hfd, dfd, buf, 2 * SI_PROVISION_META, MARKER_OFF);
	if (r == 0)
		r = sync_dev(c, dfd, "the keyslot area");
	if (r == 0)
		r = copy_range(c, hfd, dfd, buf, SI_PROVISION_META, 2 * SI_PROVISION_META);
	if (r == 0)
		r = sync_dev(c, dfd, "the secondary header");
	if (r == 0)
		r = copy_range(c, hfd, dfd, buf, 0, SI_PROVISION_META);
	if (r == 0)
		r = sync_dev(c, dfd, "the primary header");
	if (r < 0)
		goto out;
	memset(marker, 0, sizeof(marker));
	r = pwrite_all(dfd, marker, MARKER_SIZE, MARKER_OFF);
	if (r < 0)
		si_diag_set(c->d, "clearing the copy's marker on `%s': %s", c->o->device,
			    strerror(-r));
	if (r == 0)
		r = sync_dev(c, dfd, "the marker's removal");
out:
	if (dfd >= 0)
		close(dfd);
	if (hfd >= 0)
		close(hfd);
	free(buf);
	return r;
}

/* 7. The partition, read back as any boot reads it: this volume. */
static int verify(struct ctx *c, const char *uuid, const char *volume_id)
{
	const struct si_provision_opts *o = c->o;
	char id[SI_VOLKEY_HEX_LEN + 1];
	struct si_luks *l = NULL;
	struct si_luks_info info;
	int r;

	r = si_luks_open(o->device, &l, c->d);
	if (r == 0)
		r = si_luks_info(l, &info);
	if (r == 0 && strcmp(info.uuid, uuid)) {
		si_diag_set(c->d, "`%s' reads back with UUID %s, not the %s just made", o->device,
			    info.uuid, uuid);
		r = -SI_EBADHEADER;
	}
	if (r == 0)
		r = si_luks_volume_id(l, name_of(o), c->recovery, SI_RECOVERY_LEN, id, c->d);
	if (r == 0 && !si_volkey_id_equal(id, volume_id)) {
		si_diag_set(c->d, "`%s' reads back with volume id %s, not the %s just made",
			    o->device, id, volume_id);
		r = -SI_EVOLKEY;
	}
	si_luks_close(l);
	return r;
}

static int check_opts(const struct si_provision_opts *o, struct si_diag *d)
{
	if (!o->device || !o->workdir || (o->name && (!o->name[0] || strchr(o->name, '/')))) {
		si_diag_set(d, "provisioning needs a device, a workdir and a device-mapper name "
			    "without '/'");
		return -EINVAL;
	}
	if (o->record_index && (!o->pubkey_pem || !o->signature)) {
		si_diag_set(d, "the device record at 0x%08x is written through the fleet key: "
			    "a public key and a signature file are needed", o->record_index);
		return -EINVAL;
	}
	if ((o->escrow_dir || o->escrow_fn) && !o->escrow_pubkey_pem) {
		si_diag_set(d, "escrow to `%s' needs the escrow key",
			    o->escrow_dir ? o->escrow_dir : o->escrow_to ? o->escrow_to : "?");
		return -EINVAL;
	}
	return 0;
}

/* The header says where its recovery key went (`sealinit status'): a
 * "sealinit-escrow" token with the escrow key's fingerprint and the
 * destination, no keyslot. Added to the header file before its copy. */
static int escrow_token(struct ctx *c, const char *to, const char *fp)
{
	struct json_object *o = json_object_new_object();
	struct si_luks *l = NULL;
	int r;

	json_object_object_add(o, "type", json_object_new_string(SI_ESCROW_TOKEN_TYPE));
	json_object_object_add(o, "keyslots", json_object_new_array());
	json_object_object_add(o, "key_fp", json_object_new_string(fp));
	json_object_object_add(o, "to", json_object_new_string(to));
	r = si_luks_open(c->hdr, &l, c->d);
	if (r == 0)
		r = si_luks_add_token(l, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
				      c->d);
	si_luks_close(l);
	json_object_put(o);
	return r < 0 ? r : 0;
}

int si_provision(const struct si_provision_opts *o, struct si_provision_result *res,
		 struct si_diag *d)
{
	struct ctx c = { .o = o, .d = d, .tmp_slot = -1 };
	struct si_enroll_result *er = NULL;
	struct crypt_device *cd = NULL;
	uint64_t size = 0;
	int fd, r, token = -1;

	memset(res, 0, sizeof(*res));
	res->tpm_keyslot = res->recovery_keyslot = -1;
	r = check_opts(o, d);
	if (r < 0)
		return r;

	/* 1. Blank, and big enough for a header and a file system. */
	step(&c, "checking that the partition is blank");
	fd = open(o->device, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		si_diag_set(d, "cannot open `%s': %s", o->device, strerror(-r));
		return r;
	}
	r = device_size(fd, &size);
	if (r == 0)
		r = blank_fd(fd, o->device, d);
	close(fd);
	if (r < 0)
		return r;
	res->resumed = r == SI_PROVISION_RESUME;
	if (size < (uint64_t)SI_PROVISION_HEADER + MIN_DATA) {
		si_diag_set(d, "`%s' is %llu bytes: provisioning needs at least %u", o->device,
			    (unsigned long long)size, SI_PROVISION_HEADER + MIN_DATA);
		return -ENOSPC;
	}

	/* 2. The header, in the workdir. */
	step(&c, "building the LUKS2 header");
	er = calloc(1, sizeof(*er));
	c.recovery = si_secret_alloc(SI_RECOVERY_LEN + 1);
	if (!er || !c.recovery) {
		r = -ENOMEM;
		goto out;
	}
	r = build_header(&c);
	if (r < 0)
		goto out;
	step(&c, o->record_index ? "enrolling the TPM and writing the device record" :
	     "enrolling the TPM");
	r = enroll_tpm(&c, er);
	if (r < 0)
		goto out;
	res->tpm_keyslot = er->keyslot;
	res->counter = er->counter;
	memcpy(res->volume_id, er->volume_id, sizeof(res->volume_id));
	step(&c, "adding the recovery key");
	r = si_recovery_enroll(c.hdr, c.tmp_pass, TMP_PASS_LEN, c.recovery, &token, d);
	if (r < 0)
		goto out;
	res->recovery_keyslot = r;
	r = drop_builder_slot(&c);
	if (r < 0)
		goto out;
	r = crypt_open(&c, NULL, &cd);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		si_diag_set(d, "reading back the header file: %s", cause(&c, r));
		goto out;
	}
	snprintf(res->uuid, sizeof(res->uuid), "%s", crypt_get_uuid(cd));
	crypt_free(cd);
	cd = NULL;

	/* 4. The escrow: before anything reaches the partition, so that no
	 * volume is ever without its recovery key kept somewhere, and an
	 * escrow that fails (a server that refuses, a full medium) leaves the
	 * partition as it was. */
	if (o->escrow_dir || o->escrow_fn) {
		char fp[65];

		step(&c, "escrowing the recovery key");
		r = escrow(o, c.recovery, res->uuid, res->volume_id, res->escrow_path,
			   sizeof(res->escrow_path), fp, d);
		if (r == 0)
			r = escrow_token(&c, res->escrow_path, fp);
		if (r < 0)
			goto out;
	}

	/* 5. The file system, into the data area only. */
	if (o->mkfs_argv) {
		step(&c, "making the file system");
		r = make_fs(&c);
		if (r < 0)
			goto out;
	}

	/* 6, 7. */
	step(&c, "writing the header onto the partition");
	r = copy_header(&c);
	if (r < 0)
		goto out;
	step(&c, "reading the volume back");
	r = verify(&c, res->uuid, res->volume_id);
	if (r < 0)
		goto out;
	if (o->want_recovery)
		memcpy(res->recovery, c.recovery, SI_RECOVERY_LEN + 1);
out:
	if (c.map[0]) {
		struct crypt_device *m = NULL;

		/* make_fs could not remove its mapping: one more try. */
		if (crypt_init_by_name(&m, c.map) == 0) {
			crypt_deactivate(m, c.map);
			crypt_free(m);
		}
	}
	crypt_free(cd);
	if (c.hdr[0]) {
		/* Wipe nothing: the file holds keyslots, not keys; it goes. */
		unlink(c.hdr);
	}
	if (r < 0)
		si_wipe(res->recovery, sizeof(res->recovery));
	free(er);
	si_secret_free(c.recovery);
	si_secret_free(c.tmp_pass);
	si_secret_free(c.vk);
	return r;
}
