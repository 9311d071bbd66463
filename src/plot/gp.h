/* gp: one gnuplot child process driven over pipes.
 *
 * A gp_session owns at most one gnuplot process.  It is started lazily by
 * the first call that needs it (posix_spawnp, no shell, its own process
 * group so the terminal's Ctrl-C does not reach it), probed for its version
 * (5.0 or newer) and terminals, and fed batches of commands.  Each batch
 * ends with a sync marker; the transcript (stdout and stderr merged, in
 * order) is read with poll() up to the marker or the session's timeout
 * (5 s by default).  No call blocks longer than the timeout (plus a bounded
 * shutdown of a hung child).
 *
 * When gnuplot dies during a call (EOF on its output, EPIPE on its input)
 * or does not answer in time, the call reaps or kills it, returns
 * GP_EDIED or GP_ETIMEOUT with a one-line message, and the next call starts
 * a new process.  A process that died between calls is replaced silently
 * (the note is in gp_messages()).  A missing gnuplot is an error of every
 * call (GP_ENOTFOUND, "gnuplot not found: ..."); nothing else is affected.
 *
 * Writing to a dead gnuplot raises SIGPIPE; the session blocks SIGPIPE in
 * the calling thread around its writes and consumes the signal it caused,
 * so callers need not ignore it (qscope ignores SIGPIPE anyway).
 *
 * Errors: functions returning int return GP_OK (0) or a negative GP_E*
 * code and then write one line (no newline, NUL-terminated, truncated to
 * errlen bytes) into err when err is not NULL.
 *
 * A session is not thread-safe: use it from one thread at a time.
 * Depends on libc and POSIX only. */
#ifndef QS_PLOT_GP_H
#define QS_PLOT_GP_H

#include <stddef.h>

enum {
	GP_OK = 0,
	GP_ENOTFOUND = -1, /* no gnuplot program to run */
	GP_EVERSION = -2,  /* not gnuplot 5.0 or newer */
	GP_EDIED = -3,	   /* gnuplot exited or was killed during the call */
	GP_ETIMEOUT = -4,  /* no answer within the timeout; gnuplot killed */
	GP_ECMD = -5,	   /* gnuplot reported an error (the first is in err) */
	GP_EINVAL = -6,	   /* bad argument (newline in a string, bad size...) */
	GP_EIO = -7,	   /* pipe, temporary file or rename failed */
	GP_ENOMEM = -8,	   /* out of memory */
	GP_ETERM = -9	   /* the terminal is not available in this gnuplot */
};

typedef struct gp_session gp_session;

/* A new session; no process is started yet.  NULL when out of memory.
 * The program is looked up at each start: the environment variable
 * QSCOPE_GNUPLOT when set and not empty (a path, or a name searched in
 * PATH; it is not second-guessed), else the configure-time QS_GNUPLOT_PATH
 * when that is an executable file, else "gnuplot" in PATH. */
gp_session *gp_new(void);

/* Stop the process (gp_stop) and free the session.  NULL is a no-op. */
void gp_free(gp_session *g);

/* Stop the process cleanly: send "exit", close its input, drain its
 * output, reap it (SIGTERM, then SIGKILL, if it lingers past the
 * timeout).  The session stays usable; the next call starts a new
 * process.  No-op when nothing runs. */
void gp_stop(gp_session *g);

/* The time one call may wait for gnuplot, in milliseconds; ms <= 0
 * restores the default of 5000. */
void gp_set_timeout(gp_session *g, int ms);
int gp_timeout(const gp_session *g);

/* Start and probe gnuplot unless it runs.  GP_ENOTFOUND, GP_EVERSION,
 * GP_EDIED, GP_ETIMEOUT, GP_EIO, GP_ENOMEM. */
int gp_start(gp_session *g, char *err, size_t errlen);

/* Send cmds (one or more lines; a final newline is added when missing),
 * then the sync marker, and collect the transcript up to it (gp_output).
 * Starts gnuplot when needed.  GP_ECMD when gnuplot printed an error line
 * ("line N: ..."): err holds "gnuplot: <message>" for the first one (with
 * the offending command and how many more followed); the batch ran to its
 * end all the same.  Warnings ("warning: ...") do not fail the call; they
 * are listed by gp_messages().  Commands that read gnuplot's standard
 * input (help, pause mouse) are not supported. */
int gp_cmd(gp_session *g, const char *cmds, char *err, size_t errlen);

/* The transcript of the last gp_cmd (everything gnuplot wrote before the
 * marker, NUL-terminated; *len gets its length when len is not NULL).
 * Borrowed: valid until the next call on g.  "" before any call. */
const char *gp_output(const gp_session *g, size_t *len);

/* The error and warning lines of the last call, one message per line
 * (newline-separated, no final newline), each "gnuplot: ..."; also notes
 * such as a restart after gnuplot died between calls.  Borrowed like
 * gp_output; "" when there were none. */
const char *gp_messages(const gp_session *g);

/* The process id of the running gnuplot, or 0 when none runs. */
long gp_pid(const gp_session *g);

/* The program of the running (or last started) gnuplot, or NULL. */
const char *gp_program(const gp_session *g);

/* Version of the running gnuplot (e.g. 5, 4, 4 for "5.4 patchlevel 4").
 * GP_OK, or GP_EINVAL when no probed process runs; outputs untouched then. */
int gp_version(const gp_session *g, int *major, int *minor, int *patch);

/* 1 when the running gnuplot has terminal `name` (GPVAL_TERMINALS), else 0.
 * Starts gnuplot when needed (0 when it cannot start). */
int gp_has_terminal(gp_session *g, const char *name);

/* `s` as a gnuplot single-quoted string ('it''s'), in a new string the
 * caller frees with free().  NULL (errno EINVAL) when s contains a newline
 * or carriage return, which could end the command, or (errno ENOMEM)
 * when out of memory. */
char *gp_quote(const char *s);

#endif
