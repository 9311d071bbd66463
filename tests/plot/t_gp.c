/* t_gp: the gnuplot process driver against a real gnuplot: sync marker
 * round trips, error and warning reports, large batches, timeouts, deaths
 * between and during calls (EOF and EPIPE, without SIGPIPE killing us),
 * restarts, process group, descriptor hygiene, clean shutdown.
 * Skipped without gnuplot. */
#include "config.h"
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot/gp.h"
#include "tap.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Open descriptors of this process (via /proc or by probing). */
static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* Descriptors open before the session started. */
static char before[1024];

/* Are the pipe descriptors the session opened close-on-exec? */
static int pipes_cloexec(void)
{
	int seen = 0;
	for (int fd = 3; fd < 1024; fd++) {
		struct stat st;
		int fl = fcntl(fd, F_GETFD);
		if (before[fd] || fl < 0 || fstat(fd, &st) < 0 ||
		    !S_ISFIFO(st.st_mode))
			continue;
		seen++;
		if (!(fl & FD_CLOEXEC))
			return 0;
	}
	return seen == 2;
}

static int one_line(const char *s)
{
	return s && *s && !strchr(s, '\n') && !strchr(s, '\r');
}

int main(void)
{
	char err[512];
	for (int fd = 0; fd < 1024; fd++)
		before[fd] = fcntl(fd, F_GETFD) >= 0;
	gp_session *g = gp_new();
	if (!g)
		skip_all("out of memory");
	int rc = gp_start(g, err, sizeof err);
	if (rc == GP_ENOTFOUND || rc == GP_EVERSION) {
		printf("1..0 # SKIP %s\n", err);
		gp_free(g);
		return 0;
	}
	tap_plan(47);
	ok(rc == GP_OK, "gnuplot starts (%s)", rc ? err : "ok");

	/* version and terminals */
	int maj = 0, min = -1, pat = -1;
	rc = gp_version(g, &maj, &min, &pat);
	ok(rc == GP_OK && maj >= 5, "version %d.%d.%d is 5.0 or newer", maj,
	   min, pat);
	ok(gp_has_terminal(g, "dumb") == 1, "has the dumb terminal");
	ok(gp_has_terminal(g, "no_such_term") == 0 &&
		   gp_has_terminal(g, "dum") == 0 &&
		   gp_has_terminal(g, "") == 0,
	   "unknown and partial terminal names are absent");
	ok(gp_program(g) && strstr(gp_program(g), "gnuplot"), "program %s",
	   gp_program(g) ? gp_program(g) : "(null)");

	/* own process group: the terminal's Ctrl-C does not reach it */
	long pid = gp_pid(g);
	ok(pid > 0 && getpgid((pid_t)pid) == (pid_t)pid &&
		   getpgid((pid_t)pid) != getpgrp(),
	   "gnuplot leads its own process group");
	ok(pipes_cloexec(), "our two pipe ends are close-on-exec");

	/* sync marker round trip */
	rc = gp_cmd(g, "print 6*7", err, sizeof err);
	size_t len = 0;
	const char *out = gp_output(g, &len);
	ok(rc == GP_OK && !strcmp(out, "42\n") && len == 3,
	   "print 6*7 answers 42 before the marker (got '%s')", out);
	ok(!strstr(out, "__QS_SYNC__"), "the marker is not in the transcript");
	rc = gp_cmd(g, "a = 1\nb = 2\nprint a + b\n", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "3\n"),
	   "a multi-line batch keeps state (got '%s')", gp_output(g, NULL));
	rc = gp_cmd(g, "", err, sizeof err);
	ok(rc == GP_OK && gp_output(g, NULL)[0] == '\0',
	   "an empty batch syncs with an empty transcript");
	ok(*gp_messages(g) == '\0', "no messages after clean batches");

	/* errors: reported as one line, the session goes on */
	rc = gp_cmd(g, "print 1\nbogus_command 1 2\nprint 2", err, sizeof err);
	ok(rc == GP_ECMD, "a bad command is GP_ECMD (%d)", rc);
	ok(one_line(err) && !strncmp(err, "gnuplot: invalid command", 24) &&
		   strstr(err, "bogus_command"),
	   "one-line error naming the command: %s", err);
	ok(strstr(gp_output(g, NULL), "1\n") &&
		   strstr(gp_output(g, NULL), "2\n"),
	   "the batch ran to its end despite the error");
	rc = gp_cmd(g,
		    "set output '/nonexistent/dir/f.png'\nset xrange [1:0:2]",
		    err, sizeof err);
	ok(rc == GP_ECMD && one_line(err) && strstr(err, "cannot open file") &&
		   strstr(err, "No such file or directory") &&
		   strstr(err, "1 more error"),
	   "first error with its errno text and the count of others: %s", err);
	const char *m = gp_messages(g);
	ok(strstr(m, "cannot open file") && strstr(m, "expecting") &&
		   strchr(m, '\n') && !strstr(m, "\n\n"),
	   "gp_messages lists each error on its own line");
	rc = gp_cmd(g, "print 'still alive'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "still alive\n") &&
		   gp_pid(g) == pid,
	   "the same process carries on after errors");

	/* warnings do not fail the call */
	rc = gp_cmd(g,
		    "set terminal dumb size 40,10\nset output '/dev/null'\n"
		    "$one << EOD\n1 1\nEOD\nplot $one notitle\nset output\n",
		    err, sizeof err);
	ok(rc == GP_OK && strstr(gp_messages(g), "gnuplot: warning:") &&
		   strstr(gp_messages(g), "empty y range"),
	   "a warning is listed but not an error (rc %d, '%s')", rc,
	   gp_messages(g));

	/* a dumb plot comes through the transcript after a form feed */
	rc = gp_cmd(g,
		    "reset\nset terminal dumb size 50,12 feed\nset output\n"
		    "plot x*x title 'parabola'",
		    err, sizeof err);
	out = gp_output(g, &len);
	ok(rc == GP_OK && out[0] == '\f' && strstr(out, "parabola"),
	   "dumb output starts with a form feed and has the key");

	/* a big batch with a big answer: no deadlock between the pipes */
	size_t rows = 20000;
	char *big = malloc(rows * 16 + 64);
	size_t bl = 0;
	bl += (size_t)sprintf(big + bl, "$big << EOD\n");
	for (size_t i = 0; i < rows; i++)
		bl += (size_t)sprintf(big + bl, "%zu %zu\n", i, i * 2);
	bl += (size_t)sprintf(big + bl, "EOD\nprint $big\n");
	double t0 = now_s();
	rc = gp_cmd(g, big, err, sizeof err);
	out = gp_output(g, &len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += out[i] == '\n';
	ok(rc == GP_OK && lines >= rows && strstr(out, "19999 39998"),
	   "%zu-line datablock echoed back (%zu lines, %.0f ms)", rows, lines,
	   (now_s() - t0) * 1e3);
	free(big);
	rc = gp_cmd(g, "undefine $*\nprint exists(\"$big\")", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "0\n"),
	   "undefine $* frees datablocks");

	/* timeout: the call returns in time, gnuplot is replaced */
	gp_set_timeout(g, 400);
	ok(gp_timeout(g) == 400, "timeout set to 400 ms");
	t0 = now_s();
	rc = gp_cmd(g, "pause 5", err, sizeof err);
	double el = now_s() - t0;
	ok(rc == GP_ETIMEOUT && one_line(err) && strstr(err, "0.4 s"),
	   "a stuck batch times out: %s", err);
	ok(el < 1.5, "and returns after %.2f s", el);
	ok(gp_pid(g) == 0, "the stuck gnuplot is gone");
	ok(kill((pid_t)pid, 0) < 0 && errno == ESRCH, "and reaped");
	gp_set_timeout(g, 0);
	ok(gp_timeout(g) == 5000, "timeout back to the 5 s default");
	rc = gp_cmd(g, "print 'again'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "again\n") &&
		   gp_pid(g) > 0 && gp_pid(g) != pid,
	   "the next call starts a new gnuplot");

	/* an unterminated datablock swallows the marker: timeout */
	gp_set_timeout(g, 400);
	rc = gp_cmd(g, "$open << EOD\n1 2\n", err, sizeof err);
	ok(rc == GP_ETIMEOUT, "an unterminated datablock times out (%d)", rc);
	gp_set_timeout(g, 0);
	rc = gp_cmd(g, "print 'recovered'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "recovered\n"),
	   "and the session recovers");

	/* killed between calls: noticed, replaced, noted */
	pid = gp_pid(g);
	kill((pid_t)pid, SIGKILL);
	struct timespec ms50 = {0, 50 * 1000 * 1000};
	nanosleep(&ms50, NULL);
	rc = gp_cmd(g, "print 'after kill'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "after kill\n") &&
		   gp_pid(g) != pid,
	   "a gnuplot killed between calls is replaced");
	ok(strstr(gp_messages(g), "killed by signal 9"),
	   "and the death is noted: %s", gp_messages(g));

	/* killed during a call (EOF on its output) */
	pid = gp_pid(g);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "system 'kill -9 %ld'\npause 3\nprint 'no'",
		 pid);
	t0 = now_s();
	rc = gp_cmd(g, cmd, err, sizeof err);
	el = now_s() - t0;
	ok(rc == GP_EDIED && one_line(err) && strstr(err, "killed by signal 9"),
	   "killed mid-call is GP_EDIED: %s", err);
	ok(el < 2.0 && gp_pid(g) == 0, "detected at once (%.2f s)", el);
	ok(kill((pid_t)pid, 0) < 0 && errno == ESRCH, "the dead one is reaped");
	rc = gp_cmd(g, "print 'respawned'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "respawned\n") &&
		   gp_pid(g) > 0,
	   "respawned lazily on the next call");

	/* exits while we still write (EPIPE): SIGPIPE must not kill us */
	size_t pad = 4 << 20;
	char *bye = malloc(pad + 16);
	memcpy(bye, "exit\n", 5);
	memset(bye + 5, '#', pad);
	bye[5 + pad - 1] = '\n';
	bye[5 + pad] = '\0';
	rc = gp_cmd(g, bye, err, sizeof err);
	free(bye);
	ok(rc == GP_EDIED && strstr(err, "exited with status"),
	   "exit under a 4 MiB batch is GP_EDIED (EPIPE or EOF): %s", err);
	sigset_t pend;
	sigemptyset(&pend);
	sigpending(&pend);
	ok(!sigismember(&pend, SIGPIPE), "no SIGPIPE left pending");
	rc = gp_cmd(g, "print 'fine'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "fine\n"),
	   "and plotting goes on");

	/* no descriptor leaks over restarts */
	int fds0 = count_fds();
	for (int i = 0; i < 5; i++) {
		gp_stop(g);
		gp_cmd(g, "print 1", err, sizeof err);
	}
	ok(count_fds() == fds0, "no descriptors leak over restarts (%d, %d)",
	   fds0, count_fds());

	/* clean shutdown */
	pid = gp_pid(g);
	t0 = now_s();
	gp_stop(g);
	el = now_s() - t0;
	ok(gp_pid(g) == 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH,
	   "gp_stop ends and reaps gnuplot");
	ok(el < 1.0, "promptly (%.0f ms)", el * 1e3);
	ok(count_fds() == fds0 - 2, "and closes both pipes");

	/* quoting */
	char *q = gp_quote("it's");
	ok(q && !strcmp(q, "'it''s'"), "gp_quote doubles single quotes: %s",
	   q ? q : "(null)");
	rc = gp_cmd(g, "print 'it''s @x \\n'", err, sizeof err);
	ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "it's @x \\n\n"),
	   "a single-quoted string is literal ('%s')", gp_output(g, NULL));
	free(q);
	errno = 0;
	q = gp_quote("two\nlines");
	ok(!q && errno == EINVAL, "gp_quote rejects newlines");
	free(q);

	gp_free(g);
	gp_free(NULL);
	return tap_done();
}
