/* atomic: temporary file + fsync + rename (see atomic.h). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"
#include "atomic.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

qs_status qs_atomic_open(qs_atomic *a, const char *path, qs_error *err)
{
	size_t plen = strlen(path);
	a->path = path;
	a->errnum = 0;
	a->fd = -1;
	a->tmp = malloc(plen + 16);
	if (!a->tmp)
		return qs_fail(err, QS_ENOMEM, "%s: out of memory", path);
	memcpy(a->tmp, path, plen);
	memcpy(a->tmp + plen, ".tmp.XXXXXX", 12);
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0) {
		qs_status s = qs_fail(err, QS_EIO, "%s: cannot create: %s",
				      path, strerror(errno));
		free(a->tmp);
		a->tmp = NULL;
		return s;
	}
	return QS_OK;
}

int qs_atomic_write(qs_atomic *a, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n && !a->errnum) {
		ssize_t w = write(a->fd, b, n > (1u << 30) ? (1u << 30) : n);
		if (w < 0) {
			if (errno != EINTR)
				a->errnum = errno ? errno : EIO;
			continue;
		}
		b += w;
		n -= (size_t)w;
	}
	return a->errnum ? -1 : 0;
}

static void release(qs_atomic *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp) {
		unlink(a->tmp);
		free(a->tmp);
	}
	a->fd = -1;
	a->tmp = NULL;
}

void qs_atomic_abort(qs_atomic *a)
{
	release(a);
}

qs_status qs_atomic_commit(qs_atomic *a, qs_error *err)
{
	int e = a->errnum;
	if (!e)
		(void)fchmod(a->fd, 0644); /* mkstemp's 0600 if refused */
	/* flush before the rename: with delayed allocation a full disk
	 * shows here, while the old file is still in place */
	if (!e && fsync(a->fd) < 0)
		e = errno;
	if (close(a->fd) < 0 && !e)
		e = errno;
	a->fd = -1;
	if (!e && rename(a->tmp, a->path) < 0)
		e = errno;
	if (e) {
		release(a);
		return qs_fail(err, QS_EIO, "%s: cannot write: %s", a->path,
			       strerror(e));
	}
	free(a->tmp);
	a->tmp = NULL;
	return QS_OK;
}
