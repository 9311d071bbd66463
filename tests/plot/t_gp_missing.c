/* t_gp_missing: no gnuplot, or something that is not gnuplot.  A clear
 * one-line error on every call, no crash, no files, and plotting works
 * again once the program is found.  Needs no gnuplot (the last checks
 * are skipped without one). */
#include "config.h"
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plot/gp.h"
#include "plot/plot.h"
#include "tap.h"

static int one_line(const char *s)
{
	return s && *s && !strchr(s, '\n') && !strchr(s, '\r');
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Entries in dir other than . and .. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* An executable shell script at path running body. */
static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0755);
}

int main(void)
{
	char err[512];
	const char *path0 = getenv("PATH");
	char *saved_path = strdup(path0 ? path0 : "/usr/bin:/bin");
	tap_plan(21);

	/* an explicit QSCOPE_GNUPLOT that does not exist */
	setenv("QSCOPE_GNUPLOT", "/nonexistent/gnuplot", 1);
	setenv("PATH", "/nonexistent", 1);
	gp_session *g = gp_new();
	int rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_ENOTFOUND,
	   "QSCOPE_GNUPLOT=/nonexistent/gnuplot: GP_ENOTFOUND");
	ok(one_line(err) && !strncmp(err, "gnuplot not found", 17) &&
		   strstr(err, "/nonexistent/gnuplot") &&
		   strstr(err, "QSCOPE_GNUPLOT") && strstr(err, "gnuplot-nox"),
	   "clear one-line error: %s", err);
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_ENOTFOUND && gp_pid(g) == 0,
	   "every call reports it; nothing runs");
	ok(gp_has_terminal(g, "dumb") == 0, "no terminals without gnuplot");
	int maj = -1;
	ok(gp_version(g, &maj, NULL, NULL) == GP_EINVAL && maj == -1,
	   "no version without gnuplot");

	/* a bare name searched in a PATH without gnuplot */
	setenv("QSCOPE_GNUPLOT", "gnuplot", 1);
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_ENOTFOUND && one_line(err) &&
		   !strcmp(err,
			   "gnuplot not found: gnuplot (from QSCOPE_GNUPLOT): "
			   "install the Debian package gnuplot-nox or fix "
			   "the variable"),
	   "gnuplot missing from PATH: %s", err);

	/* figures fail the same way and leave no files behind */
	char dir[] = "t_gp_missing.XXXXXX";
	ok(mkdtemp(dir) != NULL, "scratch directory %s", dir);
	char file[64];
	snprintf(file, sizeof file, "%s/h.png", dir);
	double edges[3] = {0, 1, 2}, counts[2] = {3, 4};
	plot_hist_data h = {.edges = edges, .counts = counts, .nbins = 2};
	plot_target t = {.mode = PLOT_FILE, .path = file};
	rc = plot_hist(g, &t, &h, NULL, err, sizeof err);
	ok(rc == GP_ENOTFOUND && one_line(err) && strstr(err, "gnuplot-nox"),
	   "plot_hist to a file: %s", err);
	ok(dir_entries(dir) == 0, "no file, no temporary file");
	char *text = (char *)"untouched";
	plot_target tt = {0};
	rc = plot_hist(g, &tt, &h, &text, err, sizeof err);
	ok(rc == GP_ENOTFOUND && !strcmp(text, "untouched"),
	   "plot_hist to text fails and leaves *text alone");

	/* programs that are not gnuplot */
	setenv("PATH", saved_path, 1);
	setenv("QSCOPE_GNUPLOT", "/bin/true", 1);
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_EVERSION && one_line(err) && strstr(err, "/bin/true") &&
		   strstr(err, "not a working gnuplot"),
	   "/bin/true: %s", err);
	ok(gp_pid(g) == 0, "and nothing is left running");
	setenv("QSCOPE_GNUPLOT", "/bin/cat", 1); /* refuses gnuplot's -d */
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_EVERSION && one_line(err) && strstr(err, "/bin/cat") &&
		   strstr(err, "exited with status 1 before answering (") &&
		   strstr(err, "option"),
	   "/bin/cat: %s", err);
	/* a program that never answers: the probe times out */
	char sleeper[64];
	snprintf(sleeper, sizeof sleeper, "%s/sleeper", dir);
	write_script(sleeper, "exec sleep 30");
	setenv("QSCOPE_GNUPLOT", sleeper, 1);
	gp_set_timeout(g, 300);
	double t0 = now_s();
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_EVERSION && one_line(err) && strstr(err, "sleeper") &&
		   strstr(err, "did not answer as gnuplot does within 0.3 s"),
	   "a silent program: %s", err);
	ok(now_s() - t0 < 1.5 && gp_pid(g) == 0,
	   "within the timeout, the program stopped (%.2f s)", now_s() - t0);
	unlink(sleeper);
	/* a program that floods its output: capped, stopped */
	char flood[64];
	snprintf(flood, sizeof flood, "%s/flood", dir);
	write_script(flood, "exec yes 'not gnuplot'");
	setenv("QSCOPE_GNUPLOT", flood, 1);
	gp_set_timeout(g, 20000);
	t0 = now_s();
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc == GP_EVERSION && strstr(err, "more than 64 MiB") &&
		   gp_pid(g) == 0,
	   "endless output: %s (%.2f s)", err, now_s() - t0);
	unlink(flood);
	gp_set_timeout(g, 0);
	setenv("QSCOPE_GNUPLOT", "/", 1);
	rc = gp_cmd(g, "print 1", err, sizeof err);
	ok(rc != GP_OK && one_line(err) && strstr(err, "/"), "a directory: %s",
	   err);

	rmdir(dir);

	/* once gnuplot is there again, the same session works */
	unsetenv("QSCOPE_GNUPLOT");
	rc = gp_cmd(g, "print 1", err, sizeof err);
	if (rc == GP_ENOTFOUND || rc == GP_EVERSION) {
		for (int i = 0; i < 4; i++)
			ok(1, "# SKIP no gnuplot here: %s", err);
	} else {
		ok(rc == GP_OK && !strcmp(gp_output(g, NULL), "1\n"),
		   "gnuplot found again: the session recovers");
		gp_stop(g);
#if defined(QS_GNUPLOT_PATH)
		/* the configure-time path serves when PATH has no gnuplot */
		setenv("PATH", "/nonexistent", 1);
		rc = gp_cmd(g, "print 2", err, sizeof err);
		ok((QS_GNUPLOT_PATH[0] == '/' &&
		    access(QS_GNUPLOT_PATH, X_OK) == 0)
			   ? rc == GP_OK
			   : rc == GP_ENOTFOUND,
		   "configure-time path " QS_GNUPLOT_PATH " (rc %d)", rc);
		ok(rc != GP_OK || !strcmp(gp_program(g), QS_GNUPLOT_PATH),
		   "program %s", gp_program(g));
		setenv("PATH", saved_path, 1);
		gp_stop(g);
#else
		ok(1, "# SKIP built without QS_GNUPLOT_PATH");
		ok(1, "# SKIP built without QS_GNUPLOT_PATH");
#endif
		/* with neither: ENOTFOUND unless the configure path exists */
		setenv("QSCOPE_GNUPLOT", "", 1);
		rc = gp_cmd(g, "print 3", err, sizeof err);
		ok(rc == GP_OK, "an empty QSCOPE_GNUPLOT counts as unset");
	}
	gp_free(g);
	free(saved_path);
	return tap_done();
}
