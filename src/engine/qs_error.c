/* qs_error: filling the caller's error record (libc only). */
#include "config.h"
#include "qs_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

qs_status qs_fail(qs_error *err, qs_status code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void qs_error_clear(qs_error *err)
{
	if (err) {
		err->code = QS_OK;
		err->msg[0] = '\0';
	}
}
