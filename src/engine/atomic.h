/* atomic: writing a file so that it appears whole or not at all.
 *
 * Data goes to a temporary file beside the target, which is flushed to
 * disk and renamed over the target only when every write succeeded; on any
 * failure (a full disk included) the temporary file is removed and the old
 * target, if any, is left intact.  POSIX file I/O; no printing. */
#ifndef QS_ENGINE_ATOMIC_H
#define QS_ENGINE_ATOMIC_H

#include <stddef.h>

#include "qs_error.h"

typedef struct qs_atomic {
	const char *path; /* the target (borrowed) */
	char *tmp;        /* the temporary file */
	int fd;
	int errnum;       /* first write error, 0 while all is well */
} qs_atomic;

/* Create the temporary file for path.  QS_EIO ("path: cannot create:
 * ...") or QS_ENOMEM; on failure nothing is left to clean up. */
qs_status qs_atomic_open(qs_atomic *a, const char *path, qs_error *err);
/* Append n bytes; after a failure further writes do nothing.  0 or -1. */
int qs_atomic_write(qs_atomic *a, const void *p, size_t n);
/* Flush, close and rename into place, or, after any failure, remove the
 * temporary file and fail with QS_EIO ("path: cannot write: ...").
 * Always releases a. */
qs_status qs_atomic_commit(qs_atomic *a, qs_error *err);
/* Give up: remove the temporary file and release a. */
void qs_atomic_abort(qs_atomic *a);

#endif
