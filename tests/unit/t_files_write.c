/* t_files_write: writes are atomic.  A write that fails midway (the disk
 * filling up) leaves the old file byte for byte and no temporary file, for
 * qs_npy_save and the safetensors writer.  The failure is real and needs
 * neither root nor a small filesystem: setrlimit(RLIMIT_FSIZE) with SIGXFSZ
 * ignored makes write() fail with EFBIG past the limit, as ENOSPC would on
 * a full disk.  Where the kernel allows a private mount namespace (root in
 * CI, or user namespaces), the same runs on a real 64 KiB tmpfs (ENOSPC). Also:
 * inputs are not replaced unless asked, a replaced input's mapped tensor stays
 * valid, round trips of every dtype. */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/file.h"
#include "engine/npy.h"
#include "tap.h"

static char dir[256];

static const char *path_in(const char *name)
{
	static char p[2][512];
	static int k;
	k ^= 1;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

/* The whole file, or NULL; *n its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long l = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)l + 1);
	*n = fread(b, 1, (size_t)l, f);
	fclose(f);
	return b;
}

/* Files in dir other than the given ones (temporaries left behind). */
static int strays(const char *keep1, const char *keep2)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, keep1) && strcmp(e->d_name, keep2))
			n++;
	if (d)
		closedir(d);
	return n;
}

static int limit_size(rlim_t bytes)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_FSIZE, &r) < 0)
		return -1;
	r.rlim_cur = bytes;
	return setrlimit(RLIMIT_FSIZE, &r);
}

static qs_tensor *ramp(qs_dtype dt, int64_t n)
{
	qs_tensor *t = qs_tensor_new(dt, 1, &n, NULL);
	uint8_t *b = t->data;
	for (size_t i = 0; i < (size_t)n * qs_dtype_size(dt); i++)
		b[i] = (uint8_t)(i * 7 + 1);
	return t;
}

/* Write `good` to name, then fail writing `big` over it with the size
 * limit below big's size: the old file must be intact. */
static void full_disk(const char *what, const char *name,
		      qs_status (*save)(const qs_tensor *, const char *,
					qs_error *),
		      const qs_tensor *good, const qs_tensor *big)
{
	const char *p = path_in(name);
	qs_error err;
	ok(save(good, p, &err) == QS_OK, "%s: first write", what);
	size_t n0, n1;
	unsigned char *before = slurp(p, &n0);
	ok(limit_size(64 * 1024) == 0, "%s: RLIMIT_FSIZE 64 KiB", what);
	qs_status st = save(big, p, &err);
	limit_size(RLIM_INFINITY);
	ok(st == QS_EIO && strstr(err.msg, p) &&
	       strstr(err.msg, "cannot write: File too large"),
	   "%s: failed write reported: %s", what, err.msg);
	unsigned char *after = slurp(p, &n1);
	ok(before && after && n0 == n1 && memcmp(before, after, n0) == 0,
	   "%s: old file intact (%zu bytes)", what, n0);
	ok(strays(name, "a.npy") == 0, "%s: no temporary file left", what);
	free(before);
	free(after);
}

/* A real full disk where the kernel lets us make one: a 64 KiB tmpfs in a
 * private mount namespace (root, or an unprivileged user namespace).  The
 * child reports a bit per check in its exit status; 77 means no tmpfs. */
static int tmpfs_child(const char *mnt, const qs_tensor *good,
		       const qs_tensor *big)
{
	if (unshare(CLONE_NEWNS) < 0 &&
	    unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return 77;
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0)
		return 77;
	char p[600], q[600];
	snprintf(p, sizeof p, "%s/a.npy", mnt);
	snprintf(q, sizeof q, "%s/a.safetensors", mnt);
	qs_error err;
	const char *names[] = {"t"};
	const qs_tensor *ts[] = {big};
	int bits = 0;
	if (qs_npy_save(good, p, &err) != QS_OK)
		return 77; /* cannot even write a small file here */
	size_t n0, n1;
	unsigned char *before = slurp(p, &n0);
	bits |= (qs_npy_save(big, p, &err) == QS_EIO &&
		 strstr(err.msg, "No space left on device"))
		<< 0;
	unsigned char *after = slurp(p, &n1);
	bits |= (before && after && n0 == n1 && !memcmp(before, after, n0))
		<< 1;
	free(before);
	free(after);
	const qs_tensor *small[] = {good};
	if (qs_file_save(q, names, small, 1, 0, &err) != QS_OK)
		return 77;
	before = slurp(q, &n0);
	bits |= (qs_file_save(q, names, ts, 1, 0, &err) == QS_EIO &&
		 strstr(err.msg, "No space left on device"))
		<< 2;
	if (!(bits & 4)) {
		printf("# %s\n", err.msg);
		fflush(stdout);
	}
	after = slurp(q, &n1);
	bits |= (before && after && n0 == n1 && !memcmp(before, after, n0))
		<< 3;
	free(before);
	free(after);
	DIR *d = opendir(mnt);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	bits |= (n == 2) << 4;
	umount(mnt);
	return bits;
}

static void tmpfs_full(const qs_tensor *good, const qs_tensor *big)
{
	static const char *const what[] = {
	    "tmpfs: .npy write fails with ENOSPC",
	    "tmpfs: old .npy intact",
	    "tmpfs: .safetensors write fails with ENOSPC",
	    "tmpfs: old .safetensors intact",
	    "tmpfs: no temporary file left",
	};
	const char *mnt = path_in("tmpfs");
	mkdir(mnt, 0700);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(tmpfs_child(mnt, good, big));
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	for (int i = 0; i < 5; i++) {
		if (code == 77)
			ok(1, "%s # SKIP no private tmpfs here", what[i]);
		else
			ok(code >= 0 && (code >> i & 1), "%s", what[i]);
	}
	rmdir(mnt);
}

static qs_status npy_save(const qs_tensor *t, const char *p, qs_error *err)
{
	return qs_npy_save(t, p, err);
}

static qs_status st_save(const qs_tensor *t, const char *p, qs_error *err)
{
	const char *names[] = {"t", "u"};
	const qs_tensor *ts[] = {t, t};
	return qs_file_save(p, names, ts, 2, 0, err);
}

int main(void)
{
	snprintf(dir, sizeof dir, "%s/qs_t_files_write.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP cannot make a temporary directory\n");
		return 0;
	}
	signal(SIGXFSZ, SIG_IGN);
	tap_plan(22);
	qs_tensor *small = ramp(QS_DT_F32, 100),
		  *big = ramp(QS_DT_F32, 1 << 16);
	full_disk(".npy", "a.npy", npy_save, small, big);
	full_disk(".safetensors", "a.safetensors", st_save, small, big);
	tmpfs_full(small, big);

	/* an input is not replaced unless asked; its mapping survives */
	qs_error err;
	const char *p = path_in("a.safetensors");
	qs_tensor *in = qs_file_load(p, "t", NULL, &err);
	const char *names[] = {"t"};
	const qs_tensor *ts[] = {in};
	qs_status st = qs_file_save(p, names, ts, 1, 0, &err);
	ok(in && in->map_ && st == QS_EINVAL &&
	       strstr(err.msg, "would replace the file tensor 't' was "
			       "loaded from"),
	   "refuses to replace an input: %s", err.msg);
	st = qs_file_save(p, names, ts, 1, QS_SAVE_OVERWRITE_INPUT, &err);
	ok(st == QS_OK && ((float *)in->data)[99] == ((float *)small->data)[99],
	   "replaces it when asked; the mapped input still reads");
	qs_tensor_free(in);
	ts[0] = small;
	const char *dup[] = {"x", "x"};
	const qs_tensor *two[] = {small, big};
	st = qs_file_save(path_in("d.safetensors"), dup, two, 2, 0, &err);
	ok(st == QS_EINVAL && strstr(err.msg, "tensor name 'x' given twice"),
	   "duplicate names: %s", err.msg);
	st = qs_file_save(path_in("x.npz"), names, ts, 1, 0, &err);
	ok(st == QS_EUNSUPPORTED && strstr(err.msg, "accepted: .safetensors"),
	   "unwritable format: %s", err.msg);
	st = qs_file_save("/nonexistent-dir/x.safetensors", names, ts, 1, 0,
			  &err);
	ok(st == QS_EIO && strstr(err.msg, "cannot create"),
	   "missing directory: %s", err.msg);

	/* every dtype round-trips, bytes identical */
	qs_tensor *all[QS_DT_COUNT];
	const char *an[QS_DT_COUNT];
	for (int d = 0; d < QS_DT_COUNT; d++) {
		all[d] = ramp((qs_dtype)d, 5 + d);
		an[d] = qs_dtype_name((qs_dtype)d);
	}
	for (int i = 0; i < 5 + QS_DT_BOOL; i++)
		((uint8_t *)all[QS_DT_BOOL]->data)[i] &= 1;
	st = qs_file_save(path_in("all.safetensors"), an,
			  (const qs_tensor *const *)all, QS_DT_COUNT, 0, &err);
	int same = st == QS_OK;
	for (int d = 0; same && d < QS_DT_COUNT; d++) {
		qs_tensor *b =
		    qs_file_load(path_in("all.safetensors"), an[d], NULL, &err);
		same = b && b->dtype == all[d]->dtype &&
		       b->size == all[d]->size &&
		       memcmp(b->data, all[d]->data,
			      (size_t)b->size * qs_dtype_size(b->dtype)) == 0;
		if (!same)
			printf("# %s: %s\n", an[d], b ? "differs" : err.msg);
		qs_tensor_free(b);
	}
	ok(same, "all %d dtypes round-trip", QS_DT_COUNT);
	size_t n;
	unsigned char *img = slurp(path_in("all.safetensors"), &n);
	uint64_t hl = 0;
	for (int i = 7; img && i >= 0; i--)
		hl = hl << 8 | img[i];
	ok(img && hl % 8 == 0 && hl < n && img[8] == '{',
	   "header padded to a multiple of 8 bytes");
	free(img);
	for (int d = 0; d < QS_DT_COUNT; d++)
		qs_tensor_free(all[d]);

	qs_tensor_free(small);
	qs_tensor_free(big);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
