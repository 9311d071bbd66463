/* gp: the gnuplot child process (see gp.h).  libc + POSIX only; no engine
 * types, no Lua, no curses.
 *
 * Protocol: every batch of commands is followed by a marker command
 * printing "__QS_SYNC__ <n>" with a per-session sequence number, so output
 * left over from an abandoned batch is never taken for the answer to a new
 * one.  gnuplot writes plots to stdout and messages to stderr; both go into
 * one pipe, so the transcript keeps their order (gnuplot flushes stdout at
 * the end of every plot, before it reads the next command).  Writing and
 * reading are multiplexed with poll() on non-blocking descriptors: a large
 * batch cannot deadlock against a large transcript. */
#include "config.h"
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "plot/gp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define GP_DEFAULT_TIMEOUT_MS 5000
#define GP_MARKER "__QS_SYNC__"
#define GP_NOT_FOUND_HINT "install the Debian package gnuplot-nox"
#define GP_MAX_OUTPUT ((size_t)64 << 20) /* transcript cap per call */

/* A growable byte buffer, always NUL-terminated once allocated. */
typedef struct gbuf {
	char *p;
	size_t len, cap;
} gbuf;

struct gp_session {
	pid_t pid;   /* 0: no process */
	int to_fd;   /* our end of gnuplot's stdin (non-blocking) */
	int from_fd; /* our end of its stdout + stderr (non-blocking) */
	int timeout_ms;
	unsigned long seq; /* sync marker sequence number */
	int probed;	   /* version and terminals known */
	int vmaj, vmin, vpatch;
	int printerr;	 /* gnuplot >= 5.4: marker through printerr */
	char *terminals; /* " name name ... " (GPVAL_TERMINALS, padded) */
	char *program;	 /* the program last started */
	gbuf out;	 /* transcript of the last call */
	gbuf msgs;	 /* its error and warning lines */
	char note[200];	 /* a death noticed between calls, for gp_messages */
	char how[96];	 /* how the last process ended ("exited with ...") */
};

static const char empty_str[] = "";

/* printf into err (if any); returns code so callers can `return fail(...)`. */
static int fail(char *err, size_t n, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int code, const char *fmt, ...)
{
	if (err && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
		/* one line, whatever the message held */
		for (char *c = err; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
	}
	return code;
}

/* Make room for `more` bytes plus a NUL; 0 or -1 when out of memory. */
static int gbuf_reserve(gbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1) {
		if (cap > ((size_t)-1) / 2)
			return -1;
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int gbuf_add(gbuf *b, const char *s, size_t n)
{
	if (gbuf_reserve(b, n) < 0)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void gbuf_clear(gbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* Milliseconds on the monotonic clock. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Mark fd close-on-exec and non-blocking, moved to 3 or above so that a
 * dup2 onto 0..2 in the child never meets itself (dup2(fd, fd) would keep
 * FD_CLOEXEC and leave gnuplot without stdin). */
static int prepare_fd(int *fd, int nonblock)
{
	if (*fd < 3) {
		int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
		if (nfd < 0)
			return -1;
		close(*fd);
		*fd = nfd;
	}
	if (fcntl(*fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	if (nonblock) {
		int fl = fcntl(*fd, F_GETFL);
		if (fl < 0 || fcntl(*fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -1;
	}
	return 0;
}

/* A pipe with both ends close-on-exec from the start where pipe2 exists. */
static int cloexec_pipe(int fds[2])
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return pipe2(fds, O_CLOEXEC);
#else
	if (pipe(fds) < 0)
		return -1;
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return 0;
#endif
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Describe a wait status: "exited with status 1", "killed by signal 9". */
static void describe_status(char *s, size_t n, int status)
{
	if (WIFEXITED(status))
		snprintf(s, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(s, n, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(s, n, "stopped");
}

/* Reap the child within about ms milliseconds, escalating to SIGTERM and
 * then SIGKILL (to its process group: gnuplot may have children of its
 * own, e.g. from `system`).  Writes how it ended into how. */
static void reap(gp_session *g, int ms, char *how, size_t hown)
{
	if (how && hown)
		snprintf(how, hown, "ended");
	if (g->pid <= 0)
		return;
	long long start = now_ms();
	int sent = 0; /* 0: none, 1: SIGTERM, 2: SIGKILL */
	for (;;) {
		int status;
		pid_t r = waitpid(g->pid, &status, WNOHANG);
		if (r == g->pid) {
			if (how && hown)
				describe_status(how, hown, status);
			break;
		}
		if (r < 0 && errno != EINTR) {
			/* ECHILD: SIGCHLD ignored or reaped elsewhere */
			break;
		}
		long long el = now_ms() - start;
		if (sent == 0 && el >= ms) {
			kill(-g->pid, SIGTERM);
			kill(g->pid, SIGTERM);
			sent = 1;
		} else if (sent == 1 && el >= ms + 500) {
			kill(-g->pid, SIGKILL);
			kill(g->pid, SIGKILL);
			sent = 2;
		} else if (sent == 2 && el >= ms + 2500) {
			break; /* unkillable: give up rather than hang */
		}
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	g->pid = 0;
}

/* Forget the process: close our pipe ends and reap it. */
static void teardown(gp_session *g, int ms, char *how, size_t hown)
{
	close_fd(&g->to_fd);
	close_fd(&g->from_fd);
	reap(g, ms, how, hown);
	g->probed = 0;
}

/* Kill a process that stopped answering, then reap it. */
static void kill_child(gp_session *g)
{
	if (g->pid > 0) {
		kill(-g->pid, SIGKILL);
		kill(g->pid, SIGKILL);
	}
	teardown(g, 2000, NULL, 0);
}

/* Write without being killed by SIGPIPE: block it in this thread, write,
 * and consume a SIGPIPE this write raised (one that was already pending
 * is left alone).  Returns write()'s result with errno. */
static ssize_t write_nosigpipe(int fd, const void *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	int masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &old) == 0;
	int was_pending = 0;
	if (masked) {
		sigemptyset(&pending);
		sigpending(&pending);
		was_pending = sigismember(&pending, SIGPIPE) == 1;
	}
	ssize_t w = write(fd, p, n);
	int e = errno;
	if (masked) {
		if (w < 0 && e == EPIPE && !was_pending) {
			struct timespec zero = {0, 0};
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
			       errno == EINTR)
				;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	errno = e;
	return w;
}

/* Where to find gnuplot; *origin says why (for messages). */
static const char *choose_program(const char **origin)
{
	const char *env = getenv("QSCOPE_GNUPLOT");
	if (env && *env) {
		*origin = "QSCOPE_GNUPLOT";
		return env;
	}
#ifdef QS_GNUPLOT_PATH
	if (QS_GNUPLOT_PATH[0] == '/' && access(QS_GNUPLOT_PATH, X_OK) == 0) {
		*origin = "configure";
		return QS_GNUPLOT_PATH;
	}
#endif
	*origin = "PATH";
	return "gnuplot";
}

/* posix_spawnp gnuplot with the pipes in place; GP_OK or an error. */
static int spawn(gp_session *g, char *err, size_t n)
{
	const char *origin;
	const char *prog = choose_program(&origin);
	char *copy = strdup(prog);
	if (!copy)
		return fail(err, n, GP_ENOMEM, "gnuplot: out of memory");
	free(g->program);
	g->program = copy;

	int in[2] = {-1, -1}, out[2] = {-1, -1};
	if (cloexec_pipe(in) < 0 || cloexec_pipe(out) < 0 ||
	    prepare_fd(&in[0], 0) < 0 || prepare_fd(&in[1], 1) < 0 ||
	    prepare_fd(&out[0], 1) < 0 || prepare_fd(&out[1], 0) < 0) {
		int e = errno;
		close_fd(&in[0]);
		close_fd(&in[1]);
		close_fd(&out[0]);
		close_fd(&out[1]);
		return fail(err, n, GP_EIO, "gnuplot: cannot create pipes: %s",
			    strerror(e));
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc = posix_spawn_file_actions_init(&fa);
	int have_fa = rc == 0, have_at = 0;
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out[1], 2);
#if defined(__GLIBC__) && defined(__USE_MISC) &&                               \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* descriptors other code left inheritable (a popen'd pipe, say)
	 * must not stay open in gnuplot for its lifetime */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (!rc) {
		rc = posix_spawnattr_init(&at);
		have_at = rc == 0;
	}
	if (!rc) {
		/* own process group: Ctrl-C at the terminal is not for
		 * gnuplot; default signal handling and an empty mask,
		 * whatever ours are */
		sigset_t none, dfl;
		sigemptyset(&none);
		sigemptyset(&dfl);
		sigaddset(&dfl, SIGPIPE);
		sigaddset(&dfl, SIGINT);
		sigaddset(&dfl, SIGQUIT);
		sigaddset(&dfl, SIGTERM);
		sigaddset(&dfl, SIGHUP);
		sigaddset(&dfl, SIGCHLD);
		rc = posix_spawnattr_setflags(
			&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETSIGDEF);
		if (!rc)
			rc = posix_spawnattr_setpgroup(&at, 0);
		if (!rc)
			rc = posix_spawnattr_setsigmask(&at, &none);
		if (!rc)
			rc = posix_spawnattr_setsigdefault(&at, &dfl);
	}
	pid_t pid = 0;
	if (!rc) {
		/* -d: no ~/.gnuplot or gnuplotrc: reproducible output */
		char *argv[] = {g->program, "-d", NULL};
		rc = posix_spawnp(&pid, g->program, &fa, &at, argv, environ);
	}
	if (have_fa)
		posix_spawn_file_actions_destroy(&fa);
	if (have_at)
		posix_spawnattr_destroy(&at);
	close_fd(&in[0]);
	close_fd(&out[1]);
	if (rc) {
		close_fd(&in[1]);
		close_fd(&out[0]);
		if (rc == ENOENT && !strcmp(origin, "QSCOPE_GNUPLOT"))
			return fail(
				err, n, GP_ENOTFOUND,
				"gnuplot not found: %s (from QSCOPE_GNUPLOT)"
				": " GP_NOT_FOUND_HINT " or fix the variable",
				g->program);
		if (rc == ENOENT)
			return fail(err, n, GP_ENOTFOUND,
				    "gnuplot not found: " GP_NOT_FOUND_HINT
				    " (or set QSCOPE_GNUPLOT)");
		return fail(err, n, rc == ENOMEM ? GP_ENOMEM : GP_EIO,
			    "cannot run gnuplot %s: %s", g->program,
			    strerror(rc));
	}
	g->pid = pid;
	g->to_fd = in[1];
	g->from_fd = out[0];
	g->probed = 0;
	return GP_OK;
}

/* Find the marker line for sequence seq in the transcript at or after
 * *scan; returns its offset or -1 (and advances *scan past what cannot be
 * the start of a marker any more). */
static long find_marker(const gbuf *b, const char *mark, size_t mlen,
			size_t *scan)
{
	if (b->len < mlen)
		return -1;
	const char *hit = NULL;
	if (b->len >= *scan + mlen) {
		/* memmem is not POSIX: a plain search */
		const char *s = b->p + *scan, *end = b->p + b->len - mlen;
		for (; s <= end; s++) {
			s = memchr(s, mark[0], (size_t)(end - s) + 1);
			if (!s)
				break;
			if (!memcmp(s, mark, mlen)) {
				hit = s;
				break;
			}
		}
	}
	if (hit)
		return (long)(hit - b->p);
	*scan = b->len - mlen + 1;
	return -1;
}

/* Send `text` (len bytes, ending in the marker command) and read until
 * the marker of g->seq, the deadline, EOF or EPIPE.  The transcript goes
 * into g->out.  On death or timeout the process is gone when this returns. */
static int exchange(gp_session *g, const char *text, size_t len, char *err,
		    size_t n)
{
	char mark[64];
	int mlen = snprintf(mark, sizeof mark, GP_MARKER " %lu\n", g->seq);
	size_t off = 0, scan = 0;
	long long deadline = now_ms() + g->timeout_ms;
	gbuf_clear(&g->out);
	for (;;) {
		long at = find_marker(&g->out, mark, (size_t)mlen, &scan);
		if (at >= 0) {
			g->out.len = (size_t)at;
			g->out.p[at] = '\0';
			return GP_OK;
		}
		long long left = deadline - now_ms();
		if (left <= 0) {
			kill_child(g);
			return fail(err, n, GP_ETIMEOUT,
				    "gnuplot did not answer within %.3g s and "
				    "was stopped; it restarts on the next call",
				    g->timeout_ms / 1000.0);
		}
		struct pollfd pf[2] = {{g->from_fd, POLLIN, 0},
				       {g->to_fd, POLLOUT, 0}};
		int np = off < len ? 2 : 1;
		int r = poll(pf, (nfds_t)np,
			     left > 1000000 ? 1000000 : (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			kill_child(g);
			return fail(err, n, GP_EIO, "gnuplot: poll: %s",
				    strerror(e));
		}
		if (pf[0].revents) {
			if (g->out.len > GP_MAX_OUTPUT) {
				kill_child(g);
				return fail(
					err, n, GP_EIO,
					"gnuplot: more than %zu MiB of output "
					"in one call; stopped it",
					GP_MAX_OUTPUT >> 20);
			}
			if (gbuf_reserve(&g->out, 65536) < 0) {
				kill_child(g);
				return fail(err, n, GP_ENOMEM,
					    "gnuplot: out of memory for its "
					    "output");
			}
			ssize_t k =
				read(g->from_fd, g->out.p + g->out.len, 65536);
			if (k > 0) {
				g->out.len += (size_t)k;
				g->out.p[g->out.len] = '\0';
			} else if (k == 0 ||
				   (errno != EAGAIN && errno != EWOULDBLOCK &&
				    errno != EINTR)) {
				goto died;
			}
		}
		if (np == 2 && pf[1].revents) {
			ssize_t w = write_nosigpipe(g->to_fd, text + off,
						    len - off);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN &&
				 errno != EWOULDBLOCK && errno != EINTR)
				goto died;
		}
	}
died:;
	/* collect what it said last (an error message, usually) */
	long long drain_end = now_ms() + 200;
	for (;;) {
		struct pollfd pf = {g->from_fd, POLLIN, 0};
		long long left = drain_end - now_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		if (gbuf_reserve(&g->out, 4096) < 0)
			break;
		ssize_t k = read(g->from_fd, g->out.p + g->out.len, 4096);
		if (k <= 0)
			break;
		g->out.len += (size_t)k;
		g->out.p[g->out.len] = '\0';
	}
	teardown(g, 1000, g->how, sizeof g->how);
	return fail(err, n, GP_EDIED,
		    "gnuplot %s during the call; it restarts on the next call",
		    g->how);
}

/* Trim spaces at both ends of [s, s+len) in place; returns new start. */
static const char *trim(const char *s, size_t *len)
{
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t' ||
			s[*len - 1] == '\r'))
		(*len)--;
	return s;
}

/* Case-insensitive search of needle in [s, s+len). */
static const char *find_ci(const char *s, size_t len, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= len; i++) {
		size_t j = 0;
		while (j < k) {
			char a = s[i + j], b = needle[j];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
			j++;
		}
		if (j == k)
			return s + i;
	}
	return NULL;
}

/* Is [s, s+len) an error line: optional blanks or a quoted file name, then
 * "line <digits>:"?  Sets *msg to the text after the colon. */
static int is_error_line(const char *s, size_t len, const char **msg)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] == '"') { /* "file" line 3: ... */
		const char *q = memchr(s + i + 1, '"', len - i - 1);
		if (!q)
			return 0;
		i = (size_t)(q - s) + 1;
		while (i < len && s[i] == ' ')
			i++;
	}
	if (len - i < 6 || memcmp(s + i, "line ", 5))
		return 0;
	i += 5;
	size_t d = i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == d || i >= len || s[i] != ':')
		return 0;
	*msg = s + i + 1;
	return 1;
}

/* Copy src into dst (n bytes), truncating; no format-truncation games. */
static void copy_str(char *dst, size_t n, const char *src)
{
	if (!dst || !n)
		return;
	size_t k = strlen(src);
	if (k >= n)
		k = n - 1;
	memcpy(dst, src, k);
	dst[k] = '\0';
}

/* Insert s into the message starting at b->p[from] (the last one in b),
 * before its " (in: ...)" context, or at its end. */
static void insert_before_context(gbuf *b, size_t from, const char *s)
{
	if (!b->p || from > b->len)
		return;
	const char *ctx = strstr(b->p + from, " (in: ");
	size_t at = ctx ? (size_t)(ctx - b->p) : b->len;
	size_t k = strlen(s);
	if (gbuf_reserve(b, k) < 0)
		return;
	memmove(b->p + at + k, b->p + at, b->len - at + 1);
	memcpy(b->p + at, s, k);
	b->len += k;
}

/* The same for a fixed buffer of cap bytes, truncating at its end. */
static void insert_fixed(char *buf, size_t cap, const char *s)
{
	size_t len = strlen(buf), k = strlen(s);
	const char *ctx = strstr(buf, " (in: ");
	size_t at = ctx ? (size_t)(ctx - buf) : len;
	if (at + k >= cap)
		k = cap - 1 - at;
	size_t tail = len - at;
	if (at + k + tail >= cap)
		tail = cap - 1 - at - k;
	memmove(buf + at + k, buf + at, tail);
	memcpy(buf + at, s, k);
	buf[at + k + tail] = '\0';
}

/* Append one message line to g->msgs, control characters blanked. */
static void add_message(gp_session *g, const char *line)
{
	if (g->msgs.len)
		gbuf_add(&g->msgs, "\n", 1);
	size_t at = g->msgs.len;
	gbuf_add(&g->msgs, line, strlen(line));
	for (size_t i = at; i < g->msgs.len; i++)
		if ((unsigned char)g->msgs.p[i] < 0x20 && g->msgs.p[i] != '\t')
			g->msgs.p[i] = ' ';
}

/* Split a transcript into error and warning messages, one per line into
 * g->msgs; counts errors into *nerr and copies the first into first.
 * gnuplot reports an error as the echoed command ("gnuplot> ..."), a
 * caret line and "line N: message", sometimes followed by "system error:
 * <errno text>", which is joined to the message. */
static void scan_messages(gp_session *g, const char *t, size_t tlen, int *nerr,
			  char *first, size_t firstn)
{
	const char *cmd = NULL; /* the echoed "gnuplot> ..." before an error */
	size_t cmdlen = 0;
	int last_was_error = 0;
	size_t last_start = 0; /* where the last message starts in g->msgs */
	*nerr = 0;
	for (size_t i = 0; i < tlen;) {
		const char *ln = t + i;
		const char *nl = memchr(ln, '\n', tlen - i);
		size_t len = nl ? (size_t)(nl - ln) : tlen - i;
		i += len + 1;
		const char *msg;
		size_t mlen;
		char line[512];
		if (len > 9 && !memcmp(ln, "gnuplot> ", 9)) {
			cmd = ln + 9;
			cmdlen = len - 9;
			last_was_error = 0;
			continue;
		}
		if (is_error_line(ln, len, &msg)) {
			mlen = len - (size_t)(msg - ln);
			msg = trim(msg, &mlen);
			if (find_ci(msg, mlen, "warning:") == msg) {
				msg += 8; /* "line 2: warning: ..." */
				mlen -= 8;
				msg = trim(msg, &mlen);
				snprintf(line, sizeof line,
					 "gnuplot: warning: %.*s", (int)mlen,
					 msg);
				last_was_error = 0;
			} else {
				size_t cl = cmdlen;
				const char *c = cmd ? trim(cmd, &cl) : NULL;
				if (c && cl > 60)
					snprintf(line, sizeof line,
						 "gnuplot: %.*s (in: %.57s...)",
						 (int)mlen, msg, c);
				else if (c)
					snprintf(line, sizeof line,
						 "gnuplot: %.*s (in: %.*s)",
						 (int)mlen, msg, (int)cl, c);
				else
					snprintf(line, sizeof line,
						 "gnuplot: %.*s", (int)mlen,
						 msg);
				last_was_error = 1;
			}
			cmd = NULL;
			last_start = g->msgs.len + (g->msgs.len ? 1 : 0);
			add_message(g, line);
			if (last_was_error && ++*nerr == 1)
				copy_str(first, firstn, line);
		} else if (last_was_error && len > 14 &&
			   !memcmp(ln, "system error: ", 14)) {
			/* the errno text belongs to the error before it */
			mlen = len - 14;
			msg = trim(ln + 14, &mlen);
			snprintf(line, sizeof line, ": %.*s", (int)mlen, msg);
			insert_before_context(&g->msgs, last_start, line);
			if (*nerr == 1 && first && firstn)
				insert_fixed(first, firstn, line);
			last_was_error = 0;
		} else if ((msg = find_ci(ln, len, "warning:")) != NULL) {
			mlen = len - (size_t)(msg - ln) - 8;
			msg = trim(msg + 8, &mlen);
			snprintf(line, sizeof line, "gnuplot: warning: %.*s",
				 (int)mlen, msg);
			add_message(g, line);
			last_was_error = 0;
		}
	}
}

/* Send cmds plus the marker and check the transcript for errors. */
static int run_batch(gp_session *g, const char *cmds, char *err, size_t n)
{
	size_t clen = strlen(cmds);
	int need_nl = clen && cmds[clen - 1] != '\n';
	char tail[96];
	g->seq++;
	int tl = snprintf(tail, sizeof tail, "%s%s \"" GP_MARKER " %lu\"\n",
			  need_nl ? "\n" : "",
			  g->printerr ? "printerr" : "print", g->seq);
	char *text = malloc(clen + (size_t)tl + 1);
	if (!text)
		return fail(err, n, GP_ENOMEM, "gnuplot: out of memory");
	memcpy(text, cmds, clen);
	memcpy(text + clen, tail, (size_t)tl + 1);
	int rc = exchange(g, text, clen + (size_t)tl, err, n);
	free(text);
	int nerr = 0;
	char first[400] = "";
	scan_messages(g, g->out.p ? g->out.p : empty_str, g->out.len, &nerr,
		      first, sizeof first);
	if (rc != GP_OK) {
		/* a message gnuplot printed as it died explains the death */
		if (nerr && err && n) {
			size_t el = strlen(err);
			snprintf(err + el, n - el, " (%s)", first);
		}
		return rc;
	}
	if (nerr == 1)
		return fail(err, n, GP_ECMD, "%s", first);
	if (nerr > 1)
		return fail(err, n, GP_ECMD, "%s (and %d more error%s)", first,
			    nerr - 1, nerr > 2 ? "s" : "");
	return GP_OK;
}

/* Ask the fresh process for its version and terminals. */
static int probe(gp_session *g, char *err, size_t n)
{
	g->printerr = 0;
	int rc = run_batch(g,
			   "print \"__QS_VERSION__ \", GPVAL_VERSION, \" \", "
			   "GPVAL_PATCHLEVEL\n"
			   "print \"__QS_TERMS__ \", GPVAL_TERMINALS\n",
			   err, n);
	if (rc == GP_ETIMEOUT)
		return fail(err, n, GP_EVERSION,
			    "%s did not answer as gnuplot does within %.3g s",
			    g->program, g->timeout_ms / 1000.0);
	if (rc == GP_EDIED) {
		/* its first line of output says why, if anything does */
		const char *o = g->out.p ? g->out.p : empty_str;
		o += strspn(o, " \t\r\n");
		int ol = (int)strcspn(o, "\r\n");
		return fail(err, n, GP_EVERSION,
			    "%s is not a working gnuplot: it %s before "
			    "answering%s%.*s%s",
			    g->program, g->how, ol ? " (" : "",
			    ol > 120 ? 120 : ol, o, ol ? ")" : "");
	}
	if (rc != GP_OK && rc != GP_ECMD) {
		char why[300];
		copy_str(why, sizeof why, err && n ? err : "");
		return fail(err, n, rc == GP_ENOMEM ? GP_ENOMEM : GP_EVERSION,
			    "%s is not a working gnuplot: %s", g->program, why);
	}
	const char *v = g->out.p ? strstr(g->out.p, "__QS_VERSION__ ") : NULL;
	const char *t = g->out.p ? strstr(g->out.p, "__QS_TERMS__ ") : NULL;
	int maj = 0, min = 0, pat = 0;
	/* errors printed at start-up (a bad GNUTERM, say) do not matter
	 * once the version came through */
	if (!v || !t || sscanf(v + 15, "%d.%d %d", &maj, &min, &pat) < 2) {
		kill_child(g);
		return fail(err, n, GP_EVERSION,
			    "%s does not answer like gnuplot 5 (no version)",
			    g->program);
	}
	if (maj < 5) {
		kill_child(g);
		return fail(err, n, GP_EVERSION,
			    "%s is gnuplot %d.%d: qscope needs 5.0 or newer",
			    g->program, maj, min);
	}
	t += 13;
	size_t tl = strcspn(t, "\n");
	char *terms = malloc(tl + 3);
	if (!terms) {
		kill_child(g);
		return fail(err, n, GP_ENOMEM, "gnuplot: out of memory");
	}
	terms[0] = ' ';
	memcpy(terms + 1, t, tl);
	terms[tl + 1] = ' ';
	terms[tl + 2] = '\0';
	free(g->terminals);
	g->terminals = terms;
	g->vmaj = maj;
	g->vmin = min;
	g->vpatch = pat;
	g->printerr = maj > 5 || (maj == 5 && min >= 4);
	g->probed = 1;
	gbuf_clear(&g->out);
	gbuf_clear(&g->msgs);
	return GP_OK;
}

gp_session *gp_new(void)
{
	gp_session *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->to_fd = g->from_fd = -1;
	g->timeout_ms = GP_DEFAULT_TIMEOUT_MS;
	return g;
}

void gp_stop(gp_session *g)
{
	if (!g || g->pid <= 0) {
		if (g)
			teardown(g, 0, NULL, 0);
		return;
	}
	/* exit, then EOF on its stdin; drain its output so it never blocks on
	 * a full pipe while exiting */
	static const char bye[] = "\nexit\n";
	if (g->to_fd >= 0)
		(void)write_nosigpipe(g->to_fd, bye, sizeof bye - 1);
	close_fd(&g->to_fd);
	long long deadline = now_ms() + g->timeout_ms;
	char sink[4096];
	while (g->from_fd >= 0) {
		long long left = deadline - now_ms();
		struct pollfd pf = {g->from_fd, POLLIN, 0};
		if (left <= 0)
			break;
		int r = poll(&pf, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t k = read(g->from_fd, sink, sizeof sink);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	long long left = deadline - now_ms();
	teardown(g, left > 0 ? (int)left : 0, NULL, 0);
}

void gp_free(gp_session *g)
{
	if (!g)
		return;
	gp_stop(g);
	free(g->terminals);
	free(g->program);
	free(g->out.p);
	free(g->msgs.p);
	free(g);
}

void gp_set_timeout(gp_session *g, int ms)
{
	if (g)
		g->timeout_ms = ms > 0 ? ms : GP_DEFAULT_TIMEOUT_MS;
}

int gp_timeout(const gp_session *g)
{
	return g ? g->timeout_ms : GP_DEFAULT_TIMEOUT_MS;
}

/* Was the process found dead since the last call?  Reap it and keep a
 * note for gp_messages. */
static void check_alive(gp_session *g)
{
	if (g->pid <= 0)
		return;
	int status;
	pid_t r = waitpid(g->pid, &status, WNOHANG);
	if (r == 0)
		return;
	char how[96] = "ended";
	if (r == g->pid)
		describe_status(how, sizeof how, status);
	g->pid = 0; /* reaped (or not ours to reap: ECHILD) */
	teardown(g, 0, NULL, 0);
	snprintf(g->note, sizeof g->note,
		 "gnuplot: the previous gnuplot %s; restarted", how);
}

int gp_start(gp_session *g, char *err, size_t errlen)
{
	if (!g)
		return fail(err, errlen, GP_EINVAL, "gnuplot: no session");
	check_alive(g);
	if (g->pid > 0 && g->probed)
		return GP_OK;
	if (g->pid > 0) /* started but never probed: start over */
		kill_child(g);
	int rc = spawn(g, err, errlen);
	if (rc == GP_OK)
		rc = probe(g, err, errlen);
	if (rc != GP_OK && g->pid > 0)
		kill_child(g);
	return rc;
}

int gp_cmd(gp_session *g, const char *cmds, char *err, size_t errlen)
{
	if (!g || !cmds)
		return fail(err, errlen, GP_EINVAL,
			    "gnuplot: no session or no commands");
	g->note[0] = '\0';
	int rc = gp_start(g, err, errlen);
	gbuf_clear(&g->out);
	gbuf_clear(&g->msgs);
	if (g->note[0])
		gbuf_add(&g->msgs, g->note, strlen(g->note));
	if (rc != GP_OK)
		return rc;
	return run_batch(g, cmds, err, errlen);
}

const char *gp_output(const gp_session *g, size_t *len)
{
	if (len)
		*len = g && g->out.p ? g->out.len : 0;
	return g && g->out.p ? g->out.p : empty_str;
}

const char *gp_messages(const gp_session *g)
{
	return g && g->msgs.p ? g->msgs.p : empty_str;
}

long gp_pid(const gp_session *g)
{
	return g && g->pid > 0 ? (long)g->pid : 0;
}

const char *gp_program(const gp_session *g)
{
	return g ? g->program : NULL;
}

int gp_version(const gp_session *g, int *major, int *minor, int *patch)
{
	if (!g || g->pid <= 0 || !g->probed)
		return GP_EINVAL;
	if (major)
		*major = g->vmaj;
	if (minor)
		*minor = g->vmin;
	if (patch)
		*patch = g->vpatch;
	return GP_OK;
}

int gp_has_terminal(gp_session *g, const char *name)
{
	if (!g || !name || !*name || strchr(name, ' '))
		return 0;
	if (gp_start(g, NULL, 0) != GP_OK || !g->terminals)
		return 0;
	size_t k = strlen(name);
	for (const char *p = g->terminals; (p = strstr(p, name)) != NULL; p++)
		if (p[-1] == ' ' && p[k] == ' ')
			return 1;
	return 0;
}

char *gp_quote(const char *s)
{
	if (!s)
		s = "";
	size_t n = 2;
	for (const char *c = s; *c; c++) {
		if (*c == '\n' || *c == '\r') {
			errno = EINVAL;
			return NULL;
		}
		n += *c == '\'' ? 2 : 1;
	}
	char *q = malloc(n + 1), *o = q;
	if (!q) {
		errno = ENOMEM;
		return NULL;
	}
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			*o++ = '\'';
		*o++ = *c;
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}
