/* qs_error: the engine's error channel.
 *
 * Every engine function that can fail returns a qs_status (0 ok, negative
 * error) or NULL, and fills a caller-owned qs_error (which may be NULL) with
 * one line naming the file or argument and the problem.  The engine never
 * prints, exits or aborts on bad input.  Depends on libc only. */
#ifndef QS_ENGINE_QS_ERROR_H
#define QS_ENGINE_QS_ERROR_H

typedef int qs_status;

enum {
	QS_OK = 0,
	QS_ENOMEM = -1,       /* allocation failed */
	QS_EIO = -2,          /* open/read/write/rename failed (strerror) */
	QS_EFORMAT = -3,      /* corrupt or truncated file */
	QS_EUNSUPPORTED = -4, /* valid but unsupported (names the dtype) */
	QS_EINVAL = -5,       /* bad argument */
	QS_EINTR = -6         /* interrupted by the caller's cancel flag */
};

typedef struct qs_error {
	qs_status code;
	char msg[256];
} qs_error;

/* Fill err (if not NULL) with code and a printf-style one-line message and
 * return code.  Never allocates. */
qs_status qs_fail(qs_error *err, qs_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Clear err (if not NULL) to QS_OK and an empty message. */
void qs_error_clear(qs_error *err);

#endif
